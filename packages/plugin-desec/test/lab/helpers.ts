import { ApiCallError, type Signer } from '@chorus/core';
import type { LabStatus } from '@chorus/lab';
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
    readZoneContent: (zone, options) =>
      afterThrottling(() => signer.readZoneContent!(zone, options)),
  };
}
