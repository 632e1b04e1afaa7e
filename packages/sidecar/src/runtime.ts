import { randomUUID } from 'node:crypto';
import {
  ChorusError,
  UnsupportedCapabilityError,
  concurrentChangeLimit,
  SignerConfigurationError,
  childTraceparent,
  zoneEvent,
  zoneStream,
  type Observer,
  type ChorusEvent,
  type RecordedEvent,
  type EventLog,
  type ApexSnapshot,
  type ParentChange,
  type ParentChannel,
  type PostconditionSpec,
  type Signer,
  type DesiredSignerState,
  type SignerLimit,
  type SignerReference,
  type RolloverTiming,
  type SigningKey,
  type ZoneEvent,
  type EventSigningKey,
  createSigningEventLog,
  activeTraceparent,
  traceIdOf,
  withSpan,
} from '@chorus/core';
import {
  decideEach,
  prePublicationShortfall,
  foldZone,
  withoutFinishedDetail,
  observeForPreflight,
  isNewParentChange,
  observePostcondition,
  parentChangeNeeded,
  parentChangeSubmitted,
  parentNotified,
  postconditionMet,
  preflightChecks,
  requestProcess,
  signerApplyFailed,
  signerReconciled,
  type DecideContext,
  type Decision,
  type ProcessState,
  type ZoneState,
  type FoldPolicy,
  instrumentParentChannel,
  instrumentSigner,
  recordProcess,
  recordStep,
  recordWait,
} from '@chorus/engine';
import {
  ConcurrencySlots,
  countCall,
  reconcileBootstrapSignals,
  reconcileSigner,
} from '@chorus/dns';
import { createObserverPipeline, type ObserverPipeline } from '@chorus/observers';
import { ROOT_CONTEXT, type Attributes, type Context } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { ApplyFailures, retryAfterMs, type ApplyFailureVerdict } from './apply-failures.js';
import { probeEndpoints } from './endpoint-probe.js';
import { ContentWatch } from './content-watch.js';
import { Model1Watch } from './model1-watch.js';
import { ProcessTracer } from './process-trace.js';
import {
  KeyListings,
  keyChanges,
  keyWatchRequester,
  rollsToFollow,
  withCdsFlags,
} from './key-watch.js';
import { sameWorkIn } from './append-race.js';
import { StreamHeads } from './stream-heads.js';
import { foldFresh, StepChangeTally } from './fold-fresh.js';
import { KeyWatchLag, pauseBeforeNextRead } from './key-watch-lag.js';
import { performRollAction } from './roll-actions.js';
import { parentSubmissionFor, type ParentSubmission } from './parent-submit.js';
import {
  ParentNotifier,
  type ParentNotifyTargets,
  type ParentNotifyType,
} from './parent-notify.js';
import { isTrustedSidecar, reportNewFindings, VerifiedFeed } from './zone-trust.js';

export interface SidecarRuntimeOptions {
  /** This sidecar's signer id. */
  id: string;
  zones: readonly string[];
  /** The NS names the signer serves the zones under. */
  nameServerNames: readonly string[];
  log: EventLog<ChorusEvent>;
  signer: Signer;
  parent: ParentChannel;
  logger: Logger;
  /** Observers that see every event of the sidecar's zones, isolated by core's observer pipeline. */
  observers?: readonly Observer<ZoneEvent>[];
  /** How often to look again while a post-condition does not hold yet. Default 500 ms. */
  observeIntervalMs?: number;
  /** How often the key watch reads the server's own keys. Default 30 s. */
  keyWatchSeconds?: number;
  /** The most zones the key watch reads a second (default KEY_WATCH_RATE). */
  keyWatchPerSecond?: number;
  /** Changes to the server at once, across zones; default the plugin's `concurrent-changes` limit. */
  maxConcurrentChanges?: number;
  /** Where NOTIFY(CDS)/NOTIFY(CSYNC) goes when a step waits for the parent (RFC 9859); none by default. */
  parentNotify?: ParentNotifyTargets;
  now?: () => Date;
  /** Signs every event this sidecar appends. Without it (embedding, tests) events go unsigned. */
  signingKey?: EventSigningKey;
  /** The trust anchor every fold verifies against. Without it nothing is verified. */
  foldPolicy?: FoldPolicy;
}

/** The NOTIFY that tells the parent's scanner about a step waiting for it. */
const PARENT_NOTIFY_TYPES: Partial<Record<PostconditionSpec['kind'], ParentNotifyType>> = {
  'parent-ds-matches': 'CDS',
  'parent-ns-matches': 'CSYNC',
};

/** How long a parent step waits before it records what a person must change at the parent. */
const PARENT_CHANGE_GRACE_MS = 5_000;

/** Added to a server's Retry-After, so the next attempt lands after the window, not on its edge. */
const RETRY_AFTER_MARGIN_MS = 250;

const DEFAULT_KEY_WATCH_SECONDS = 30;

/** The most zones a key watch reads a second: beyond it, each zone is read less often. */
const KEY_WATCH_RATE = 50;

/** Key-watch rounds between two reads of the apex for CDS flags while the keys stand still. */
const CDS_RECHECK_ROUNDS = 5;

/** Rounds in a row that may keep a listing on an unchanged key fingerprint; the next one lists. */
const KEY_LISTING_REUSES = 4;

/** Zones whose keys the key watch reads at once. */
const KEY_WATCH_CONCURRENCY = 4;
/** How many times finished work is recorded again after losing the append to another writer. */
const APPEND_RACE_RETRIES = 5;

/** Reconciles in flight at once, across zones: their reads overlap; writes keep their own limit. */
const RECONCILE_CONCURRENCY = 8;

/** Unmet observations of one step back off up to this many observe intervals. */
const OBSERVE_BACKOFF_LIMIT = 8;

/** The longest a zone loop sleeps without reading the log again, while the zones are few. */
const MAX_SLEEP_MS = 5000;

/**
 * Beyond that, the sleeps lengthen so that all zone loops together read the log on their own at
 * most this often a second: with 10,000 zones, a 5 s cap meant 2,000 reads and decisions a second
 * that found nothing new, for the length of a run.
 */
const SAFETY_NET_WAKES_PER_SECOND = 100;

/** The zone loops' sleep cap for a sidecar that follows `zoneCount` zones. */
export function sleepCapMs(zoneCount: number): number {
  return Math.max(MAX_SLEEP_MS, (zoneCount / SAFETY_NET_WAKES_PER_SECOND) * 1000);
}

/** How often a sidecar looks again while the event log does not answer. */
const LOG_UNAVAILABLE_RETRY_MS = 2000;

/** An event log that cannot be reached (NATS without a quorum, a partition). */
const isLogUnavailable = (error: unknown) =>
  (error as { name?: string; kind?: string } | null)?.name === 'Chorus_EventLogError' &&
  (error as { kind?: string }).kind === 'unavailable';

/** A failure of the event log that may pass (SQLite's write lock, a NATS quorum). */
const isLogRetryable = (error: unknown) =>
  (error as { name?: string } | null)?.name === 'Chorus_EventLogError' &&
  (error as { isRetryable?: boolean }).isRetryable === true;

/** Events read at once from the history at start-up (memory stays bounded at scale). */
const HISTORY_PAGE = 2000;

