/** Requesting a process and following the zone's stream until it ends (or is accepted). */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChorusError,
  contextFromTraceparent,
  EventLogError,
  newTraceparent,
  withSpan,
  zoneEvent,
  zoneStream,
  type EventLog,
  type DnskeyData,
  type KeyRole,
  type ProcessKind,
  type RecordedEvent,
  type ZoneEvent,
  type ZoneEventOf,
} from '@chorus/core';
import { applyZoneEvent, emptyZoneState, type ProcessState, type ZoneState } from '@chorus/engine';
import type { CliIo } from '../io.js';
import { ttyStatus } from './tty-status.js';
import {
  describeEvent,
  describeLeaving,
  describeParentChange,
  describeSignerFailure,
  pendingParentChange,
  processName,
} from './describe.js';
import { foldPolicyOf, readZone } from './event-log.js';

export const OPERATOR = { kind: 'cli', id: process.env.USER ?? 'operator' };

/** How long a request may stay unanswered before the CLI says that no sidecar has taken it. */
const UNANSWERED_NOTICE_MS = 15_000;
/** Between attempts while the event log does not answer (a NATS cluster without a quorum). */
const UNAVAILABLE_RETRY_MS = 2000;

const isUnavailable = (error: unknown) =>
  EventLogError.isInstance(error) && error.kind === 'unavailable';

/**
 * Runs `call` until the event log answers: while it is unavailable, says so once and retries, as
 * the sidecars do. Any other failure is thrown at once.
 */
export async function untilAnswered<T>(io: CliIo, call: () => Promise<T>): Promise<T> {
  let said = false;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      if (!said)
        io.stderr(
          `${(error as Error).message}; waiting until it answers (Ctrl-C stops waiting; a request already appended stands)\n`,
        );
      said = true;
      await sleep(UNAVAILABLE_RETRY_MS);
    }
  }
}

export interface FollowOptions {
  json: boolean;
  /** Print the stream's events after this version. */
  afterVersion: number;
  /** Stop once this holds. */
  until: (state: ZoneState) => boolean;
  /** Called with each new state, e.g. to print what changed. */
  onState?: (state: ZoneState) => void;
  /** Which events to print (default: all). */
  include?: (event: ZoneEvent) => boolean;
}

function printer(io: CliIo, json: boolean, include: (event: ZoneEvent) => boolean = () => true) {
  return (recorded: RecordedEvent<ZoneEvent>, state: ZoneState) => {
    if (!include(recorded.event)) return;
    if (json) io.stdout(`${JSON.stringify(recorded)}\n`);
    else io.stderr(`${describeEvent(recorded.event, state)}\n`);
  };
}

/**
 * Prints the zone's events after `afterVersion` as they arrive until `until` holds. The state and
 * the history come from one read, and the subscription starts exactly after it: an event that
 * lands in between is delivered, never lost.
 */
export async function follow(
  log: EventLog<ZoneEvent>,
  zone: string,
  io: CliIo,
  options: FollowOptions,
): Promise<ZoneState> {
  const stream = zoneStream(zone);
  const print = printer(io, options.json, options.include);
  const history = await untilAnswered(io, () => log.readStream(stream));
  let state = emptyZoneState(zone, foldPolicyOf(log));
  for (const recorded of history) {
    state = applyZoneEvent(state, recorded.event);
    if (recorded.streamVersion > options.afterVersion) print(recorded, state);
  }
  options.onState?.(state);
  if (options.until(state)) return state;
  return new Promise<ZoneState>((resolve, reject) => {
    const subscription = log.subscribe({
      afterPosition: history.at(-1)?.position ?? 0,
      streamPrefix: stream,
      onEvent: (recorded) => {
        if (recorded.stream !== stream || recorded.streamVersion <= state.version) return;
        state = applyZoneEvent(state, recorded.event);
        print(recorded, state);
        options.onState?.(state);
        if (!options.until(state)) return;
        resolve(state);
        void subscription.close();
      },
      onError: (error) => reject(error instanceof Error ? error : new Error(String(error))),
    });
  });
}

