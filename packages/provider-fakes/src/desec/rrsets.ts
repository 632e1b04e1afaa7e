/** Backend rrsets as deSEC RRsets, and deSEC's domain `keys` list. */
import { DigestType } from '@chorus/core';
import { computeDs } from '@chorus/dns';
import type { BackendCryptokey, BackendRrset } from '../powerdns-backend.js';
import { canonicalOrRaw } from '../rdata.js';
import { AUTOMATIC_TYPES, rrsetKey, type DesecRrset } from './types.js';

/** The subname of `name` in `zone` ('' at the apex); undefined outside the zone. */
export function subnameOf(name: string, zone: string): string | undefined {
  const owner = name.toLowerCase().replace(/\.$/, '');
  const apex = zone.toLowerCase().replace(/\.$/, '');
  if (owner === apex) return '';
  return owner.endsWith(`.${apex}`) ? owner.slice(0, -apex.length - 1) : undefined;
}

/** The zone's RRsets as deSEC shows them: no automatic types, no disabled records. */
export function desecRrsets(zone: string, rrsets: readonly BackendRrset[]): DesecRrset[] {
  const result: DesecRrset[] = [];
  for (const rrset of rrsets) {
    if (AUTOMATIC_TYPES.has(rrset.type)) continue;
    const subname = subnameOf(rrset.name, zone);
    const records = rrset.records
      .filter((record) => !record.disabled)
      .map((record) => canonicalOrRaw(rrset.type, record.content));
    if (subname === undefined || records.length === 0) continue;
    result.push({ subname, type: rrset.type, ttl: rrset.ttl, records: records.sort() });
  }
  return result;
}

export function rrsetMap(rrsets: readonly DesecRrset[]): Map<string, DesecRrset> {
  return new Map(rrsets.map((rrset) => [rrsetKey(rrset.subname, rrset.type), rrset]));
}

/** One entry of a domain's `keys`. */
export interface DesecKey {
  dnskey: string;
  ds: string[];
  flags: number;
  keytype: string | null;
  managed: boolean;
}

const DS_DIGEST_TYPES = new Set(['2', '4']);

function flagsOf(dnskey: string): number {
  return Number(dnskey.trim().split(/\s+/)[0] ?? 0);
}

/** PowerDNS's DS strings of digest types 2 and 4, lower-case. */
function managedDs(key: BackendCryptokey): string[] {
  return key.ds
    .map((ds) => ds.trim().split(/\s+/))
    .filter((fields) => DS_DIGEST_TYPES.has(fields[2] ?? ''))
    .map((fields) => fields.join(' ').toLowerCase());
}

/** DS digest types 2 and 4 of a user DNSKEY with the SEP bit; [] otherwise. */
function userKeyDs(zone: string, dnskey: string): string[] {
  const [flags, protocol, algorithm, ...key] = dnskey.split(/\s+/);
  const data = {
    flags: Number(flags),
    protocol: Number(protocol),
    algorithm: Number(algorithm),
    publicKey: key.join(''),
  };
  if ((data.flags & 1) === 0) return [];
  try {
    return [DigestType.SHA256, DigestType.SHA384].map((digestType) => {
      const ds = computeDs(`${zone}.`, data, digestType);
      return `${ds.keyTag} ${ds.algorithm} ${ds.digestType} ${ds.digest.toLowerCase()}`;
    });
  } catch {
    return []; // a key that is not base64 has no digest
  }
}

/**
 * deSEC's `keys`: the backend's published cryptokeys (managed), then one entry per user
 * DNSKEY record ordered by content (unmanaged).
 */
export function domainKeys(
  zone: string,
  cryptokeys: readonly BackendCryptokey[],
  rrsets: readonly DesecRrset[],
): DesecKey[] {
  const managed = cryptokeys
    .filter((key) => key.published)
    .map((key) => ({
      dnskey: canonicalOrRaw('DNSKEY', key.dnskey),
      ds: managedDs(key),
      flags: flagsOf(key.dnskey),
      keytype: key.keytype,
      managed: true,
    }));
  const userKeys = rrsets.find((rrset) => rrset.subname === '' && rrset.type === 'DNSKEY');
  const unmanaged = [...(userKeys?.records ?? [])].sort().map((dnskey) => ({
    dnskey,
    ds: userKeyDs(zone, dnskey),
    flags: flagsOf(dnskey),
    keytype: null,
    managed: false,
  }));
  return [...managed, ...unmanaged];
}