/** Zones checked and registered at once during start-up. */
const STARTUP_CONCURRENCY = 16;

/** Attempts at checking a zone at a server whose failures are retryable (time-outs, 5xx). */
const STARTUP_SERVER_ATTEMPTS = 5;

/** The longest pause between registration attempts while the event log is busy. */
const MAX_STARTUP_RETRY_MS = 30_000;

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

const isWrongVersion = (error: unknown) =>
  (error as { name?: string } | null)?.name === 'Chorus_WrongExpectedVersionError';

/**
 * Follows each zone's stream, decides with the shared fold, and acts: reconciles its OWN signer
 * only, observes the public DNS, and appends events with optimistic concurrency. Everything it
 * needs after a restart is in the log (waits are persisted as `notBefore`), so a killed sidecar
 * resumes where the stream says, and a step is never recorded twice.
 */
export class SidecarRuntime {
  private readonly states = new Map<string, ZoneState>();
  private readonly wakers = new Map<string, () => void>();
  /** Per followed stream: the newest version the subscription delivered (see StreamHeads). */
  private readonly streamHeads: StreamHeads;
  /** Every loop sleeping now (`sleeper`), woken when the sidecar stops. */
  private readonly sleepers = new Set<() => void>();
  private readonly loops: Promise<void>[] = [];
  private readonly abort = new AbortController();
  private stopping?: Promise<void>;
  private readonly appliedInStep = new StepChangeTally();
  private subscription: { close(): Promise<void> } | undefined;
  private readonly observers: ObserverPipeline<ZoneEvent>;
  /** Per zone: the keys last listed, their CDS flags from the apex, and the rounds since. */
  private readonly cdsChecks = new Map<
    string,
    { listed: string; rounds: number; flagged: SigningKey[] }
  >();
  /** The last listing of each zone's keys, kept while the server's fingerprint of them holds. */
  private readonly keyListings = new KeyListings(KEY_LISTING_REUSES);
  /** Bounds the key watch's reads of the server across all zones. */
  private readonly keyWatchSlots = new ConcurrencySlots(KEY_WATCH_CONCURRENCY);
  private readonly keyWatchLag: KeyWatchLag;
  /** Per zone: the step whose post-condition was last unmet, and how many times in a row. */
  private readonly unmetObservations = new Map<string, { step: string; misses: number }>();
  /** The signer and parent channel, traced and timed per call. */
  private readonly signer: Signer;
  private readonly parent: ParentChannel;
  private readonly processTrace: ProcessTracer;
  private readonly applyFailures = new ApplyFailures();
  private readonly contentWatch: ContentWatch;
  private readonly model1Watch: Model1Watch;
  private readonly parentNotifier: ParentNotifier;
  /** Per zone: the parent step whose change this sidecar has sent (or is sending) through the parent channel. */
  private readonly parentSubmissions = new Map<string, string>();
  private readonly changeSlots: ConcurrencySlots;
  /** Bounds whole reconciles (reads, the gated write, the check after it) across zones. */
  private readonly reconcileSlots: ConcurrencySlots;

  constructor(private readonly options: SidecarRuntimeOptions) {
    this.observers = createObserverPipeline(options.observers ?? [], { logger: options.logger });
    this.keyWatchLag = new KeyWatchLag(options.logger);
    this.streamHeads = new StreamHeads(new Set(options.zones.map(zoneStream)));
    this.signer = instrumentSigner(options.signer);
    this.parent = instrumentParentChannel(options.parent);
    this.processTrace = new ProcessTracer(options.id);
    this.log = options.signingKey
      ? createSigningEventLog(options.log, options.signingKey)
      : options.log;
    this.verifiedFeed = new VerifiedFeed(options.foldPolicy);
    this.changeSlots = new ConcurrencySlots(
      options.maxConcurrentChanges ?? concurrentChangeLimit(options.signer.capabilities),
    );
    this.reconcileSlots = new ConcurrencySlots(
      Math.max(this.changeSlots.limit, RECONCILE_CONCURRENCY),
    );
    this.parentNotifier = new ParentNotifier({
      targets: options.parentNotify ?? { kind: 'fixed', servers: [] },
      logger: options.logger,
      signal: this.abort.signal,
    });
    this.contentWatch = new ContentWatch({
      signer: this.signer,
      signerId: options.id,
      logger: options.logger,
      signal: this.abort.signal,
      refresh: (zone) => this.refresh(zone),
      appendContent: (zone, state, content) => {
        const context = this.context(zone);
        const fields = { zone, occurredAt: context.now, source: context.source };
        return this.append(
          zone,
          state,
          zoneEvent('signer-content-observed', fields, { signerId: options.id, content }),
        );
      },
    });
    this.model1Watch = new Model1Watch({
      signer: this.signer,
      signerId: options.id,
      logger: options.logger,
      signal: this.abort.signal,
      refresh: (zone) => this.refresh(zone),
      appendPlanned: (zone, state, planned) => {
        const context = this.context(zone);
        const fields = { zone, occurredAt: context.now, source: context.source };
        return this.append(
          zone,
          state,
          zoneEvent('signer-zsks-planned', fields, { signerId: options.id, planned }),
        );
      },
    });
  }

  private readonly log: EventLog<ChorusEvent>;
  private readonly verifiedFeed: VerifiedFeed;
  private untrustedWarned = false;

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /**
   * The decision context; events about a process carry a traceparent in the process's trace
   * (the process a decision is about, or else the oldest request or process in flight).
   */
  private context(zone: string, processId?: string): DecideContext {
    const state = this.states.get(zone);
    const traceOf = (id: string) =>
      state?.processes.find((process) => process.id === id)?.traceparent ??
      state?.pendingRequests.find((request) => request.processId === id)?.traceparent;
    const trace = processId
      ? traceOf(processId)
      : (state?.pendingRequests[0]?.traceparent ?? state?.activeProcess?.traceparent);
    const context: DecideContext = {
      selfSignerId: this.options.id,
      source: { kind: 'sidecar', id: this.options.id },
      now: this.now().toISOString(),
      traceparentFor: (id) => {
        const parent = traceOf(id);
        return parent ? childTraceparent(parent) : undefined;
      },
    };
    // A new span id only for a context that makes an event (most decide nothing to append).
    if (trace) {
      let child: string | undefined;
      Object.defineProperty(context, 'traceparent', {
        enumerable: true,
        get: () => (child ??= childTraceparent(trace)),
      });
    }
    return context;
  }

