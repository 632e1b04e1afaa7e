/**
 * What a signer writes for each of its zones: its signalling zone, an insecure zone (every
 * signer's NS name at the apex) or a lab zone (its own NS name only).
 */
import { SIGNER_NAMESERVER_NAMES, type LabConfig } from './config.js';
import { signallingZoneOf } from './signalling.js';
import type { LabServer } from './types.js';
import { childZoneFile, signallingZoneFile } from './zones.js';

export function serverZoneFile(
  server: Pick<LabServer, 'id' | 'nameserverName' | 'address'>,
  zone: string,
  config: Pick<LabConfig, 'ttl' | 'signalling' | 'insecureZones'>,
): string {
  const { ttl } = config;
  const { nameserverName } = server;
  if (zone === signallingZoneOf(server, config))
    return signallingZoneFile({ zone, ttl, nameserverName, address: server.address });
  const insecure = config.insecureZones.includes(zone);
  return childZoneFile({
    zone,
    ttl,
    nameserverName,
    ...(insecure ? { apexNameservers: SIGNER_NAMESERVER_NAMES } : {}),
  });
}
