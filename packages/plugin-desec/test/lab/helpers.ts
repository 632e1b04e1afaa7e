import { readFile } from 'node:fs/promises';
import { ApiCallError, type ApexSnapshot, type Signer } from '@chorus/core';
import { csyncIdentity, dnskeyIdentity, dsIdentity } from '@chorus/dns';
import type { LabProviderApi, LabStatus } from '@chorus/lab';
import type { RequestRecord } from '@chorus/provider-fakes';
import { endpoint, labProvider, labServer } from '@chorus/lab/testing';
import type { DesecConfig } from '../../src/index.js';

/** The plugin configuration for the lab's deSEC fake, as an operator would write it. */
export function labConfig(lab: LabStatus): DesecConfig {
  const api = labProvider(lab, 'desec');
  return {
    id: 'desec',
    api: { url: api.url, tokenFile: api.tokenFile },
    server: endpoint(labServer(lab, 'desec')),
    requestTimeoutMs: 5000,
  };
}

const MAX_THROTTLE_WAIT_SECONDS = 70;

/** Runs `call` again after a 429, waiting what `Retry-After` asks (as the engine does). */
async function afterThrottling<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (!ApiCallError.isInstance(error) || error.statusCode !== 429 || attempt >= 3) throw error;
      const seconds = Math.min(error.retryAfterSeconds ?? 1, MAX_THROTTLE_WAIT_SECONDS);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    }
  }
}

/**
 * The signer with deSEC's throttling (429 with Retry-After, retryable) retried, as the engine
 * retries retryable errors in production. The suite applies many plans in a row; deSEC allows
 * 2 writes a second and 15 a minute per domain. Any other error goes through unchanged.
 */
export function retryingThrottled(signer: Signer): Signer {
  return {
    specificationVersion: signer.specificationVersion,
    kind: signer.kind,
    id: signer.id,
    capabilities: signer.capabilities,
    nameServers: signer.nameServers,
    checkZone: (zone, options) => afterThrottling(() => signer.checkZone(zone, options)),
    listOwnKeys: (zone, options) => afterThrottling(() => signer.listOwnKeys(zone, options)),
    readApex: (zone, options) => signer.readApex(zone, options),
    applyChanges: (plan, options) => afterThrottling(() => signer.applyChanges(plan, options)),
  };
}

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
