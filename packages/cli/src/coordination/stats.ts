/**
 * Figures from the event log, as pure functions over events (`chorus stats`, and the demo's
 * per-process timing): processes by kind and outcome, durations against mandated waits,
 * observations, retries and writes. Everything returned is plain JSON.
 */
import type {
  ObservationEvent,
  ObserverTotals,
  ParentChangeSubmission,
  ZoneEvent,
  ZoneEventOf,
} from '@chorus/core';
import {
  applyZoneEvent,
  emptyZoneState,
  type FoldPolicy,
  type ProcessState,
  type ProcessStatus,
  type ZoneState,
} from '@chorus/engine';

/** One process's timing, step by step. */
export interface ProcessSummary {
  kind: string;
  signerId: string;
  /** ISO 8601: processes on disjoint resources may overlap. */
  startedAt: string;
  endedAt?: string;
  seconds: number;
  /** Time spent in mandated waits (from each wait-scheduled event to its notBefore). */
  mandatedWaitSeconds: number;
  /** Time spent waiting for the parent to act (await-parent-* steps before their post-condition held). */
  parentSeconds: number;
  steps: { name: string; seconds: number; wait?: string }[];
}

const seconds = (from?: string, to?: string) =>
  from && to ? Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000) : 0;

export function summarizeProcess(process: ProcessState): ProcessSummary {
  const steps = process.steps.map((step, index) => {
    const state = process.stepStates[index]!;
    return {
      name: step.name,
      seconds: seconds(state.startedAt, state.completedAt),
      ...(state.wait
        ? {
            wait: `${seconds(state.postconditionMetAt, state.wait.notBefore).toFixed(0)} s: ${state.wait.formula}`,
          }
        : {}),
    };
  });
  const mandatedWaitSeconds = process.stepStates.reduce(
    (sum, state) =>
      sum + (state.wait ? seconds(state.postconditionMetAt, state.wait.notBefore) : 0),
    0,
  );
  const parentSeconds = process.steps.reduce(
    (sum, step, index) =>
      step.name.startsWith('await-parent')
        ? sum +
          seconds(
            process.stepStates[index]!.startedAt,
            process.stepStates[index]!.postconditionMetAt,
          )
        : sum,
    0,
  );
  return {
    kind: process.kind,
    signerId: process.signerId,
    startedAt: process.startedAt,
    ...(process.endedAt ? { endedAt: process.endedAt } : {}),
    seconds: seconds(process.startedAt, process.endedAt),
    mandatedWaitSeconds,
    parentSeconds,
    steps,
  };
}

/** What Chorus itself took: the total less the mandated waits and the parent. */
export function overheadSeconds(
  summary: Pick<ProcessSummary, 'seconds' | 'mandatedWaitSeconds' | 'parentSeconds'>,
): number {
  return summary.seconds - summary.mandatedWaitSeconds - summary.parentSeconds;
}

/** A zone's two streams, as read from the log. */
export interface ZoneHistory {
  zone: string;
  events: readonly ZoneEvent[];
  observations: readonly ObservationEvent[];
}

/** A zone's fold and the events it accepted (with a policy, refused events count for nothing). */
export interface FoldedZone {
  state: ZoneState;
  accepted: ZoneEvent[];
}

export function foldHistory(history: ZoneHistory, policy?: FoldPolicy): FoldedZone {
  let state = emptyZoneState(history.zone, policy);
  const accepted: ZoneEvent[] = [];
  for (const event of history.events) {
    const refusedBefore = state.securityFindingCount;
    state = applyZoneEvent(state, event);
    if (state.securityFindingCount === refusedBefore) accepted.push(event);
  }
  return { state, accepted };
}

/** The row of `key`, made on first use. */
function rowOf<Row>(rows: Map<string, Row>, key: string, make: () => Row): Row {
  let row = rows.get(key);
  if (!row) rows.set(key, (row = make()));
  return row;
}

const roundMs = (value: number) => Math.round(value * 1000) / 1000;

// Processes by kind and outcome.

/** `needsOperator`: running, but held until the operator fixes a signer. `stopped`: `chorus stop`. */
export type Outcome =
  'completed' | 'failed' | 'blocked' | 'stopped' | 'running' | 'needsOperator' | 'pending';

export type ProcessCounts = { kind: string; total: number } & Record<Outcome, number>;

const OUTCOME_OF: Record<ProcessStatus | 'stopped', Outcome> = {
  requested: 'pending',
  running: 'running',
  'needs-operator': 'needsOperator',
  completed: 'completed',
  failed: 'failed',
  blocked: 'blocked',
  stopped: 'stopped',
};

const noProcesses = (kind: string): ProcessCounts => ({
  kind,
  total: 0,
  completed: 0,
  failed: 0,
  blocked: 0,
  stopped: 0,
  running: 0,
  needsOperator: 0,
  pending: 0,
});

