/**
 * Model 1 (RFC 8901 §2.1.1) in the fold: the owner's signed DNSKEY RRsets are applied only when
 * every RRSIG verifies with an owner KSK of the zone's definition, whoever appended them.
 */
import type { DnskeyData, SignedDnskeySnapshot, ZoneOwner } from '@chorus/core';
import { computeDs, inEffectAt, keyTag, verifyRrsig } from '@chorus/dns';
import { PUSH_WITHOUT_LEAVER_STEP } from './processes.js';
import type { OwnerSignedState, ProcessState, ZoneState } from './state.js';

/** The signer id that names the zone owner in model 1's KSK roll (`chorus roll ZONE owner --ksk`). */
export const OWNER_ID = 'owner';

/** The step of model 1's KSK roll from which the owner signs without the predecessor. */
export const RETIRE_OWNER_KSK_STEP = 'retire-owner-ksk';

/** The owner's KSK roll in flight, if any. */
export function ownerKskRoll(state: ZoneState): ProcessState | undefined {
  return state.activeProcesses.find((process) => process.roll?.ownerSuccessor !== undefined);
}

/** Whether a process has started `stepName` (or passed it). */
function hasReached(process: ProcessState, stepName: string): boolean {
  const at = process.steps.findIndex((step) => step.name === stepName);
  if (at < 0) return false;
  return (
    process.currentStep > at ||
    (process.currentStep === at && process.stepStates[at]?.status !== 'pending')
  );
}

/** Signers joining the group in a model-1 ADD-SIGNER in flight: they serve the owner's set too. */
function joiners(state: ZoneState): string[] {
  return state.activeProcesses
    .filter((process) => process.kind === 'add-signer')
    .flatMap((process) => process.groupAfter.filter((id) => !state.members.includes(id)));
}

/**
 * Whose planned ZSKs the owner signs: the members and any joiner, without a leaving signer once
 * M1-REMOVE reaches the step that drops its keys (its signatures have left every cache by then).
 */
export function ownerSetMembers(state: ZoneState): string[] {
  const dropped = new Set(
    state.activeProcesses
      .filter((process) => process.kind === 'remove-signer')
      .filter((process) => hasReached(process, PUSH_WITHOUT_LEAVER_STEP))
      .map((process) => process.signerId),
  );
  return [...state.members, ...joiners(state)].filter((id) => !dropped.has(id));
}

/** Where the owner's newest set is served: the members and any joiner (a leaver until it is out). */
export function ownerSetServers(state: ZoneState): string[] {
  return [...new Set([...state.members, ...joiners(state)])];
}

/**
 * The owner KSKs the members serve now: the definition's, with a KSK roll's successor from the
 * roll's start, and without its predecessors once it reaches the retire step.
 */
export function ownerKsksInEffect(state: ZoneState): DnskeyData[] {
  const owner = state.owner;
  if (!owner) return [];
  const process = ownerKskRoll(state);
  if (!process?.roll?.ownerSuccessor) return owner.dnskeys;
  // From the retire step's start: its pre-condition (the parent's DS) has been seen to hold.
  const retiring = hasReached(process, RETIRE_OWNER_KSK_STEP);
  const predecessors = process.roll.predecessorTags;
  const kept = retiring
    ? owner.dnskeys.filter((key) => !predecessors.includes(keyTag(key)))
    : owner.dnskeys;
  return [...kept, process.roll.ownerSuccessor];
}

/** The KSKs whose signatures the fold accepts: the definition's, and a roll's successor. */
function acceptedOwnerKsks(state: ZoneState): DnskeyData[] {
  const successor = ownerKskRoll(state)?.roll?.ownerSuccessor;
  return [...(state.owner?.dnskeys ?? []), ...(successor ? [successor] : [])];
}

/** Model 1's zone-owner view for the fold's signature check (the accepted KSKs). */
export function ownerForVerification(state: ZoneState): ZoneOwner | undefined {
  return state.owner && { ...state.owner, dnskeys: acceptedOwnerKsks(state) };
}

/** The DS the parent holds at the end of the owner's KSK roll: the successor's (SHA-256). */
export function ownerDsAfterRoll(state: ZoneState, process: ProcessState) {
  const roll = process.roll!;
  const kept = (state.owner?.dnskeys ?? []).filter(
    (key) => !roll.predecessorTags.includes(keyTag(key)),
  );
  return [...kept, roll.ownerSuccessor!].map((key) => computeDs(state.zone, key, 2));
}

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

/** Why the owner signs now, or why it waits. */
export type OwnerSigningDecision =
  { kind: 'sign'; reason: 'initial' | 'keys-changed' | 'refresh' } | { kind: 'wait'; why: string };

const identity = (key: DnskeyData) => `${key.flags} ${key.algorithm} ${key.publicKey}`;

/** The key set every member plans at `at`, with the owner's KSKs: what the owner must sign. */
export function wantedDnskeys(state: ZoneState, at: number): Set<string> {
  const wanted = new Set(ownerKsksInEffect(state).map(identity));
  for (const id of ownerSetMembers(state))
    for (const key of inEffectAt(state.signers[id]?.plannedZsks ?? [], at)?.zsks ?? [])
      wanted.add(identity(key));
  return wanted;
}

