/**
 * RFC 9615 signalling records, the publishing half shared by the plugins: where each signalling
 * name goes, and what a server serves there now.
 */
import {
  SignerConfigurationError,
  type BootstrapSignalSet,
  type CallOptions,
  type DnskeyData,
  type DsData,
  type NameServer,
  type ZoneName,
} from '@chorus/core';
import { canonicalName, isSubdomain, normalizeName } from '../names.js';
import { query, type QueryOptions } from '../query.js';
import { dnskeyIdentity, dsIdentity } from './plan.js';

/** `_dsboot.<child>._signal.<nameserver>` (RFC 9615 §3), lower-case, absolute. */
export function signallingName(zone: string, nameserver: string): string {
  const child = canonicalName(normalizeName(zone)).replace(/\.$/, '');
  return `_dsboot.${child}._signal.${canonicalName(normalizeName(nameserver))}`;
}

/** One signalling name and the signalling zone it is written in. */
export interface SignalPlacement {
  nameserver: string;
  name: string;
  signallingZone: ZoneName;
}

/**
 * Where each NS hostname's signalling name goes: the deepest configured signalling zone that
 * holds it. Hostnames inside the child get none (RFC 9615 §3 skips them). Throws
 * SignerConfigurationError naming a hostname that no signalling zone holds.
 */
export function placeSignals(
  zone: ZoneName,
  nameservers: readonly string[],
  signallingZones: readonly ZoneName[],
  signerId: string,
): SignalPlacement[] {
  const zones = signallingZones
    .map((entry) => canonicalName(normalizeName(entry)))
    .sort((a, b) => b.length - a.length);
  const placements: SignalPlacement[] = [];
  for (const nameserver of [...new Set(nameservers.map((ns) => canonicalName(normalizeName(ns))))]) {
    if (isSubdomain(nameserver, zone)) continue;
    const signallingZone = zones.find((candidate) => isSubdomain(nameserver, candidate));
    if (!signallingZone) {
      throw new SignerConfigurationError({
        signerId,
        zone,
        setting: 'signallingZone',
        problem: `no signalling zone holds its NS ${nameserver}${zones.length > 0 ? ` (configured: ${zones.join(', ')})` : ' (none configured)'}, so it cannot publish the RFC 9615 signal for it`,
        fix: `set it to the signed, securely delegated zone that holds ${nameserver}`,
      });
    }
    placements.push({ nameserver, name: signallingName(zone, nameserver), signallingZone });
  }
  return placements;
}

/** What one server serves at one signalling name (RD=0, TCP). Empty arrays for NXDOMAIN/NODATA. */
export async function readSignalsFromServer(
  server: NameServer,
  name: string,
  options: CallOptions & Pick<QueryOptions, 'timeoutMs' | 'retries'> = {},
): Promise<BootstrapSignalSet> {
  const [cds, cdnskey] = await Promise.all(
    (['CDS', 'CDNSKEY'] as const).map(async (type) => {
      const response = await query(server, name, type, { transport: 'tcp', ...options });
      return response.answers
        .filter((set) => set.type === type && canonicalName(set.name) === canonicalName(name))
        .flatMap((set) => set.records as unknown[]);
    }),
  );
  return { cds: cds as DsData[], cdnskey: cdnskey as DnskeyData[] };
}

/** Whether two signal sets hold the same records (order and digest case ignored). */
export function sameSignals(left: BootstrapSignalSet, right: BootstrapSignalSet): boolean {
  const ids = (set: BootstrapSignalSet) =>
    [
      ...set.cds.map((ds) => `CDS ${dsIdentity({ ...ds, digest: ds.digest.replace(/\s+/g, '') })}`),
      ...set.cdnskey.map((key) => `CDNSKEY ${dnskeyIdentity(key)}`),
    ]
      .sort()
      .join('\n');
  return ids(left) === ids(right);
}
