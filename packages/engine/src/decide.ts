import { createHash } from 'node:crypto';
import { keyTag } from '@chorus/dns';
import {
  zoneEvent,
  type BlockReason,
  type KeyRole,
  type DesiredSignerState,
  type EventSource,
  type ObservedTtls,
  type ParentChange,
  type PostconditionSpec,
  type RollAction,
  type RollSubject,
  type SignedDnskeySnapshot,
  type SigningKey,
  type TimingSettings,
  type ZoneOwner,
  type ZoneEvent,
  type ZoneEventOf,
  type ZoneEventType,
} from '@chorus/core';
import { ownerDsAfterRoll, ownerKsksInEffect, ownerSetCheck } from './model1.js';
import { desiredForRecipe, expectedDsFor, groupOf, nameServersOf } from './desired.js';
import { ZoneStreamError, type ProcessState, type ZoneState } from './state.js';
import { stepsFor } from './processes.js';
import { processInFlight } from './preflight.js';
import { successorOf } from './roll-subject.js';

export { successorOf };
import { conflictingProcess } from './locks.js';
import { computeWait } from './waits.js';
import { bookkeepingReadySince, preflightScribeOf, scribeFallbackAt, scribeOf } from './scribe.js';

/**
 * What a sidecar should do next for a zone. Pure: the same fold and time give the same answer
 * in every sidecar. Events are appended with the fold's version as the expected version, so when
 * two sidecars race, exactly one append wins and the other re-reads and decides again.
 */
export type Decision =
  | { kind: 'idle' }
  /** Append this event (expected version = state.version). */
  | { kind: 'append'; event: ZoneEvent }
  /** Reconcile your own signer to `desired`, then append `signer-reconciled`. */
  | {
      kind: 'reconcile';
      processId: string;
      stepIndex: number;
      signerId: string;
      desired: DesiredSignerState;
      /** Roll steps: the digest to record in `signer-reconciled`. */
      desiredDigest?: string;
    }
  /** Your signer is the rolling one: perform the step's roll action, then append `signer-reconciled`. */
  | {
      kind: 'roll-action';
      processId: string;
      stepIndex: number;
      signerId: string;
      action: RollAction;
      roll: RollSubject;
      /** The successor as the fold knows it (absent before the key watch saw it). */
      successor?: SigningKey;
    }
  /** Other signers still have to reconcile. */
  | { kind: 'await-others'; processId: string; stepIndex: number; signerIds: string[] }
  /** Observe the step's pre-condition on the wire; when it holds, append `event` (its `step-started`). */
  | {
      kind: 'check-precondition';
      processId: string;
      stepIndex: number;
      check: PostconditionCheck;
      event: ZoneEvent;
    }
  /** Observe the post-condition on the wire; when it holds, append `postcondition-met`. */
  | { kind: 'observe'; processId: string; stepIndex: number; check: PostconditionCheck }
  /** Run the pre-flight checks for the oldest request, then append `requestProcess(…)`'s event. */
  | {
      kind: 'preflight';
      processId: string;
      processKind: ProcessState['kind'];
      signerId: string;
      /** A followed roll: the successor the server introduced. */
      successorTag?: number;
      /** Roll requests: the key role to roll. */
      role?: KeyRole;
      /** `chorus undo`: the stopped process this request reverses. */
      undoOf?: string;
    }
  /** Nothing to do before this time (`stepIndex` -1: a request's pre-flight). */
  | { kind: 'sleep-until'; processId: string; stepIndex: number; until: string };

