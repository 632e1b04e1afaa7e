/**
 * Model 1's PUSH(K) (standards §7.5): the owner merges every provider's planned ZSKs into one
 * DNSKEY RRset per point in time, and signs each with every owner KSK.
 */
import type {
  CallOptions,
  DnskeyData,
  OwnerKey,
  PlannedZsks,
  SignedDnskeySnapshot,
} from '@chorus/core';
import { inEffectAt } from '@chorus/dns';
import { OwnerKeyError } from './errors.js';
import { signDnskeyRrset } from './sign-dnskey.js';

export interface DnskeySetPlan {
  zone: string;
  /** The DNSKEY RRset's TTL. */
  ttl: number;
  /** Every provider's planned ZSKs, by signer id. */
  providers: Readonly<Record<string, readonly PlannedZsks[]>>;
  /** Published in every snapshot besides the providers' plans, e.g. a ZSK pre-published for a roll. */
  extraKeys?: readonly DnskeyData[];
  /** Seconds since the epoch: the first snapshot begins then. */
  now: number;
  validity: SignatureValidity;
}

export interface SignatureValidity {
  /** Seconds a signature begins before its snapshot, for clock skew (standards §7.5: 1 h). */
  inceptionSlackSeconds: number;
  /** Seconds a signature outlives the start of the next snapshot (TTL and propagation). */
  overlapSeconds: number;
  /** How long the last snapshot's signature lasts. */
  lastSnapshotSeconds: number;
}

const identity = (key: DnskeyData) =>
  `${key.flags} ${key.protocol} ${key.algorithm} ${key.publicKey}`;

/**
 * The key set of each snapshot, without signatures: a snapshot begins at `now` and at every
 * later time a provider's plan changes, and holds every provider's ZSKs in effect then, the
 * extra keys and the owner KSKs, without duplicates, in a stable order.
 */
export function snapshotKeySets(
  plan: DnskeySetPlan,
  ownerKeys: readonly DnskeyData[],
): { at: number; dnskeys: DnskeyData[] }[] {
  const plans = Object.values(plan.providers);
  const times = new Set([plan.now]);
  for (const entries of plans)
    for (const entry of entries) if (entry.at > plan.now) times.add(entry.at);
  return [...times]
    .sort((a, b) => a - b)
    .map((at) => {
      const keys = new Map<string, DnskeyData>();
      const add = (key: DnskeyData) => keys.set(identity(key), key);
      for (const entries of plans) inEffectAt(entries, at)?.zsks.forEach(add);
      plan.extraKeys?.forEach(add);
      ownerKeys.forEach(add);
      return { at, dnskeys: [...keys.values()] };
    });
}

/** Signs every snapshot with every owner KSK (two during a KSK roll's double signature). */
export async function signDnskeySnapshots(
  owners: readonly OwnerKey[],
  plan: DnskeySetPlan,
  options: CallOptions = {},
): Promise<SignedDnskeySnapshot[]> {
  if (owners.length === 0) throw new OwnerKeyError(`no owner KSK to sign ${plan.zone} with`);
  const sets = snapshotKeySets(
    plan,
    owners.map((owner) => owner.dnskey),
  );
  const signed: SignedDnskeySnapshot[] = [];
  for (const [index, set] of sets.entries()) {
    const next = sets[index + 1]?.at ?? set.at + plan.validity.lastSnapshotSeconds;
    const rrset = {
      zone: plan.zone,
      keys: set.dnskeys,
      ttl: plan.ttl,
      inception: set.at - plan.validity.inceptionSlackSeconds,
      expiration: next + plan.validity.overlapSeconds,
    };
    const rrsigs = [];
    for (const owner of owners) rrsigs.push(await signDnskeyRrset(owner, rrset, options));
    signed.push({ at: set.at, ttl: plan.ttl, dnskeys: set.dnskeys, rrsigs });
  }
  return signed;
}