  /** Checks the signer, registers it in every zone, and starts following the streams. */
  async start(): Promise<void> {
    const { logger } = this.options;
    const signer = this.signer;
    await withSpan(
      'sidecar start',
      { 'chorus.sidecar.id': this.options.id, 'chorus.zones': [...this.options.zones] },
      ROOT_CONTEXT,
      async () => {
        const slots = new ConcurrencySlots(STARTUP_CONCURRENCY);
        await Promise.all(this.options.zones.map((zone) => slots.run(() => this.startZone(zone))));
      },
    );
    this.abort.signal.throwIfAborted();
    // Observers learn the group (signers, timing) from the history, then follow what comes.
    // Without observers, the subscription only wakes the zone loops: nothing is folded twice.
    const mine = new Set(this.options.zones.map(zoneStream));
    const feedsObservers = (this.options.observers?.length ?? 0) > 0;
    const feed = (recorded: RecordedEvent<ChorusEvent>) => {
      const accepted =
        feedsObservers && mine.has(recorded.stream)
          ? this.verifiedFeed.accepted(recorded)
          : undefined;
      if (accepted) this.observers.publish(accepted);
    };
    const head = await this.readHistory(feed);
    this.abort.signal.throwIfAborted();
    this.subscription = this.log.subscribe({
      streamPrefix: 'zone/',
      afterPosition: head,
      onEvent: (recorded) => {
        feed(recorded);
        this.streamHeads.noteDelivered(recorded.stream, recorded.streamVersion);
        this.wakers.get(recorded.stream)?.();
      },
      onError: (error) => logger.error({ err: error }, 'event log subscription failed'),
    });
    const watchEveryMs = this.keyWatchPeriodMs();
    this.options.zones.forEach((zone, index) => {
      // Spread over the first period, so many zones never read the server all at once.
      const firstAfterMs = (watchEveryMs * (index + 1)) / this.options.zones.length;
      this.loops.push(this.run(zone), this.watchKeys(zone, firstAfterMs, watchEveryMs));
    });
    const { zones } = this.options;
    logger.info(
      {
        ...(zones.length <= 20 ? { zones } : { zoneCount: zones.length }),
        signer: signer.id,
        kind: signer.kind,
        keyWatchEverySeconds: watchEveryMs / 1000,
      },
      'sidecar started',
    );
  }

  /** Hands the log's zone history to `feed` page by page; returns the last position read. */
  private async readHistory(feed: (recorded: RecordedEvent<ChorusEvent>) => void): Promise<number> {
    let position = 0;
    for (;;) {
      const page = await this.log.readAll({
        streamPrefix: 'zone/',
        afterPosition: position,
        limit: HISTORY_PAGE,
      });
      for (const recorded of page) feed(recorded);
      position = page.at(-1)?.position ?? position;
      if (page.length < HISTORY_PAGE) return position;
      this.abort.signal.throwIfAborted();
    }
  }

