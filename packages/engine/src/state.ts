import type {
  SecurityFinding,
  BlockReason,
  DesiredSignerState,
  DnskeyData,
  KeyChange,
  ObservedTtls,
  ParentChange,
  ParentChangeSubmission,
  PlannedZsks,
  ProcessKind,
  RollSubject,
  SignerReference,
  SignedDnskeySnapshot,
  SigningKey,
  StepDefinition,
  TimingSettings,
  ZoneContentDigest,
  ZoneEvent,
  ZoneEventOf,
  ZoneOwner,
} from '@chorus/core';
import { interned, internedRegistration } from './interned.js';
import { conflictingProcess } from './locks.js';
import { ownerForVerification, ownerKsksInEffect, ownerSignatureProblem } from './model1.js';
import {
  applyGrant,
  initialTrust,
  refusalOf,
  type FoldPolicy,
  type ZoneTrustState,
} from './trust.js';

export type StepStatus = 'pending' | 'started' | 'postcondition-met' | 'waiting' | 'completed';

export interface StepState {
  status: StepStatus;
  startedAt?: string;
  desired?: Record<string, DesiredSignerState>;
  /** Which participants applied the step's desired state, and how many changes that took. */
  reconciled: Record<string, { applied: number; at: string; desiredDigest?: string }>;
  postconditionMetAt?: string;
  ttls?: ObservedTtls;
  wait?: { notBefore: string; formula: string; terms: Record<string, number | string> };
  completedAt?: string;
  /**
   * Parent steps: the latest `parent-change-needed`, what a person must change at the parent.
   * Pending while the step is `started`; history once its post-condition is met.
   */
  parentChange?: RecordedParentChange;
  /** Parent steps: the change last sent through the parent channel, and how it went. */
  parentSubmitted?: Omit<ParentChangeSubmission, 'processId' | 'stepIndex'> & { at: string };
  /** Parent steps: the NOTIFY sent to the parent's scanner (one per step, whoever sent it). */
  parentNotified?: { at: string; rrtype: 'CDS' | 'CSYNC'; targets: string[] };
}

/** A `parent-change-needed` as the step keeps it. */
export type RecordedParentChange = Omit<ParentChange, 'processId' | 'stepIndex'> & {
  /** ISO 8601: when it was recorded. */
  at: string;
  /** What the step's first one asked for (DS lines or NS names): tells a partial change. */
  requested: { add: string[]; remove: string[] };
};

/**
 * `needs-operator`: a participant hit an error retrying cannot fix (BADSIG, BADKEY, 401/403, a
 * refused configuration); the process holds until the operator acts.
 */
export type ProcessStatus =
  'requested' | 'running' | 'completed' | 'blocked' | 'failed' | 'needs-operator' | 'stopped';

/** Why one signer has not applied the current step yet (cleared once it reconciles the step). */
export interface SignerFailure {
  stepIndex: number;
  errorName: string;
  /** Never holds secrets: the sidecar scrubs it before appending. */
  message: string;
  retryable: boolean;
  attempts: number;
  firstAt: string;
  lastAt: string;
  /** When the server allows the next attempt (a rate limit or quota), if it said. */
  retryAt?: string;
}

/** REMOVE-SIGNER: when the leaving signer may be switched off. */
export interface LeavingSigner {
  signerId: string;
  /** ISO 8601: when the leaving signer may stop serving (an estimate until the retire step starts). */
  mayStopServingAt?: string;
  /** True once the retire step has started: the leaving signer may stop serving now. */
  mayStopServingNow?: boolean;
}

/** What the group knows of a signer at one moment: its registration and its key tags. */
export type SignerFacts = SignerReference & { keyTags: number[] };

/** A registration that changed a known signer's kind, NS names, endpoints or keys. */
export interface RegistrationChange {
  signerId: string;
  at: string;
  /** The source id that recorded it (a sidecar id). */
  by: string;
  /** Which facts changed: `kind`, `nameServerNames`, `endpoints`, `keys`. */
  changed: string[];
  /** True when the signer was in the group, or in the process in flight, when it changed. */
  member: boolean;
  before: SignerFacts;
  after: SignerFacts;
}

