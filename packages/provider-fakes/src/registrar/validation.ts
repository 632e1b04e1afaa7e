/**
 * What the registrar accepts, as pure checks of the request bodies. Each refusal is a FieldError
 * that names the field (`ds[1].digest`, `glue[0].addresses[2]`), answered as 422. Names come out
 * absolute and lower-case, digests upper-case, addresses in canonical form.
 */
import { isIP } from 'node:net';
import type { DsData } from '@chorus/core';

/** DS digest types the registrar takes: SHA-256 (2) and SHA-384 (4). */
export const ACCEPTED_DIGEST_TYPES: readonly number[] = [2, 4];
/** Algorithms the registrar takes a DS for: RSASHA256, ECDSA P-256 and P-384, Ed25519, Ed448. */
export const ACCEPTED_ALGORITHMS: readonly number[] = [8, 13, 14, 15, 16];
/** Hex digits of a digest, per digest type. */
export const DIGEST_HEX_LENGTH: Readonly<Record<number, number>> = { 2: 64, 4: 96 };
export const MAX_DS = 8;
export const MAX_NAMESERVERS = 13;
/** Addresses per glue name. */
export const MAX_GLUE_ADDRESSES = 8;

const DIGEST_NAMES: Readonly<Record<number, string>> = { 2: 'SHA-256', 4: 'SHA-384' };

/** A request field the registrar refuses; the API answers 422 with `field` and `message`. */
export class FieldError extends Error {
  readonly field: string;
  /** What is wrong, without the field's name. */
  readonly detail: string;

  constructor(field: string, detail: string) {
    super(`${field}: ${detail}`);
    this.name = 'FieldError';
    this.field = field;
    this.detail = detail;
  }
}

/** Glue of one nameserver name inside the domain. */
export interface GlueEntry {
  /** Absolute, lower-case. */
  name: string;
  /** Canonical IPv4 and IPv6 literals, sorted. */
  addresses: string[];
}

export interface NameserversRequest {
  /** Absolute, lower-case, in the order given. */
  nameservers: string[];
  /** One entry per nameserver name inside the domain, sorted by name. */
  glue: GlueEntry[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * `text` as an absolute lower-case host name (a trailing dot is optional), or undefined when it
 * is not one: letters, digits and hyphens, labels of 1 to 63, at least two labels, 253 at most.
 */
export function hostName(text: string): string | undefined {
  const name = text.trim().toLowerCase().replace(/\.$/, '');
  const labels = name.split('.');
  if (name.length > 253 || labels.length < 2 || !labels.every((label) => LABEL.test(label)))
    return undefined;
  return `${name}.`;
}

/** A name without its trailing dot, as the API shows names. */
export function shownName(name: string): string {
  return name.replace(/\.$/, '');
}

/** True when `name` is `domain` or below it (both absolute, lower-case). */
export function isInDomain(name: string, domain: string): boolean {
  return name === domain || name.endsWith(`.${domain}`);
}

/** An IP literal in canonical form (IPv6 compressed, lower-case), or undefined. */
export function canonicalAddress(text: string): string | undefined {
  const trimmed = text.trim();
  const family = isIP(trimmed);
  if (family === 4) return trimmed;
  if (family === 6) return new URL(`http://[${trimmed}]/`).hostname.slice(1, -1);
  return undefined;
}

function integerField(value: unknown, field: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max)
    throw new FieldError(field, `must be an integer from 0 to ${max}`);
  return value;
}

function parseDigestType(value: unknown, field: string): number {
  const type = integerField(value, field, 255);
  if (type === 1) throw new FieldError(field, 'SHA-1 DS not accepted: use digest type 2 or 4');
  if (!ACCEPTED_DIGEST_TYPES.includes(type))
    throw new FieldError(field, `digest type ${type} not accepted: 2 (SHA-256) or 4 (SHA-384)`);
  return type;
}

function parseDigest(value: unknown, digestType: number, field: string): string {
  if (typeof value !== 'string' || !/^[0-9a-fA-F]+$/.test(value))
    throw new FieldError(field, 'must be a hex string');
  const expected = DIGEST_HEX_LENGTH[digestType] ?? 0;
  if (value.length !== expected)
    throw new FieldError(
      field,
      `digest length must match the digest type: ${DIGEST_NAMES[digestType]} (type ${digestType}) has ${expected} hex digits, not ${value.length}`,
    );
  return value.toUpperCase();
}

function parseDs(value: unknown, field: string): DsData {
  if (!isObject(value)) throw new FieldError(field, 'must be an object');
  const keyTag = integerField(value.keyTag, `${field}.keyTag`, 65535);
  const algorithm = integerField(value.algorithm, `${field}.algorithm`, 255);
  if (!ACCEPTED_ALGORITHMS.includes(algorithm))
    throw new FieldError(
      `${field}.algorithm`,
      `algorithm ${algorithm} not accepted: ${ACCEPTED_ALGORITHMS.join(', ')}`,
    );
  const digestType = parseDigestType(value.digestType, `${field}.digestType`);
  const digest = parseDigest(value.digest, digestType, `${field}.digest`);
  return { keyTag, algorithm, digestType, digest };
}

/** The body of `PUT …/ds`: `{ "ds": [...] }`, at most MAX_DS, no repeats; `[]` = unsigned. */
export function parseDsBody(body: unknown): DsData[] {
  if (!isObject(body)) throw new FieldError('(body)', 'must be a JSON object');
  if (!Array.isArray(body.ds)) throw new FieldError('ds', 'must be a list (empty: no DS)');
  if (body.ds.length > MAX_DS)
    throw new FieldError('ds', `at most ${MAX_DS} DS records, not ${body.ds.length}`);
  const records = body.ds.map((item, index) => parseDs(item, `ds[${index}]`));
  const seen = new Map<string, number>();
  records.forEach((record, index) => {
    const identity = `${record.keyTag} ${record.algorithm} ${record.digestType} ${record.digest}`;
    const first = seen.get(identity);
    if (first !== undefined) throw new FieldError(`ds[${index}]`, `repeats ds[${first}]`);
    seen.set(identity, index);
  });
  return records;
}

function parseNames(value: unknown): string[] {
  if (!Array.isArray(value)) throw new FieldError('nameservers', 'must be a list of host names');
  if (value.length < 1 || value.length > MAX_NAMESERVERS)
    throw new FieldError(
      'nameservers',
      `must list 1 to ${MAX_NAMESERVERS} host names, not ${value.length}`,
    );
  const names: string[] = [];
  value.forEach((item, index) => {
    const field = `nameservers[${index}]`;
    const name = typeof item === 'string' ? hostName(item) : undefined;
    if (name === undefined)
      throw new FieldError(field, `${JSON.stringify(item)} is not a host name`);
    if (names.includes(name)) throw new FieldError(field, `${shownName(name)} is listed twice`);
    names.push(name);
  });
  return names;
}

function parseAddresses(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.length < 1 || value.length > MAX_GLUE_ADDRESSES)
    throw new FieldError(field, `must list 1 to ${MAX_GLUE_ADDRESSES} IP addresses`);
  const addresses: string[] = [];
  value.forEach((item, index) => {
    const address = typeof item === 'string' ? canonicalAddress(item) : undefined;
    if (address === undefined)
      throw new FieldError(`${field}[${index}]`, `${JSON.stringify(item)} is not an IP address`);
    if (addresses.includes(address))
      throw new FieldError(`${field}[${index}]`, `${address} is listed twice`);
    addresses.push(address);
  });
  return addresses.sort();
}