  /**
   * Checks one zone at the server and registers it. A busy or unreachable event log is waited
   * out with backoff (another process holds SQLite's write lock, NATS lost its quorum); a
   * retryable failure of the server (a time-out while it signs a thousand zones) is tried again
   * a few times; any other failure stops the start-up, so a wrong configuration is said at once.
   */
  private async startZone(zone: string): Promise<void> {
    const signal = this.abort.signal;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await probeEndpoints(this.signer, zone, { signal });
        const model = await this.checkZone(zone);
        await this.refuseShortPrePublication(zone);
        await this.register(zone, model);
        return;
      } catch (error) {
        const logWait = isLogRetryable(error);
        const serverWait =
          ChorusError.isInstance(error) && error.isRetryable && attempt < STARTUP_SERVER_ATTEMPTS;
        if (signal.aborted || !(logWait || serverWait)) throw error;
        const retryInMs = Math.min(500 * 2 ** attempt, MAX_STARTUP_RETRY_MS);
        this.options.logger.warn(
          { zone, attempt, retryInMs, err: error },
          logWait
            ? 'registration met a busy or unavailable event log: trying again'
            : 'checking the zone at the server failed with a retryable error: trying again',
        );
        await this.pause(retryInMs);
        signal.throwIfAborted();
      }
    }
  }

  /**
   * The start-up check of the zone at the server: model 2's (checkZone), or, when the zone's
   * definition names an owner, that the server can list the ZSKs it would sign with in model 1.
   */
  private async checkZone(zone: string): Promise<1 | 2> {
    const signal = this.abort.signal;
    const state = await this.refresh(zone);
    if (state.owner) {
      await this.checkModel1(zone);
      return 1;
    }
    try {
      await this.signer.checkZone(zone, { signal });
      return 2;
    } catch (error) {
      // Before the definition, a server set up for model 1 only (Knot's offline-KSK) is accepted.
      if (state.defined || !SignerConfigurationError.isInstance(error)) throw error;
      await this.checkModel1(zone).catch(() => Promise.reject(error));
      this.options.logger.info(
        { zone },
        'the server is set up for model 1 (it serves a DNSKEY RRset the owner signs); the zone definition must name an owner',
      );
      return 1;
    }
  }

  /** Model 1: the server can list the ZSKs it signs with (and so serve the owner's RRset). */
  private async checkModel1(zone: string): Promise<void> {
    const signal = this.abort.signal;
    const publisher = this.signer.presignedDnskey;
    if (!publisher)
      throw new UnsupportedCapabilityError({
        capability: 'presigned-dnskey',
        signerId: this.options.id,
        reason:
          this.signer.capabilities['presigned-dnskey']?.reason ??
          'the plugin does not declare presigned-dnskey',
      });
    await publisher.plannedZsks(zone, Math.floor(Date.now() / 1000) + 60, { signal });
  }

  /** Stops following and releases everything. Idempotent; safe during `start()`, which then rejects. */
  stop(): Promise<void> {
    this.stopping ??= this.release();
    return this.stopping;
  }

  private async release(): Promise<void> {
    this.abort.abort();
    for (const wake of this.wakers.values()) wake();
    for (const wake of [...this.sleepers]) wake();
    await Promise.allSettled(this.loops);
    await this.subscription?.close();
    await this.observers.shutdown();
    await this.signer.close?.();
  }

  /** Reads the stream from where the cached fold stopped. */
  private async refresh(zone: string): Promise<ZoneState> {
    const stream = zoneStream(zone);
    const cached = () => this.states.get(zone) ?? foldZone(zone, [], this.options.foldPolicy);
    const fresh = await this.log.readStream(stream, { fromVersion: cached().version + 1 });
    const before = cached();
    let state = foldFresh(before, fresh, (event, previous, next) => {
      if (next.securityFindingCount === previous.securityFindingCount)
        this.processTrace.note(event);
    });
    this.streamHeads.noteRead(stream, state.version);
    if (state === before) return before;
    reportNewFindings(this.options.logger, before, state);
    state = withoutFinishedDetail(state);
    this.states.set(zone, state);
    return state;
  }

  /**
   * Appends the event that records `decision`'s finished work. When another writer's event got in
   * first and the newer state still asks for the same work, the event is built again for that
   * state and appended, instead of doing the work again (see append-race.ts).
   */
  private async appendAfterWork<D extends Decision>(
    zone: string,
    state: ZoneState,
    decision: D,
    eventFor: (state: ZoneState, decision: D) => ZoneEvent,
  ): Promise<boolean> {
    let current = state;
    let again = decision;
    for (let attempt = 0; attempt < APPEND_RACE_RETRIES; attempt += 1) {
      if (await this.append(zone, current, eventFor(current, again))) return true;
      current = await this.refresh(zone);
      const same = sameWorkIn(decision, decideEach(current, this.context(zone)));
      if (!same) return false;
      countCall('event append kept the work');
      again = same;
    }
    return false;
  }

  /**
   * Appends one event; false when another sidecar appended first (re-read and decide again).
   * When the subscription already delivered a newer event of the stream, the append would lose:
   * nothing is signed or sent.
   */
  private async append(zone: string, state: ZoneState, event: ZoneEvent): Promise<boolean> {
    if (this.streamHeads.isBehind(zoneStream(zone), state.version)) {
      countCall('event append skipped (the log moved on)');
      return false;
    }
    // Inside a recorded span of the same trace, the event names that span: the log then points
    // at the exact span that wrote each event.
    const spanTraceparent = activeTraceparent();
    const stamped =
      spanTraceparent &&
      event.traceparent &&
      traceIdOf(spanTraceparent) === traceIdOf(event.traceparent)
        ? { ...event, traceparent: spanTraceparent }
        : event;
    try {
      await this.log.append(zoneStream(zone), state.version, [stamped]);
    } catch (error) {
      if (!isWrongVersion(error)) throw error;
      countCall('event append lost the race');
      return false;
    }
    countCall('event appended');
    this.options.logger.info(
      {
        zone,
        event: event.type,
        ...('stepIndex' in event.data ? { step: event.data.stepIndex } : {}),
      },
      'event appended',
    );
    this.recorded(zone, state, event);
    return true;
  }

  /** Metrics and the step and process spans for an event this sidecar recorded. */
  private recorded(zone: string, state: ZoneState, event: ZoneEvent): void {
    const processOf = (id: string) => state.processes.find((process) => process.id === id);
    switch (event.type) {
      case 'process-started':
        recordProcess(event.data.kind, 'started');
        return;
      case 'process-blocked': {
        recordProcess(event.data.kind, 'blocked');
        const request = state.pendingRequests.find(
          (pending) => pending.processId === event.data.processId,
        );
        this.processTrace.emitProcess(
          zone,
          {
            id: event.data.processId,
            kind: event.data.kind,
            signerId: event.data.signerId,
            ...(request?.traceparent ? { traceparent: request.traceparent } : {}),
          },
          'blocked',
          event.data.reasons,
        );
        return;
      }
      case 'process-completed':
      case 'process-stopped':
      case 'process-failed': {
        const process = processOf(event.data.processId);
        if (!process) return;
        const outcome = PROCESS_END[event.type];
        recordProcess(process.kind, outcome);
        this.processTrace.emitProcess(
          zone,
          {
            id: process.id,
            kind: process.kind,
            signerId: process.signerId,
            ...(process.traceparent ? { traceparent: process.traceparent } : {}),
            startedAt: process.startedAt,
            steps: process.steps.length,
            groupBefore: process.groupBefore,
            groupAfter:
              event.type === 'process-completed' ? event.data.groupAfter : process.groupAfter,
          },
          outcome,
          event.type === 'process-failed' ? [event.data.reason] : [],
        );
        return;
      }
      case 'wait-scheduled': {
        const process = processOf(event.data.processId);
        const step = process?.stepStates[event.data.stepIndex];
        const from = Date.parse(step?.postconditionMetAt ?? event.occurredAt);
        recordWait(
          (Date.parse(event.data.notBefore) - from) / 1000,
          process?.steps[event.data.stepIndex]?.wait ?? 'unknown',
        );
        return;
      }
      case 'step-completed': {
        const process = processOf(event.data.processId);
        if (!process) return;
        recordStep(process.kind, process.steps[event.data.stepIndex]?.name ?? 'unknown');
        this.processTrace.emitStep(zone, process, event.data.stepIndex);
        return;
      }
      case 'zone-defined':
      case 'trust-changed':
      case 'signer-registered':
      case 'signer-keys-observed':
      case 'signer-content-observed':
      case 'signer-zsks-planned':
      case 'dnskey-set-signed':
      case 'process-requested':
      case 'step-started':
      case 'signer-reconciled':
      case 'signer-apply-failed':
      case 'postcondition-met':
      case 'parent-change-needed':
      case 'parent-notified':
      case 'parent-change-submitted':
      case 'process-stop-requested':
        return;
    }
  }

  /** The span an action runs in, and its parent: the step's span, or the process's root span. */
  private actionSpan(
    zone: string,
    state: ZoneState,
    decision: Decision,
  ): { name: string; parent: Context; attributes: Attributes } | undefined {
    const attributes: Attributes = {
      'chorus.sidecar.id': this.options.id,
      'chorus.zone': zone,
      'chorus.decision': decision.kind,
    };
    if (decision.kind === 'preflight') {
      return {
        name: 'preflight',
        parent: this.processTrace.requestContext(decision.processId, state),
        attributes: {
          ...attributes,
          'chorus.process.id': decision.processId,
          'chorus.process.kind': decision.processKind,
          'chorus.process.signer': decision.signerId,
        },
      };
    }
    const processId = processIdOf(decision);
    const process = processId === undefined ? undefined : inFlight(state, processId);
    if (!process) return undefined;
    let name: string;
    let stepIndex: number | undefined;
    let inStep = true;
    switch (decision.kind) {
      case 'append':
        name = `append ${decision.event.type}`;
        attributes['chorus.event.type'] = decision.event.type;
        stepIndex = 'stepIndex' in decision.event.data ? decision.event.data.stepIndex : undefined;
        break;
      case 'reconcile':
      case 'observe':
      case 'roll-action':
        name = decision.kind;
        stepIndex = decision.stepIndex;
        break;
      case 'check-precondition':
        // Before the step starts: a child of the process, not of the step.
        name = decision.kind;
        stepIndex = decision.stepIndex;
        inStep = false;
        break;
      case 'idle':
      case 'await-others':
      case 'sleep-until':
        return undefined;
    }
    const definition = stepIndex === undefined ? undefined : process.steps[stepIndex];
    return {
      name,
      parent:
        stepIndex !== undefined && inStep
          ? this.processTrace.stepContext(process, stepIndex)
          : this.processTrace.rootContext(process),
      attributes: {
        ...attributes,
        'chorus.process.id': process.id,
        'chorus.process.kind': process.kind,
        'chorus.process.signer': process.signerId,
        ...(stepIndex === undefined ? {} : { 'chorus.step.index': stepIndex }),
        ...(definition ? { 'chorus.step.name': definition.name } : {}),
      },
    };
  }

  /**
   * Registers this signer (kind, NS names, endpoints) and its keys in the zone's stream. A
   * registration that changes what the group knew says what it replaces (`before`), and the
   * fold lists it in `registrationChanges`.
   */
  private async register(zone: string, model: 1 | 2 = 2): Promise<void> {
    await this.untilTrusted(zone);
    const { id, logger } = this.options;
    const signer = this.signer;
    const rollover = await this.rolloverTiming(zone, model);
    const reference: SignerReference = {
      id,
      kind: signer.kind,
      nameServerNames: [...this.options.nameServerNames],
      endpoints: [...signer.nameServers],
      ...(rollover ? { rollover } : {}),
      keyWatchSeconds: this.keyWatchSeconds,
      ...limitsOf(signer),
    };
    let contentRecorded = false;
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const state = await this.refresh(zone);
      const known = state.signers[id];
      const context = this.context(zone);
      const fields = { zone, occurredAt: context.now, source: context.source };
      const before = known && referenceOf(known);
      if (!before || JSON.stringify(before) !== JSON.stringify(reference)) {
        if (before && state.members.includes(id))
          logger.warn(
            { zone, before, after: reference },
            'this registration changes a current member of the group',
          );
        await this.append(
          zone,
          state,
          zoneEvent('signer-registered', fields, {
            signer: reference,
            ...(before ? { before } : {}),
          }),
        );
        continue;
      }
      // Content before keys: whoever waits for a signer's keys finds its content digest too.
      if (!contentRecorded) {
        contentRecorded = true;
        await this.contentWatch.readNow(zone);
        continue;
      }
      const keys = await this.ownKeys(zone);
      if (JSON.stringify(known.keys) !== JSON.stringify(keys)) {
        await this.append(
          zone,
          state,
          zoneEvent('signer-keys-observed', fields, { signerId: id, keys }),
        );
        continue;
      }
      return;
    }
  }

  /**
   * Waits until the operator trusts this sidecar's event key in the zone (trust file or a
   * `trust-changed` event): until then anything it appended would be refused.
   */
  private async untilTrusted(zone: string): Promise<void> {
    const publicKey = this.options.signingKey?.publicKey;
    for (;;) {
      const state = await this.refresh(zone);
      if (isTrustedSidecar(state, this.options.id, publicKey)) return;
      if (!this.untrustedWarned)
        this.options.logger.warn(
          { zone, publicKey },
          `waiting for an operator to trust this sidecar's event key: chorus trust grant --zone ${zone} --sidecar ${this.options.id}=${String(publicKey)}`,
        );
      this.untrustedWarned = true;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      this.abort.signal.throwIfAborted();
    }
  }

  /**
   * How the server times its rolls. In model 1 only a plugin that holds ZSKs for the owner's
   * set (Knot's offline-KSK) answers; any other is registered without a key roller, so a ZSK
   * roll is refused at pre-flight with the missing capability named.
   */
  private async rolloverTiming(zone: string, model: 1 | 2): Promise<RolloverTiming | undefined> {
    const roller = this.signer.keyRoller;
    const signal = this.abort.signal;
    if (model === 2) return roller?.rolloverTiming(zone, { signal });
    const timing = await roller?.rolloverTiming(zone, { signal }).catch((error: unknown) => {
      this.options.logger.info({ zone, err: error }, 'no key roller for this model-1 zone');
      return undefined;
    });
    return timing?.mode === 'held' ? timing : undefined;
  }

  /**
   * In a defined zone, a server that times its own rolls must pre-publish a new key for longer
   * than the group's DNSKEY wait; otherwise the sidecar refuses to start, naming the setting,
   * before it registers anything.
   */
  private async refuseShortPrePublication(zone: string): Promise<void> {
    const state = await this.refresh(zone);
    if (!state.defined || state.owner) return;
    const signal = this.abort.signal;
    const rollover = await this.signer.keyRoller?.rolloverTiming(zone, { signal });
    if (rollover?.mode !== 'server-timed') return;
    const served = await this.signer.readApex(zone, { signal });
    const dnskeyTtl = Math.max(served.dnskey?.ttl ?? 0, state.recordTtlSeconds);
    const signer = { id: this.options.id, rollover, keyWatchSeconds: this.keyWatchSeconds };
    const shortfall = prePublicationShortfall(signer, state.timing, dnskeyTtl);
    if (!shortfall) return;
    throw new SignerConfigurationError({
      signerId: this.options.id,
      zone,
      setting: rollover.settingToRaise ?? 'pre-publication interval',
      problem: shortfall.message,
      fix: `raise ${rollover.settingToRaise ?? 'the pre-publication interval'} in the server's configuration (or lower keyWatchSeconds${this.keyWatchSeconds > (this.options.keyWatchSeconds ?? DEFAULT_KEY_WATCH_SECONDS) ? `, or follow fewer zones: with ${this.options.zones.length} each is read every ${this.keyWatchSeconds} s` : ''}), then start the sidecar again`,
    });
  }

  /**
   * How often each zone's keys are read, as registered and as the DNSKEY wait counts it:
   * `keyWatchSeconds`, or longer when the sidecar follows so many zones that this would exceed
   * KEY_WATCH_RATE reads a second.
   */
  private get keyWatchSeconds(): number {
    const configured = this.options.keyWatchSeconds ?? DEFAULT_KEY_WATCH_SECONDS;
    const perSecond = this.options.keyWatchPerSecond ?? KEY_WATCH_RATE;
    return Math.max(configured, this.options.zones.length / perSecond);
  }

  private keyWatchPeriodMs(): number {
    return this.keyWatchSeconds * 1000;
  }

  /**
   * The key watch of one zone: reads the server's keys every `everyMs` (from the start of one
   * read to the next) until stopped, and the zone content when its serial moved (see
   * ContentWatch). At most KEY_WATCH_CONCURRENCY zones are read at once.
   */
  private async watchKeys(zone: string, firstAfterMs: number, everyMs: number): Promise<void> {
    let pauseMs = firstAfterMs;
    let readAt: number | undefined;
    while (!this.abort.signal.aborted) {
      await this.pause(pauseMs);
      if (this.abort.signal.aborted) return;
      try {
        await this.keyWatchSlots.run(async () => {
          const now = Date.now();
          if (readAt !== undefined) this.keyWatchLag.observe(zone, now - readAt, everyMs);
          readAt = now;
          // Registration lists the keys and reads the content itself; until then a round would
          // only load the server (10,000 zones: an rndc call and an AXFR each, all at start).
          if (!(await this.registeredHere(zone))) return;
          await this.recordKeyChanges(zone);
          await this.contentWatch.round(zone);
          await this.model1Watch.round(zone);
        });
      } catch (error) {
        if (this.abort.signal.aborted) return;
        this.options.logger.warn(
          { err: error, zone },
          'key watch could not read the keys or content',
        );
      }
      pauseMs = pauseBeforeNextRead(readAt, everyMs, Date.now());
    }
  }

  /**
   * The server's own keys, each KSK/CSK marked with whether the server serves its CDS. The apex
   * is read for the CDS when the keys (or their states) changed since the last read, and at
   * least every CDS_RECHECK_ROUNDS rounds: a server starts serving a CDS when a key's state moves.
   */
  private async ownKeys(zone: string): Promise<SigningKey[]> {
    const options = { signal: this.abort.signal };
    const keys = await this.signer.listOwnKeys(zone, options);
    if (!keys.some((key) => key.role !== 'ZSK')) return keys;
    const listed = JSON.stringify(keys);
    const last = this.cdsChecks.get(zone);
    if (last?.listed === listed && last.rounds < CDS_RECHECK_ROUNDS) {
      last.rounds += 1;
      return last.flagged;
    }
    const flagged = withCdsFlags(keys, await this.signer.readApex(zone, options));
    this.cdsChecks.set(zone, { listed, rounds: 1, flagged });
    return flagged;
  }

  /** The plugin's fingerprint of its own keys; undefined without one, or when it cannot be read. */
  private async ownKeysFingerprint(zone: string): Promise<string | undefined> {
    if (!this.signer.ownKeysFingerprint) return undefined;
    try {
      return await this.signer.ownKeysFingerprint(zone, { signal: this.abort.signal });
    } catch (error) {
      this.options.logger.debug({ err: error, zone }, 'no key fingerprint: listing the keys');
      return undefined;
    }
  }

  /** Whether this sidecar's signer is registered for `zone` (from the folded state, else the log). */
  private async registeredHere(zone: string): Promise<boolean> {
    if (this.states.get(zone)?.signers[this.options.id]) return true;
    return (await this.refresh(zone)).signers[this.options.id] !== undefined;
  }

  /**
   * Lists the server's own keys; when they changed, appends `signer-keys-observed` with the
   * changes, and a roll request for a successor the server introduced on its own.
   */
  private async recordKeyChanges(zone: string): Promise<void> {
    const { id, logger } = this.options;
    const fingerprint = await this.ownKeysFingerprint(zone);
    if (fingerprint !== undefined) {
      const logged = (await this.refresh(zone)).signers[id]?.keys;
      if (logged && this.keyListings.mayReuse(zone, fingerprint, logged)) return;
    }
    const keys = await this.ownKeys(zone);
    if (fingerprint !== undefined) this.keyListings.listed(zone, fingerprint, keys);
    for (let race = 0; race < 10; race += 1) {
      const state = await this.refresh(zone);
      const known = state.signers[id];
      if (!known) return;
      const changes = keyChanges(known.keys, keys);
      if (changes.length === 0) return;
      const context = this.context(zone);
      const fields = { zone, occurredAt: context.now, source: context.source };
      if (
        !(await this.append(
          zone,
          state,
          zoneEvent('signer-keys-observed', fields, { signerId: id, keys, changes }),
        ))
      )
        continue;
      logger.info({ zone, changes }, 'own keys changed');
      const observed = await this.refresh(zone);
      for (const roll of rollsToFollow(observed, id, changes)) await this.requestRoll(zone, roll);
      return;
    }
  }

  /** Appends a roll request for a roll the server began (queued behind a process in flight). */
  private async requestRoll(
    zone: string,
    roll: ReturnType<typeof rollsToFollow>[number],
  ): Promise<void> {
    const { id, logger } = this.options;
    for (let race = 0; race < 10; race += 1) {
      const state = await this.refresh(zone);
      if (
        rollsToFollow(state, id, [
          { keyTag: roll.successorTag, role: roll.role, change: 'appeared' },
        ]).length === 0
      )
        return;
      const context = this.context(zone);
      const fields = { zone, occurredAt: context.now, source: context.source };
      const request = zoneEvent('process-requested', fields, {
        processId: `${roll.kind}-${id}-${roll.successorTag}-${randomUUID().slice(0, 8)}`,
        kind: roll.kind,
        signerId: id,
        requestedBy: keyWatchRequester(id),
        role: roll.role,
        successorTag: roll.successorTag,
      });
      if (await this.append(zone, state, request)) {
        logger.info({ zone, roll }, 'the server began a roll: requested the group process');
        return;
      }
    }
  }

  /** Runs a roll step's action at this signer, records its keys, then `signer-reconciled`. */
  private async rollAction(
    zone: string,
    state: ZoneState,
    decision: Extract<Decision, { kind: 'roll-action' }>,
  ): Promise<number> {
    if (this.applyFailures.gaveUp(decision.processId, decision.stepIndex)) return 60_000;
    const signal = this.abort.signal;
    const applied = await this.changeSlots
      .run(() => performRollAction(this.signer, zone, decision, { signal }))
      .catch((error: unknown) => this.applyFailed(zone, state, decision, error));
    if (applied === undefined) return 60_000;
    this.applyFailures.succeeded(decision.processId, decision.stepIndex);
    this.options.logger.info(
      { zone, step: decision.stepIndex, action: decision.action, applied },
      'roll action done',
    );
    await this.recordKeyChanges(zone);
    const fresh = await this.refresh(zone);
    const process = inFlight(fresh, decision.processId);
    if (process?.currentStep !== decision.stepIndex) return 0;
    await this.append(
      zone,
      fresh,
      signerReconciled(
        fresh,
        this.context(zone, decision.processId),
        decision.processId,
        decision.stepIndex,
        decision.signerId,
        applied,
      ),
    );
    return 0;
  }

  /**
   * The pause before observing a post-condition again: the observe interval, growing by half
   * at each miss of the same step up to 8 times it. Events of the zone still wake the loop at
   * once, so a signer's reconciliation is seen without polling; only propagation is polled.
   */
  private nextObservationIn(zone: string, step: string): number {
    const base = this.options.observeIntervalMs ?? 500;
    const last = this.unmetObservations.get(zone);
    const misses = last?.step === step ? last.misses + 1 : 0;
    this.unmetObservations.set(zone, { step, misses });
    return Math.min(base * 1.5 ** misses, base * OBSERVE_BACKOFF_LIMIT);
  }

  /** Sleeps `ms`, or less when stopping. */
  private pause(ms: number): Promise<void> {
    return this.sleeper(ms).slept;
  }

  /** Resolves on the next event of the zone, or after `ms`, or when stopping. */
  private sleep(zone: string, ms: number): Promise<void> {
    // Events wake the loop; the cap is a safety net for a subscription that went quiet
    // (a distributed log that lost and regained its quorum), never the way news arrives.
    const cap = sleepCapMs(this.options.zones.length);
    const { slept, wake } = this.sleeper(Math.max(0, Math.min(ms, cap)));
    this.wakers.set(zoneStream(zone), wake);
    return slept;
  }

  /**
   * A sleep of `ms` and the function that ends it early. Sleepers are kept in a set that
   * `release` wakes, not as listeners of the abort signal: with 10,000 zones, 20,000 sleeping
   * loops made every addEventListener walk 20,000 listeners (87 % of a sidecar's CPU).
   */
  private sleeper(ms: number): { slept: Promise<void>; wake: () => void } {
    const sleepers = this.sleepers;
    let wake: () => void = () => undefined;
    const slept = new Promise<void>((resolve) => {
      // An abort that came while deciding would never wake this sleeper: do not sleep then.
      if (this.abort.signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        sleepers.delete(done);
        resolve();
      }
      sleepers.add(done);
      wake = done;
    });
    return { slept, wake };
  }

  /**
   * Acts on the decision for each process in flight and for a request to start, in turn; stops at
   * the first that appended (the state is then stale). Returns the shortest pause asked for.
   */
  private async actOnEach(zone: string, state: ZoneState): Promise<number> {
    let pause = Number.POSITIVE_INFINITY;
    for (const decision of decideEach(state, this.context(zone))) {
      const span = this.actionSpan(zone, state, decision);
      const wait = span
        ? await withSpan(span.name, span.attributes, span.parent, () =>
            this.act(zone, state, decision),
          )
        : await this.act(zone, state, decision);
      if (wait <= 0) return 0;
      pause = Math.min(pause, wait);
    }
    return pause;
  }

  private async run(zone: string): Promise<void> {
    const { logger } = this.options;
    let failures = 0;
    while (!this.abort.signal.aborted) {
      try {
        const state = await this.refresh(zone);
        const pause = await this.actOnEach(zone, state);
        failures = 0;
        if (pause > 0) await this.sleep(zone, pause);
      } catch (error) {
        if (this.abort.signal.aborted) return;
        failures += 1;
        if (isLogUnavailable(error)) {
          // Nothing is decided without a fresh fold: wait for the log, acting on nothing.
          logger.warn(
            { zone, failures },
            `${errorMessage(error)}; acting on nothing until it answers`,
          );
          await this.sleep(zone, LOG_UNAVAILABLE_RETRY_MS);
          continue;
        }
        const retryable = ChorusError.isInstance(error) ? error.isRetryable : false;
        logger.warn(
          { err: error, zone, retryable, failures },
          'step action failed; will try again',
        );
        const serverAsked = retryAfterMs(error);
        // A rate limit or quota: the next attempt at the server's time, whatever events come.
        if (serverAsked !== undefined) await this.pause(serverAsked + RETRY_AFTER_MARGIN_MS);
        else await this.sleep(zone, Math.min(30_000, 500 * 2 ** Math.min(failures, 6)));
      }
    }
  }

  /**
   * Records a failed reconcile in the log (throttled, see ApplyFailures). Rethrows a retryable
   * error, so the run loop backs off and tries again; returns undefined after a non-retryable
   * one: the process then needs the operator, and this sidecar stops trying until restarted.
   */
  private async applyFailed(
    zone: string,
    state: ZoneState,
    decision: Extract<Decision, { kind: 'reconcile' | 'roll-action' }>,
    error: unknown,
  ): Promise<undefined> {
    const { processId, stepIndex, signerId } = decision;
    const logged = inFlight(state, processId)?.signerFailures?.[signerId];
    const verdict = this.applyFailures.failed(
      processId,
      stepIndex,
      error,
      logged?.stepIndex === stepIndex ? logged.attempts : 0,
    );
    if (!verdict) throw error;
    if (verdict.record && (await this.recordApplyFailure(zone, state, decision, verdict)))
      this.applyFailures.recorded(processId, stepIndex, verdict);
    if (!verdict.giveUp) throw error;
    this.options.logger.error(
      { err: error, zone, step: stepIndex, attempt: verdict.attempt },
      'the signer cannot apply the step and retrying will not help: the process needs the operator (fix the cause, then restart this sidecar)',
    );
    return undefined;
  }

  /**
   * Appends `signer-apply-failed`; when another sidecar appended first (they keep working while
   * this one fails), re-reads and tries again while the step is still current.
   */
  private async recordApplyFailure(
    zone: string,
    decided: ZoneState,
    decision: Extract<Decision, { kind: 'reconcile' | 'roll-action' }>,
    verdict: ApplyFailureVerdict,
  ): Promise<boolean> {
    const { processId, stepIndex, signerId } = decision;
    let state = decided;
    for (let race = 0; race < 10; race += 1) {
      const process = inFlight(state, processId);
      if (process?.currentStep !== stepIndex) return false;
      const event = signerApplyFailed(state, this.context(zone, processId), {
        processId,
        stepIndex,
        signerId,
        attempt: verdict.attempt,
        error: verdict.error,
      });
      if (await this.append(zone, state, event)) return true;
      state = await this.refresh(zone);
    }
    return false;
  }

  /**
   * NOTIFY(CDS) or NOTIFY(CSYNC) for a step that waits for the parent, to the parent's DSYNC
   * targets (or the configured ones). The group's CDS or CSYNC is served everywhere by then: the
   * step before made sure of it. `parent-notified` claims the step first, so one NOTIFY goes per
   * step whichever sidecar observes it. True when this sidecar claimed it (the state moved on).
   */
  private async notifyParent(
    zone: string,
    state: ZoneState,
    decision: Extract<Decision, { kind: 'observe' }>,
    rrtype: ParentNotifyType,
  ): Promise<boolean> {
    const { processId, stepIndex } = decision;
    const step = `${processId}/${stepIndex}`;
    const notifier = this.parentNotifier;
    if (!notifier.enabled || notifier.hasNotified(zone, step)) return false;
    const process = state.processes.find((candidate) => candidate.id === processId);
    if (process?.stepStates[stepIndex]?.parentNotified) return false;
    const targets = await notifier.targetsFor(zone, rrtype);
    if (targets.length === 0) return false;
    const claim = parentNotified(state, this.context(zone, processId), {
      processId,
      stepIndex,
      rrtype,
      targets: targets.map((target) => target.name),
    });
    if (!(await this.append(zone, state, claim))) return false;
    notifier.notify(zone, step, rrtype, targets);
    return true;
  }

  /**
   * A parent step through a channel that takes changes (a registrar's API): sends the step's DS
   * or NS set once and records the outcome. A retryable failure is tried again at the next
   * observation; a refusal is recorded, and the person at the parent is told what to change.
   * Sending the same set twice is harmless (the channel's requests are idempotent). True when
   * the state moved on.
   */
  private async submitToParent(
    zone: string,
    state: ZoneState,
    decision: Extract<Decision, { kind: 'observe' }>,
  ): Promise<boolean> {
    const { processId, stepIndex } = decision;
    const step = `${processId}/${stepIndex}`;
    const submission = parentSubmissionFor(this.parent, zone, decision.check);
    if (!submission || this.parentSubmissions.get(zone) === step) return false;
    const process = state.processes.find((candidate) => candidate.id === processId);
    if (process?.stepStates[stepIndex]?.parentSubmitted) return false;
    this.parentSubmissions.set(zone, step);
    const { logger } = this.options;
    const outcome = await submission.send({ signal: this.abort.signal }).then(
      (request) => ({ outcome: 'accepted' as const, requestId: request.requestId }),
      (error: unknown) => ({ outcome: 'refused' as const, error }),
    );
    if (outcome.outcome === 'refused') {
      if (this.abort.signal.aborted) return false;
      const retryable = ChorusError.isInstance(outcome.error) && outcome.error.isRetryable;
      const reason = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
      logger.warn(
        { zone, step: stepIndex, channel: this.parent.id, reason },
        'the parent channel did not take the change',
      );
      if (retryable) {
        this.parentSubmissions.delete(zone);
        return false;
      }
      return this.recordSubmission(zone, state, decision, submission, {
        outcome: 'refused',
        error: reason,
      });
    }
    logger.info(
      { zone, step: stepIndex, channel: this.parent.id, kind: submission.kind },
      'change sent to the parent',
    );
    return this.recordSubmission(zone, state, decision, submission, outcome);
  }

  private async recordSubmission(
    zone: string,
    state: ZoneState,
    decision: Extract<Decision, { kind: 'observe' }>,
    submission: ParentSubmission,
    outcome: { outcome: 'accepted' | 'refused'; requestId?: string; error?: string },
  ): Promise<boolean> {
    const { processId, stepIndex } = decision;
    const event = parentChangeSubmitted(state, this.context(zone, processId), {
      processId,
      stepIndex,
      kind: submission.kind,
      channel: this.parent.id,
      records: submission.records,
      ...outcome,
    });
    return this.append(zone, state, event);
  }

  /**
   * Whether to record what a person must change at the parent: when it differs from what the
   * step recorded, and the parent has had PARENT_CHANGE_GRACE_MS to act on its own (a scanner
   * told by NOTIFY acts within a second; thousands of zones need no event for that).
   */
  private parentChangeDue(state: ZoneState, change: ParentChange): boolean {
    if (!isNewParentChange(state, change)) return false;
    const process = state.processes.find((candidate) => candidate.id === change.processId);
    const step = process?.stepStates[change.stepIndex];
    // The parent channel took the change: the parent makes it, no person needs to.
    if (step?.parentSubmitted?.outcome === 'accepted') return false;
    const startedAt = step?.startedAt;
    return (
      startedAt === undefined ||
      this.now().getTime() - Date.parse(startedAt) >= PARENT_CHANGE_GRACE_MS
    );
  }

  /** Carries out one decision. Returns how long to pause before deciding again (0 = at once). */
  /** The apex, then the RFC 9615 signalling records when the step asks for them. */
  private async reconcileDesired(
    zone: string,
    desired: DesiredSignerState,
  ): Promise<{ changes: number }> {
    const signal = this.abort.signal;
    let before: ApexSnapshot | undefined;
    const apex = await reconcileSigner(this.signer, zone, desired, {
      signal,
      applyGate: (apply, served) => {
        before = served;
        return this.changeSlots.run(apply);
      },
    });
    if (before) this.contentWatch.ownChangeApplied(zone, before, apex.served);
    if (!desired.bootstrapSignals) return { changes: apex.plan.changes.length };
    const signals = desired.bootstrapSignals;
    const written = await this.changeSlots.run(() =>
      reconcileBootstrapSignals(this.signer, zone, signals, desired.ttl, { signal }),
    );
    return { changes: apex.plan.changes.length + written };
  }

  private async act(zone: string, state: ZoneState, decision: Decision): Promise<number> {
    const { logger } = this.options;
    const { parent } = this;
    const signal = this.abort.signal;
    const context = this.context(zone, processIdOf(decision));
    switch (decision.kind) {
      case 'idle':
      case 'await-others':
        return 60_000;
      case 'sleep-until':
        return Date.parse(decision.until) - this.now().getTime();
      case 'append':
        await this.append(zone, state, decision.event);
        return 0;
      case 'reconcile': {
        if (this.applyFailures.gaveUp(decision.processId, decision.stepIndex)) return 60_000;
        const result = await this.reconcileSlots
          .run(() => this.reconcileDesired(zone, decision.desired))
          .catch((error: unknown) => this.applyFailed(zone, state, decision, error));
        if (!result) return 60_000;
        this.applyFailures.succeeded(decision.processId, decision.stepIndex);
        const applied = this.appliedInStep.add(
          zone,
          `${decision.processId}/${decision.stepIndex}`,
          result.changes,
        );
        logger.info(
          { zone, step: decision.stepIndex, changes: result.changes },
          'signer reconciled',
        );
        await this.appendAfterWork(zone, state, decision, (fresh) =>
          signerReconciled(
            fresh,
            this.context(zone, decision.processId),
            decision.processId,
            decision.stepIndex,
            decision.signerId,
            applied,
            decision.desiredDigest,
          ),
        );
        return 0;
      }
      case 'roll-action':
        return this.rollAction(zone, state, decision);
      case 'check-precondition': {
        const result = await observePostcondition(state, decision.check, { parent, signal });
        if (!result.met) {
          logger.info(
            { zone, step: decision.stepIndex, pending: result.pending },
            'pre-condition does not hold yet',
          );
          return this.options.observeIntervalMs ?? 500;
        }
        await this.appendAfterWork(zone, state, decision, (_fresh, again) => again.event);
        return 0;
      }
      case 'observe': {
        const step = `${decision.processId}/${decision.stepIndex}`;
        if (await this.submitToParent(zone, state, decision)) return 0;
        const notifyType = PARENT_NOTIFY_TYPES[decision.check.kind];
        if (notifyType && (await this.notifyParent(zone, state, decision, notifyType))) return 0;
        const { processId, stepIndex } = decision;
        const result = await observePostcondition(state, decision.check, {
          parent,
          signal,
          step: { processId, stepIndex },
        });
        if (!result.met) {
          logger.debug(
            { zone, step: decision.stepIndex, pending: result.pending },
            'post-condition not met yet',
          );
          if (notifyType) this.parentNotifier.notifyAgainIfDue(zone, step);
          if (result.parentChange && this.parentChangeDue(state, result.parentChange)) {
            const context = this.context(zone, processId);
            if (
              await this.append(
                zone,
                state,
                parentChangeNeeded(state, context, result.parentChange),
              )
            )
              logger.info(
                { zone, step: stepIndex, pending: result.pending },
                'change needed at the parent',
              );
          }
          return this.nextObservationIn(zone, step);
        }
        this.unmetObservations.delete(zone);
        await this.appendAfterWork(zone, state, decision, (fresh) =>
          postconditionMet(
            fresh,
            this.context(zone, decision.processId),
            decision.processId,
            decision.stepIndex,
            result.ttls,
          ),
        );
        return 0;
      }
      case 'preflight': {
        const request = {
          kind: decision.processKind,
          signerId: decision.signerId,
          ...(decision.undoOf ? { undoOf: decision.undoOf } : {}),
        };
        const observed = await observeForPreflight(state, request, { parent, signal });
        const reasons = preflightChecks({
          state,
          ...request,
          ...observed,
          now: this.now().getTime() / 1000,
          parentTakesDs: typeof parent.requestDsUpdate === 'function',
          ...(decision.successorTag !== undefined ? { successorTag: decision.successorTag } : {}),
          ...(decision.role ? { role: decision.role } : {}),
        });
        logger.info(
          { zone, process: decision.processId, reasons },
          reasons.length === 0 ? 'pre-flight passed' : 'pre-flight refused',
        );
        await this.append(
          zone,
          state,
          requestProcess(state, context, {
            processId: decision.processId,
            ...request,
            preflight: reasons,
          }),
        );
        return 0;
      }
    }
  }
}