/** Says, once each time it changes, when the leaving signer of a REMOVE-SIGNER may stop serving. */
function leavingNotices(io: CliIo, json: boolean, processId: string) {
  let last = '';
  return (state: ZoneState) => {
    const process = state.processes.find((candidate) => candidate.id === processId);
    const leaving = process?.leavingSigner;
    if (!process || !leaving || JSON.stringify(leaving) === last) return;
    last = JSON.stringify(leaving);
    if (json)
      io.stdout(
        `${JSON.stringify({ notice: 'leaving-signer', zone: state.zone, processId, ...leaving })}\n`,
      );
    else io.stderr(`>>> ${describeLeaving(process)}\n`);
  };
}

/** Says, once each time it changes, what a person must change at the parent for the current step. */
function parentChangeNotices(io: CliIo, json: boolean, processId: string) {
  let last = '';
  return (state: ZoneState) => {
    const process = state.processes.find((candidate) => candidate.id === processId);
    const change = process && pendingParentChange(process);
    if (!process || !change || JSON.stringify(change) === last) return;
    last = JSON.stringify(change);
    if (json)
      io.stdout(
        `${JSON.stringify({ notice: 'parent-change-needed', zone: state.zone, processId, stepIndex: process.currentStep, ...change })}\n`,
      );
    else
      io.stderr(
        `${describeParentChange(state.zone, change)
          .map((line) => `>>> ${line}\n`)
          .join('')}`,
      );
  };
}

/** Says once when no sidecar has answered the request for a while: it may not be running. */
function unansweredNotice(io: CliIo, zone: string, processId: string) {
  let state: ZoneState | undefined;
  const timer = setTimeout(() => {
    if (!state?.pendingRequests.some((request) => request.processId === processId)) return;
    io.stderr(
      `no sidecar has answered the request yet; is a sidecar of ${state.members.join(', ') || 'the group'} running for ${zone} on this log? The request stays pending until one does.\n`,
    );
  }, UNANSWERED_NOTICE_MS);
  timer.unref();
  return { update: (next: ZoneState) => void (state = next), stop: () => clearTimeout(timer) };
}

/** The error for a process that ended without completing; undefined when it completed or runs. */
export function processEndError(process: ProcessState, zone: string): ChorusError | undefined {
  const what = processName(process.kind, process.signerId);
  const reasons = (process.reasons ?? []).map((reason) => `  - [${reason.code}] ${reason.message}`);
  switch (process.status) {
    case 'blocked':
      return new ChorusError('Chorus_ProcessBlockedError', {
        message: `${what} refused before any change:\n${reasons.join('\n')}`,
      });
    case 'failed':
      return new ChorusError('Chorus_ProcessFailedError', {
        message: `${what} failed: ${process.reasons?.[0]?.message ?? 'unknown reason'}`,
      });
    case 'needs-operator': {
      const failures = Object.entries(process.signerFailures ?? {}).map(
        ([id, failure]) => `  - ${describeSignerFailure(id, failure)}`,
      );
      return new ChorusError('Chorus_ProcessNeedsOperatorError', {
        message: `${what} holds and needs the operator:\n${failures.join('\n')}\nFix the fault (for example the TSIG key or credentials in that signer's sidecar configuration) and restart its sidecar: it retries the step and the process goes on. Watch it with "chorus status ${zone}".`,
      });
    }
    case 'stopped':
      return new ChorusError('Chorus_ProcessStoppedError', {
        message: `${what} was stopped at a safe point${process.stopRequested ? ` by ${process.stopRequested.by}` : ''}, before step ${(process.stoppedAtStep ?? 0) + 1} of ${process.steps.length}; "chorus undo ${zone}" reverses what it did`,
      });
    case 'requested':
    case 'running':
    case 'completed':
      return undefined;
  }
}

export function requestEvent(
  zone: string,
  kind: ProcessKind,
  signerId: string,
  unsafeSkipWaits: string[] | undefined,
  role: KeyRole | undefined,
  undoOf?: string,
  successorTag?: number,
  ownerKsk?: DnskeyData,
): ZoneEventOf<'process-requested'> {
  return zoneEvent(
    'process-requested',
    { zone, source: OPERATOR, traceparent: newTraceparent() },
    {
      processId: randomUUID(),
      kind,
      signerId,
      requestedBy: OPERATOR.id,
      ...(role ? { role } : {}),
      ...(unsafeSkipWaits?.length ? { unsafeSkipWaits } : {}),
      ...(undoOf ? { undoOf } : {}),
      ...(successorTag !== undefined ? { successorTag } : {}),
      ...(ownerKsk ? { ownerKsk } : {}),
    },
  );
}

