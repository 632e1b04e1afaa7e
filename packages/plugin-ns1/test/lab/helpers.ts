import type { LabStatus } from '@chorus/lab';
import { endpoint } from '@chorus/lab/testing';
import type { Ns1Config } from '../../src/index.js';

/** The lab's NS1 fake and the nameserver behind it, or why the lab has none. */
export type Ns1Lab = { config: Ns1Config; skip?: undefined } | { skip: string };

/** The plugin configuration for the lab's NS1 fake, as an operator would write it. */
export function ns1LabConfig(lab: LabStatus): Ns1Lab {
  const api = (lab.providers ?? []).find((provider) => provider.provider === 'ns1');
  const server = lab.servers.find((entry) => entry.id === 'ns1');
  if (!api || !server)
    return { skip: 'the lab runs no NS1 fake (lab up --providers ns1) or no ns1 server behind it' };
  return {
    config: {
      id: 'ns1-lab',
      server: endpoint(server),
      api: { url: api.url, apiKeyFile: api.tokenFile },
      requestTimeoutMs: 5000,
    },
  };
}
