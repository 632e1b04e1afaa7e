/** Opening the event log the coordination commands read and write, and reading zones from it. */
import { access } from 'node:fs/promises';
import { ChorusError, zoneStream, type EventLog, type ZoneEvent } from '@chorus/core';
import { createSqliteEventLog } from '@chorus/event-log-sqlite';
import { applyZoneEvent, emptyZoneState, type ZoneState } from '@chorus/engine';
import { UsageError } from '../args.js';

/** The log file from `--log`, else `$CHORUS_EVENT_LOG`. */
export function eventLogPath(value: string | undefined, command: string): string {
  const path = value ?? process.env.CHORUS_EVENT_LOG;
  if (!path)
    throw new UsageError('give the event log with --log FILE or CHORUS_EVENT_LOG', command);
  return path;
}

/**
 * Opens an existing log; a missing file is an error (the sidecars create the log when they start),
 * so that a typo never leaves an empty SQLite file behind.
 */
export async function openExistingLog(path: string): Promise<EventLog<ZoneEvent>> {
  try {
    await access(path);
  } catch {
    throw new ChorusError('Chorus_EventLogMissingError', {
      message: `no event log at ${path}; start the sidecars first (they create it), or give the right --log`,
    });
  }
  return createSqliteEventLog<ZoneEvent>({ path });
}

/** Runs `use` on the log at `--log` (or `$CHORUS_EVENT_LOG`) and closes it afterwards. */
export async function withEventLog<T>(
  value: string | undefined,
  command: string,
  use: (log: EventLog<ZoneEvent>, path: string) => Promise<T>,
): Promise<T> {
  const path = eventLogPath(value, command);
  const log = await openExistingLog(path);
  try {
    return await use(log, path);
  } finally {
    await log.close();
  }
}

/** The zone's state after every event of its stream. */
export async function readZone(log: EventLog<ZoneEvent>, zone: string): Promise<ZoneState> {
  const events = await log.readStream(zoneStream(zone));
  return events.reduce(
    (state, recorded) => applyZoneEvent(state, recorded.event),
    emptyZoneState(zone),
  );
}

/** Every zone with a stream in the log, in the order they first appear. */
export async function knownZones(log: EventLog<ZoneEvent>): Promise<string[]> {
  const events = await log.readAll({ streamPrefix: zoneStream('') });
  return [...new Set(events.map((recorded) => recorded.event.zone))];
}

/** `known zones: a., b.` or `the log holds no zone yet`, for error messages. */
export async function knownZonesText(log: EventLog<ZoneEvent>): Promise<string> {
  const zones = await knownZones(log);
  return zones.length > 0 ? `known zones: ${zones.join(', ')}` : 'the log holds no zone yet';
}

/** The zone's state; an error listing the known zones when its stream is empty. */
export async function readKnownZone(
  log: EventLog<ZoneEvent>,
  zone: string,
  path: string,
): Promise<ZoneState> {
  const state = await readZone(log, zone);
  if (state.version > 0) return state;
  throw new ChorusError('Chorus_UnknownZoneError', {
    message: `no zone ${zone} in ${path}; ${await knownZonesText(log)}`,
  });
}
