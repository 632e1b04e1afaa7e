/**
 * The consistency observer: samples the wire every Δ and evaluates the invariants I1–I9 of
 * standards §8.2 over the possibly-cached and fetchable versions. A violation is reported once
 * when it appears (keyed, so a lasting fault is one report) and once when it clears.
 */
import { canonicalName, normalizeName } from '@chorus/dns';
import type { ChorusEventEnvelope, NameServer, Observer, ZoneEvent } from '@chorus/core';
import {
  evaluateInvariants,
  prePublishGraceSeconds,
  type InvariantViolation,
} from './invariants.js';
import type { OwnerFacts } from './model1-checks.js';
import { sampleWire } from './sampler.js';
import { WireHistory, type CacheMargins, type ObservedVersion } from './wire-history.js';

export interface ConsistencyProvider {
  id: string;
  nameServerNames: readonly string[];
  servers: readonly NameServer[];
}

export interface ConsistencyObserverOptions {
  zone: string;
  parentZone: string;
  parentServers: readonly NameServer[];
  /** Every provider that is, was or may become a signer; {@link ConsistencyObserver.learn} adds more. */
  providers: readonly ConsistencyProvider[];
  /** DprpC and DprpP: the propagation slack added to TTLs for what may be cached. */
  margins: CacheMargins;
  /** Shared with the validation observer; a new one by default. */
  history?: WireHistory;
  /** Δ, the sampling interval. Default 1000 ms. */
  intervalMs?: number;
  /**
   * `always`: sample from creation (or, when no provider is given, from the first
   * {@link ConsistencyObserver.learn} that names one) until shutdown. `during-process` (default): from each
   * `process-started` until `tailSeconds` after the process ends, when caches have caught up.
   */
  mode?: 'always' | 'during-process';
  /** Default 60 s. */
  tailSeconds?: number;
  skewSeconds?: number;
  /**
   * Parent-input (I6) and content (I7) differences that last less than this are the in-between
   * state of one step, whose participants update one after another; the parent ignores
   * inconsistent input (cds-consistency §3). Reported only when they outlast it. Default 10 s.
   */
  graceSeconds?: number;
  /**
   * I9 for pre-published ZSKs: how long a reachable signer may lack a ZSK another one pre-publishes
   * before it is reported (see `prePublishGraceSeconds` of the invariant input). Default: the
   * group's largest key watch (`ZoneGroup.keyWatchSeconds`, else 30 s) + DprpC + 20 s.
   */
  prePublishGraceSeconds?: number;
  /**
   * The RFC 8901 model, for embedders without a fold (a learned group replaces it): 1 when the
   * zone owner signs the one DNSKEY RRset (I8), else 2 (I9). Default: 1 with `owner`, else 2.
   */
  model?: 1 | 2;
  /** Model 1: the owner's KSKs and refresh lead (I8's owner-key and refresh checks). */
  owner?: OwnerFacts;
  onVersion?: (version: ObservedVersion) => void;
  onViolation?: (violation: InvariantViolation & { processId?: string }, at: number) => void;
  onRestored?: (
    violation: InvariantViolation & { processId?: string },
    violatedAt: number,
    at: number,
  ) => void;
  now?: () => number;
  /** The invariant evaluator; tests inject a scripted one. Default `evaluateInvariants`. */
  evaluate?: typeof evaluateInvariants;
}

/**
 * What the observers know of a zone's group: every provider it ever had, the cache margins and,
 * in model 1, the zone owner.
 */
export interface ZoneGroup {
  providers: readonly ConsistencyProvider[];
  margins: CacheMargins;
  /** The largest key watch interval of the signers (seconds): how late a new key may be noticed. */
  keyWatchSeconds?: number;
  /** The RFC 8901 model: 1 when the zone owner signs the DNSKEY RRset, else 2. */
  model?: 1 | 2;
  /** Model 1: the owner's KSKs and refresh lead. */
  owner?: OwnerFacts;
}

export interface ConsistencyRound {
  at: number;
  changes: ObservedVersion[];
  violations: InvariantViolation[];
}

export interface ConsistencyStats {
  rounds: number;
  /** Invariant evaluations (one per round). */
  checks: number;
  /** Distinct violations reported. */
  violations: number;
  /** Violations that still hold. */
  open: number;
  /** I6/I7 differences that cleared within the grace period (not reported). */
  transients: number;
}

export interface ConsistencyObserver extends Observer {
  readonly history: WireHistory;
  /** One round: sample, evaluate, report what appeared and what cleared. */
  checkOnce(): Promise<ConsistencyRound>;
  /** Starts sampling every Δ (what `always` mode does at creation, and a process start does otherwise). */
  start(): void;
  /**
   * Takes the zone's group (from the fold of its stream): providers join, none leaves (a former
   * signer's NS may still be cached), and the margins replace the old ones.
   */
  learn(group: ZoneGroup): void;
  stats(): ConsistencyStats;
}

