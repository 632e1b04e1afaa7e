/**
 * Running one request on every zone of a group, in this one process: at most `parallel` zones
 * at a time, each zone's steps in order (a migration adds, then removes). Each zone is its own
 * process in its own stream, so the sidecars run them side by side; the CLI only paces requests
 * and follows their ends: one subscription to the log says which zones gained events, and only
 * those streams are read again.
 */
import {
  zoneStream,
  type EventLog,
  type Subscription,
  type KeyRole,
  type ProcessKind,
  type ZoneEvent,
} from '@chorus/core';
import { applyZoneEvent, type ZoneState } from '@chorus/engine';
import type { CliIo } from '../io.js';
import { readZone } from './event-log.js';
import { appendRequest, requestEvent, untilAnswered } from './follow.js';
import { summarizeGroup } from './group-summary.js';

export interface GroupRequest {
  kind: ProcessKind;
  signerId: string;
  role?: KeyRole;
}

export interface GroupRunOptions {
  /** Zones in flight at once. */
  parallel: number;
  json: boolean;
  /**
   * How often the stream of a zone in flight is read when no event woke it: a safety net while the
   * subscription runs (default 10 s), the pace itself if it stopped (default 1 s).
   */
  pollMs?: number;
  /** How often a progress line is printed. */
  progressMs?: number;
}

/** How one zone ended: every request completed (or was already true), or the first that did not. */
export interface ZoneOutcome {
  zone: string;
  status: 'completed' | 'already' | 'blocked' | 'failed' | 'needs-operator' | 'stopped';
  /** The request that ended the zone's run (absent when all completed). */
  request?: GroupRequest;
  processId?: string;
  message?: string;
}

/** Whether the request is already true for the zone, so it is skipped (a re-run after a partial one). */
function alreadyTrue(state: ZoneState, request: GroupRequest): boolean {
  const member = state.members.includes(request.signerId);
  if (request.kind === 'add-signer') return member;
  if (request.kind === 'remove-signer') return !member;
  return false;
}

/** Reads what the zone's stream gained since `state`. */
async function refreshed(
  log: EventLog<ZoneEvent>,
  state: ZoneState,
  io: CliIo,
): Promise<ZoneState> {
  const fresh = await untilAnswered(io, () =>
    log.readStream(zoneStream(state.zone), { fromVersion: state.version + 1 }),
  );
  return fresh.reduce((next, recorded) => applyZoneEvent(next, recorded.event), state);
}

/** Zones in flight wait here until their stream gains an event (or a poll interval passes). */
class StreamWaker {
  private readonly changedStreams = new Set<string>();
  private readonly waiting = new Map<string, () => void>();
  private subscription: Subscription | undefined;
  private stopped = false;

  constructor(
    private readonly log: EventLog<ZoneEvent>,
    private readonly pollMs: number | undefined,
  ) {}

  /** Follows the log from just before `position` (the first request appended); once. */
  followFrom(position: number): void {
    if (this.subscription || this.stopped) return;
    this.subscription = this.log.subscribe({
      streamPrefix: 'zone/',
      afterPosition: position - 1,
      onEvent: (recorded) => {
        this.changedStreams.add(recorded.stream);
        this.waiting.get(recorded.stream)?.();
      },
      // Reading every zone in flight on a timer still works: slower, never wrong.
      onError: () => void (this.stopped = true),
    });
  }

  /** Resolves once the stream may have changed since the last call. */
  async changed(stream: string): Promise<void> {
    if (this.changedStreams.delete(stream)) return;
    const following = this.subscription !== undefined && !this.stopped;
    const ms = following ? Math.max(this.pollMs ?? 0, 10_000) : (this.pollMs ?? 1000);
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiting.delete(stream);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiting.set(stream, done);
    });
    this.changedStreams.delete(stream);
  }

  async close(): Promise<void> {
    this.stopped = true;
    for (const wake of [...this.waiting.values()]) wake();
    await this.subscription?.close();
  }
}

class GroupRun {
  readonly states = new Map<string, ZoneState>();
  readonly outcomes: ZoneOutcome[] = [];
  private readonly ended = new Set<string>();
  private lastProgress = '';

  constructor(
    private readonly log: EventLog<ZoneEvent>,
    private readonly group: string,
    private readonly requests: readonly GroupRequest[],
    private readonly io: CliIo,
    private readonly options: GroupRunOptions,
    private readonly waker: StreamWaker,
  ) {}

