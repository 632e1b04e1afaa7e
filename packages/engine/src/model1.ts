/**
 * Model 1 (RFC 8901 §2.1.1) in the fold: the owner's signed DNSKEY RRsets are applied only when
 * every RRSIG verifies with an owner KSK of the zone's definition, whoever appended them.
 */
import type { DnskeyData, SignedDnskeySnapshot, ZoneOwner } from '@chorus/core';
import { keyTag, verifyRrsig } from '@chorus/dns';

const sameKey = (a: DnskeyData, b: DnskeyData) =>
  a.flags === b.flags && a.algorithm === b.algorithm && a.publicKey === b.publicKey;

/** Why one snapshot is not the owner's, or undefined when it is. */
function snapshotProblem(
  zone: string,
  owner: ZoneOwner,
  snapshot: SignedDnskeySnapshot,
): string | undefined {
  const when = `the snapshot from ${new Date(snapshot.at * 1000).toISOString()}`;
  const published = owner.dnskeys.filter((key) => snapshot.dnskeys.some((k) => sameKey(k, key)));
  if (published.length === 0) return `${when} holds no owner KSK`;
  if (snapshot.rrsigs.length === 0) return `${when} has no RRSIG`;
  const rrset = {
    name: zone,
    type: 'DNSKEY' as const,
    class: 'IN' as const,
    records: snapshot.dnskeys,
  };
  for (const signature of snapshot.rrsigs) {
    const key = published.find((candidate) => keyTag(candidate) === signature.keyTag);
    if (!key)
      return `${when} has an RRSIG by key ${signature.keyTag}, which is no owner KSK in the set`;
    const verdict = verifyRrsig({ rrset, signature, key, ignoreTime: true });
    if (!verdict.ok)
      return `${when}: the RRSIG by owner KSK ${signature.keyTag} does not verify (${verdict.reason})`;
  }
  return undefined;
}

/** Why owner-signed snapshots must not be applied to the zone, or undefined when they may. */
export function ownerSignatureProblem(
  zone: string,
  owner: ZoneOwner | undefined,
  snapshots: readonly SignedDnskeySnapshot[],
): string | undefined {
  if (!owner) return 'the zone is in model 2: its definition names no owner';
  if (snapshots.length === 0) return 'it holds no snapshot';
  for (const snapshot of snapshots) {
    const problem = snapshotProblem(zone, owner, snapshot);
    if (problem) return problem;
  }
  return undefined;
}