/** A post-condition resolved to concrete expectations. Plain data. */
export type PostconditionCheck =
  | { kind: 'desired-state-served'; desired: Record<string, DesiredSignerState> }
  | { kind: 'parent-ds-matches'; expectedDs: ReturnType<typeof expectedDsFor> }
  | { kind: 'parent-ns-matches'; expectedNs: string[] }
  | { kind: 'none' }
  /** The rolling signer's key watch lists `successor` and every IP of the signer serves it. */
  | { kind: 'successor-published'; signerId: string; successor: SigningKey | null }
  /** No RRSIG by a predecessor at any IP of the rolling signer. */
  | { kind: 'predecessor-not-signing'; signerId: string; predecessorTags: number[] }
  /** The rolling signer neither lists (`stillListed` empty) nor serves the predecessors. */
  | {
      kind: 'predecessor-removed';
      signerId: string;
      predecessorTags: number[];
      stillListed: number[];
    }
  /**
   * Model 1: `signed` is the owner's set in effect (null before the first), `unsigned` the keys
   * the members plan that it lacks or holds beyond them; every IP of each of `members` serves it.
   */
  | {
      kind: 'owner-set-served';
      members: string[];
      signed: SignedDnskeySnapshot | null;
      unsigned: string[];
    }
  /** Every IP of the rolling signer serves CDS for the successor and none for a predecessor. */
  | {
      kind: 'successor-cds-published';
      signerId: string;
      successorTag: number | null;
      predecessorTags: number[];
      /** The rolling signer's key watch has recorded the switch (`cdsPublished`) in the log. */
      recorded: boolean;
    };

export interface DecideContext {
  /** The signer this sidecar owns, if any (a CLI or observer owns none). */
  selfSignerId?: string;
  source: EventSource;
  /** ISO 8601. */
  now: string;
  traceparent?: string;
  /** The traceparent for events about one process or request (its own trace), when known. */
  traceparentFor?: (processId: string) => string | undefined;
}

/** The context for events about one process: in that process's trace. */
function inTraceOf(context: DecideContext, processId: string): DecideContext {
  const traceparent = context.traceparentFor?.(processId);
  return traceparent ? { ...context, traceparent } : context;
}

function envelope<T extends ZoneEventType>(
  state: ZoneState,
  context: DecideContext,
  type: T,
  data: ZoneEventOf<T>['data'],
): ZoneEvent {
  const { now: occurredAt, source, traceparent } = context;
  return zoneEvent<T>(type, { zone: state.zone, occurredAt, source, traceparent }, data);
}

function resolveCheck(
  state: ZoneState,
  process: ProcessState,
  spec: PostconditionSpec,
  desired: Record<string, DesiredSignerState>,
  now: string,
): PostconditionCheck {
  switch (spec.kind) {
    case 'owner-set-served':
      return ownerSetCheck(state, process.groupAfter, Math.floor(Date.parse(now) / 1000));
    case 'desired-state-served':
      return { kind: 'desired-state-served', desired };
    case 'parent-ds-matches':
      return {
        kind: 'parent-ds-matches',
        expectedDs: process.roll?.ownerSuccessor
          ? ownerDsAfterRoll(state, process)
          : expectedDsFor(state, groupOf(process, spec.group)),
      };
    case 'parent-ns-matches':
      return {
        kind: 'parent-ns-matches',
        expectedNs: nameServersOf(state, groupOf(process, spec.group)),
      };
    case 'none':
      return { kind: 'none' };
    case 'successor-published':
      return {
        kind: 'successor-published',
        signerId: process.signerId,
        successor: successorOf(state, process) ?? null,
      };
    case 'predecessor-not-signing':
      return {
        kind: 'predecessor-not-signing',
        signerId: process.signerId,
        predecessorTags: process.roll?.predecessorTags ?? [],
      };
    case 'successor-cds-published': {
      const successor = successorOf(state, process);
      const predecessorTags = process.roll?.predecessorTags ?? [];
      const keys = state.signers[process.signerId]?.keys ?? [];
      return {
        kind: 'successor-cds-published',
        signerId: process.signerId,
        successorTag: successor?.keyTag ?? null,
        predecessorTags,
        // The next steps mirror the CDS from the fold: the key watch must have recorded the switch.
        recorded:
          successor?.cdsPublished === true &&
          keys.every((key) => !predecessorTags.includes(key.keyTag) || key.cdsPublished === false),
      };
    }
    case 'predecessor-removed': {
      const predecessorTags = process.roll?.predecessorTags ?? [];
      const listed = state.signers[process.signerId]?.keys ?? [];
      return {
        kind: 'predecessor-removed',
        signerId: process.signerId,
        predecessorTags,
        stillListed: listed
          .filter((key) => predecessorTags.includes(key.keyTag))
          .map((key) => key.keyTag),
      };
    }
  }
}

