/**
 * NS1's external DNSSEC key sets (provider-apis.md §2.4, [inferred] envelope): the body is
 * `{"dnskey": {"ttl", "data": [{flags, protocol, algorithm, public_key}]}}`; the same object
 * without the `dnskey` envelope is accepted too.
 */
import { HttpError } from '../errors.js';
import type { Ns1ExternalKey, Ns1KeySet } from '../state.js';
import { invalidInput } from './answers.js';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function integerField(value: unknown, field: string): number {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number))
    throw invalidInput(
      `Value ${JSON.stringify(value)} for field '${field}' is not of type integer`,
    );
  return number;
}

function readKey(value: unknown, index: number): Ns1ExternalKey {
  const field = `dnskey.data[${index}]`;
  if (!isObject(value)) throw invalidInput(`${field} must be an object`);
  const algorithm = integerField(value.algorithm, `${field}.algorithm`);
  if (algorithm !== 13)
    throw new HttpError(400, { message: 'only algorithm 13 (ECDSAP256SHA256) is supported' });
  const flags = integerField(value.flags, `${field}.flags`);
  if (flags !== 256 && flags !== 257) throw invalidInput(`${field}.flags must be 256 or 257`);
  const protocol = integerField(value.protocol ?? 3, `${field}.protocol`);
  if (protocol !== 3) throw invalidInput(`${field}.protocol must be 3`);
  const publicKey =
    typeof value.public_key === 'string' ? value.public_key.replace(/\s+/g, '') : '';
  if (!BASE64.test(publicKey)) throw invalidInput(`${field}.public_key must be base64`);
  return { flags, protocol, algorithm, public_key: publicKey };
}

/** Validates a key set body. */
export function parseKeySet(body: unknown): Ns1KeySet {
  if (!isObject(body)) throw invalidInput('the body must be a JSON object');
  const dnskey = isObject(body.dnskey) ? body.dnskey : body;
  if (!Array.isArray(dnskey.data))
    throw invalidInput("Value None for field 'dnskey.data' is not of type array");
  const ttl = dnskey.ttl === undefined ? 3600 : integerField(dnskey.ttl, 'dnskey.ttl');
  return { ttl, data: (dnskey.data as unknown[]).map(readKey) };
}

/** The key set as the API shows it. */
export function keySetObject(name: string, set: Ns1KeySet) {
  return { name, dnskey: { ttl: set.ttl, data: set.data } };
}

/** Every key of every set as DNSKEY content, without duplicates, sorted. */
export function unionOfKeys(sets: Readonly<Record<string, Ns1KeySet>>): {
  ttl: number;
  records: string[];
} {
  const all = Object.values(sets);
  const records = new Set(
    all.flatMap((set) =>
      set.data.map((key) => `${key.flags} ${key.protocol} ${key.algorithm} ${key.public_key}`),
    ),
  );
  const ttl = all.length === 0 ? 3600 : Math.min(...all.map((set) => set.ttl));
  return { ttl, records: [...records].sort() };
}