/** The latest expiration of the owner's newest signatures, seconds since the epoch. */
export function ownerSignaturesExpireAt(signed: OwnerSignedState): number {
  return Math.max(
    ...signed.snapshots.flatMap((snapshot) => snapshot.rrsigs.map((sig) => sig.expiration)),
  );
}

/** Members' default key watch, when they registered without one (the sidecar's default). */
const DEFAULT_KEY_WATCH_SECONDS = 30;

/**
 * How long a new set takes to be served everywhere: the slowest member's key watch (its sidecar
 * imports the set then), DprpC and S. The owner re-signs this much before the refresh lead, so
 * no member ever serves a signature with less than the lead left (I8).
 */
export function refreshTransitSeconds(state: ZoneState): number {
  const watches = ownerSetServers(state).map(
    (id) => state.signers[id]?.keyWatchSeconds ?? DEFAULT_KEY_WATCH_SECONDS,
  );
  return (
    Math.max(0, ...watches) +
    state.timing.childPropagationSeconds +
    state.timing.safetyMarginSeconds
  );
}

/**
 * Model 1's PUSH(K) trigger (standards §7.5): sign when nothing is signed yet, when the members'
 * planned ZSKs differ from the signed set in effect now, or when the newest signature has less
 * than the refresh lead plus the transit time left. Waits while a member has not listed its
 * planned ZSKs.
 */
export function ownerSigningDue(state: ZoneState, nowSeconds: number): OwnerSigningDecision {
  if (!state.owner) return { kind: 'wait', why: 'the zone is in model 2' };
  const unplanned = ownerSetMembers(state).filter((id) => !state.signers[id]?.plannedZsks?.length);
  if (unplanned.length > 0)
    return { kind: 'wait', why: `waiting for the planned ZSKs of ${unplanned.join(', ')}` };
  const signed = state.ownerSigned;
  if (!signed) return { kind: 'sign', reason: 'initial' };
  const current = inEffectAt(signed.snapshots, nowSeconds);
  const servedNow = new Set((current?.dnskeys ?? []).map(identity));
  const wanted = wantedDnskeys(state, nowSeconds);
  if (servedNow.size !== wanted.size || [...wanted].some((key) => !servedNow.has(key)))
    return { kind: 'sign', reason: 'keys-changed' };
  const left = ownerSignaturesExpireAt(signed) - nowSeconds;
  const refreshBelow = state.owner.refreshLeadSeconds + refreshTransitSeconds(state);
  if (left < refreshBelow) return { kind: 'sign', reason: 'refresh' };
  return {
    kind: 'wait',
    why: `the owner's signatures have ${left} s left; refresh below ${refreshBelow} s`,
  };
}

/**
 * What the owner signs: every member's planned ZSKs, its KSKs, signatures from an hour before
 * each snapshot until the next one plus the time a cached RRset may live (TTL + DprpC + S), the
 * last lasting the zone's signature validity.
 */
export function ownerSigningPlan(state: ZoneState, nowSeconds: number) {
  const owner = state.owner!;
  const timing = state.timing;
  const providers = Object.fromEntries(
    ownerSetMembers(state).map((id) => [id, state.signers[id]?.plannedZsks ?? []]),
  );
  return {
    zone: state.zone,
    ttl: state.recordTtlSeconds,
    providers,
    now: nowSeconds,
    validity: {
      inceptionSlackSeconds: 3600,
      overlapSeconds:
        state.recordTtlSeconds + timing.childPropagationSeconds + timing.safetyMarginSeconds,
      lastSnapshotSeconds: owner.signatureValiditySeconds,
    },
  };
}

const describeKey = (identityText: string) => {
  const [flags, algorithm, publicKey] = identityText.split(' ');
  const key = {
    flags: Number(flags),
    protocol: 3,
    algorithm: Number(algorithm),
    publicKey: publicKey!,
  };
  return `${Number(flags) & 1 ? 'KSK' : 'ZSK'} ${keyTag(key)}`;
};

/**
 * Model 1's PUSH post-condition resolved at `nowSeconds`: the owner's set in effect, and the
 * keys the members plan (with the owner's KSKs) that it lacks or that it holds beyond them.
 */
export function ownerSetCheck(state: ZoneState, members: readonly string[], nowSeconds: number) {
  const signed = state.ownerSigned
    ? inEffectAt(state.ownerSigned.snapshots, nowSeconds)
    : undefined;
  const wanted = wantedDnskeys(state, nowSeconds);
  const inSet = new Set((signed?.dnskeys ?? []).map(identity));
  const unsigned = [
    ...[...wanted].filter((key) => !inSet.has(key)).map((key) => `lacks ${describeKey(key)}`),
    ...[...inSet].filter((key) => !wanted.has(key)).map((key) => `still holds ${describeKey(key)}`),
  ];
  return {
    kind: 'owner-set-served' as const,
    members: [...members],
    signed: signed ?? null,
    unsigned,
  };
}
