/**
 * What a server writes for each of its zones: its signalling zone, an insecure zone (every
 * signer's NS name at the apex), the model-1 zone (every server's of it) or a lab zone (its own
 * NS name only).
 */
import { OWNER_ZONE, SIGNER_NAMESERVER_NAMES, type LabConfig } from './config.js';
import { ownerNameservers } from './owner.js';
import { signallingZoneOf } from './signalling.js';
import type { LabServer } from './types.js';
import { childZoneFile, signallingZoneFile } from './zones.js';

type ZoneConfig = Pick<LabConfig, 'ttl' | 'signalling' | 'insecureZones' | 'owner' | 'providers'>;

/** The apex NS names when they are not the server's own alone. */
function sharedApexNameservers(zone: string, config: ZoneConfig): readonly string[] | undefined {
  if (config.insecureZones.includes(zone)) return SIGNER_NAMESERVER_NAMES;
  if (zone === OWNER_ZONE && config.owner) return ownerNameservers(config);
  return undefined;
}

export function serverZoneFile(
  server: Pick<LabServer, 'id' | 'nameserverName' | 'address'>,
  zone: string,
  config: ZoneConfig,
): string {
  const { ttl } = config;
  const { nameserverName } = server;
  if (zone === signallingZoneOf(server, config))
    return signallingZoneFile({ zone, ttl, nameserverName, address: server.address });
  const apexNameservers = sharedApexNameservers(zone, config);
  return childZoneFile({
    zone,
    ttl,
    nameserverName,
    ...(apexNameservers ? { apexNameservers } : {}),
  });
}
