/** Look-ups in a lab status, for tests that talk to the lab's servers and resolvers. */
import type { NameServer } from '@chorus/core';
import type {
  LabProviderApi,
  LabResolver,
  LabServer,
  LabStatus,
  ProviderId,
  ResolverId,
  ServerId,
} from '../types.js';

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

/** The provider fake of `provider` (the lab must run with `providers`). */
export function labProvider(lab: LabStatus, provider: ProviderId): LabProviderApi {
  const api = lab.providers.find((entry) => entry.provider === provider);
  if (!api) throw new Error(`the lab runs no ${provider} fake (lab up --providers ${provider})`);
  return api;
}
