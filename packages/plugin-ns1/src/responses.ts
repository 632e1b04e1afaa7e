/**
 * Parsers of NS1 API responses. Pure; each throws a TypeError naming what it expected, which the
 * API client turns into a non-retryable "unexpected response". Exported for the unit tests.
 */
import type { DnskeyData } from '@chorus/core';
import { isPlainObject } from '@chorus/dns';
import { recordFromFields, type ApexRecord, type RecordType } from './answers.js';

/** The fields of a zone the plugin reads. */
export interface Ns1Zone {
  zone: string;
  /** Whether online DNSSEC signing is on; undefined when the API left the flag out. */
  dnssec: boolean | undefined;
}

/** One entry of a zone's `records` list (`GET /zones/{zone}`). */
export interface Ns1ZoneRecord {
  /** The owner without its trailing dot, as NS1 shows it. */
  domain: string;
  type: string;
  ttl: number;
  /** Each answer's fields joined by spaces; names without their trailing dot. */
  shortAnswers: string[];
  /** The record this one links to (its answers are that record's), or null. */
  link: string | null;
}

/** An apex record: its TTL and typed answers. */
export interface Ns1Record {
  ttl: number | undefined;
  records: ApexRecord[];
}

/** One external DNSSEC key set (`/dnssec/external_keys`). */
export interface ExternalKeySet {
  name: string;
  ttl: number | undefined;
  keys: DnskeyData[];
}

/** `{"message": "…"}`, NS1's error body, as its message; anything else as is. */
export function errorText(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (isPlainObject(parsed) && typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON
  }
  return body;
}

/** A field of an answer or key: the API may send numbers as JSON numbers. */
function fieldText(value: unknown, what: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new TypeError(what);
}

function integerField(value: unknown, what: string): number {
  const text = fieldText(value, what).trim();
  if (!/^\d+$/.test(text)) throw new TypeError(what);
  return Number(text);
}

function optionalTtl(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

/** A DNSKEY as `[flags, protocol, algorithm, publicKey]` or `{flags, protocol, algorithm, public_key}`. */
export function parseDnskey(entry: unknown): DnskeyData {
  const what =
    'DNSKEYs as [flags, protocol, algorithm, publicKey] or { flags, protocol, algorithm, public_key }';
  const [flags, protocol, algorithm, publicKey] = Array.isArray(entry)
    ? (entry as unknown[])
    : isPlainObject(entry)
      ? [entry.flags, entry.protocol, entry.algorithm, entry.public_key]
      : [];
  if (Array.isArray(entry) && entry.length !== 4) throw new TypeError(what);
  const key = fieldText(publicKey, what).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key)) throw new TypeError(what);
  return {
    flags: integerField(flags, what),
    protocol: integerField(protocol, what),
    algorithm: integerField(algorithm, what),
    publicKey: key,
  };
}

/** `GET /zones/{zone}`. */
export function parseZone(body: unknown): Ns1Zone {
  if (!isPlainObject(body) || typeof body.zone !== 'string')
    throw new TypeError('a zone object with a "zone" name');
  return { zone: body.zone, dnssec: typeof body.dnssec === 'boolean' ? body.dnssec : undefined };
}

function parseZoneRecord(entry: unknown): Ns1ZoneRecord {
  const what = 'records of { domain, type, ttl, short_answers: string[] }';
  if (!isPlainObject(entry) || typeof entry.domain !== 'string' || typeof entry.type !== 'string')
    throw new TypeError(what);
  const answers = entry.short_answers ?? [];
  if (!Array.isArray(answers) || typeof entry.ttl !== 'number') throw new TypeError(what);
  return {
    domain: entry.domain,
    type: entry.type.toUpperCase(),
    ttl: entry.ttl,
    shortAnswers: (answers as unknown[]).map((answer) => fieldText(answer, what)),
    link: typeof entry.link === 'string' && entry.link !== '' ? entry.link : null,
  };
}

/** `GET /zones/{zone}` (one page): the `records` list. */
export function parseZoneRecords(body: unknown): Ns1ZoneRecord[] {
  if (!isPlainObject(body) || !Array.isArray(body.records))
    throw new TypeError('a zone object with records as an array');
  return (body.records as unknown[]).map(parseZoneRecord);
}

