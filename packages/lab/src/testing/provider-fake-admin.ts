/**
 * Test helpers for plugins tested against the lab's SaaS provider fakes: the fakes' admin
 * endpoints, the apex served as comparable identities, and the error a call rejects with.
 */
import { readFile } from 'node:fs/promises';
import type { ApexSnapshot } from '@chorus/core';
import { csyncIdentity, dnskeyIdentity, dsIdentity } from '@chorus/dns';
import type { RequestRecord } from '@chorus/provider-fakes';
import type { LabProviderApi } from '../types.js';

/** The admin endpoints of a provider fake (`/_fake/…`, header `X-Fake-Admin`). */
export interface FakeAdmin {
  /** `POST /_fake/faults`; fails the test unless the fake accepted the fault. */
  addFault(fault: FakeFault): Promise<void>;
  /** `DELETE /_fake/faults`. */
  clearFaults(): Promise<void>;
  /** `POST /_fake/token`. */
  setToken(state: 'valid' | 'expired' | 'revoked'): Promise<void>;
  /** `GET /_fake/requests`: every API request of this fake process, in order. */
  requests(): Promise<RequestRecord[]>;
  /** `POST /_fake/rate-limits` (merged over the lab's; forgets the admitted requests). */
  setRateLimits(limits: Record<string, unknown>): Promise<void>;
  /** The lab's limits again (and the windows forgotten). */
  restoreRateLimits(): Promise<void>;
}

/** The body of `POST /_fake/faults` (provider-fakes README). */
export interface FakeFault {
  match: { method?: string; pathPrefix?: string };
  status?: number;
  body?: unknown;
  delayMs?: number;
  dropFields?: string[];
  times?: number;
}

/** The admin side of the lab's fake `api`. */
export function fakeAdmin(api: LabProviderApi): FakeAdmin {
  const origin = new URL(api.url).origin;
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${origin}${path}`, {
      method,
      headers: {
        'X-Fake-Admin': (await readFile(api.adminTokenFile, 'utf8')).trim(),
        'Content-Type': 'application/json',
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  };
  return {
    addFault: async (fault) => void (await call('POST', '/_fake/faults', fault)),
    clearFaults: async () => void (await call('DELETE', '/_fake/faults')),
    setToken: async (state) => void (await call('POST', '/_fake/token', { state })),
    requests: async () => (await call('GET', '/_fake/requests')) as RequestRecord[],
    setRateLimits: async (limits) => void (await call('POST', '/_fake/rate-limits', limits)),
    restoreRateLimits: async () => void (await call('POST', '/_fake/rate-limits', api.rateLimits)),
  };
}

/** What a snapshot of the apex serves, as sorted identities per type (no TTLs, no signatures). */
export function servedRecords(apex: ApexSnapshot): Record<string, string[]> {
  return {
    NS: (apex.ns?.records ?? []).map((name) => name.toLowerCase()).sort(),
    DNSKEY: (apex.dnskey?.records ?? []).map(dnskeyIdentity).sort(),
    CDS: (apex.cds?.records ?? []).map(dsIdentity).sort(),
    CDNSKEY: (apex.cdnskey?.records ?? []).map(dnskeyIdentity).sort(),
    CSYNC: (apex.csync?.records ?? []).map(csyncIdentity).sort(),
  };
}

/** The error `promise` rejects with; fails when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}
