/**
 * Small helpers for integration tests that use the lab started by test/global-setup.ts
 * (`inject('lab')`).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NameServer } from '@chorus/core';
import type {
  LabResolver,
  LabServer,
  LabStatus,
  ResolverId,
  ServerId,
  SignerId,
  TrapId,
} from '@chorus/lab';

/** The built CLI entry point (`pnpm build`), for tests that start sidecars or the demo as processes. */
export const CLI_MAIN = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'packages',
  'cli',
  'dist',
  'main.js',
);

/** Address prefixes reserved for the integration tests (an operator's lab uses 127.53.0). */
// CHORUS_TEST_LAB_PREFIX lets several test runs share one machine without colliding.
export const TEST_LAB_PREFIX = process.env.CHORUS_TEST_LAB_PREFIX ?? '127.54.0';
/** The zones of the test lab: the demo zone, and a throwaway zone the conformance suite wipes. */
export const TEST_LAB_ZONES = ['example.test.', 'conformance.test.', 'crash.test.'];
/** The zone the crash-safety test migrates (its group changes for good). */
export const CRASH_ZONE = 'crash.test.';
/** The zone the signer conformance suite may wipe. */
export const CONFORMANCE_ZONE = 'conformance.test.';
// CHORUS_TEST_LIFECYCLE_PREFIX does the same for the second lab of test/lab-lifecycle.test.ts.
export const LIFECYCLE_LAB_PREFIX = process.env.CHORUS_TEST_LIFECYCLE_PREFIX ?? '127.55.0';

/** The signers set up for model 2, and the deliberately misconfigured traps the test lab runs. */
export const SIGNERS: readonly SignerId[] = ['bind', 'powerdns', 'knot'];
export const TRAPS: readonly TrapId[] = [
  'bind-inline-signing',
  'powerdns-no-direct-dnskey',
  'knot-full-management',
  'knot-zonefile-revert',
];

export function labServer(lab: LabStatus, id: ServerId): LabServer {
  const server = lab.servers.find((entry) => entry.id === id);
  if (!server) throw new Error(`the lab has no server ${id}`);
  return server;
}

export function labResolver(lab: LabStatus, id: ResolverId): LabResolver {
  const resolver = lab.resolvers.find((entry) => entry.id === id);
  if (!resolver) throw new Error(`the lab has no resolver ${id}`);
  return resolver;
}

/** The DNS endpoint of a server or resolver, for `query` and `sendUpdate`. */
export function endpoint(entry: LabServer | LabResolver): NameServer {
  return { address: entry.address, port: entry.port };
}
