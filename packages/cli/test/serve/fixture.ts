/** A SQLite log in a temp dir with one defined zone (signed as the lab's kit signs), served on port 0. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import {
  groupEvent,
  groupStream,
  zoneEvent,
  zoneStream,
  type EventLog,
  type GroupEvent,
  type RecordedEvent,
  type ZoneEvent,
} from '@chorus/core';
import { createSqliteEventLog } from '@chorus/event-log-sqlite';
import { ensureTrustKit, kitOperatorLog, kitSidecarLog, serveOnLog } from '@chorus/cli';
import { createToken, type RunningServer } from '@chorus/serve';

export const ZONE = 'example.test.';
export const SIDECAR = { kind: 'sidecar', id: 'bind' };
const at = '2026-01-01T10:00:00.000Z';
const signer = {
  id: 'bind',
  kind: 'bind',
  nameServerNames: ['ns1.example.test.'],
  endpoints: [{ address: '127.0.0.2', port: 53 }],
};
const timing = {
  childPropagationSeconds: 1,
  parentPropagationSeconds: 1,
  safetyMarginSeconds: 1,
  maxZoneTtlSeconds: 30,
};

export interface Fixture {
  url: string;
  tokens: { viewer: string; operator: string; admin: string };
  /** Every event in the log. */
  events(): Promise<RecordedEvent<ZoneEvent>[]>;
  /** Appends `event` at the end of the zone's stream as the bind sidecar (signed). */
  appendAsSidecar(event: ZoneEvent): Promise<void>;
  /** What the server logged (JSON lines). */
  logged(): string;
  close(): Promise<void>;
}

async function defineZone(log: EventLog<ZoneEvent>, directory: string) {
  const kit = ensureTrustKit(directory, ['bind']);
  const source = { kind: 'sidecar', id: 'bind' };
  await kitSidecarLog(log, kit, 'bind').append(zoneStream(ZONE), 0, [
    zoneEvent('signer-registered', { zone: ZONE, source, occurredAt: at }, { signer }),
  ]);
  const data = { parentZone: 'test.', signers: [signer], timing, recordTtlSeconds: 30 };
  await kitOperatorLog(log, kit).append(zoneStream(ZONE), 1, [
    zoneEvent(
      'zone-defined',
      { zone: ZONE, source: { kind: 'cli', id: 'test' }, occurredAt: at },
      data,
    ),
  ]);
  return kit;
}

/** A group "customers" holding the zone, defined by the trusted operator. */
async function defineGroup(operator: EventLog<GroupEvent>): Promise<void> {
  const fields = { group: GROUP, source: { kind: 'cli', id: 'test' }, occurredAt: at };
  await operator.append(groupStream(GROUP), 0, [
    groupEvent('group-defined', fields, { signers: ['bind'], timing, recordTtlSeconds: 30 }),
    groupEvent('group-zones-added', fields, { zones: [ZONE] }),
  ]);
}

export const GROUP = 'customers';

export async function startFixture(): Promise<Fixture> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-serve-'));
  const logFile = path.join(directory, 'chorus.db');
  const log = createSqliteEventLog<ZoneEvent>({ path: logFile });
  const kit = await defineZone(log, directory);
  await defineGroup(kitOperatorLog(log, kit) as unknown as EventLog<GroupEvent>);
  const tokensFile = path.join(directory, 'tokens.json');
  const tokens = {
    viewer: await createToken(tokensFile, 'vera', 'viewer'),
    operator: await createToken(tokensFile, 'otto', 'operator'),
    admin: await createToken(tokensFile, 'ada', 'admin'),
  };
  let logged = '';
  const sink = new Writable({
    write: (chunk, _encoding, done) => void ((logged += String(chunk)), done()),
  });
  const values = { trust: kit.trustFile, key: kit.operatorKeyFile };
  const options = { host: '127.0.0.1', port: 0, tokensFile, logger: pino(sink) };
  const server: RunningServer = await serveOnLog(log, logFile, values, options);
  return {
    url: server.url,
    tokens,
    events: () => log.readAll({}),
    logged: () => logged,
    appendAsSidecar: async (event) => {
      const version = await log.streamVersion(zoneStream(ZONE));
      await kitSidecarLog(log, kit, 'bind').append(zoneStream(ZONE), version, [event]);
    },
    close: async () => {
      await server.close();
      await log.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
