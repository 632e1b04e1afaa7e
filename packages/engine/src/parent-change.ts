import {
  canonicalName,
  dnskeyIdentity,
  dsMatchesKey,
  formatRdata,
  isSubdomain,
  isSupportedDigestType,
  keyTag,
  normalizeName,
} from '@chorus/dns';
import {
  canonicalJson,
  type Delegation,
  type DsData,
  type GlueRecords,
  type ParentChange,
  type RecordSetChange,
  type SigningKey,
} from '@chorus/core';
import type { PostconditionCheck } from './decide.js';
import { expectedDsFor, nameServersOf } from './desired.js';
import { ownerForVerification } from './model1.js';
import type { ProcessState, StepState, ZoneState } from './state.js';

/**
 * What a person must change at the parent for a step's parent post-condition to hold: DS (with
 * the DNSKEY behind each, for registrars that take keys) or NS (with glue). Pure: computed from
 * the fold and one `Delegation`. For parents that nobody scans (observe-only): the sidecar records
 * it as `parent-change-needed`, and `chorus status` shows it.
 *
 * TTLs of the lines: DS at the parent's own DS TTL when it serves DS (the parent sets it; a form
 * that asks for none ignores it), else at the zone's record TTL, the TTL its signers publish
 * DNSKEY and CDS with. DNSKEY lines always at the zone's record TTL.
 */

/** The parent post-conditions. */
export type ParentCheck = Extract<
  PostconditionCheck,
  { kind: 'parent-ds-matches' | 'parent-ns-matches' }
>;

/** Which step the change is for, and at which parent. */
export interface ParentChangeContext {
  processId: string;
  stepIndex: number;
  parentZone: string;
}

/** The change without the step it belongs to (what `observePostcondition` can tell on its own). */
export type ParentChangeBody = Omit<ParentChange, 'processId' | 'stepIndex' | 'parentZone'>;

/** The additions and removals a step's first `parent-change-needed` asked for (DS lines or NS names). */
export interface RequestedChange {
  add: string[];
  remove: string[];
}

export function isParentCheck(check: PostconditionCheck): check is ParentCheck {
  return check.kind === 'parent-ds-matches' || check.kind === 'parent-ns-matches';
}

/**
 * The change a person must make at the parent for `check` to hold, or null when the parent
 * already matches (or `check` is not about the parent). `differs` names what the parent holds
 * that is neither the old nor the requested state.
 */
export function parentChangeFor(
  state: ZoneState,
  check: PostconditionCheck,
  delegation: Delegation,
  context: ParentChangeContext,
): ParentChange | null {
  if (!isParentCheck(check)) return null;
  const requested = requestedChangeOf(state, check, delegation, context);
  const body = parentChangeBody(state, check, delegation, requested);
  return body && { ...context, ...body };
}

/** {@link parentChangeFor} without the step: `requested` (if known) tells a partial change. */
export function parentChangeBody(
  state: ZoneState,
  check: ParentCheck,
  delegation: Delegation,
  requested?: RequestedChange,
): ParentChangeBody | null {
  const comparison: Comparison = {
    ...(check.kind === 'parent-ds-matches'
      ? compareDs(state, check.expectedDs, delegation.ds?.records ?? [], dsTtl(state, delegation))
      : compareNs(state, check.expectedNs, delegation.ns?.records ?? [])),
    requested,
  };
  const { change } = comparison;
  if (change.add.length === 0 && change.remove.length === 0) return null;
  const differs = DIFFERENCE_RULES.flatMap((rule) => rule(comparison));
  if (check.kind === 'parent-ds-matches')
    return { kind: 'ds', ds: change, dnskey: dnskeyChange(state, change), differs };
  return { kind: 'ns', ns: change, glue: glueChange(state, change, delegation), differs };
}

// ---------------------------------------------------------------------------------------------
// Comparing the parent with what the step expects

/** One RRset compared: items are DS lines or NS names, each with a TTL-blind identity. */
interface Comparison {
  type: 'DS' | 'NS';
  change: RecordSetChange;
  identity: (item: string) => string;
  /** False for a served item that belongs to no signer known to the zone. */
  isKnown: (item: string) => boolean;
  /** What the step asked for, when known: tells a partial change from a wrong one. */
  requested?: RequestedChange | undefined;
}