export interface ProcessState {
  id: string;
  kind: ProcessKind;
  signerId: string;
  status: ProcessStatus;
  steps: StepDefinition[];
  stepStates: StepState[];
  /** Index of the first step that is not completed; `steps.length` when all are. */
  currentStep: number;
  groupBefore: string[];
  groupAfter: string[];
  /** The W3C traceparent of the request: every event of the process belongs to its trace. */
  traceparent?: string;
  /** Steps whose wait is skipped: UNSAFE, for negative controls only. */
  unsafeSkipWaits?: string[];
  startedAt: string;
  endedAt?: string;
  reasons?: BlockReason[];
  /** Signers that failed to apply the current step, by signer id. */
  signerFailures?: Record<string, SignerFailure>;
  /** REMOVE-SIGNER only. */
  leavingSigner?: LeavingSigner;
  /** Roll processes: the keys being replaced and who times the roll. */
  roll?: RollSubject;
  /** `chorus stop` was asked: the process ends at its next safe point. */
  stopRequested?: { by: string; at: string; reason?: string };
  /** A stopped process: the first step it did not run. */
  stoppedAtStep?: number;
  /** `chorus undo`: the stopped process this one reverses. */
  undoOf?: string;
  /** A stopped process already reversed by this process. */
  undoneBy?: string;
}

/** A key that left a member's DNSKEY RRset without a roll of that signer in flight. */
export interface KeyFinding {
  signerId: string;
  keyTag: number;
  role: KeyChange['role'];
  at: string;
  message: string;
}

export interface SignerState extends SignerReference {
  keys: SigningKey[];
  keysObservedAt?: string;
  /** The digest of the zone content the signer's own server holds, as its sidecar last read it. */
  content?: ZoneContentDigest;
  contentObservedAt?: string;
  /** Model 1: the ZSKs the signer signs with, by time, as its sidecar last read them. */
  plannedZsks?: PlannedZsks[];
  plannedZsksAt?: string;
}

/** Model 1: the newest DNSKEY RRsets the owner signed, verified by the fold. */
export interface OwnerSignedState {
  snapshots: SignedDnskeySnapshot[];
  reason: ZoneEventOf<'dnskey-set-signed'>['data']['reason'];
  signedAt: string;
}

/** The state of one zone: a deterministic fold of its stream, the same in every sidecar. */
export interface ZoneState {
  zone: string;
  /** How many events were folded: the stream version to expect on the next append. */
  version: number;
  defined: boolean;
  /** The group the zone belongs to, from its definition. */
  group?: string;
  parentZone: string;
  timing: TimingSettings;
  /** TTL of the records Chorus adds (DNSKEY, CDS, CDNSKEY, CSYNC, NS). */
  recordTtlSeconds: number;
  signers: Record<string, SignerState>;
  /** The signers currently in the group (serving and signing the zone). */
  members: string[];
  processes: ProcessState[];
  /** The oldest process in flight, if any. */
  activeProcess: ProcessState | null;
  /** Every process in flight, oldest first: their resource claims are disjoint (see locks.ts). */
  activeProcesses: ProcessState[];
  /** Requests waiting for their pre-flight checks, oldest first. */
  pendingRequests: {
    processId: string;
    kind: ProcessKind;
    signerId: string;
    requestedBy: string;
    requestedAt: string;
    traceparent?: string;
    unsafeSkipWaits?: string[];
    role?: KeyChange['role'];
    successorTag?: number;
    /** Model 1's KSK roll: the owner's new KSK. */
    ownerKsk?: DnskeyData;
    undoOf?: string;
  }[];
  /** Registrations that changed a known signer, oldest first. */
  registrationChanges?: RegistrationChange[];
  /** Keys that vanished unannounced, oldest first. */
  keyFindings?: KeyFinding[];
  /**
   * The keys this fold trusts; null when the fold was made without a trust anchor (embedding and
   * unit tests): then nothing is verified. Sidecars and the CLI always fold with one.
   */
  trust: ZoneTrustState | null;
  /** Model 1: the zone owner's KSKs and signature schedule; absent in model 2. */
  owner?: ZoneOwner;
  /** Model 1: what the owner signed last. */
  ownerSigned?: OwnerSignedState;
  /** Events the fold refused (unsigned, forged, replayed, not the author's to write), oldest first. */
  securityFindings: SecurityFinding[];
  /** How many events the fold refused in all (only the last 50 are kept as findings). */
  securityFindingCount: number;
}