/** Requests from a signer's key watch (a roll its server began) wait for the process in flight. */
function waitsForProcessInFlight(request: ZoneState['pendingRequests'][number]): boolean {
  return request.requestedBy.startsWith('key-watch');
}

/** The desired states in force at a step: its own action, or the last action before it. */
export function desiredInForce(
  process: ProcessState,
  stepIndex: number,
): Record<string, DesiredSignerState> {
  for (let index = stepIndex; index >= 0; index -= 1) {
    const desired = process.stepStates[index]?.desired;
    if (desired && process.steps[index]?.action) return desired;
  }
  return {};
}

/** Decisions that only wait: the runtime acts on any other decision first. */
const PASSIVE: ReadonlySet<Decision['kind']> = new Set(['idle', 'await-others', 'sleep-until']);

/**
 * What to do next for each process in flight (oldest first), then for the oldest request whose
 * resources are free. Processes in flight hold disjoint resources (locks.ts), so the decisions
 * are independent: the runtime acts on each, and re-reads after any append.
 */
export function decideEach(state: ZoneState, context: DecideContext): Decision[] {
  const refusal = refuseConflictingRequest(state, context);
  if (refusal) return [refusal];
  const decisions = state.activeProcesses.map((process) =>
    decideProcess(state, process, inTraceOf(context, process.id)),
  );
  const startable = state.pendingRequests.find(
    (request) => !conflictingProcess(state, request.kind, request.signerId),
  );
  const preflightAt =
    startable &&
    scribeFallbackAt(
      preflightScribeOf(state, startable),
      context.selfSignerId,
      startable.requestedAt,
    );
  if (startable && preflightAt && Date.parse(context.now) < Date.parse(preflightAt))
    decisions.push({
      kind: 'sleep-until',
      processId: startable.processId,
      stepIndex: -1,
      until: preflightAt,
    });
  else if (startable)
    decisions.push({
      kind: 'preflight',
      processId: startable.processId,
      processKind: startable.kind,
      signerId: startable.signerId,
      ...(startable.successorTag !== undefined ? { successorTag: startable.successorTag } : {}),
      ...(startable.role ? { role: startable.role } : {}),
      ...(startable.undoOf ? { undoOf: startable.undoOf } : {}),
    });
  return decisions.length > 0 ? decisions : [{ kind: 'idle' }];
}

/** The first decision to act on: one that does something, else the soonest wait. */
export function decide(state: ZoneState, context: DecideContext): Decision {
  const decisions = decideEach(state, context);
  const active = decisions.find((decision) => !PASSIVE.has(decision.kind));
  if (active) return active;
  const sleeps = decisions.filter((decision) => decision.kind === 'sleep-until');
  sleeps.sort((a, b) => Date.parse(a.until) - Date.parse(b.until));
  return (
    sleeps[0] ?? decisions.find((decision) => decision.kind === 'await-others') ?? decisions[0]!
  );
}

/**
 * An operator's request never waits silently behind a process that holds a resource it needs:
 * it is refused at once. A key watch's request (a roll the server began) is queued instead.
 */
function refuseConflictingRequest(state: ZoneState, context: DecideContext): Decision | undefined {
  for (const request of state.pendingRequests) {
    if (waitsForProcessInFlight(request)) continue;
    const conflict = conflictingProcess(state, request.kind, request.signerId);
    if (!conflict) continue;
    return {
      kind: 'append',
      event: requestProcess(state, inTraceOf(context, request.processId), {
        processId: request.processId,
        kind: request.kind,
        signerId: request.signerId,
        preflight: [processInFlight(state, conflict, request)],
      }),
    };
  }
  return undefined;
}

/** A short digest of a desired state: a signer whose reconcile recorded another is stale. */
export function desiredDigest(desired: DesiredSignerState): string {
  return createHash('sha256').update(JSON.stringify(desired)).digest('hex').slice(0, 16);
}