/** `expected` minus `served`, `served` minus `expected`, and both, by identity; in order, no duplicates. */
function diffSets(
  expected: readonly string[],
  served: readonly string[],
  identity: (item: string) => string,
): RecordSetChange {
  const unique = (items: readonly string[]) => [
    ...new Map(items.map((item) => [identity(item), item])).values(),
  ];
  const servedIds = new Set(served.map(identity));
  const expectedIds = new Set(expected.map(identity));
  return {
    add: unique(expected).filter((item) => !servedIds.has(identity(item))),
    remove: unique(served).filter((item) => !expectedIds.has(identity(item))),
    keep: unique(served).filter((item) => expectedIds.has(identity(item))),
  };
}

const absolute = (name: string) => canonicalName(normalizeName(name));

function dsLine(owner: string, ttl: number, ds: DsData): string {
  return `${owner} ${ttl} IN DS ${formatRdata({ type: 'DS', data: ds })}`;
}

/** The rdata of a DS line, upper-case: TTL-blind, as `dsIdentity` compares. */
function dsLineIdentity(line: string): string {
  return line.replace(/^.*?\sIN\s+DS\s+/i, '').toUpperCase();
}

function dsOfLine(line: string): DsData {
  const [keyTag, algorithm, digestType, digest] = dsLineIdentity(line).split(/\s+/);
  return {
    keyTag: Number(keyTag),
    algorithm: Number(algorithm),
    digestType: Number(digestType),
    digest: digest ?? '',
  };
}

function allKeys(state: ZoneState): SigningKey[] {
  const signers = Object.values(state.signers).flatMap((signer) => signer.keys);
  return [...signers, ...ownerSigningKeys(state)];
}

/** Model 1: the owner's KSKs (the definition's and a roll's successor) as keys a DS may name. */
function ownerSigningKeys(state: ZoneState): SigningKey[] {
  const owner = ownerForVerification(state);
  return (owner?.dnskeys ?? []).map((dnskey) => ({
    role: 'KSK',
    algorithm: dnskey.algorithm,
    keyTag: keyTag(dnskey),
    dnskey,
  }));
}

/**
 * The key a DS refers to among `keys`: same tag, algorithm and digest. A digest type Chorus does
 * not compute (SHA-1) is matched by tag and algorithm alone.
 */
function keyOfDs(zone: string, keys: readonly SigningKey[], ds: DsData): SigningKey | undefined {
  return keys.find((key) =>
    isSupportedDigestType(ds.digestType)
      ? dsMatchesKey(zone, ds, key.dnskey)
      : key.keyTag === ds.keyTag && key.dnskey.algorithm === ds.algorithm,
  );
}

/** The TTL of DS lines: the parent's own DS TTL, else the zone's record TTL. */
function dsTtl(state: ZoneState, delegation: Delegation): number {
  return delegation.ds?.ttl ?? state.recordTtlSeconds;
}

function compareDs(
  state: ZoneState,
  expected: readonly DsData[],
  served: readonly DsData[],
  ttl: number,
): Comparison {
  const owner = absolute(state.zone);
  const lines = (records: readonly DsData[]) => records.map((ds) => dsLine(owner, ttl, ds));
  const keys = allKeys(state);
  return {
    type: 'DS',
    change: diffSets(lines(expected), lines(served), dsLineIdentity),
    identity: dsLineIdentity,
    isKnown: (line) => keyOfDs(owner, keys, dsOfLine(line)) !== undefined,
  };
}

function compareNs(
  state: ZoneState,
  expected: readonly string[],
  served: readonly string[],
): Comparison {
  const registered = new Set(nameServersOf(state, Object.keys(state.signers)).map(absolute));
  return {
    type: 'NS',
    change: diffSets(expected.map(absolute), served.map(absolute), (name) => name),
    identity: (name) => name,
    isKnown: (name) => registered.has(name),
  };
}