/** Findings kept in the state: a flood of forged events must not make every fold slower. */
const MAX_SECURITY_FINDINGS = 50;

export const DEFAULT_TIMING: TimingSettings = {
  childPropagationSeconds: 2,
  parentPropagationSeconds: 2,
  safetyMarginSeconds: 2,
  maxZoneTtlSeconds: 3600,
};

/** The state before any event; with a policy, the fold verifies every event against it. */
export function emptyZoneState(zone: string, policy?: FoldPolicy): ZoneState {
  return {
    trust: policy ? initialTrust(policy) : null,
    securityFindings: [],
    securityFindingCount: 0,
    zone,
    version: 0,
    defined: false,
    parentZone: '',
    timing: DEFAULT_TIMING,
    recordTtlSeconds: 3600,
    signers: {},
    members: [],
    processes: [],
    activeProcess: null,
    activeProcesses: [],
    pendingRequests: [],
  };
}

/** Raised when a stream holds an event that cannot follow what came before: the log is not ours, or corrupt. */
export class ZoneStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZoneStreamError';
  }
}

/**
 * A deep copy of plain JSON data, which is all the fold holds. Plain loops over `Object.keys`:
 * about four times faster than `Object.entries` (no pair arrays) and than structuredClone.
 */
function clone<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const items: unknown[] = new Array(value.length);
    for (let index = 0; index < value.length; index += 1) items[index] = clone(value[index]);
    return items as T;
  }
  const source = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(source)) copy[key] = clone(source[key]);
  return copy as T;
}

/** Processes and steps copied for the event being applied: the fold is synchronous, one event at a time. */
let ownedThisEvent = new WeakSet<object>();

/**
 * A process owned by the new state. Its step definitions are never changed, and its step states
 * are shared until the event changes one (`ownStep`): an event touches one step, and the steps'
 * desired states are most of an in-flight process.
 */
function cloneProcess(process: ProcessState): ProcessState {
  const source = process as unknown as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(source))
    copy[key] =
      key === 'steps'
        ? source[key]
        : key === 'stepStates'
          ? [...process.stepStates]
          : clone(source[key]);
  return copy as unknown as ProcessState;
}

/**
 * Step `index` of a process the new state owns, copied before its first change in this event.
 * Fields of a step are replaced, never changed in place, except the `reconciled` map.
 */
function ownStep(process: ProcessState, index: number): StepState | undefined {
  const step = process.stepStates[index];
  if (!step || ownedThisEvent.has(step)) return step;
  const owned = { ...step, reconciled: { ...step.reconciled } };
  ownedThisEvent.add(owned);
  process.stepStates[index] = owned;
  return owned;
}

/** Ended for good: nothing the fold does changes it again, so successive states share it. */
function isFinished(process: ProcessState): boolean {
  return (
    process.status === 'completed' || process.status === 'failed' || process.status === 'blocked'
  );
}

/** Fields of the state that `copyForEvent` copies by hand. */
const PROCESS_LISTS = new Set(['processes', 'activeProcesses', 'activeProcess']);

/** Fields only ever replaced, never changed in place: shared between successive states. */
const REPLACED_WHOLE = new Set([
  'trust',
  'timing',
  'members',
  'pendingRequests',
  'registrationChanges',
  'keyFindings',
  'owner',
  'ownerSigned',
  'securityFindings',
]);

/**
 * Maps copied with their entries shared: an event that changes an entry replaces it first
 * (`ownSigner`). A zone's signers are a third of its state, and few events change them.
 */
const ENTRIES_SHARED = new Set(['signers']);

/**
 * The copy an event is applied to. Finished processes are shared with `previous` (with thousands
 * of zones and their histories, copying them on every event dominated the fold); `processOf`
 * copies one before anything changes it.
 */