function parseGlueEntry(value: unknown, field: string, names: string[], domain: string): GlueEntry {
  if (!isObject(value)) throw new FieldError(field, 'must be an object');
  const name = typeof value.name === 'string' ? hostName(value.name) : undefined;
  if (name === undefined) throw new FieldError(`${field}.name`, 'must be a host name');
  if (!names.includes(name))
    throw new FieldError(`${field}.name`, `${shownName(name)} is not one of the nameservers`);
  if (!isInDomain(name, domain))
    throw new FieldError(
      `${field}.name`,
      `glue refused for ${shownName(name)}: it is outside ${shownName(domain)} (only names inside the domain take glue)`,
    );
  return { name, addresses: parseAddresses(value.addresses, `${field}.addresses`) };
}

/**
 * The body of `PUT …/nameservers`: `{ "nameservers": [...], "glue"?: [{ name, addresses }] }`.
 * Glue is required for every name inside `domain` (absolute, lower-case) and refused for others.
 */
export function parseNameserversBody(body: unknown, domain: string): NameserversRequest {
  if (!isObject(body)) throw new FieldError('(body)', 'must be a JSON object');
  const nameservers = parseNames(body.nameservers);
  if (body.glue !== undefined && !Array.isArray(body.glue))
    throw new FieldError('glue', 'must be a list of { name, addresses }');
  const glue: GlueEntry[] = [];
  (body.glue ?? []).forEach((item: unknown, index: number) => {
    const entry = parseGlueEntry(item, `glue[${index}]`, nameservers, domain);
    if (glue.some((other) => other.name === entry.name))
      throw new FieldError(`glue[${index}].name`, `${shownName(entry.name)} has glue twice`);
    glue.push(entry);
  });
  const index = nameservers.findIndex(
    (name) => isInDomain(name, domain) && !glue.some((entry) => entry.name === name),
  );
  if (index >= 0)
    throw new FieldError(
      `nameservers[${index}]`,
      `${shownName(nameservers[index]!)} is inside ${shownName(domain)} and needs glue (glue: [{ name, addresses }])`,
    );
  return { nameservers, glue: glue.sort((a, b) => a.name.localeCompare(b.name)) };
}
