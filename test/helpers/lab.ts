/**
 * Small helpers for integration tests that use the lab started by test/global-setup.ts
 * (`inject('lab')`).
 */
import type { NameServer } from '@chorus/core';
import type { LabResolver, LabServer, LabStatus, ResolverId, ServerId } from '@chorus/lab';

/** Address prefixes reserved for the integration tests (an operator's lab uses 127.53.0). */
export const TEST_LAB_PREFIX = '127.54.0';
export const LIFECYCLE_LAB_PREFIX = '127.55.0';

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