function copyForEvent(previous: ZoneState): ZoneState {
  const state = {} as Record<string, unknown>;
  for (const [key, field] of Object.entries(previous))
    if (REPLACED_WHOLE.has(key)) state[key] = field;
    else if (ENTRIES_SHARED.has(key)) state[key] = { ...(field as object) };
    else if (!PROCESS_LISTS.has(key)) state[key] = clone(field);
  const copy = state as unknown as ZoneState;
  copy.processes = previous.processes.map((process) =>
    isFinished(process) ? process : cloneProcess(process),
  );
  copy.activeProcesses = copy.processes.filter(isInFlight);
  copy.activeProcess = copy.activeProcesses[0] ?? null;
  return copy;
}

/** The process the event is about, owned by `state` (a shared finished one is copied first). */
/**
 * Model 1's KSK roll ends (completed, stopped or failed) with the owner KSKs it left in effect:
 * the definition follows, so the owner keeps signing what the members serve and the parent holds.
 */
function keepOwnerKsks(state: ZoneState, process: ProcessState): void {
  if (!state.owner || !process.roll?.ownerSuccessor) return;
  state.owner = { ...state.owner, dnskeys: ownerKsksInEffect(state) };
}

/** The signer as `state` owns it (shared with the previous state until an event changes it). */
function ownSigner(state: ZoneState, signerId: string): SignerState | undefined {
  const shared = state.signers[signerId];
  if (!shared) return undefined;
  const owned = { ...shared };
  state.signers[signerId] = owned;
  return owned;
}

function processOf(state: ZoneState, processId: string): ProcessState {
  const index = state.processes.findIndex((candidate) => candidate.id === processId);
  const found = state.processes[index];
  if (!found) throw new ZoneStreamError(`event refers to unknown process ${processId}`);
  if (!isFinished(found) || ownedThisEvent.has(found)) return found;
  const owned = cloneProcess(found);
  ownedThisEvent.add(owned);
  state.processes[index] = owned;
  return owned;
}

/**
 * For a follower that keeps zones for a long time (a sidecar): the state without the desired
 * states of finished processes' steps. Deciding never reads them; a full fold (the CLI, reports)
 * keeps them.
 */
export function withoutFinishedDetail(state: ZoneState): ZoneState {
  const heavy = (process: ProcessState) =>
    isFinished(process) && process.stepStates.some((step) => step.desired !== undefined);
  if (!state.processes.some(heavy)) return state;
  return {
    ...state,
    processes: state.processes.map((process) =>
      heavy(process)
        ? {
            ...process,
            stepStates: process.stepStates.map(({ desired: _desired, ...step }) => step),
          }
        : process,
    ),
  };
}

function stepOf(process: ProcessState, stepIndex: number): StepState {
  const step = ownStep(process, stepIndex);
  if (!step) throw new ZoneStreamError(`process ${process.id} has no step ${stepIndex}`);
  if (stepIndex !== process.currentStep) {
    throw new ZoneStreamError(
      `process ${process.id}: event for step ${stepIndex} while step ${process.currentStep} is current`,
    );
  }
  return step;
}

/** Running, or held for the operator: either way in flight, holding its resources. */
function isInFlight(process: ProcessState): boolean {
  return process.status === 'running' || process.status === 'needs-operator';
}

/** The REMOVE-SIGNER step whose start means the leaving signer may stop serving. */
const RETIRE_STEP = 'retire-leaving-signer';

function factsOf(signer: SignerState): SignerFacts {
  const { id, kind, nameServerNames, endpoints } = signer;
  return { id, kind, nameServerNames, endpoints, keyTags: signer.keys.map((key) => key.keyTag) };
}

/** Records a registration or key observation that changed what the group knew of a signer. */
function noteRegistrationChange(
  state: ZoneState,
  before: SignerState,
  after: SignerState,
  event: ZoneEvent,
): void {
  const facts = { before: factsOf(before), after: factsOf(after) };
  const changed = (['kind', 'nameServerNames', 'endpoints', 'keys'] as const).filter((fact) => {
    const pick = (side: SignerState) =>
      fact === 'keys' ? side.keys.map((key) => key.dnskey) : side[fact];
    return JSON.stringify(pick(before)) !== JSON.stringify(pick(after));
  });
  if (changed.length === 0) return;
  const member =
    state.members.includes(after.id) ||
    state.processes.some(
      (process) =>
        isInFlight(process) &&
        (process.groupBefore.includes(after.id) || process.groupAfter.includes(after.id)),
    );
  state.registrationChanges = [
    ...(state.registrationChanges ?? []),
    { signerId: after.id, at: event.occurredAt, by: event.source.id, changed, member, ...facts },
  ];
}