/** Every process and pending request, counted by kind and outcome. */
export function countProcesses(states: readonly ZoneState[]): ProcessCounts[] {
  const rows = new Map<string, ProcessCounts>();
  const count = (kind: string, outcome: Outcome) => {
    const row = rowOf(rows, kind, () => noProcesses(kind));
    row[outcome] += 1;
    row.total += 1;
  };
  for (const state of states) {
    for (const process of state.processes) count(process.kind, OUTCOME_OF[process.status]);
    for (const request of state.pendingRequests) count(request.kind, 'pending');
  }
  return [...rows.values()];
}

// Durations against mandated waits.

/** Completed processes of one kind; seconds are sums except median and longest. */
export interface DurationStats {
  kind: string;
  count: number;
  medianSeconds: number;
  longestSeconds: number;
  totalSeconds: number;
  mandatedWaitSeconds: number;
  parentSeconds: number;
  overheadSeconds: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function durationStats(kind: string, summaries: readonly ProcessSummary[]): DurationStats {
  const sum = (pick: (summary: ProcessSummary) => number) =>
    roundMs(summaries.reduce((total, summary) => total + pick(summary), 0));
  const totals = summaries.map((summary) => summary.seconds);
  return {
    kind,
    count: summaries.length,
    medianSeconds: roundMs(median(totals)),
    longestSeconds: roundMs(Math.max(...totals)),
    totalSeconds: sum((summary) => summary.seconds),
    mandatedWaitSeconds: sum((summary) => summary.mandatedWaitSeconds),
    parentSeconds: sum((summary) => summary.parentSeconds),
    overheadSeconds: sum(overheadSeconds),
  };
}

/** The completed processes' timing, by kind (a failed process's duration says little). */
export function durationsByKind(states: readonly ZoneState[]): DurationStats[] {
  const byKind = new Map<string, ProcessSummary[]>();
  for (const state of states)
    for (const process of state.processes)
      if (process.status === 'completed')
        rowOf(byKind, process.kind, () => []).push(summarizeProcess(process));
  return [...byKind].map(([kind, summaries]) => durationStats(kind, summaries));
}

// Observations.

export interface ObservationStats {
  /** Violations opened (a violation seen again before it is restored counts once). */
  violations: number;
  violationsByInvariant: Record<string, number>;
  validationFailures: number;
  /** Validation failures that name the invariant they are an instance of. */
  validationFailuresByInvariant: Record<string, number>;
  /** Our validator and a validating resolver disagreed. */
  disagreements: number;
  /** Violations, validation failures and disagreements: what the timeline report marks. */
  glitches: number;
  /** The last totals of each observer run, summed. */
  observerTotals: ObserverTotals;
}

const increment = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/** Violations opened: a key already open is the same violation; a lone restore is one too. */
function countViolations(
  observations: readonly ObservationEvent[],
  byInvariant: Record<string, number>,
) {
  const open = new Set<string>();
  for (const event of observations) {
    if (event.type !== 'invariant-violated' && event.type !== 'invariant-restored') continue;
    const key = `${event.zone} ${event.data.key}`;
    if (event.type === 'invariant-violated' && !open.has(key)) {
      open.add(key);
      increment(byInvariant, event.data.invariant);
    } else if (event.type === 'invariant-restored' && !open.delete(key))
      increment(byInvariant, event.data.invariant);
  }
}

const NO_TOTALS: ObserverTotals = {
  probes: 0,
  resolverAnswers: 0,
  disagreements: 0,
  validationFailures: 0,
  invariantChecks: 0,
  violations: 0,
};

/** Each observer run's last summary (they are cumulative), summed. */
function observerTotals(observations: readonly ObservationEvent[]): ObserverTotals {
  const last = new Map<string, ObserverTotals>();
  for (const event of observations)
    if (event.type === 'observer-summary')
      last.set(`${event.zone} ${event.data.observer} ${event.data.since}`, event.data);
  const totals = { ...NO_TOTALS };
  for (const run of last.values())
    for (const key of Object.keys(totals) as (keyof ObserverTotals)[]) totals[key] += run[key];
  return totals;
}

export function observationStats(observations: readonly ObservationEvent[]): ObservationStats {
  const violationsByInvariant: Record<string, number> = {};
  const validationFailuresByInvariant: Record<string, number> = {};
  let validationFailures = 0;
  let disagreements = 0;
  countViolations(observations, violationsByInvariant);
  for (const event of observations)
    if (event.type === 'validation-failed') {
      validationFailures += 1;
      if (event.data.invariant) increment(validationFailuresByInvariant, event.data.invariant);
    } else if (event.type === 'validator-disagreed') disagreements += 1;
  const violations = Object.values(violationsByInvariant).reduce((sum, n) => sum + n, 0);
  return {
    violations,
    violationsByInvariant,
    validationFailures,
    validationFailuresByInvariant,
    disagreements,
    glitches: violations + validationFailures + disagreements,
    observerTotals: observerTotals(observations),
  };
}

// Retries and their causes.

/** signer-apply-failed events of one signer with one error. */
export interface RetryCause {
  signerId: string;
  errorName: string;
  /** The message's first line. */
  message: string;
  /** Events recorded (the sidecar throttles them: not every attempt is one). */
  count: number;
  retryable: number;
  /** Attempts: the highest attempt number of each process step, summed. */
  attempts: number;
}

type ApplyFailed = ZoneEventOf<'signer-apply-failed'>;

/** Causes, most frequent first. */
export function retryCauses(events: readonly ZoneEvent[]): RetryCause[] {
  const rows = new Map<string, RetryCause & { highest: Map<string, number> }>();
  for (const event of events.filter((e): e is ApplyFailed => e.type === 'signer-apply-failed')) {
    const { signerId, error, processId, stepIndex, attempt } = event.data;
    const message = error.message.split('\n')[0]!;
    const row = rowOf(rows, JSON.stringify([signerId, error.name, message]), () => ({
      signerId,
      errorName: error.name,
      message,
      count: 0,
      retryable: 0,
      attempts: 0,
      highest: new Map<string, number>(),
    }));
    row.count += 1;
    if (error.retryable) row.retryable += 1;
    const step = `${event.zone} ${processId} ${stepIndex}`;
    row.highest.set(step, Math.max(attempt, row.highest.get(step) ?? 0));
  }
  return [...rows.values()]
    .map(({ highest, ...row }) => ({
      ...row,
      attempts: [...highest.values()].reduce((sum, n) => sum + n, 0),
    }))
    .sort((a, b) => b.count - a.count);
}

// Writes per provider.

export interface SignerWrites {
  signerId: string;
  /** Steps the signer applied (signer-reconciled events). */
  reconciliations: number;
  /** Changes those took, summed. */
  changes: number;
}

export interface ParentWrites {
  /** parent-change-needed: what a person was asked to change. */
  changesNeeded: number;
  submissions: { channel: string; accepted: number; refused: number }[];
  notifies: { CDS: number; CSYNC: number };
}

export function signerWrites(events: readonly ZoneEvent[]): SignerWrites[] {
  const rows = new Map<string, SignerWrites>();
  for (const event of events)
    if (event.type === 'signer-reconciled') {
      const { signerId, applied } = event.data;
      const row = rowOf(rows, signerId, () => ({ signerId, reconciliations: 0, changes: 0 }));
      row.reconciliations += 1;
      row.changes += applied;
    }
  return [...rows.values()];
}

function countSubmission(
  rows: Map<string, ParentWrites['submissions'][number]>,
  data: ParentChangeSubmission,
) {
  const row = rowOf(rows, data.channel, () => ({ channel: data.channel, accepted: 0, refused: 0 }));
  row[data.outcome] += 1;
}

export function parentWrites(events: readonly ZoneEvent[]): ParentWrites {
  const submissions = new Map<string, ParentWrites['submissions'][number]>();
  const writes: ParentWrites = {
    changesNeeded: 0,
    submissions: [],
    notifies: { CDS: 0, CSYNC: 0 },
  };
  for (const event of events)
    if (event.type === 'parent-change-needed') writes.changesNeeded += 1;
    else if (event.type === 'parent-change-submitted') countSubmission(submissions, event.data);
    else if (event.type === 'parent-notified') writes.notifies[event.data.rrtype] += 1;
  writes.submissions = [...submissions.values()];
  return writes;
}

// Everything.

export interface Stats {
  zones: string[];
  /** False without a trust file: then nothing was verified. */
  verified: boolean;
  /** Zone events the fold refused (unsigned, forged, replayed): counted nowhere else. */
  refusedEvents: number;
  processes: ProcessCounts[];
  durations: DurationStats[];
  observations: ObservationStats;
  retries: RetryCause[];
  writes: SignerWrites[];
  parent: ParentWrites;
}

/** The statistics of `histories`, verified with `policy` when given. */
export function computeStats(histories: readonly ZoneHistory[], policy?: FoldPolicy): Stats {
  const folded = histories.map((history) => foldHistory(history, policy));
  const states = folded.map((zone) => zone.state);
  const accepted = folded.flatMap((zone) => zone.accepted);
  return {
    zones: histories.map((history) => history.zone),
    verified: policy !== undefined,
    refusedEvents: states.reduce((sum, state) => sum + state.securityFindingCount, 0),
    processes: countProcesses(states),
    durations: durationsByKind(states),
    observations: observationStats(histories.flatMap((history) => history.observations)),
    retries: retryCauses(accepted),
    writes: signerWrites(accepted),
    parent: parentWrites(accepted),
  };
}
