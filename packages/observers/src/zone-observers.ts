/**
 * The observers of one zone, assembled once for every host (the sidecar, the demo): the
 * consistency observer, the validation observer and the recorder of the observation stream.
 * The group (signers, their servers and NS names, the cache margins) comes from the engine's fold
 * of the zone's stream, read from the log itself, so that no round ever runs with half a group.
 */
import {
  isZoneEvent,
  zoneStream,
  type ChorusEvent,
  type DsData,
  type EventLog,
  type EventSource,
  type NameServer,
  type Observer,
  type ObserverTotals,
  type ZoneEvent,
} from '@chorus/core';
import { canonicalName, normalizeName } from '@chorus/dns';
import {
  applyZoneEvent,
  foldZone,
  ownerForVerification,
  type FoldPolicy,
  type ZoneState,
} from '@chorus/engine';
import {
  createConsistencyObserver,
  type ConsistencyObserver,
  type ConsistencyStats,
  type ZoneGroup,
} from './consistency-observer.js';
import type { InvariantViolation } from './invariants.js';
import { createObservationRecorder, type ObservationRecorder } from './observation-recorder.js';
import {
  createValidationObserver,
  type ValidationFinding,
  type ValidationObserver,
  type ValidationObserverStats,
} from './validation-observer.js';
import { WireHistory, reachableProviders, type CacheMargins } from './wire-history.js';

/** What the assembly needs of the log: it reads the zone's stream and appends observations. */
export type ZoneObserversLog = Pick<
  EventLog<ChorusEvent>,
  'readStream' | 'append' | 'streamVersion'
>;

export interface ZoneObserversOptions {
  zone: string;
  /** The log holding the zone's stream; what the observers find goes to its observation stream. */
  log: ZoneObserversLog;
  /** Who records the observations (and names the `observer-summary`). */
  source: EventSource;
  parentZone: string;
  parentServers: readonly NameServer[];
  /**
   * The invariants I1–I9, sampled every `intervalMs` (default 1000). Mode default `during-process`.
   * `prePublishGraceSeconds`: how long a signer may lack another's pre-published ZSK before I9
   * reports it; default the group's largest key watch + DprpC + 20 s.
   */
  consistency?: {
    intervalMs?: number;
    mode?: 'always' | 'during-process';
    prePublishGraceSeconds?: number;
  };
  /**
   * Our validator at every provider, cross-checked against validating resolvers (`pinnedTo` names
   * the provider a resolver is pinned to). With consistency too, it reads the shared wire history.
   */
  validation?: {
    trustAnchorDs: readonly DsData[];
    resolvers: readonly { id: string; server: NameServer; pinnedTo?: string }[];
    intervalMs?: number;
  };
  /** The margins until the zone is defined. Default 2 s and 2 s (the engine's default timing). */
  margins?: CacheMargins;
  /**
   * The trust anchor the observers fold the zone's stream with, as the sidecars do: forged
   * events then never shape what they expect of the group. Without it nothing is verified.
   */
  foldPolicy?: FoldPolicy;
  /** The log gets one event per distinct finding per this many ms; the totals count every one. Default 10 000. */
  findingsIntervalMs?: number;
  onViolation?: (violation: InvariantViolation & { processId?: string }, at: number) => void;
  onFinding?: (finding: ValidationFinding) => void;
  /**
   * Reading the zone's stream failed (the observers keep the group they had), or an observation
   * could not be recorded; `what` says which.
   */
  onError?: (error: unknown, what: string) => void;
}

export interface ZoneObserverStats {
  consistency?: ConsistencyStats;
  validation?: ValidationObserverStats;
  /** Findings kept out of the log by the throttle (still counted in the totals). */
  throttledFindings: number;
  /** Observation events that could not be appended. */
  recorderErrors: number;
}

/**
 * One observer for the pipeline. Every event of the zone first brings the fold up to date from
 * the log, then reaches the consistency and validation observers.
 */