function noteSignerFailure(
  process: ProcessState,
  event: Extract<ZoneEvent, { type: 'signer-apply-failed' }>,
): void {
  const { signerId, stepIndex, attempt, error } = event.data;
  const failures = (process.signerFailures ??= {});
  const previous = failures[signerId]?.stepIndex === stepIndex ? failures[signerId] : undefined;
  failures[signerId] = {
    stepIndex,
    errorName: error.name,
    message: error.message,
    retryable: error.retryable,
    attempts: Math.max(attempt, previous?.attempts ?? 0),
    firstAt: previous?.firstAt ?? event.occurredAt,
    lastAt: event.occurredAt,
    ...(error.retryAt === undefined ? {} : { retryAt: error.retryAt }),
  };
  settleOperatorHold(process);
}

/** A signer applied the step: its failure is over, and so is the hold if it was the last one. */
function clearSignerFailure(process: ProcessState, signerId: string): void {
  if (!process.signerFailures?.[signerId]) return;
  delete process.signerFailures[signerId];
  if (Object.keys(process.signerFailures).length === 0) delete process.signerFailures;
  settleOperatorHold(process);
}

/** `needs-operator` while any signer's failure is not retryable, naming each; `running` after. */
function settleOperatorHold(process: ProcessState): void {
  const fatal = Object.entries(process.signerFailures ?? {}).filter(
    ([, failure]) => !failure.retryable,
  );
  if (fatal.length > 0) {
    process.status = 'needs-operator';
    process.reasons = fatal.map(([signerId, failure]) => ({
      code: 'signer-apply-failed',
      message: `${signerId} cannot apply step ${failure.stepIndex + 1} (${process.steps[failure.stepIndex]?.name ?? '?'}): ${failure.message}`,
    }));
  } else if (process.status === 'needs-operator') {
    process.status = 'running';
    delete process.reasons;
  }
}

/**
 * A member's key that disappeared is a finding, unless a roll of that signer in flight expected
 * it (a predecessor). A roll's own removal is announced by its process; anything else is not.
 */
function noteVanishedKeys(
  state: ZoneState,
  event: Extract<ZoneEvent, { type: 'signer-keys-observed' }>,
): void {
  const { signerId, changes = [] } = event.data;
  if (!state.members.includes(signerId)) return;
  const rolling = state.processes.find(
    (process) => isInFlight(process) && process.roll && process.signerId === signerId,
  );
  for (const change of changes) {
    if (change.change !== 'disappeared') continue;
    if (rolling?.roll?.predecessorTags.includes(change.keyTag)) continue;
    state.keyFindings = [
      ...(state.keyFindings ?? []),
      {
        signerId,
        keyTag: change.keyTag,
        role: change.role,
        at: event.occurredAt,
        message: `${change.role} ${change.keyTag} of ${signerId} left its DNSKEY RRset without a roll in flight; resolvers holding data it signed may fail until their caches expire`,
      },
    ];
  }
}

/**
 * Records what a person must change at the parent on the step it is for. Informational: one for a
 * step that is not current and observing (a late writer) changes nothing.
 */
function noteParentChange(
  state: ZoneState,
  event: Extract<ZoneEvent, { type: 'parent-change-needed' }>,
): void {
  const { processId, stepIndex, ...change } = event.data;
  const known = state.processes.find((candidate) => candidate.id === processId);
  if (!known || known.currentStep !== stepIndex) return;
  const process = processOf(state, processId);
  const step = ownStep(process, stepIndex);
  if (step?.status !== 'started') return;
  const asked = change.kind === 'ds' ? change.ds : change.ns;
  step.parentChange = {
    ...change,
    at: event.occurredAt,
    requested: step.parentChange?.requested ?? {
      add: [...(asked?.add ?? [])],
      remove: [...(asked?.remove ?? [])],
    },
  };
}

