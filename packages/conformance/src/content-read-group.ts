/**
 * The conformance group `content-read`: `Signer.readZoneContent` returns what the server serves.
 * The judge is the wire: every comparable RRset the plugin returns is asked for at the server's
 * first address, and must come back with the same rdata; the apex SOA and NS must match too.
 */
import { AbortError, type DnsRecord, type Signer } from '@chorus/core';
import {
  canonicalName,
  encodeRdata,
  isComparableContent,
  isRecordOfType,
  isSubdomain,
  query,
  zoneContentDigest,
} from '@chorus/dns';
import type { SignerConformanceOptions } from './signer-conformance.js';

/** At most this many RRsets are asked for on the wire (a large zone would take too long). */
const RRSETS_ASKED = 40;

interface Rrset {
  owner: string;
  type: DnsRecord['type'];
  rdata: string[];
}

/** Comparable RRsets by owner and type, rdata as canonical hex, sorted. */
function rrsetsOf(zone: string, records: readonly DnsRecord[]): Rrset[] {
  const sets = new Map<string, Rrset>();
  for (const record of records) {
    if (!isComparableContent(zone, record)) continue;
    const owner = canonicalName(record.name);
    const key = `${owner} ${record.type}`;
    const set = sets.get(key) ?? { owner, type: record.type, rdata: [] };
    const octets = encodeRdata(record, { lowercaseNames: true }).toString('hex');
    if (!set.rdata.includes(octets)) set.rdata.push(octets);
    sets.set(key, set);
  }
  return [...sets.values()].map((set) => ({ ...set, rdata: set.rdata.sort() }));
}

/** Owners at or below a delegation: the server answers them with a referral, not the data. */
function belowDelegation(zone: string, rrsets: readonly Rrset[]): (owner: string) => boolean {
  const cuts = rrsets.filter((set) => set.type === 'NS' && set.owner !== canonicalName(zone));
  return (owner) => cuts.some((cut) => isSubdomain(owner, cut.owner));
}

async function servedRdata(signer: Signer, set: Rrset): Promise<string[]> {
  const answer = await query(signer.nameServers[0]!, set.owner, set.type, { transport: 'tcp' });
  const served = answer.answers.find(
    (candidate) => candidate.type === set.type && canonicalName(candidate.name) === set.owner,
  );
  return (served?.records ?? [])
    .map((data) => encodeRdata({ type: set.type, data }, { lowercaseNames: true }).toString('hex'))
    .sort();
}

export function contentReadGroup(
  options: SignerConformanceOptions,
  skipReason: string | undefined,
): void {
  const { describe, test, expect, zone } = options;
  describe.skipIf(skipReason !== undefined)(
    `signer conformance: content-read${skipReason ? ` (skipped: ${skipReason})` : ''}`,
    () => {
      let signer: Signer | undefined;

      test('setup', async () => {
        signer = await options.create();
        await signer.checkZone(zone, {});
      });

      test('returns the apex SOA and NS the server serves', async () => {
        const before = await signer!.readApex(zone, {});
        const records = await signer!.readZoneContent!(zone, {});
        const after = await signer!.readApex(zone, {});
        const apex = canonicalName(zone);
        const soa = records.find((r) => r.type === 'SOA' && canonicalName(r.name) === apex);
        expect(soa, 'an apex SOA').toBeDefined();
        const serial = zoneContentDigest(zone, records).serial;
        expect(serial).toBeGreaterThanOrEqual(before.soa!.records[0]!.serial);
        expect(serial).toBeLessThanOrEqual(after.soa!.records[0]!.serial);
        const ns = records
          .filter((r) => isRecordOfType(r, 'NS') && canonicalName(r.name) === apex)
          .map((r) => canonicalName(r.data as string))
          .sort();
        expect(ns).toEqual((after.ns?.records ?? []).map(canonicalName).sort());
      });

      test('every comparable RRset it returns is served with the same rdata', async () => {
        const sets = rrsetsOf(zone, await signer!.readZoneContent!(zone, {}));
        const delegated = belowDelegation(zone, sets);
        const asked = sets.filter((set) => !delegated(set.owner)).slice(0, RRSETS_ASKED);
        for (const set of asked)
          expect(await servedRdata(signer!, set), `${set.owner} ${set.type}`).toEqual(set.rdata);
      });

      test('an aborted signal rejects with AbortError', async () => {
        await expect(
          signer!.readZoneContent!(zone, { signal: AbortSignal.abort() }),
        ).rejects.toSatisfy((error: unknown) => AbortError.isInstance(error));
      });

      test('teardown', async () => {
        await signer?.close?.();
      });
    },
  );
}