function referenceOf(signer: SignerReference): SignerReference {
  const { id, kind, nameServerNames, endpoints, rollover, keyWatchSeconds, limits } = signer;
  return {
    id,
    kind,
    nameServerNames,
    endpoints,
    ...(rollover ? { rollover } : {}),
    ...(keyWatchSeconds !== undefined ? { keyWatchSeconds } : {}),
    ...(limits ? { limits } : {}),
  };
}

/** What the plugin declares it cannot do that changes the plan, for the registration. */
export function limitsOf(signer: Pick<Signer, 'capabilities'>): { limits?: SignerLimit[] } {
  const limits = LIMITING_CAPABILITIES.flatMap((capability): SignerLimit[] => {
    const note = signer.capabilities[capability];
    return note && note.status !== 'can' ? [{ capability, reason: note.reason }] : [];
  });
  return limits.length > 0 ? { limits } : {};
}

/** Capabilities whose absence changes what a process can do, registered with their reasons. */
const LIMITING_CAPABILITIES: readonly SignerLimit['capability'][] = [
  'cds-import-foreign',
  'bootstrap-signal',
  'presigned-dnskey',
];

/** How each end event ends a process, for metrics and the process span. */
const PROCESS_END = {
  'process-completed': 'completed',
  'process-stopped': 'stopped',
  'process-failed': 'failed',
} as const;

/** A process in flight, by id. */
function inFlight(state: ZoneState, processId: string): ProcessState | undefined {
  return state.activeProcesses.find((process) => process.id === processId);
}

/** The process a decision is about (an append's from its event). */
function processIdOf(decision: Decision): string | undefined {
  if ('processId' in decision) return decision.processId;
  if (decision.kind === 'append' && 'processId' in decision.event.data)
    return decision.event.data.processId;
  return undefined;
}
