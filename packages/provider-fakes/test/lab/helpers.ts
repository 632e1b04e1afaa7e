/**
 * Lab-test helpers for the provider fakes: the lab's fake of a provider and the PowerDNS behind
 * it, authenticated API calls, admin calls, and what the PowerDNS serves on the wire (`dig`).
 * No import of `@chorus/lab` (it depends on this package): the status comes from `inject('lab')`.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { ProvidedContext } from 'vitest';
import type { RequestRecord } from '../../src/index.js';

/** The lab status (typed by the root test/global-setup.ts). */
export type LabStatus = ProvidedContext['lab'];
export type LabProvider = LabStatus['providers'][number];
export type LabBackend = LabStatus['servers'][number];

/** The zone the lab tests write to; every change is undone at the end of its test. */
export const ZONE = 'conformance.test';

export interface ProviderUnderTest {
  api: LabProvider;
  backend: LabBackend;
  /** An authenticated API call; `path` is relative to the base URL (`domains/…/` or `zones/…`). */
  call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; headers: Headers; json: unknown }>;
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }>;
  /** The fake's request records since `since` (ISO time). */
  requestsSince(since: string): Promise<RequestRecord[]>;
  /** Resets the fake's rate limits to the lab's (and forgets the admitted requests). */
  restoreRateLimits(): Promise<void>;
}

/** The lab's fake of `provider`, or a reason to skip when the lab runs without it. */
export function providerUnderTest(
  lab: LabStatus,
  provider: 'desec' | 'ns1',
): ProviderUnderTest | string {
  const api = (lab.providers ?? []).find((entry) => entry.provider === provider);
  if (api === undefined) return `the lab runs no ${provider} fake`;
  const backend = lab.servers.find((server) => server.id === api.server);
  if (backend === undefined) return `the lab has no ${api.server} server`;
  const origin = new URL(api.url).origin;
  const base = api.url.endsWith('/') ? api.url : `${api.url}/`;
  const secret = async (file: string) => (await readFile(file, 'utf8')).trim();
  const authHeader = async (): Promise<Record<string, string>> => {
    const token = await secret(api.tokenFile);
    return provider === 'desec' ? { Authorization: `Token ${token}` } : { 'X-NSONE-Key': token };
  };
  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${origin}${path}`, {
      method,
      headers: {
        'X-Fake-Admin': await secret(api.adminTokenFile),
        'Content-Type': 'application/json',
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: await response.json() };
  };
  return {
    api,
    backend,
    async call(method, path, body) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { ...(await authHeader()), 'Content-Type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return {
        status: response.status,
        headers: response.headers,
        json: text === '' ? undefined : (JSON.parse(text) as unknown),
      };
    },
    admin,
    async requestsSince(since) {
      const records = (await admin('GET', '/_fake/requests')).json as RequestRecord[];
      return records.filter((record) => record.time >= since);
    },
    async restoreRateLimits() {
      await admin('POST', '/_fake/rate-limits', api.rateLimits);
    },
  };
}

export interface WireRecord {
  ttl: number;
  type: string;
  /** Presentation format with base64/hex un-chunked. */
  data: string;
}

const UNCHUNKED_FROM: Readonly<Record<string, number>> = {
  DNSKEY: 3,
  CDNSKEY: 3,
  DS: 3,
  CDS: 3,
  RRSIG: 8,
};

/** The answer section for `name`/`type` at the backend, DNSSEC records included (`dig +dnssec`). */
export async function dig(backend: LabBackend, name: string, type: string): Promise<WireRecord[]> {
  const { stdout } = await promisify(execFile)('dig', [
    `@${backend.address}`,
    '-p',
    String(backend.port),
    '+dnssec',
    '+norec',
    '+noall',
    '+answer',
    name,
    type,
  ]);
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith(';'))
    .map((line) => {
      const [, ttl = '0', , recordType = '', ...rest] = line.trim().split(/\s+/);
      const from = UNCHUNKED_FROM[recordType];
      const fields =
        from === undefined ? rest : [...rest.slice(0, from), rest.slice(from).join('')];
      return { ttl: Number(ttl), type: recordType, data: fields.join(' ') };
    });
}

/** Data of the records of `type` (not their RRSIGs), DS/CDS digests lower-cased, sorted (servers may rotate the order). */
export function dataOf(records: readonly WireRecord[], type: string): string[] {
  return records
    .filter((record) => record.type === type)
    .map((record) => (type === 'DS' || type === 'CDS' ? record.data.toLowerCase() : record.data))
    .sort();
}

/** Key tags of the RRSIGs over `type`. */
export function signingKeyTags(records: readonly WireRecord[], type: string): number[] {
  return records
    .filter((record) => record.type === 'RRSIG' && record.data.startsWith(`${type} `))
    .map((record) => Number(record.data.split(' ')[6]))
    .sort((a, b) => a - b);
}

/** The base64 public key of a fresh ECDSA P-256 key (a foreign signer's key). */
export function newP256PublicKey(): string {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const jwk = publicKey.export({ format: 'jwk' });
  return Buffer.concat([
    Buffer.from(jwk.x ?? '', 'base64url'),
    Buffer.from(jwk.y ?? '', 'base64url'),
  ]).toString('base64');
}

export async function pause(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}