/**
 * A step's desired states. A roll's key sync follows the group's current keys, so that rolls at
 * different signers running together never undo each other's keys; other processes keep the
 * desired states recorded when the step started.
 */
export function desiredNow(
  state: ZoneState,
  process: ProcessState,
  stepIndex: number,
): Record<string, DesiredSignerState> {
  if (!process.roll) return desiredInForce(process, stepIndex);
  for (let index = stepIndex; index >= 0; index -= 1) {
    const action = process.steps[index]?.action;
    if (action) return desiredForRecipe(state, process, action);
  }
  return {};
}

/** Participants that have not applied the step's current desired state. */
function notReconciled(
  process: ProcessState,
  step: ProcessState['stepStates'][number],
  desired: Record<string, DesiredSignerState>,
): string[] {
  return Object.keys(desired).filter((id) => {
    const reconciled = step.reconciled[id];
    if (!reconciled) return true;
    // Reconciles recorded before digests existed count as current.
    return (
      process.roll !== undefined &&
      reconciled.desiredDigest !== undefined &&
      reconciled.desiredDigest !== desiredDigest(desired[id]!)
    );
  });
}

/** How long the other sidecars leave a step's post-condition to its designated observer. */
export const OBSERVER_FALLBACK_MS = 20_000;

/**
 * One sidecar observes a step's post-condition: the participant that reconciled the step last
 * (it is up and just acted), else the process's signer. The others observe too once the step has
 * been ready for OBSERVER_FALLBACK_MS, so a designated observer that went down stalls nothing.
 * Returns when this sidecar may observe, or undefined when it may now.
 */
function observerFallbackAt(
  process: ProcessState,
  step: ProcessState['stepStates'][number],
  self: string | undefined,
): string | undefined {
  if (!self) return undefined;
  const reconciles = Object.entries(step.reconciled).sort(
    ([idA, a], [idB, b]) => Date.parse(b.at) - Date.parse(a.at) || idA.localeCompare(idB),
  );
  const observer = reconciles[0]?.[0] ?? process.signerId;
  if (observer === self) return undefined;
  const readySince = Math.max(
    Date.parse(step.startedAt ?? '') || 0,
    ...reconciles.map(([, reconciled]) => Date.parse(reconciled.at) || 0),
  );
  return new Date(readySince + OBSERVER_FALLBACK_MS).toISOString();
}

/**
 * A bookkeeping decision (an event every sidecar would decide alike, or the pre-condition check
 * that leads to one): this sidecar acts only as the process's scribe, or once the fallback is due.
 */
function byScribe(process: ProcessState, context: DecideContext, decision: Decision): Decision {
  const until = scribeFallbackAt(
    scribeOf(process),
    context.selfSignerId,
    bookkeepingReadySince(process),
  );
  if (until === undefined || Date.parse(context.now) >= Date.parse(until)) return decision;
  return { kind: 'sleep-until', processId: process.id, stepIndex: process.currentStep, until };
}

function decideProcess(state: ZoneState, process: ProcessState, context: DecideContext): Decision {
  const decision = decideProcessStep(state, process, context);
  const bookkeeping =
    decision.kind === 'check-precondition' ||
    (decision.kind === 'append' && BOOKKEEPING.has(decision.event.type));
  return bookkeeping ? byScribe(process, context, decision) : decision;
}

/** Events every sidecar decides alike from the fold: one scribe writes them (scribe.ts). */
const BOOKKEEPING: ReadonlySet<ZoneEventType> = new Set([
  'step-started',
  'wait-scheduled',
  'step-completed',
  'process-completed',
]);

