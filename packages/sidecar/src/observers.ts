import { DEFAULT_TIMING } from '@chorus/engine';
import {
  WireHistory,
  createConsistencyObserver,
  createObservationRecorder,
  createValidationObserver,
} from '@chorus/observers';
import type { EventLog, ObservationEvent, Observer, ZoneEvent } from '@chorus/core';
import type { Logger } from 'pino';
import type { SidecarConfig } from './config.js';

export interface SidecarObservers {
  observers: Observer<ZoneEvent>[];
  /** Waits until everything the observers recorded is in the event log. */
  flush(): Promise<void>;
}

/**
 * The observers a sidecar's config asks for, one set per zone, sharing a wire history per zone
 * and recording into the zone's observation stream. Signers, margins and the process in flight
 * come from the zone's events.
 */
export function createSidecarObservers(
  config: SidecarConfig,
  log: EventLog<ZoneEvent>,
  logger: Logger,
): SidecarObservers {
  const wanted = config.observers;
  if (!wanted || (!wanted.consistency && !wanted.validation))
    return { observers: [], flush: () => Promise.resolve() };
  const observationLog = log as unknown as EventLog<ObservationEvent>;
  const recorders: ReturnType<typeof createObservationRecorder>[] = [];
  const margins = {
    childSeconds: DEFAULT_TIMING.childPropagationSeconds,
    parentSeconds: DEFAULT_TIMING.parentPropagationSeconds,
  };
  const observers = config.zones.flatMap((zone) => {
    const recorder = createObservationRecorder(observationLog, zone, {
      kind: 'observer',
      id: config.id,
    });
    recorders.push(recorder);
    const history = new WireHistory();
    const zoneObservers: Observer<ZoneEvent>[] = [];
    if (wanted.consistency)
      zoneObservers.push(
        createConsistencyObserver({
          zone,
          parentZone: config.parent.zone,
          parentServers: config.parent.servers,
          providers: [],
          margins,
          history,
          intervalMs: wanted.consistency.intervalMs,
          mode: wanted.consistency.mode,
          onVersion: (version) => recorder.version(version),
          onViolation: (violation, at) => {
            logger.warn(
              { zone, invariant: violation.invariant, providers: violation.providers },
              violation.detail,
            );
            recorder.violated(violation, at);
          },
          onRestored: (violation, since, at) => recorder.restored(violation, since, at),
        }),
      );
    if (wanted.validation)
      zoneObservers.push(
        createValidationObserver({
          zone,
          parentZone: config.parent.zone,
          trustAnchorDs: wanted.validation.trustAnchor,
          parentServers: config.parent.servers,
          providers: [],
          resolvers: wanted.validation.resolvers,
          // Reachability and cached versions come from the consistency observer's samples.
          ...(wanted.consistency ? { wire: { history, providers: [], margins } } : {}),
          intervalMs: wanted.validation.intervalMs,
          onFinding: (finding) => {
            logger.warn(
              { zone, finding: finding.kind, provider: finding.provider },
              finding.detail,
            );
            recorder.finding(finding);
          },
        }),
      );
    return zoneObservers;
  });
  const flush = async () => {
    await Promise.all(recorders.map((recorder) => recorder.flush()));
  };
  // Last in the pipeline: on shutdown, what was recorded reaches the log before it closes.
  observers.push({ name: 'observation-recorder', forceFlush: flush, shutdown: flush });
  return { observers, flush };
}
