/**
 * RFC 9615 signalling zones (`up --signalling`): each signer serves `<id>.test.`, the zone of its
 * own NS name `ns.<id>.test.`, signed and delegated from `test.` with a DS, so that the
 * `_dsboot.<child>._signal.ns.<id>.test.` records its plugin writes there validate.
 */
import { PARENT_ZONE, SIGNER_IDS, NAMESERVER_NAME, type LabConfig } from './config.js';
import type { LabServer, LabSignallingZone, SignerId } from './types.js';

/** `bind.test.` for the BIND signer. */
export function signallingZoneName(id: SignerId): string {
  return `${id}.${PARENT_ZONE}`;
}

/** Every signalling zone of a lab; empty without `signalling`. */
export function planSignallingZones(config: Pick<LabConfig, 'signalling'>): LabSignallingZone[] {
  if (!config.signalling) return [];
  return SIGNER_IDS.map((server) => ({
    server,
    zone: signallingZoneName(server),
    nameserver: NAMESERVER_NAME[server],
  }));
}

/** The signalling zone `server` serves, if any. */
export function signallingZoneOf(
  server: Pick<LabServer, 'id'>,
  config: Pick<LabConfig, 'signalling'>,
): string | undefined {
  return planSignallingZones(config).find((entry) => entry.server === server.id)?.zone;
}