/** The latest change sent through the parent channel for a step; informational. */
function noteParentSubmitted(
  state: ZoneState,
  event: Extract<ZoneEvent, { type: 'parent-change-submitted' }>,
): void {
  const { processId, stepIndex, ...submission } = event.data;
  const known = state.processes.find((candidate) => candidate.id === processId);
  if (!known?.stepStates[stepIndex]) return;
  const step = ownStep(processOf(state, processId), stepIndex)!;
  step.parentSubmitted = { ...submission, at: event.occurredAt };
}

/** The first NOTIFY claimed for a step; informational, so one for an unknown step changes nothing. */
function noteParentNotified(
  state: ZoneState,
  event: Extract<ZoneEvent, { type: 'parent-notified' }>,
): void {
  const { processId, stepIndex, rrtype, targets } = event.data;
  const known = state.processes.find((candidate) => candidate.id === processId);
  if (!known?.stepStates[stepIndex] || known.stepStates[stepIndex].parentNotified) return;
  const step = ownStep(processOf(state, processId), stepIndex)!;
  step.parentNotified = { at: event.occurredAt, rrtype, targets };
}

/** Before the retire step starts, the NS wait's end is the earliest the leaving signer may stop. */
function estimateLeavingSignerStop(
  process: ProcessState,
  stepIndex: number,
  notBefore: string,
): void {
  const leaving = process.leavingSigner;
  if (!leaving || leaving.mayStopServingNow) return;
  const retireIndex = process.steps.findIndex((step) => step.name === RETIRE_STEP);
  if (process.steps[stepIndex]?.wait === 'ns' && stepIndex < retireIndex)
    process.leavingSigner = { ...leaving, mayStopServingAt: notBefore };
}

/** A signed DNSKEY set that is not the owner's changes nothing but the findings. */
function ownerSignatureRefusal(state: ZoneState, event: ZoneEvent): SecurityFinding | undefined {
  if (event.type !== 'dnskey-set-signed') return undefined;
  const problem = ownerSignatureProblem(
    state.zone,
    ownerForVerification(state),
    event.data.snapshots,
  );
  if (!problem) return undefined;
  return {
    code: 'owner-signature-invalid',
    streamVersion: state.version + 1,
    eventType: event.type,
    claimedSource: `${event.source.kind}:${event.source.id}`,
    ...(event.id ? { eventId: event.id } : {}),
    occurredAt: event.occurredAt,
    message: `a signed DNSKEY set refused: ${problem}`,
  };
}