export interface ZoneObservers extends Observer<ZoneEvent> {
  readonly history: WireHistory;
  readonly consistency: ConsistencyObserver | undefined;
  readonly validation: ValidationObserver | undefined;
  /** The zone as the fold of its stream stood at the last event. */
  state(): ZoneState;
  /** Reads the zone's stream now and, with consistency, samples one full round. */
  start(): Promise<void>;
  /** Providers a resolver could reach now (standards §8.1). */
  reachable(): Set<string>;
  stats(): ZoneObserverStats;
  totals(): ObserverTotals;
  /** Waits until everything recorded so far is in the log. */
  forceFlush(): Promise<void>;
  /** Stops the observers, appends an `observer-summary` with the totals and flushes. */
  shutdown(): Promise<void>;
}

const DEFAULT_MARGINS: CacheMargins = { childSeconds: 2, parentSeconds: 2 };

/** The sidecar's default key watch, for signers registered without one. */
const DEFAULT_KEY_WATCH_SECONDS = 30;

/**
 * The group as the fold knows it: every signer ever registered, the zone's margins, the slowest
 * key watch, and the model: 1 (with the owner's KSKs and refresh lead) when the zone has an owner.
 */
export function zoneGroup(state: ZoneState): ZoneGroup {
  const signers = Object.values(state.signers);
  const keyWatches = signers.map((signer) => signer.keyWatchSeconds ?? DEFAULT_KEY_WATCH_SECONDS);
  // During the owner's KSK roll its successor's signatures are the owner's too.
  const owner = ownerForVerification(state);
  return {
    providers: signers.map((signer) => ({
      id: signer.id,
      nameServerNames: signer.nameServerNames,
      servers: signer.endpoints,
    })),
    margins: {
      childSeconds: state.timing.childPropagationSeconds,
      parentSeconds: state.timing.parentPropagationSeconds,
    },
    ...(keyWatches.length === 0 ? {} : { keyWatchSeconds: Math.max(...keyWatches) }),
    ...(owner
      ? {
          model: 1 as const,
          owner: { dnskeys: owner.dnskeys, refreshLeadSeconds: owner.refreshLeadSeconds },
        }
      : { model: 2 as const }),
  };
}

/** The key a finding is throttled under: a fresh nonexistent probe name is the same finding. */
const findingKey = (finding: ValidationFinding) =>
  [finding.kind, finding.provider, finding.resolver, finding.invariant, finding.detail]
    .join('|')
    .replace(/(chorus-)?nx-[0-9a-f]+/g, 'nx');

