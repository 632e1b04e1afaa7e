/**
 * The demo's independent watchers: the zone's observer assembly (`createZoneObservers`: the
 * consistency observer, the validation observer and the observation recorder), with the lab's
 * resolvers pinned to each signer, run through the observer pipeline and recorded in the event
 * log's observation stream, where `chorus report` finds them.
 */
import {
  createObserverPipeline,
  createZoneObservers,
  type ConsistencyStats,
  type ObserverStats,
  type ValidationObserverStats,
  type WireHistory,
} from '@chorus/observers';
import type { ChorusEvent, EventLog, Observer, ZoneEvent } from '@chorus/core';
import type { LabStatus } from '@chorus/lab';
import { foldPolicyOf } from '../coordination/event-log.js';

export interface DemoObserverReport {
  consistency: ConsistencyStats;
  validation: ValidationObserverStats;
  /** Invariant ids of every violation, in the order seen. */
  violations: { invariant: string; providers: string[]; detail: string; at: string }[];
  validationFailures: { provider?: string; resolver?: string; detail: string; at: string }[];
  disagreements: { resolver?: string; detail: string; at: string }[];
  pipeline: Record<string, ObserverStats>;
  recorderErrors: number;
}

export interface DemoObservers {
  history: WireHistory;
  /** Providers a resolver could reach now (standards §8.1). */
  reachable(): Set<string>;
  stop(): Promise<DemoObserverReport>;
}

export async function startDemoObservers(options: {
  status: LabStatus;
  zone: string;
  /** The signers whose pinned resolvers the validation observer asks. */
  signerIds: readonly string[];
  /** A connection of the observers' own, typed for both families. */
  openLog: () => Promise<EventLog<ChorusEvent>>;
  zoneLog: EventLog<ZoneEvent>;
  /** More observers for the same pipeline (tests add a failing one). */
  extraObservers?: Observer<ZoneEvent>[];
  onZoneEvent?: (event: ZoneEvent) => void;
}): Promise<DemoObservers> {
  const { status, zone } = options;
  const server = (id: string) => status.servers.find((entry) => entry.id === id)!;
  const resolver = (id: string) => {
    const entry = status.resolvers.find((candidate) => candidate.id === id)!;
    return { address: entry.address, port: entry.port };
  };
  const report: Pick<DemoObserverReport, 'violations' | 'validationFailures' | 'disagreements'> = {
    violations: [],
    validationFailures: [],
    disagreements: [],
  };
  const observationLog = await options.openLog();
  // The observers fold the zone's stream with the trust the demo's operator log verifies with.
  const foldPolicy = foldPolicyOf(options.zoneLog);
  const observers = createZoneObservers({
    zone,
    log: observationLog,
    source: { kind: 'observer', id: 'demo' },
    ...(foldPolicy ? { foldPolicy } : {}),
    parentZone: status.parentZone,
    parentServers: [{ address: server('parent').address, port: server('parent').port }],
    consistency: { mode: 'always', intervalMs: 1000 },
    validation: {
      trustAnchorDs: status.trustAnchor.ds.map((entry) => ({
        keyTag: entry.keyTag,
        algorithm: entry.algorithm,
        digestType: entry.digestType,
        digest: entry.digest,
      })),
      resolvers: [
        ...options.signerIds.map((id) => ({
          id: `resolver-${id}`,
          server: resolver(`resolver-${id}`),
          pinnedTo: id,
        })),
        { id: 'resolver-delegation', server: resolver('resolver-delegation') },
      ],
      intervalMs: 1000,
    },
    onViolation: (violation, at) =>
      report.violations.push({
        invariant: violation.invariant,
        providers: violation.providers,
        detail: violation.detail,
        at: new Date(at * 1000).toISOString(),
      }),
    onFinding: (finding) => {
      if (finding.kind === 'disagreement')
        report.disagreements.push({
          ...(finding.resolver ? { resolver: finding.resolver } : {}),
          detail: finding.detail,
          at: finding.at,
        });
      else
        report.validationFailures.push({
          ...(finding.provider ? { provider: finding.provider } : {}),
          ...(finding.resolver ? { resolver: finding.resolver } : {}),
          detail: finding.detail,
          at: finding.at,
        });
    },
  });
  // The demo's own reaction to the process (switching the leaving server off) rides the pipeline too.
  const operator: Observer<ZoneEvent> = {
    name: 'demo-operator',
    onEvent: (event) => options.onZoneEvent?.(event),
  };
  const pipeline = createObserverPipeline<ZoneEvent>([
    operator,
    observers,
    ...(options.extraObservers ?? []),
  ]);
  // The history knows only what it saw: the group, then one full round before anything changes.
  await observers.start();
  const subscription = options.zoneLog.subscribe({
    streamPrefix: 'zone/',
    afterPosition: 0,
    onEvent: (recorded) => pipeline.publish(recorded.event),
    onError: () => undefined,
  });

  return {
    history: observers.history,
    reachable: () => observers.reachable(),
    async stop() {
      await subscription.close();
      await pipeline.shutdown(); // the assembly's shutdown appends the observer-summary
      await observationLog.close();
      const stats = observers.stats();
      return {
        ...report,
        consistency: stats.consistency!,
        validation: stats.validation!,
        pipeline: pipeline.stats(),
        recorderErrors: stats.recorderErrors,
      };
    },
  };
}