/** Liveness invariants, reported only when a difference outlasts the grace period. */
const GRACED = new Set(['I6', 'I7']);

export function createConsistencyObserver(
  options: ConsistencyObserverOptions,
): ConsistencyObserver {
  const zone = normalizeName(options.zone);
  const history = options.history ?? new WireHistory();
  const now = options.now ?? (() => Date.now() / 1000);
  const providers = new Map(options.providers.map((provider) => [provider.id, provider]));
  let margins = options.margins;
  let keyWatchSeconds: number | undefined;
  let model = options.model;
  let owner = options.owner;
  const open = new Map<
    string,
    { violation: InvariantViolation & { processId?: string }; at: number }
  >();
  const stats: ConsistencyStats = { rounds: 0, checks: 0, violations: 0, open: 0, transients: 0 };
  const graceSeconds = options.graceSeconds ?? 10;
  /** Liveness differences seen but not yet reported, by key: when first seen. */
  const pending = new Map<string, number>();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let stopAt: number | undefined;
  let running: Promise<ConsistencyRound> | undefined;
  let processId: string | undefined;
  let stopped = false;

  const round = async (): Promise<ConsistencyRound> => {
    const list = [...providers.values()];
    const changes = await sampleWire(
      {
        zone,
        parentServers: options.parentServers,
        providers: list.map((provider) => ({ id: provider.id, servers: provider.servers })),
      },
      history,
      { signal: controller.signal, now },
    );
    for (const version of changes) options.onVersion?.(version);
    const at = now();
    const violations = (options.evaluate ?? evaluateInvariants)({
      zone,
      parentZone: options.parentZone,
      history,
      providers: list,
      t: at,
      margins,
      ...(options.skewSeconds === undefined ? {} : { skewSeconds: options.skewSeconds }),
      ...(model === undefined ? {} : { model }),
      ...(owner === undefined ? {} : { owner }),
      prePublishGraceSeconds:
        options.prePublishGraceSeconds ?? prePublishGraceSeconds(margins, keyWatchSeconds),
    });
    stats.rounds += 1;
    stats.checks += 1;
    const seen = new Set<string>();
    for (const violation of violations) {
      seen.add(violation.key);
      if (open.has(violation.key)) continue;
      let since = at;
      if (GRACED.has(violation.invariant)) {
        since = pending.get(violation.key) ?? at;
        pending.set(violation.key, since);
        if (at - since < graceSeconds) continue;
        pending.delete(violation.key);
      }
      const tagged = { ...violation, ...(processId ? { processId } : {}) };
      open.set(violation.key, { violation: tagged, at: since });
      stats.violations += 1;
      options.onViolation?.(tagged, since);
    }
    for (const key of [...pending.keys()])
      if (!seen.has(key)) {
        pending.delete(key);
        stats.transients += 1;
      }
    for (const [key, entry] of open) {
      if (seen.has(key)) continue;
      open.delete(key);
      options.onRestored?.(entry.violation, entry.at, at);
    }
    stats.open = open.size;
    return { at, changes, violations };
  };

  const checkOnce = (): Promise<ConsistencyRound> => {
    running ??= round().finally(() => {
      running = undefined;
    });
    return running;
  };

  const start = () => {
    stopAt = undefined;
    if (timer || stopped) return;
    checkOnce().catch(() => undefined);
    timer = setInterval(() => {
      if (stopAt !== undefined && now() >= stopAt) {
        clearInterval(timer);
        timer = undefined;
        return;
      }
      if (!running) checkOnce().catch(() => undefined);
    }, options.intervalMs ?? 1000);
  };

  const always = (options.mode ?? 'during-process') === 'always';
  // With no provider known yet, every NS name would be a stranger: wait for the group.
  if (always && providers.size > 0) start();

  return {
    name: `consistency-observer:${zone}`,
    history,
    checkOnce,
    start,
    stats: () => ({ ...stats, open: open.size }),
    learn(group: ZoneGroup): void {
      for (const provider of group.providers) providers.set(provider.id, provider);
      margins = group.margins;
      if (group.keyWatchSeconds !== undefined) keyWatchSeconds = group.keyWatchSeconds;
      // The fold knows the model: a group that names it replaces what the options said.
      if (group.model !== undefined) {
        model = group.model;
        owner = group.owner;
      }
      if (always && providers.size > 0) start();
    },
    onEvent(envelope: ChorusEventEnvelope): void {
      const event = envelope as ZoneEvent;
      if (canonicalName(event.zone) !== canonicalName(zone)) return;
      if (event.type === 'process-started') {
        processId = event.data.processId;
        start();
      } else if (event.type === 'process-completed' || event.type === 'process-failed') {
        processId = undefined;
        if ((options.mode ?? 'during-process') === 'during-process')
          stopAt = now() + (options.tailSeconds ?? 60);
      }
    },
    async shutdown(): Promise<void> {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      // Abort first: a round waiting on a slow server must not hold the shutdown (and its summary).
      controller.abort();
      await running?.catch(() => undefined);
    },
  };
}
