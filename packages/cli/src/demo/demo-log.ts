/**
 * The demo's event log, whichever the lab runs: the SQLite file in the demo directory, or the
 * lab's NATS cluster, each principal with credentials of its own.
 */
import { writeFile } from 'node:fs/promises';
import type { ChorusEvent, EventLog } from '@chorus/core';
import type { LabStatus, NatsUser } from '@chorus/lab';
import { openEventLog, type EventLogConfig } from '@chorus/sidecar';

/** How `user` reaches the lab's log; `sqliteFile` is the demo's file when the lab has no NATS. */
export function labEventLogConfig(
  status: LabStatus,
  sqliteFile: string,
  user: NatsUser,
): EventLogConfig {
  const log = status.eventLog;
  if (log.kind !== 'nats') return { kind: 'sqlite', path: sqliteFile };
  const credentialsFile = log.credentialsFiles[user];
  if (!credentialsFile) throw new Error(`the lab's NATS cluster has no credentials for ${user}`);
  return { kind: 'nats', servers: log.servers, credentialsFile, caFile: log.caFile };
}

export function openLabEventLog<E extends ChorusEvent>(
  status: LabStatus,
  sqliteFile: string,
  user: NatsUser,
): Promise<EventLog<E>> {
  return openEventLog<E>(labEventLogConfig(status, sqliteFile, user));
}

/** With NATS, the operator's connection as a file that `--log` takes (`chorus events … --log F`). */
export async function writeOperatorLogFile(
  status: LabStatus,
  sqliteFile: string,
  file: string,
): Promise<string> {
  if (status.eventLog.kind !== 'nats') return sqliteFile;
  const config = labEventLogConfig(status, sqliteFile, 'operator');
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return file;
}
