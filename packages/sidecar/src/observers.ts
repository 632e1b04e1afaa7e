import { createZoneObservers, type ZoneObservers } from '@chorus/observers';
import type { ChorusEvent, EventLog, Observer, ZoneEvent } from '@chorus/core';
import type { Logger } from 'pino';
import type { SidecarConfig } from './config.js';

export interface SidecarObservers {
  observers: Observer<ZoneEvent>[];
  /** Waits until everything the observers recorded is in the event log. */
  flush(): Promise<void>;
}

/**
 * The observers a sidecar's config asks for: one assembly per zone (`createZoneObservers`), which
 * learns the group from the zone's stream and records into the zone's observation stream.
 */
export function createSidecarObservers(
  config: SidecarConfig,
  log: EventLog<ChorusEvent>,
  logger: Logger,
): SidecarObservers {
  const wanted = config.observers;
  if (!wanted || (!wanted.consistency && !wanted.validation))
    return { observers: [], flush: () => Promise.resolve() };
  const { consistency, validation } = wanted;
  const observers: ZoneObservers[] = config.zones.map((zone) =>
    createZoneObservers({
      zone,
      log,
      source: { kind: 'observer', id: config.id },
      parentZone: config.parent.zone,
      parentServers: config.parent.servers,
      foldPolicy: {
        anchor: config.trust,
        ...(config.unsafeAllowSkipWaits ? { allowUnsafeSkipWaits: true } : {}),
      },
      ...(consistency
        ? { consistency: { intervalMs: consistency.intervalMs, mode: consistency.mode } }
        : {}),
      ...(validation
        ? {
            validation: {
              trustAnchorDs: validation.trustAnchor,
              resolvers: validation.resolvers,
              intervalMs: validation.intervalMs,
            },
          }
        : {}),
      onViolation: (violation) =>
        logger.warn(
          { zone, invariant: violation.invariant, providers: violation.providers },
          violation.detail,
        ),
      onFinding: (finding) =>
        logger.warn({ zone, finding: finding.kind, provider: finding.provider }, finding.detail),
      onError: (error, what) => logger.warn({ zone, err: error }, `observers ${what}`),
    }),
  );
  return {
    observers,
    flush: async () => {
      await Promise.all(observers.map((observer) => observer.forceFlush()));
    },
  };
}