// ---------------------------------------------------------------------------------------------
// What the parent did that is neither the old nor the requested state

type DifferenceRule = (comparison: Comparison) => string[];

const UNKNOWN_AT_PARENT: Record<Comparison['type'], (item: string) => string> = {
  DS: (line) => `the parent lists DS ${line}, which matches no key of the group`,
  NS: (name) => `the parent lists NS ${name}, which no signer serves`,
};

/** A served record that belongs to no signer of the zone: a wrong DS, a stray NS. */
const unknownAtParent: DifferenceRule = ({ type, change, isKnown }) =>
  change.remove.filter((item) => !isKnown(item)).map(UNKNOWN_AT_PARENT[type]);

/** A record that must stay (it was never to be added) is gone from the parent. */
const droppedWhatStays: DifferenceRule = ({ type, change, identity, requested }) => {
  if (!requested) return [];
  const asked = new Set(requested.add.map(identity));
  return change.add
    .filter((item) => !asked.has(identity(item)))
    .map((item) => `the parent dropped ${type} ${item}, which must stay`);
};

/** Some of the requested additions and removals are done, others not. */
const partialChange: DifferenceRule = ({ type, change, identity, requested }) => {
  if (!requested) return [];
  const ids = (items: string[]) => new Set(items.map(identity));
  const [toAdd, toRemove, kept] = [ids(change.add), ids(change.remove), ids(change.keep)];
  const among = (set: Set<string>) => (item: string) => set.has(identity(item));
  const add = {
    done: requested.add.filter(among(kept)),
    missing: requested.add.filter(among(toAdd)),
  };
  const remove = {
    done: requested.remove.filter((item) => !among(toRemove)(item) && !among(kept)(item)),
    missing: requested.remove.filter(among(toRemove)),
  };
  const words = (adds: string[], removes: string[]) =>
    [
      ...(adds.length > 0 ? [`add ${type} ${adds.join(', ')}`] : []),
      ...(removes.length > 0 ? [`remove ${type} ${removes.join(', ')}`] : []),
    ].join('; ');
  const done = words(add.done, remove.done);
  const missing = words(add.missing, remove.missing);
  if (!done || !missing) return [];
  return [`the parent made part of the change: done: ${done}; missing: ${missing}`];
};

const DIFFERENCE_RULES: readonly DifferenceRule[] = [
  unknownAtParent,
  droppedWhatStays,
  partialChange,
];

// ---------------------------------------------------------------------------------------------
// DNSKEY lines and glue

/** The DNSKEY lines behind DS lines: one per key, omitted when the key is unknown. */
function dnskeyLines(state: ZoneState, dsLines: readonly string[]): string[] {
  const owner = absolute(state.zone);
  const keys = allKeys(state);
  const found = new Map<string, string>();
  for (const line of dsLines) {
    const key = keyOfDs(owner, keys, dsOfLine(line));
    if (!key) continue;
    const rdata = formatRdata({ type: 'DNSKEY', data: key.dnskey });
    found.set(dnskeyIdentity(key.dnskey), `${owner} ${state.recordTtlSeconds} IN DNSKEY ${rdata}`);
  }
  return [...found.values()];
}

function dnskeyChange(state: ZoneState, ds: RecordSetChange): { add: string[]; remove: string[] } {
  return { add: dnskeyLines(state, ds.add), remove: dnskeyLines(state, ds.remove) };
}

/** The addresses signers registered for an NS name (their endpoints), sorted. */
function registeredAddresses(state: ZoneState, name: string): string[] {
  const addresses = Object.values(state.signers)
    .filter((signer) => signer.nameServerNames.some((candidate) => absolute(candidate) === name))
    .flatMap((signer) => signer.endpoints.map((endpoint) => endpoint.address));
  return [...new Set(addresses)].sort();
}

/**
 * Glue for the NS names at or below the zone: added names, and kept names the parent serves no
 * address for, with the addresses their signers registered; removed names with what the parent
 * holds for them (else the registration).
 */