/** Applies one event. Pure: returns a new state and never mutates its input. */
export function applyZoneEvent(previous: ZoneState, event: ZoneEvent): ZoneState {
  const refusal =
    (previous.trust ? refusalOf(previous, previous.trust, event) : undefined) ??
    ownerSignatureRefusal(previous, event);
  if (refusal)
    return {
      ...previous,
      version: previous.version + 1,
      securityFindings: [...previous.securityFindings, refusal].slice(-MAX_SECURITY_FINDINGS),
      securityFindingCount: previous.securityFindingCount + 1,
    };
  ownedThisEvent = new WeakSet();
  const state = copyForEvent(previous);
  state.version += 1;
  switch (event.type) {
    case 'trust-changed': {
      if (state.trust) state.trust = applyGrant(state.trust, event);
      return state;
    }
    case 'zone-defined': {
      state.defined = true;
      state.parentZone = event.data.parentZone;
      state.timing = interned(event.data.timing);
      state.recordTtlSeconds = event.data.recordTtlSeconds;
      if (event.data.group) state.group = event.data.group;
      // The definition names the group; what each signer registered (rollover timing…) stays.
      for (const signer of event.data.signers)
        state.signers[signer.id] = {
          ...state.signers[signer.id],
          ...internedRegistration(signer),
          keys: state.signers[signer.id]?.keys ?? [],
        };
      state.members = event.data.signers.map((signer) => signer.id);
      if (event.data.owner) state.owner = event.data.owner;
      else delete state.owner;
      return state;
    }
    case 'dnskey-set-signed': {
      const { snapshots, reason } = event.data;
      state.ownerSigned = { snapshots, reason, signedAt: event.occurredAt };
      return state;
    }
    case 'signer-zsks-planned': {
      const signer = ownSigner(state, event.data.signerId);
      if (!signer)
        throw new ZoneStreamError(`ZSKs planned by unregistered signer ${event.data.signerId}`);
      signer.plannedZsks = event.data.planned;
      signer.plannedZsksAt = event.occurredAt;
      return state;
    }
    case 'signer-registered': {
      const signer = event.data.signer;
      const known = state.signers[signer.id];
      state.signers[signer.id] = {
        ...internedRegistration(signer),
        keys: known?.keys ?? [],
        ...(known?.keysObservedAt ? { keysObservedAt: known.keysObservedAt } : {}),
        ...(known?.content ? { content: known.content } : {}),
        ...(known?.contentObservedAt ? { contentObservedAt: known.contentObservedAt } : {}),
      };
      if (known) noteRegistrationChange(state, known, state.signers[signer.id]!, event);
      return state;
    }
    case 'signer-keys-observed': {
      const before = state.signers[event.data.signerId];
      const signer = ownSigner(state, event.data.signerId);
      if (!before || !signer)
        throw new ZoneStreamError(`keys observed for unregistered signer ${event.data.signerId}`);
      signer.keys = event.data.keys;
      signer.keysObservedAt = event.occurredAt;
      if (before.keysObservedAt && !event.data.changes)
        noteRegistrationChange(state, before, signer, event);
      noteVanishedKeys(state, event);
      return state;
    }
    case 'signer-content-observed': {
      const signer = ownSigner(state, event.data.signerId);
      if (!signer)
        throw new ZoneStreamError(
          `content observed for unregistered signer ${event.data.signerId}`,
        );
      signer.content = event.data.content;
      signer.contentObservedAt = event.occurredAt;
      return state;
    }
    case 'process-requested': {
      state.pendingRequests = [
        ...state.pendingRequests,
        {
          ...event.data,
          requestedAt: event.occurredAt,
          ...(event.traceparent ? { traceparent: event.traceparent } : {}),
        },
      ];
      return state;
    }
    case 'process-blocked': {
      state.pendingRequests = state.pendingRequests.filter(
        (request) => request.processId !== event.data.processId,
      );
      state.processes.push({
        id: event.data.processId,
        kind: event.data.kind,
        signerId: event.data.signerId,
        status: 'blocked',
        steps: [],
        stepStates: [],
        currentStep: 0,
        groupBefore: [...state.members],
        groupAfter: [...state.members],
        startedAt: event.occurredAt,
        endedAt: event.occurredAt,
        reasons: event.data.reasons,
      });
      return state;
    }
    case 'process-started': {
      const conflict = conflictingProcess(state, event.data.kind, event.data.signerId);
      if (conflict) {
        throw new ZoneStreamError(
          `process ${event.data.processId} started while ${conflict.id} is in flight and holds the resources it needs`,
        );
      }
      state.pendingRequests = state.pendingRequests.filter(
        (request) => request.processId !== event.data.processId,
      );
      const process: ProcessState = {
        id: event.data.processId,
        kind: event.data.kind,
        signerId: event.data.signerId,
        status: 'running',
        steps: interned(event.data.steps),
        stepStates: event.data.steps.map(() => ({ status: 'pending', reconciled: {} })),
        currentStep: 0,
        groupBefore: event.data.groupBefore,
        groupAfter: event.data.groupAfter,
        ...(event.traceparent ? { traceparent: event.traceparent } : {}),
        ...(event.data.unsafeSkipWaits ? { unsafeSkipWaits: event.data.unsafeSkipWaits } : {}),
        startedAt: event.occurredAt,
        ...(event.data.kind === 'remove-signer'
          ? { leavingSigner: { signerId: event.data.signerId } }
          : {}),
        ...(event.data.roll ? { roll: event.data.roll } : {}),
        ...(event.data.undoOf ? { undoOf: event.data.undoOf } : {}),
      };
      const undoOf = event.data.undoOf;
      const undone = state.processes.some((known) => known.id === undoOf)
        ? processOf(state, undoOf!)
        : undefined;
      if (undone) undone.undoneBy = process.id;
      state.processes.push(process);
      break;
    }
    case 'step-started': {
      const process = processOf(state, event.data.processId);
      const step = stepOf(process, event.data.stepIndex);
      if (step.status !== 'pending')
        throw new ZoneStreamError(`step ${event.data.stepIndex} of ${process.id} started twice`);
      step.status = 'started';
      step.startedAt = event.occurredAt;
      step.desired = event.data.desired;
      if (process.leavingSigner && process.steps[event.data.stepIndex]?.name === RETIRE_STEP)
        process.leavingSigner = {
          ...process.leavingSigner,
          mayStopServingAt: event.occurredAt,
          mayStopServingNow: true,
        };
      break;
    }
    case 'signer-reconciled': {
      const process = processOf(state, event.data.processId);
      const step = stepOf(process, event.data.stepIndex);
      const { applied, desiredDigest } = event.data;
      step.reconciled[event.data.signerId] = {
        applied,
        at: event.occurredAt,
        ...(desiredDigest ? { desiredDigest } : {}),
      };
      clearSignerFailure(process, event.data.signerId);
      break;
    }
    case 'signer-apply-failed': {
      const process = processOf(state, event.data.processId);
      stepOf(process, event.data.stepIndex);
      noteSignerFailure(process, event);
      break;
    }
    case 'postcondition-met': {
      const step = stepOf(processOf(state, event.data.processId), event.data.stepIndex);
      if (step.status !== 'started')
        throw new ZoneStreamError(
          `post-condition of step ${event.data.stepIndex} met in status ${step.status}`,
        );
      step.status = 'postcondition-met';
      step.postconditionMetAt = event.data.observedAt;
      step.ttls = event.data.ttls;
      break;
    }
    case 'parent-change-needed': {
      noteParentChange(state, event);
      break;
    }
    case 'parent-notified':
      noteParentNotified(state, event);
      break;
    case 'parent-change-submitted':
      noteParentSubmitted(state, event);
      break;
    case 'wait-scheduled': {
      const process = processOf(state, event.data.processId);
      const step = stepOf(process, event.data.stepIndex);
      if (step.status !== 'postcondition-met')
        throw new ZoneStreamError(
          `wait scheduled for step ${event.data.stepIndex} in status ${step.status}`,
        );
      step.status = 'waiting';
      step.wait = {
        notBefore: event.data.notBefore,
        formula: event.data.formula,
        terms: event.data.terms,
      };
      estimateLeavingSignerStop(process, event.data.stepIndex, event.data.notBefore);
      break;
    }
    case 'step-completed': {
      const process = processOf(state, event.data.processId);
      const step = stepOf(process, event.data.stepIndex);
      if (step.status === 'completed' || step.status === 'pending') {
        throw new ZoneStreamError(
          `step ${event.data.stepIndex} of ${process.id} completed in status ${step.status}`,
        );
      }
      step.status = 'completed';
      step.completedAt = event.occurredAt;
      process.currentStep += 1;
      delete process.signerFailures;
      break;
    }
    case 'process-completed': {
      const process = processOf(state, event.data.processId);
      keepOwnerKsks(state, process);
      process.status = 'completed';
      process.endedAt = event.occurredAt;
      state.members = event.data.groupAfter;
      break;
    }
    case 'process-stop-requested': {
      const process = processOf(state, event.data.processId);
      if (!isInFlight(process))
        throw new ZoneStreamError(`stop requested for ${process.id}, which is ${process.status}`);
      const { requestedBy: by, reason } = event.data;
      process.stopRequested = { by, at: event.occurredAt, ...(reason ? { reason } : {}) };
      break;
    }
    case 'process-stopped': {
      const process = processOf(state, event.data.processId);
      keepOwnerKsks(state, process);
      process.status = 'stopped';
      process.endedAt = event.occurredAt;
      process.stoppedAtStep = event.data.stepIndex;
      break;
    }
    case 'process-failed': {
      const process = processOf(state, event.data.processId);
      keepOwnerKsks(state, process);
      process.status = 'failed';
      process.endedAt = event.occurredAt;
      process.reasons = [event.data.reason];
      break;
    }
  }
  state.activeProcesses = state.processes.filter(isInFlight);
  state.activeProcess = state.activeProcesses[0] ?? null;
  return state;
}

/** The state of a zone after all its events, in order. */
export function foldZone(
  zone: string,
  events: readonly ZoneEvent[],
  policy?: FoldPolicy,
): ZoneState {
  return events.reduce(applyZoneEvent, emptyZoneState(zone, policy));
}
