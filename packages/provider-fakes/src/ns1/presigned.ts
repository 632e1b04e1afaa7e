/**
 * Model 1 at NS1 [inferred]: NS1's multi-signer blog post (2019) describes an API to read NS1's
 * signing keys and to hand over the final DNSKEY RRset with the owner's signatures; its paths and
 * shapes are not documented. The fake's guess, lenient on input:
 * `PUT …/dnssec/presigned_dnskey` with
 * `{"dnskey": {"ttl", "data": [{flags, protocol, algorithm, public_key}]}, "rrsig": [...]}`, each
 * RRSIG an object (snake_case or camelCase fields, times as seconds or `YYYYMMDDHHmmSS`) or its
 * presentation text (`"DNSKEY 13 2 3600 2027… 2026… 12345 example.com. base64"`).
 */
import type { DnskeyData, RrsigData, SignedDnskeySnapshot } from '@chorus/core';
import { keyTag, parseRdata, rrsigLabelCount, verifyRrsig } from '@chorus/dns';
import { HttpError } from '../errors.js';
import type { Ns1ExternalKey, Ns1PresignedSet } from '../state.js';
import { invalidInput } from './answers.js';
import { parseKeySet } from './external-keys.js';

/** A signature may begin this long after the fake's clock (skew). */
const INCEPTION_SKEW_SECONDS = 300;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const asDnskey = (key: Ns1ExternalKey): DnskeyData => ({
  flags: key.flags,
  protocol: key.protocol,
  algorithm: key.algorithm,
  publicKey: key.public_key,
});

const refused = (message: string) => new HttpError(400, { message });

const isoTime = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

/** Seconds, from a number or an RRSIG time `YYYYMMDDHHmmSS`. */
function timeField(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  const match =
    typeof value === 'string' ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(value) : null;
  if (typeof value === 'string' && /^\d{1,10}$/.test(value)) return Number(value);
  if (!match) throw invalidInput(`${field} must be seconds or YYYYMMDDHHmmSS`);
  const [, year, month, day, hour, minute, second] = match.map(Number);
  return Date.UTC(year!, month! - 1, day, hour, minute, second) / 1000;
}

function integerField(value: unknown, field: string): number {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 0)
    throw invalidInput(
      `Value ${JSON.stringify(value)} for field '${field}' is not of type integer`,
    );
  return number;
}

function field(entry: Record<string, unknown>, snake: string, camel: string): unknown {
  return entry[snake] ?? entry[camel];
}

function readRrsigObject(entry: Record<string, unknown>, name: string): RrsigData {
  const signature = field(entry, 'signature', 'signature');
  const signer = field(entry, 'signer_name', 'signerName');
  if (
    typeof signature !== 'string' ||
    !/^[A-Za-z0-9+/]+={0,2}$/.test(signature.replace(/\s+/g, ''))
  )
    throw invalidInput(`${name}.signature must be base64`);
  if (typeof signer !== 'string' || signer === '')
    throw invalidInput(`${name}.signer_name must be a name`);
  const covered = field(entry, 'type_covered', 'typeCovered') ?? 'DNSKEY';
  return {
    typeCovered: typeof covered === 'string' ? covered.toUpperCase() : JSON.stringify(covered),
    algorithm: integerField(entry.algorithm, `${name}.algorithm`),
    labels: integerField(entry.labels, `${name}.labels`),
    originalTtl: integerField(field(entry, 'original_ttl', 'originalTtl'), `${name}.original_ttl`),
    expiration: timeField(entry.expiration, `${name}.expiration`),
    inception: timeField(entry.inception, `${name}.inception`),
    keyTag: integerField(field(entry, 'key_tag', 'keyTag'), `${name}.key_tag`),
    signerName: signer.endsWith('.') ? signer : `${signer}.`,
    signature: signature.replace(/\s+/g, ''),
  };
}

function readRrsig(entry: unknown, index: number, zone: string): RrsigData {
  const name = `rrsig[${index}]`;
  if (isObject(entry)) return readRrsigObject(entry, name);
  if (typeof entry !== 'string') throw invalidInput(`${name} must be an object or RRSIG text`);
  try {
    return parseRdata('RRSIG', entry, zone) as RrsigData;
  } catch (error) {
    throw invalidInput(`${name} is not RRSIG text: ${(error as Error).message}`);
  }
}

/** Reads a `PUT …/presigned_dnskey` body; 400 "Input validation failed (…)" when malformed. */
export function parsePresignedBody(body: unknown, zone: string): Ns1PresignedSet {
  if (!isObject(body)) throw invalidInput('the body must be a JSON object');
  if (!isObject(body.dnskey))
    throw invalidInput("Value None for field 'dnskey' is not of type object");
  const rrsigs = body.rrsig ?? body.rrsigs;
  if (!Array.isArray(rrsigs) || rrsigs.length === 0)
    throw invalidInput("Value None for field 'rrsig' is not a non-empty array");
  const rrsig = (rrsigs as unknown[]).map((entry, index) => readRrsig(entry, index, zone));
  const keys = parseKeySet({
    dnskey: { ttl: body.dnskey.ttl ?? rrsig[0]!.originalTtl, data: body.dnskey.data },
  });
  if (keys.data.length === 0) throw invalidInput("'dnskey.data' must not be empty");
  const seen = new Set<string>();
  const data = keys.data.filter((key) => {
    const identity = `${key.flags} ${key.protocol} ${key.algorithm} ${key.public_key}`;
    const fresh = !seen.has(identity);
    seen.add(identity);
    return fresh;
  });
  return { ttl: keys.ttl, data, rrsig };
}

