/**
 * The demo's independent watchers: the consistency observer (invariants I1–I9 over what the wire
 * served and what may still be cached) and the validation observer (our validator, cross-checked
 * against the lab's unbound resolvers), run through core's observer pipeline and recorded in the
 * event log's observation stream, where `chorus report` finds them.
 */
import {
  WireHistory,
  createConsistencyObserver,
  createObservationRecorder,
  createObserverPipeline,
  createValidationObserver,
  reachableProviders,
  type CacheMargins,
  type ConsistencyStats,
  type ObserverStats,
  type ValidationObserverStats,
} from '@chorus/observers';
import { createSqliteEventLog } from '@chorus/event-log-sqlite';
import type { DsData, EventLog, ObservationEvent, Observer, ZoneEvent } from '@chorus/core';
import type { ZoneState } from '@chorus/engine';
import type { LabStatus } from '@chorus/lab';

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
  state: ZoneState;
  eventLogPath: string;
  zoneLog: EventLog<ZoneEvent>;
  margins: CacheMargins;
  /** More observers for the same pipeline (tests add a failing one). */
  extraObservers?: Observer<ZoneEvent>[];
  onZoneEvent?: (event: ZoneEvent) => void;
}): Promise<DemoObservers> {
  const { status, zone, state, margins } = options;
  const server = (id: string) => status.servers.find((entry) => entry.id === id)!;
  const resolver = (id: string) => status.resolvers.find((entry) => entry.id === id)!;
  const signers = Object.values(state.signers);
  const providers = signers.map((signer) => ({
    id: signer.id,
    nameServerNames: signer.nameServerNames,
    servers: signer.endpoints,
  }));
  const keyOwners = new Map<number, string>();
  for (const signer of signers) for (const key of signer.keys) keyOwners.set(key.keyTag, signer.id);
  const observationLog = createSqliteEventLog<ObservationEvent>({ path: options.eventLogPath });
  const recorder = createObservationRecorder(
    observationLog,
    zone,
    { kind: 'observer', id: 'demo' },
    { keyOwner: (tag) => keyOwners.get(tag) },
  );
  const history = new WireHistory();
  const parentServers = [{ address: server('parent').address, port: server('parent').port }];
  const report: Omit<
    DemoObserverReport,
    'consistency' | 'validation' | 'pipeline' | 'recorderErrors'
  > = { violations: [], validationFailures: [], disagreements: [] };
  const lastRecorded = new Map<string, number>();
  const since = new Date().toISOString();

  const consistency = createConsistencyObserver({
    zone,
    parentZone: status.parentZone,
    parentServers,
    providers,
    margins,
    history,
    mode: 'always',
    intervalMs: 1000,
    onVersion: (version) => recorder.version(version),
    onViolation: (violation, at) => {
      recorder.violated(violation, at);
      report.violations.push({
        invariant: violation.invariant,
        providers: violation.providers,
        detail: violation.detail,
        at: new Date(at * 1000).toISOString(),
      });
    },
    onRestored: (violation, violatedAt, at) => recorder.restored(violation, violatedAt, at),
  });
  const trustAnchorDs: DsData[] = status.trustAnchor.ds.map((entry) => ({
    keyTag: entry.keyTag,
    algorithm: entry.algorithm,
    digestType: entry.digestType,
    digest: entry.digest,
  }));
  const validation = createValidationObserver({
    zone,
    parentZone: status.parentZone,
    trustAnchorDs,
    parentServers,
    providers: signers.map((signer) => ({ id: signer.id, server: signer.endpoints[0]! })),
    resolvers: [
      ...signers.map((signer) => ({
        id: `resolver-${signer.id}`,
        server: {
          address: resolver(`resolver-${signer.id}`).address,
          port: resolver(`resolver-${signer.id}`).port,
        },
        pinnedTo: signer.id,
      })),
      {
        id: 'resolver-delegation',
        server: {
          address: resolver('resolver-delegation').address,
          port: resolver('resolver-delegation').port,
        },
      },
    ],
    wire: { history, providers, margins },
    intervalMs: 1000,
    onFinding: (finding) => {
      // The event log gets one event per finding per 10 s; the totals count every one.
      const key = [
        finding.kind,
        finding.provider,
        finding.resolver,
        finding.invariant,
        finding.detail,
      ]
        .join('|')
        .replace(/(chorus-)?nx-[0-9a-f]+/g, 'nx');
      const now = Date.now();
      if (now - (lastRecorded.get(key) ?? 0) >= 10_000) {
        lastRecorded.set(key, now);
        recorder.finding(finding);
      }
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
    consistency,
    validation,
    ...(options.extraObservers ?? []),
  ]);
  // The history knows only what it saw: one full round before anything changes.
  await consistency.checkOnce();
  const subscription = options.zoneLog.subscribe({
    streamPrefix: 'zone/',
    afterPosition: 0,
    onEvent: (recorded) => pipeline.publish(recorded.event),
    onError: () => undefined,
  });

  return {
    history,
    reachable: () => reachableProviders(history, zone, providers, Date.now() / 1000, margins),
    async stop() {
      await subscription.close();
      await pipeline.shutdown();
      const consistencyStats = consistency.stats();
      const validationStats = validation.stats();
      recorder.summary({
        observer: 'demo',
        since,
        probes: validationStats.probes,
        resolverAnswers: validationStats.resolverAnswers,
        disagreements: validationStats.disagreements,
        validationFailures: validationStats.validationFailures,
        invariantChecks: consistencyStats.checks,
        violations: consistencyStats.violations,
      });
      await recorder.flush();
      await observationLog.close();
      return {
        ...report,
        consistency: consistencyStats,
        validation: validationStats,
        pipeline: pipeline.stats(),
        recorderErrors: recorder.errors.length,
      };
    },
  };
}