/** The target of the `rel="next"` link of a `Link` header (RFC 8288), or undefined. */
export function nextLink(header: string | null): string | undefined {
  for (const part of (header ?? '').split(',')) {
    const match = /<([^>]*)>\s*;\s*rel="?next"?/i.exec(part);
    if (match) return match[1];
  }
  return undefined;
}

/** `GET /zones/{zone}/dnssec`: the DNSKEYs NS1 serves (`keys.dnskey`). */
export function parseDnssecKeys(body: unknown): DnskeyData[] {
  if (!isPlainObject(body) || !isPlainObject(body.keys) || !Array.isArray(body.keys.dnskey))
    throw new TypeError('a DNSSEC object with keys.dnskey as an array');
  return (body.keys.dnskey as unknown[]).map(parseDnskey);
}

/**
 * `GET /zones/{zone}/dnssec/signing_keys` [inferred]: the ZSKs NS1 signs the zone with, as
 * `{ zsk: { ttl, data: [keys] } }`; a bare `{ ttl, data }`, `{ keys: [...] }` or list is read too.
 * Also the keys of `GET …/presigned_dnskey` (`{ dnskey: { ttl, data } }`).
 */
export function parseSigningKeys(body: unknown): DnskeyData[] {
  const what = 'signing keys as { zsk: { ttl, data: [keys] } }';
  const holder =
    isPlainObject(body) && isPlainObject(body.zsk)
      ? body.zsk
      : isPlainObject(body) && isPlainObject(body.dnskey)
        ? body.dnskey
        : body;
  const list = Array.isArray(holder)
    ? holder
    : isPlainObject(holder)
      ? [holder.data, holder.keys, holder.zsks].find(Array.isArray)
      : undefined;
  if (!Array.isArray(list)) throw new TypeError(what);
  return (list as unknown[]).map(parseDnskey);
}

/** One key set: `{ name, dnskey: { ttl, data: [...] } }` (a few spellings accepted). */
function parseKeySet(entry: unknown, fallbackName?: string): ExternalKeySet {
  const what = 'external key sets of { name, dnskey: { ttl, data: [keys] } }';
  if (!isPlainObject(entry)) throw new TypeError(what);
  const name = [entry.name, entry.key_set_name, entry.id, fallbackName].find(
    (value): value is string => typeof value === 'string' && value !== '',
  );
  const dnskey = isPlainObject(entry.dnskey) ? entry.dnskey : entry;
  if (name === undefined || !Array.isArray(dnskey.data)) throw new TypeError(what);
  return {
    name,
    ttl: optionalTtl(dnskey.ttl),
    keys: (dnskey.data as unknown[]).map(parseDnskey),
  };
}

/**
 * `GET /zones/{zone}/dnssec/external_keys`. The shape is not documented: a list of key sets, a
 * list under `external_keys`/`key_sets`, or an object of name → key set are all read.
 */
export function parseExternalKeySets(body: unknown): ExternalKeySet[] {
  if (Array.isArray(body)) return (body as unknown[]).map((entry) => parseKeySet(entry));
  if (!isPlainObject(body)) throw new TypeError('external key sets as a list or an object');
  for (const key of ['external_keys', 'key_sets', 'keysets']) {
    const list = body[key];
    if (Array.isArray(list)) return (list as unknown[]).map((entry) => parseKeySet(entry));
  }
  return Object.entries(body).map(([name, entry]) => parseKeySet(entry, name));
}

/** `GET /zones/{zone}/{domain}/{type}`: the answers as typed rdata. */
export function parseRecord(type: RecordType, body: unknown): Ns1Record {
  const what = `a ${type} record with answers: [{ answer: [fields] }]`;
  if (!isPlainObject(body) || !Array.isArray(body.answers)) throw new TypeError(what);
  const records = (body.answers as unknown[]).map((answer) => {
    if (!isPlainObject(answer) || !Array.isArray(answer.answer)) throw new TypeError(what);
    const fields = (answer.answer as unknown[]).map((field) => fieldText(field, what));
    try {
      return recordFromFields(type, fields);
    } catch (error) {
      throw new TypeError(
        `${what}; got ${JSON.stringify(fields)} (${error instanceof Error ? error.message : String(error)})`,
        { cause: error },
      );
    }
  });
  return { ttl: optionalTtl(body.ttl), records };
}