function decideProcessStep(
  state: ZoneState,
  process: ProcessState,
  context: DecideContext,
): Decision {
  const stepIndex = process.currentStep;
  const common = { processId: process.id, stepIndex };
  if (stepIndex >= process.steps.length) {
    return {
      kind: 'append',
      event: envelope(state, context, 'process-completed', {
        processId: process.id,
        groupAfter: process.groupAfter,
      }),
    };
  }
  const definition = process.steps[stepIndex]!;
  const step = process.stepStates[stepIndex]!;
  if (process.stopRequested && isSafePoint(process, definition, step)) {
    const { by: requestedBy, reason } = process.stopRequested;
    return {
      kind: 'append',
      event: envelope(state, context, 'process-stopped', {
        ...common,
        requestedBy,
        ...(reason ? { reason } : {}),
      }),
    };
  }

  switch (step.status) {
    case 'pending': {
      const desired = definition.action ? desiredForRecipe(state, process, definition.action) : {};
      const event = envelope(state, context, 'step-started', { ...common, desired });
      if (definition.precondition && definition.precondition.kind !== 'none') {
        const check = resolveCheck(
          state,
          process,
          definition.precondition,
          desiredNow(state, process, stepIndex),
          context.now,
        );
        return { kind: 'check-precondition', ...common, check, event };
      }
      return { kind: 'append', event };
    }
    case 'started': {
      if (definition.rollAction && process.roll) {
        if (step.reconciled[process.signerId] === undefined) {
          if (context.selfSignerId !== process.signerId)
            return { kind: 'await-others', ...common, signerIds: [process.signerId] };
          const successor = successorOf(state, process);
          return {
            kind: 'roll-action',
            ...common,
            signerId: process.signerId,
            action: definition.rollAction,
            roll: process.roll,
            ...(successor ? { successor } : {}),
          };
        }
      }
      const desired = definition.action ? desiredNow(state, process, stepIndex) : {};
      const waitingFor = notReconciled(process, step, desired);
      const self = context.selfSignerId;
      if (self && waitingFor.includes(self)) {
        return {
          kind: 'reconcile',
          ...common,
          signerId: self,
          desired: desired[self]!,
          ...(process.roll ? { desiredDigest: desiredDigest(desired[self]!) } : {}),
        };
      }
      if (waitingFor.length > 0) return { kind: 'await-others', ...common, signerIds: waitingFor };
      const fallbackAt = observerFallbackAt(process, step, self);
      if (fallbackAt && Date.parse(context.now) < Date.parse(fallbackAt))
        return { kind: 'sleep-until', ...common, until: fallbackAt };
      return {
        kind: 'observe',
        ...common,
        check: resolveCheck(
          state,
          process,
          definition.postcondition,
          desiredNow(state, process, stepIndex),
          context.now,
        ),
      };
    }
    case 'postcondition-met': {
      if (!definition.wait)
        return { kind: 'append', event: envelope(state, context, 'step-completed', common) };
      const wait = computeWait(
        definition.wait,
        process,
        state.timing,
        step.postconditionMetAt ?? context.now,
      );
      if (process.unsafeSkipWaits?.includes(definition.name)) {
        return {
          kind: 'append',
          event: envelope(state, context, 'wait-scheduled', {
            ...common,
            notBefore: context.now,
            formula: `SKIPPED (unsafe, requested with --unsafe-skip-wait): ${wait.formula}`,
            terms: { ...wait.terms, mandatedNotBefore: wait.notBefore },
          }),
        };
      }
      return {
        kind: 'append',
        event: envelope(state, context, 'wait-scheduled', { ...common, ...wait }),
      };
    }
    case 'waiting': {
      const until = step.wait!.notBefore;
      if (Date.parse(context.now) < Date.parse(until))
        return { kind: 'sleep-until', ...common, until };
      return { kind: 'append', event: envelope(state, context, 'step-completed', common) };
    }
    case 'completed':
      // Unreachable: completing a step advances currentStep.
      return { kind: 'idle' };
  }
}

/**
 * Where a stop may end a process (docs/sidecar.md, "Stop and undo"): between two steps, once the
 * previous one is done with its wait; inside a step that changes nothing itself (waiting for the
 * parent, a marker), which leaves the state the previous step made; or inside a step that a
 * signer cannot apply (the process needs the operator), whose changes are each safe alone.
 */
