/** Look-ups in a lab status, for tests that talk to the lab's servers and resolvers. */
import type { NameServer } from '@chorus/core';
import type { LabResolver, LabServer, LabStatus, ResolverId, ServerId } from '../types.js';

/** The server `id` of the lab; throws when the lab has none (e.g. a trap in a lab without traps). */
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