/** Why one RRSIG cannot be served over the set, or undefined when it can. */
function rrsigProblem(
  set: Ns1PresignedSet,
  rrsig: RrsigData,
  zone: string,
  now: number,
): string | undefined {
  const what = `the RRSIG with key tag ${rrsig.keyTag}`;
  if (rrsig.typeCovered !== 'DNSKEY') return `${what} covers ${rrsig.typeCovered}, not DNSKEY`;
  if (rrsig.signerName.toLowerCase() !== zone.toLowerCase())
    return `${what} is signed by ${rrsig.signerName}, not by the zone ${zone}`;
  if (rrsig.labels !== rrsigLabelCount(zone))
    return `${what} has labels ${rrsig.labels}, not ${rrsigLabelCount(zone)}`;
  if (rrsig.originalTtl !== set.ttl)
    return `${what} has original TTL ${rrsig.originalTtl}, but the DNSKEY RRset has TTL ${set.ttl}`;
  if (rrsig.expiration <= now) return `${what} expired at ${isoTime(rrsig.expiration)}`;
  if (rrsig.inception > now + INCEPTION_SKEW_SECONDS)
    return `${what} is not valid before ${isoTime(rrsig.inception)}`;
  const keys = set.data.map(asDnskey);
  const sepKeys = keys.filter((key) => key.flags === 257 && keyTag(key) === rrsig.keyTag);
  if (sepKeys.length === 0)
    return `${what} is not made by a SEP key (flags 257) of the DNSKEY RRset`;
  const rrset = { name: zone, type: 'DNSKEY' as const, class: 'IN' as const, records: keys };
  const results = sepKeys.map((key) =>
    verifyRrsig({ rrset, signature: rrsig, key, ignoreTime: true }),
  );
  const failed = results.find((result) => !result.ok);
  if (results.some((result) => result.ok)) return undefined;
  return `${what} does not verify over the DNSKEY RRset (${failed && !failed.ok ? failed.reason : 'no key'})`;
}

/**
 * Refuses (400) a set NS1 could not serve: one that lacks a ZSK NS1 signs with, or whose RRSIGs
 * do not all verify, with a SEP key of the set, at `now`.
 */
export function checkPresignedSet(
  set: Ns1PresignedSet,
  zone: string,
  ns1Zsks: readonly DnskeyData[],
  now: number,
): void {
  const present = new Set(set.data.map((key) => `${key.flags} ${key.algorithm} ${key.public_key}`));
  for (const zsk of ns1Zsks)
    if (!present.has(`${zsk.flags} ${zsk.algorithm} ${zsk.publicKey}`))
      throw refused(
        `the DNSKEY RRset lacks NS1's ZSK ${keyTag(zsk)} (GET /v1/zones/{zone}/dnssec/signing_keys): NS1 signs the zone with it`,
      );
  for (const rrsig of set.rrsig) {
    const problem = rrsigProblem(set, rrsig, zone, now);
    if (problem !== undefined) throw refused(problem);
  }
}

/** An RRSIG as the API shows it (and as clients send it): snake_case, times in seconds. */
export function rrsigObject(rrsig: RrsigData) {
  return {
    type_covered: rrsig.typeCovered,
    algorithm: rrsig.algorithm,
    labels: rrsig.labels,
    original_ttl: rrsig.originalTtl,
    expiration: rrsig.expiration,
    inception: rrsig.inception,
    key_tag: rrsig.keyTag,
    signer_name: rrsig.signerName,
    signature: rrsig.signature,
  };
}

/** The body of `PUT …/dnssec/presigned_dnskey` for one owner-signed snapshot. */
export function presignedBody(snapshot: SignedDnskeySnapshot) {
  return {
    dnskey: { ttl: snapshot.ttl, data: snapshot.dnskeys.map(keyObject) },
    rrsig: snapshot.rrsigs.map(rrsigObject),
  };
}

/** The presigned set as the API shows it. */
export function presignedObject(zone: string, set: Ns1PresignedSet) {
  return {
    zone: zone.replace(/\.$/, ''),
    dnskey: { ttl: set.ttl, data: set.data },
    rrsig: set.rrsig.map(rrsigObject),
  };
}

/** NS1's keys as `{flags, protocol, algorithm, public_key}`. */
export function keyObject(key: DnskeyData): Ns1ExternalKey {
  return {
    flags: key.flags,
    protocol: key.protocol,
    algorithm: key.algorithm,
    public_key: key.publicKey,
  };
}