  /** Runs every request on one zone, in order; the first that does not complete ends it. */
  async runZone(zone: string): Promise<void> {
    let state = await untilAnswered(this.io, () => readZone(this.log, zone));
    this.states.set(zone, state);
    let ran = false;
    for (const request of this.requests) {
      if (alreadyTrue(state, request)) continue;
      const event = requestEvent(zone, request.kind, request.signerId, undefined, request.role);
      const { processId } = event.data;
      const { position } = await appendRequest(this.log, zone, event, this.io);
      this.waker.followFrom(position);
      ran = true;
      for (;;) {
        await this.waker.changed(zoneStream(zone));
        state = await refreshed(this.log, state, this.io);
        this.states.set(zone, state);
        const process = state.processes.find((candidate) => candidate.id === processId);
        if (!process || process.status === 'requested' || process.status === 'running') continue;
        if (process.status === 'completed') break;
        const reasons = (process.reasons ?? []).map(
          (reason) => `[${reason.code}] ${reason.message}`,
        );
        const failing = Object.entries(process.signerFailures ?? {}).map(
          ([id, failure]) => `${id}: ${failure.message}`,
        );
        return this.record({
          zone,
          status: process.status,
          request,
          processId,
          message: [...reasons, ...failing].join('; '),
        });
      }
    }
    this.record({ zone, status: ran ? 'completed' : 'already' });
  }

  /** A zone whose run threw (undefined zone, a log error that is not an outage). */
  fail(zone: string, error: unknown): void {
    this.record({
      zone,
      status: 'failed',
      message: error instanceof Error ? error.message : String(error),
    });
  }

  private record(outcome: ZoneOutcome): void {
    this.outcomes.push(outcome);
    this.ended.add(outcome.zone);
    if (this.options.json) this.io.stdout(`${JSON.stringify(outcome)}\n`);
    else if (outcome.status !== 'completed' && outcome.status !== 'already')
      this.io.stderr(
        `${outcome.zone}: ${outcome.request?.kind} ${outcome.request?.signerId} ${outcome.status}: ${outcome.message}\n`,
      );
  }

  /** One line: how many zones ended how, how many are in flight and where their waits end. */
  progress(total: number): void {
    const counts = new Map<string, number>();
    for (const outcome of this.outcomes)
      counts.set(outcome.status, (counts.get(outcome.status) ?? 0) + 1);
    const inFlight = [...this.states.keys()].filter((zone) => !this.ended.has(zone));
    const summary = summarizeGroup(
      this.group,
      inFlight.map((zone) => this.states.get(zone)!),
    );
    const ended = [...counts].map(([status, count]) => `${count} ${status}`).join(', ');
    const waits = summary.earliestNotBefore
      ? ` (waits end ${summary.earliestNotBefore.slice(11, 19)}–${summary.latestNotBefore!.slice(11, 19)})`
      : '';
    const queued = total - this.outcomes.length - inFlight.length;
    const line = `[group ${this.group}] ${this.outcomes.length}/${total} ended${ended ? ` (${ended})` : ''}, ${inFlight.length} in flight${waits}, ${queued} queued`;
    if (line === this.lastProgress) return;
    this.lastProgress = line;
    this.io.stderr(`${line}\n`);
  }
}

/**
 * Runs `requests` on every zone in `zones`, at most `options.parallel` zones at a time, printing
 * progress on stderr (and with --json one outcome per zone on stdout). Resolves with every zone's
 * outcome once all have ended; it never throws for one zone's failure.
 */
export async function runOnGroup(
  log: EventLog<ZoneEvent>,
  group: string,
  zones: readonly string[],
  requests: readonly GroupRequest[],
  io: CliIo,
  options: GroupRunOptions,
): Promise<ZoneOutcome[]> {
  const waker = new StreamWaker(log, options.pollMs);
  const run = new GroupRun(log, group, requests, io, options, waker);
  const queue = [...zones];
  const worker = async () => {
    for (let zone = queue.shift(); zone !== undefined; zone = queue.shift())
      await run.runZone(zone).catch((error: unknown) => run.fail(zone, error));
  };
  const timer = setInterval(() => run.progress(zones.length), options.progressMs ?? 5000);
  try {
    await Promise.all(Array.from({ length: Math.max(1, options.parallel) }, worker));
  } finally {
    clearInterval(timer);
    await waker.close();
  }
  run.progress(zones.length);
  return run.outcomes;
}
