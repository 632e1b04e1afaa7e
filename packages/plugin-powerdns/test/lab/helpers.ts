import type { LabStatus, PowerDnsApiControl } from '@chorus/lab';
import { endpoint, labServer } from '@chorus/lab/testing';
import type { PowerDnsConfig } from '../../src/index.js';

/** The lab server's PowerDNS API control endpoint. */
export function apiControl(lab: LabStatus, id: 'powerdns' | 'powerdns-no-direct-dnskey') {
  const server = labServer(lab, id);
  if (server.control.kind !== 'powerdns-api')
    throw new Error(`${id} has no PowerDNS API control endpoint`);
  return server.control satisfies PowerDnsApiControl;
}

/** The plugin configuration for a lab PowerDNS server, as an operator would write it. */
export function labConfig(
  lab: LabStatus,
  id: 'powerdns' | 'powerdns-no-direct-dnskey' = 'powerdns',
): PowerDnsConfig {
  const server = labServer(lab, id);
  const control = apiControl(lab, id);
  return {
    id,
    server: endpoint(server),
    api: { url: control.url, apiKeyFile: control.apiKeyFile },
    requestTimeoutMs: 5000,
  };
}
