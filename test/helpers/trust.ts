/**
 * Writing to a test's event log as the principals the sidecars trust: the operator of the trust
 * kit that sidecarConfigFor makes next to the log, or one of the kit's sidecars.
 */
import { type ChorusEvent, type EventLog, type ZoneEvent } from '@chorus/core';
import { ensureTrustKit, kitOperatorLog, kitSidecarLog } from '@chorus/cli';

/** The log as the kit's operator writes it (signed; every event's source is the operator). */
export function operatorLog<E extends ChorusEvent>(
  log: EventLog<E>,
  directory: string,
): EventLog<E> {
  const kit = ensureTrustKit(directory, []);
  return kitOperatorLog(log as unknown as EventLog<ZoneEvent>, kit) as unknown as EventLog<E>;
}

/** The log as sidecar `id` of the kit writes it: the events must name it as their source. */
export function sidecarLog<E extends ChorusEvent>(
  log: EventLog<E>,
  directory: string,
  id: string,
): EventLog<E> {
  return kitSidecarLog(log, ensureTrustKit(directory, [id]), id);
}