export function createZoneObservers(options: ZoneObserversOptions): ZoneObservers {
  const zone = normalizeName(options.zone);
  const stream = zoneStream(zone);
  const history = new WireHistory();
  const since = new Date().toISOString();
  let state = foldZone(zone, [], options.foldPolicy);
  let group: ZoneGroup = { providers: [], margins: options.margins ?? DEFAULT_MARGINS };
  const keyOwner = (tag: number) =>
    Object.values(state.signers).find((signer) => signer.keys.some((key) => key.keyTag === tag))
      ?.id;
  const recorder: ObservationRecorder = createObservationRecorder(
    options.log,
    zone,
    options.source,
    {
      keyOwner,
      onError: (error, type) => options.onError?.(error, `could not record ${type}`),
    },
  );
  const throttleMs = options.findingsIntervalMs ?? 10_000;
  const lastRecorded = new Map<string, number>();
  let throttledFindings = 0;

  const consistency = options.consistency
    ? createConsistencyObserver({
        zone,
        parentZone: options.parentZone,
        parentServers: options.parentServers,
        providers: [],
        margins: group.margins,
        history,
        intervalMs: options.consistency.intervalMs ?? 1000,
        mode: options.consistency.mode ?? 'during-process',
        ...(options.consistency.prePublishGraceSeconds === undefined
          ? {}
          : { prePublishGraceSeconds: options.consistency.prePublishGraceSeconds }),
        onVersion: (version) => recorder.version(version),
        onViolation: (violation, at) => {
          recorder.violated(violation, at);
          options.onViolation?.(violation, at);
        },
        onRestored: (violation, violatedAt, at) => recorder.restored(violation, violatedAt, at),
      })
    : undefined;
  const validation = options.validation
    ? createValidationObserver({
        zone,
        parentZone: options.parentZone,
        trustAnchorDs: options.validation.trustAnchorDs,
        parentServers: options.parentServers,
        providers: [],
        resolvers: options.validation.resolvers,
        // Reachability and cached versions come from the consistency observer's samples.
        ...(consistency ? { wire: { history, providers: [], margins: group.margins } } : {}),
        ...(options.validation.intervalMs === undefined
          ? {}
          : { intervalMs: options.validation.intervalMs }),
        onFinding: (finding) => {
          const key = findingKey(finding);
          const now = Date.now();
          if (now - (lastRecorded.get(key) ?? -Infinity) >= throttleMs) {
            lastRecorded.set(key, now);
            recorder.finding(finding);
          } else throttledFindings += 1;
          options.onFinding?.(finding);
        },
      })
    : undefined;
  const inner: Observer[] = [consistency, validation].filter((entry) => entry !== undefined);

  /** Folds what the log holds beyond the last fold; once the zone is defined, the observers learn the group. */
  let syncing = Promise.resolve();
  const sync = () => {
    syncing = syncing.then(async () => {
      try {
        const fresh = await options.log.readStream(stream, { fromVersion: state.version + 1 });
        for (const recorded of fresh)
          if (isZoneEvent(recorded.event)) state = applyZoneEvent(state, recorded.event);
      } catch (error) {
        options.onError?.(error, 'could not read the zone');
      }
      // Before the zone is defined it is no group's yet: every NS name would be a stranger.
      if (!state.defined) return;
      group = zoneGroup(state);
      consistency?.learn(group);
      validation?.learn(group);
    });
    return syncing;
  };

  const stats = (): ZoneObserverStats => ({
    ...(consistency ? { consistency: consistency.stats() } : {}),
    ...(validation ? { validation: validation.stats() } : {}),
    throttledFindings,
    recorderErrors: recorder.errors.length,
  });
  const totals = (): ObserverTotals => {
    const checked = consistency?.stats();
    const validated = validation?.stats();
    return {
      probes: validated?.probes ?? 0,
      resolverAnswers: validated?.resolverAnswers ?? 0,
      disagreements: validated?.disagreements ?? 0,
      validationFailures: validated?.validationFailures ?? 0,
      invariantChecks: checked?.checks ?? 0,
      violations: checked?.violations ?? 0,
    };
  };
  let stopped: Promise<void> | undefined;

  return {
    name: `zone-observers:${zone}`,
    history,
    consistency,
    validation,
    state: () => state,
    async start() {
      await sync();
      await consistency?.checkOnce();
    },
    reachable: () =>
      reachableProviders(history, zone, group.providers, Date.now() / 1000, group.margins),
    stats,
    totals,
    async onEvent(event) {
      if (canonicalName(event.zone) !== canonicalName(zone)) return;
      await sync();
      // Each observer gets the event even when another throws; the pipeline counts the first failure.
      let failure: Error | undefined;
      for (const observer of inner)
        try {
          await observer.onEvent?.(event);
        } catch (error) {
          failure ??= error instanceof Error ? error : new Error(String(error));
        }
      if (failure !== undefined) throw failure;
    },
    forceFlush: () => recorder.flush(),
    shutdown() {
      stopped ??= (async () => {
        await syncing;
        await Promise.allSettled(inner.map(async (observer) => observer.shutdown?.()));
        recorder.summary({ observer: options.source.id, since, ...totals() });
        await recorder.flush();
      })();
      return stopped;
    },
  };
}