/** Events of this process, and events about no process (keys observed, registrations): not those of processes running beside it. */
function aboutProcessOrZone(processId: string) {
  return (event: ZoneEvent) => !('processId' in event.data) || event.data.processId === processId;
}

/**
 * Appends the request at the stream's current version; re-reads when a sidecar wrote first. While
 * the log is unavailable it waits; an append that timed out may have landed, so before trying
 * again it looks for the request in the stream. Returns the version just before the request.
 */
/** Where a request landed: the stream's version before it, and its global position. */
export interface AppendedRequest {
  afterVersion: number;
  position: number;
}

export async function appendRequest(
  log: EventLog<ZoneEvent>,
  zone: string,
  event: ZoneEvent & { type: 'process-requested' },
  io: CliIo,
): Promise<AppendedRequest> {
  let conflicts = 0;
  for (let unsure = false; ;) {
    if (unsure) {
      const landed = (await untilAnswered(io, () => log.readStream(zoneStream(zone)))).find(
        ({ event: recorded }) =>
          recorded.type === 'process-requested' && recorded.data.processId === event.data.processId,
      );
      if (landed) return { afterVersion: landed.streamVersion - 1, position: landed.position };
    }
    const state = await untilAnswered(io, () => readZone(log, zone));
    if (!state.defined)
      throw new ChorusError('Chorus_ZoneUndefinedError', {
        message: `zone ${zone} is not defined; run "chorus zone define ${zone} --signer ID" first`,
      });
    try {
      const { positions } = await log.append(zoneStream(zone), state.version, [event]);
      return { afterVersion: state.version, position: positions[0]! };
    } catch (error) {
      if (isUnavailable(error)) {
        unsure = true;
        continue;
      }
      conflicts += 1;
      if (conflicts >= 5 || !(error instanceof ChorusError) || !error.isRetryable) throw error;
    }
  }
}

export interface RequestOptions {
  json: boolean;
  /** Return once the sidecars accepted or refused the request. */
  detach: boolean;
  unsafeSkipWaits?: string[];
  /** Roll processes: the key role to roll. */
  role?: KeyRole;
  /** `chorus undo`: the stopped process this request reverses. */
  undoOf?: string;
  /** A roll back: the key that signs again (the stopped roll's predecessor). */
  successorTag?: number;
  /** Model 1's KSK roll: the owner's new KSK. */
  ownerKsk?: DnskeyData;
}

/** Requests a process, prints its events as they come, and returns it once it ended (or started). */
export async function requestAndFollow(
  log: EventLog<ZoneEvent>,
  zone: string,
  kind: ProcessKind,
  signerId: string,
  io: CliIo,
  options: RequestOptions,
): Promise<ProcessState> {
  const event = requestEvent(
    zone,
    kind,
    signerId,
    options.unsafeSkipWaits,
    options.role,
    options.undoOf,
    options.successorTag,
    options.ownerKsk,
  );
  const { processId } = event.data;
  const find = (state: ZoneState) => state.processes.find((process) => process.id === processId);
  const until = (state: ZoneState) => {
    const process = find(state);
    return process !== undefined && (options.detach || process.status !== 'running');
  };
  const status = ttyStatus(io, io.stderrIsTty === true && !options.json);
  const out = status.io;
  const notice = unansweredNotice(out, zone, processId);
  const leaving = leavingNotices(out, options.json, processId);
  const parentChange = parentChangeNotices(out, options.json, processId);
  const onState = (state: ZoneState) => (
    notice.update(state),
    leaving(state),
    parentChange(state),
    status.show(find(state))
  );
  // A span in the process's trace (whose root span a sidecar emits when the process ends).
  const attributes = { 'chorus.process.id': processId, 'chorus.process.kind': kind };
  const final = await withSpan(
    `request ${kind} ${signerId}`,
    attributes,
    contextFromTraceparent(event.traceparent),
    async () => {
      const { afterVersion } = await appendRequest(log, zone, event, out);
      return follow(log, zone, out, {
        json: options.json,
        afterVersion,
        until,
        onState,
        include: aboutProcessOrZone(processId),
      });
    },
  ).finally(() => (notice.stop(), status.stop()));
  const process = find(final)!;
  const error = processEndError(process, zone);
  if (error) throw error;
  return process;
}