function isSafePoint(
  process: ProcessState,
  definition: ProcessState['steps'][number],
  step: ProcessState['stepStates'][number],
): boolean {
  if (step.status === 'pending') return true;
  if (step.status !== 'started') return false;
  const changesNothing = !definition.action && !definition.rollAction;
  return changesNothing || process.status === 'needs-operator';
}

/** The event to append once a post-condition has been observed to hold. */
export function postconditionMet(
  state: ZoneState,
  context: DecideContext,
  processId: string,
  stepIndex: number,
  ttls: ObservedTtls,
): ZoneEvent {
  return envelope(state, context, 'postcondition-met', {
    processId,
    stepIndex,
    observedAt: context.now,
    ttls,
  });
}

/**
 * The event that tells a person at the parent exactly what to change (from `parentChangeFor`,
 * or `observePostcondition(…).parentChange`); append it when `isNewParentChange` says so.
 */
export function parentChangeNeeded(
  state: ZoneState,
  context: DecideContext,
  change: ParentChange,
): ZoneEvent {
  return envelope(state, context, 'parent-change-needed', change);
}

/**
 * Claims a parent step's NOTIFY (RFC 9859): the sidecar whose append lands sends it, and no other
 * sidecar does, so the parent's scanner is told once per step.
 */
export function parentNotified(
  state: ZoneState,
  context: DecideContext,
  data: ZoneEventOf<'parent-notified'>['data'],
): ZoneEvent {
  return envelope(state, context, 'parent-notified', data);
}

/** Records a parent step's change sent through the parent channel (accepted or refused). */
export function parentChangeSubmitted(
  state: ZoneState,
  context: DecideContext,
  data: ZoneEventOf<'parent-change-submitted'>['data'],
): ZoneEvent {
  return envelope(state, context, 'parent-change-submitted', data);
}

/** The event to append once this sidecar has reconciled its signer. */
export function signerReconciled(
  state: ZoneState,
  context: DecideContext,
  processId: string,
  stepIndex: number,
  signerId: string,
  applied: number,
  digest?: string,
): ZoneEvent {
  return envelope(state, context, 'signer-reconciled', {
    processId,
    stepIndex,
    signerId,
    applied,
    ...(digest ? { desiredDigest: digest } : {}),
  });
}

/** The event to append when this sidecar's signer failed to apply a step (see `ApplyError`). */
export function signerApplyFailed(
  state: ZoneState,
  context: DecideContext,
  failure: ZoneEventOf<'signer-apply-failed'>['data'],
): ZoneEvent {
  return envelope(state, context, 'signer-apply-failed', failure);
}

/**
 * The first event of a process: `process-started` with its steps as data, or `process-blocked`
 * with the pre-flight reasons (from `preflightChecks`) when anything would break validation.
 */
export function requestProcess(
  state: ZoneState,
  context: DecideContext,
  request: {
    processId: string;
    kind: ProcessState['kind'];
    signerId: string;
    preflight: BlockReason[];
  },
): ZoneEvent {
  const { processId, kind, signerId } = request;
  if (request.preflight.length > 0) {
    return envelope(state, context, 'process-blocked', {
      processId,
      kind,
      signerId,
      reasons: request.preflight,
    });
  }
  const pending = state.pendingRequests.find((entry) => entry.processId === processId);
  const skips = pending?.unsafeSkipWaits;
  const model = state.owner ? 1 : 2;
  const steps = [...stepsFor(kind, state.signers[signerId]?.rollover?.mode, model)];
  const unknown = (skips ?? []).filter(
    (name) => !steps.some((step) => step.name === name && step.wait !== null),
  );
  if (unknown.length > 0) {
    return envelope(state, context, 'process-blocked', {
      processId,
      kind,
      signerId,
      reasons: [
        {
          code: 'unknown-skip-wait',
          message: `${kind} has no step with a wait named ${unknown.join(', ')}; steps with waits: ${steps
            .filter((step) => step.wait !== null)
            .map((step) => step.name)
            .join(', ')}`,
        },
      ],
    });
  }
  const { groupBefore, groupAfter } = groupsOf(state.members, kind, signerId, pending?.undoOf);
  const roll = rollSubjectFor(state, kind, signerId, processId);
  return envelope(state, context, 'process-started', {
    processId,
    kind,
    signerId,
    steps,
    groupBefore,
    groupAfter,
    ...(roll ? { roll } : {}),
    ...(skips && skips.length > 0 ? { unsafeSkipWaits: [...skips] } : {}),
    ...(pending?.undoOf ? { undoOf: pending.undoOf } : {}),
  });
}