function glueChange(
  state: ZoneState,
  ns: RecordSetChange,
  delegation: Delegation,
): { add: GlueRecords[]; remove: GlueRecords[] } {
  const zone = absolute(state.zone);
  const inBailiwick = (names: string[]) => names.filter((name) => isSubdomain(name, zone));
  const atParent = (name: string) =>
    delegation.glue.find((glue) => absolute(glue.name) === name)?.addresses;
  const glue = (name: string, addresses: string[] | undefined): GlueRecords[] =>
    addresses && addresses.length > 0 ? [{ name, addresses: [...addresses].sort() }] : [];
  return {
    add: inBailiwick([...ns.add, ...ns.keep.filter((name) => !atParent(name))]).flatMap((name) =>
      glue(name, registeredAddresses(state, name)),
    ),
    remove: inBailiwick(ns.remove).flatMap((name) =>
      glue(name, atParent(name) ?? registeredAddresses(state, name)),
    ),
  };
}

// ---------------------------------------------------------------------------------------------
// The change the step asked for

function processAndStep(
  state: ZoneState,
  context: Pick<ParentChangeContext, 'processId' | 'stepIndex'>,
): { process: ProcessState; step: StepState } | undefined {
  const process = state.processes.find((candidate) => candidate.id === context.processId);
  const step = process?.stepStates[context.stepIndex];
  return process && step ? { process, step } : undefined;
}

/**
 * What the step asked the parent for: its first recorded `parent-change-needed`, else (ADD- and
 * REMOVE-SIGNER) the difference between the group before the process and what the step expects.
 * Rolls without a record: unknown.
 */
export function requestedChangeOf(
  state: ZoneState,
  check: ParentCheck,
  delegation: Delegation,
  context: Pick<ParentChangeContext, 'processId' | 'stepIndex'>,
): RequestedChange | undefined {
  const found = processAndStep(state, context);
  if (!found) return undefined;
  if (found.step.parentChange) return found.step.parentChange.requested;
  if (found.process.kind !== 'add-signer' && found.process.kind !== 'remove-signer')
    return undefined;
  const before = found.process.groupBefore;
  const { change } =
    check.kind === 'parent-ds-matches'
      ? compareDs(state, check.expectedDs, expectedDsFor(state, before), dsTtl(state, delegation))
      : compareNs(state, check.expectedNs, nameServersOf(state, before));
  return { add: change.add, remove: change.remove };
}

// ---------------------------------------------------------------------------------------------
// Words

/** The change on one line: `the parent must add DS …; remove DS …` (the sidecar's pending line). */
export function parentChangeSummary(change: ParentChangeBody): string {
  const set = change.kind === 'ds' ? change.ds : change.ns;
  const type = change.kind === 'ds' ? 'DS' : 'NS';
  const parts = [
    ...(set && set.add.length > 0 ? [`add ${type} ${set.add.join(', ')}`] : []),
    ...(set && set.remove.length > 0 ? [`remove ${type} ${set.remove.join(', ')}`] : []),
    ...(change.glue?.add ?? []).map((glue) => `add glue ${glue.name} ${glue.addresses.join(' ')}`),
    ...(change.glue?.remove ?? []).map(
      (glue) => `remove glue ${glue.name} ${glue.addresses.join(' ')}`,
    ),
  ];
  return `the parent must ${parts.join('; ')}`;
}

/**
 * True when `change` is for the step being observed (current and started) and says something
 * its recorded change does not: the runtime appends `parent-change-needed` once per change, not
 * once per observation (the fold ignores one for any other step).
 */
export function isNewParentChange(state: ZoneState, change: ParentChange): boolean {
  const found = processAndStep(state, change);
  if (!found || found.process.currentStep !== change.stepIndex) return false;
  if (found.step.status !== 'started') return false;
  const recorded = found.step.parentChange;
  return !recorded || whatToChange(recorded) !== whatToChange(change);
}

/** The part of a change a person acts on, as comparable text. */
function whatToChange(change: Omit<ParentChange, 'processId' | 'stepIndex'>): string {
  const { parentZone, kind, ds, dnskey, ns, glue, differs } = change;
  return canonicalJson({ parentZone, kind, ds, dnskey, ns, glue, differs });
}
