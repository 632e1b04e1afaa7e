/** Opening the event log the coordination commands read and write, and reading zones from it. */
import { access, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  ChorusError,
  createSigningEventLog,
  WrongExpectedVersionError,
  zoneStream,
  type EventLog,
  type EventSigningKey,
  type TrustAnchor,
  type ZoneEvent,
} from '@chorus/core';
import { createSqliteEventLog } from '@chorus/event-log-sqlite';
import { applyZoneEvent, emptyZoneState, type FoldPolicy, type ZoneState } from '@chorus/engine';
import {
  loadEventKey,
  loadTrustFile,
  openEventLog,
  parseEventLogConfig,
  type EventLogConfig,
} from '@chorus/sidecar';
import { UsageError } from '../args.js';

/** The options every command that reads or writes the log takes. */
export const LOG_OPTIONS = {
  log: { type: 'string' },
  trust: { type: 'string' },
  key: { type: 'string' },
} as const;

/** What those options hold once parsed. */
export interface LogValues {
  log?: string | undefined;
  trust?: string | undefined;
  key?: string | undefined;
}

/** The fold policy of each log this module opened: readZone verifies with it. */
const policies = new WeakMap<object, FoldPolicy>();

/** The trust file from `--trust`, else `$CHORUS_TRUST`; none means the fold verifies nothing. */
function trustAnchor(values: LogValues): TrustAnchor | undefined {
  const file = values.trust ?? process.env.CHORUS_TRUST;
  return file ? loadTrustFile(file, '--trust') : undefined;
}

/** The operator's key from `--key`, else `$CHORUS_OPERATOR_KEY`. */
function operatorKey(values: LogValues): EventSigningKey | undefined {
  const file = values.key ?? process.env.CHORUS_OPERATOR_KEY;
  return file ? loadEventKey(file, '--key') : undefined;
}

/** The operator id the anchor gives `key`, or an error naming the key (public half only). */
function operatorIdOf(anchor: TrustAnchor | undefined, key: EventSigningKey): string {
  const id = Object.entries(anchor?.operators ?? {}).find(([, known]) => known === key.publicKey);
  if (!id)
    throw new ChorusError('Chorus_UntrustedOperatorError', {
      message: `the key given with --key (public key ${key.publicKey}) is no operator's in the trust file; sidecars would refuse what it signs`,
    });
  return id[0];
}

/**
 * The log as this operator reads and writes it: appends are signed with the operator's key under
 * the operator id the trust file gives it; without a key, appends are refused before they are made.
 */
export function asOperator(
  log: EventLog<ZoneEvent>,
  values: LogValues,
  command: string,
  options: { allowUnsafeSkipWaits?: boolean } = {},
): EventLog<ZoneEvent> {
  const anchor = trustAnchor(values);
  const key = operatorKey(values);
  let operated: EventLog<ZoneEvent>;
  if (key) {
    const source = { kind: 'cli', id: operatorIdOf(anchor, key) };
    const signing = createSigningEventLog(log, key);
    operated = {
      ...signing,
      append: (stream, version, events) =>
        signing.append(
          stream,
          version,
          events.map((event) => ({ ...event, source })),
        ),
    };
  } else {
    operated = {
      ...log,
      append: () =>
        Promise.reject(
          new UsageError(
            'sign what you append: give your operator key with --key FILE or CHORUS_OPERATOR_KEY (chorus keygen FILE makes one)',
            command,
          ),
        ),
    };
  }
  if (anchor)
    policies.set(operated, {
      anchor,
      ...(options.allowUnsafeSkipWaits ? { allowUnsafeSkipWaits: true } : {}),
    });
  return operated;
}

/** The log file from `--log`, else `$CHORUS_EVENT_LOG`. */
export function eventLogPath(value: string | undefined, command: string): string {
  const path = value ?? process.env.CHORUS_EVENT_LOG;
  if (!path)
    throw new UsageError('give the event log with --log FILE or CHORUS_EVENT_LOG', command);
  return path;
}

/**
 * Opens an existing log. A `.json` file names a distributed log (the `eventLog` section of a
 * sidecar config, e.g. NATS with this operator's credentials); any other path is a SQLite file,
 * which must exist (the sidecars create it), so that a typo never leaves an empty file behind.
 */
export async function openExistingLog(path: string): Promise<EventLog<ZoneEvent>> {
  if (path.endsWith('.json')) return openEventLog<ZoneEvent>(await readLogConfig(path));
  try {
    await access(path);
  } catch {
    throw new ChorusError('Chorus_EventLogMissingError', {
      message: `no event log at ${path}; start the sidecars first (they create it), or give the right --log`,
    });
  }
  return createSqliteEventLog<ZoneEvent>({ path });
}

/** The event-log section in a `.json` file given to `--log`. */
async function readLogConfig(file: string): Promise<EventLogConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ChorusError('Chorus_EventLogMissingError', {
      message: code ? `cannot read ${file}: ${code}` : `${file} is not valid JSON`,
    });
  }
  return parseEventLogConfig(raw, file, dirname(file), 'log');
}

/** Runs `use` on the log at `--log` (or `$CHORUS_EVENT_LOG`) and closes it afterwards. */
export async function withEventLog<T>(
  values: LogValues,
  command: string,
  use: (log: EventLog<ZoneEvent>, path: string) => Promise<T>,
): Promise<T> {
  const path = eventLogPath(values.log, command);
  const log = await openExistingLog(path);
  try {
    return await use(asOperator(log, values, command), path);
  } finally {
    await log.close();
  }
}

/** The policy the log was opened with (see asOperator); undefined: nothing is verified. */
export function foldPolicyOf(log: EventLog<ZoneEvent>): FoldPolicy | undefined {
  return policies.get(log);
}

/** The zone's state after every event of its stream, verified when the log has a trust anchor. */
export async function readZone(log: EventLog<ZoneEvent>, zone: string): Promise<ZoneState> {
  const events = await log.readStream(zoneStream(zone));
  return events.reduce(
    (state, recorded) => applyZoneEvent(state, recorded.event),
    emptyZoneState(zone, foldPolicyOf(log)),
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

/**
 * Appends the event `build` makes from the zone's current state. Sidecars append beside the
 * operator (a key or content observation may land in between), so a stream that moved on is
 * read again and the event built anew, up to five times.
 */
export async function appendToZone<E extends ZoneEvent>(
  log: EventLog<ZoneEvent>,
  zone: string,
  build: (state: ZoneState) => E,
): Promise<E> {
  for (let attempt = 1; ; attempt += 1) {
    const state = await readZone(log, zone);
    const event = build(state);
    try {
      await log.append(zoneStream(zone), state.version, [event]);
      return event;
    } catch (error) {
      if (!WrongExpectedVersionError.isInstance(error) || attempt >= 5) throw error;
    }
  }
}