/**
 * The groups a process runs between. An undo reverses a stopped process from wherever it
 * stopped, back to the members it started with: undoing a join removes the joiner, who is not
 * a member (before = members + joiner); undoing a leave adds back the leaver, who still is one
 * (before = members − leaver).
 */
function groupsOf(
  members: readonly string[],
  kind: ProcessState['kind'],
  signerId: string,
  undoOf: string | undefined,
): { groupBefore: string[]; groupAfter: string[] } {
  const without = members.filter((id) => id !== signerId);
  if (undoOf !== undefined && kind === 'remove-signer')
    return { groupBefore: [...without, signerId], groupAfter: [...members] };
  if (undoOf !== undefined && kind === 'add-signer')
    return { groupBefore: without, groupAfter: [...members] };
  if (kind === 'add-signer')
    return { groupBefore: [...members], groupAfter: [...members, signerId] };
  if (kind === 'remove-signer') return { groupBefore: [...members], groupAfter: without };
  return { groupBefore: [...members], groupAfter: [...members] };
}

/**
 * What a roll replaces: the rolling signer's keys of the role when the process starts, minus a
 * successor the server already introduced (a followed roll).
 */
function rollSubjectFor(
  state: ZoneState,
  kind: ProcessState['kind'],
  signerId: string,
  processId: string,
): RollSubject | undefined {
  if (kind !== 'roll-zsk' && kind !== 'roll-ksk') return undefined;
  const request = state.pendingRequests.find((pending) => pending.processId === processId);
  if (request?.ownerKsk)
    return {
      role: 'KSK',
      predecessorTags: ownerKsksInEffect(state).map((key) => keyTag(key)),
      successorTag: keyTag(request.ownerKsk),
      mode: 'held',
      ownerSuccessor: request.ownerKsk,
    };
  const role = request?.role ?? (kind === 'roll-zsk' ? 'ZSK' : 'KSK');
  const signer = state.signers[signerId];
  const successorTag = request?.successorTag;
  const predecessorTags = (signer?.keys ?? [])
    .filter((key) => key.role === role && key.keyTag !== successorTag)
    .map((key) => key.keyTag);
  return {
    role,
    predecessorTags,
    mode: signer?.rollover?.mode ?? 'held',
    ...(successorTag !== undefined ? { successorTag } : {}),
  };
}

/**
 * The `zone-defined` event: the group that signs the zone now, taken from the signers that
 * registered themselves (their kinds, NS names and endpoints). Throws when one has not registered.
 */
export function defineZone(
  state: ZoneState,
  context: Pick<DecideContext, 'source' | 'now'>,
  definition: {
    parentZone: string;
    signerIds: readonly string[];
    timing: TimingSettings;
    recordTtlSeconds: number;
    group?: string;
    /** Model 1: the owner's KSKs and signature schedule. */
    owner?: ZoneOwner;
  },
): ZoneEvent {
  const missing = definition.signerIds.filter((id) => !state.signers[id]);
  if (missing.length > 0) {
    throw new ZoneStreamError(
      `signer(s) ${missing.join(', ')} not registered for ${state.zone}: start their sidecars first (they register themselves)`,
    );
  }
  return envelope(state, { ...context }, 'zone-defined', {
    parentZone: definition.parentZone,
    signers: definition.signerIds.map((id) => {
      const { kind, nameServerNames, endpoints } = state.signers[id]!;
      return { id, kind, nameServerNames, endpoints };
    }),
    timing: definition.timing,
    recordTtlSeconds: definition.recordTtlSeconds,
    ...(definition.group ? { group: definition.group } : {}),
    ...(definition.owner ? { owner: definition.owner } : {}),
  });
}
