/**
 * The lab's NATS clients: connecting as a lab user over TLS with the lab CA, and creating the
 * event log's JetStream stream and consumer bucket as `admin` at `up`, through the event-log
 * backend itself (so the lab makes exactly what the sidecars expect). Passwords stay in memory:
 * no error message, log line or status carries one.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createNatsEventLog, readCredentialsFile } from '@chorus/event-log-nats';
import { jetstreamManager, type StreamInfo } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { LabError } from './errors.js';
import { isRunning } from './processes.js';
import type { LabNatsEventLog, NatsUser } from './types.js';

export interface LabNatsConnectOptions {
  /** Default: every node of the lab. */
  servers?: readonly string[];
  timeoutMs?: number;
  /** Default: give up as soon as no node answers (the lab's checks retry themselves). */
  maxReconnectAttempts?: number;
}

function credentialsFileOf(eventLog: LabNatsEventLog, user: NatsUser): string {
  const file = eventLog.credentialsFiles[user];
  if (file === undefined) throw new LabError(`the lab's NATS cluster has no user ${user}`);
  return file;
}

/** Connects as `user` (its credentials file) over TLS, trusting the lab CA only. */
export async function connectToLabNats(
  eventLog: LabNatsEventLog,
  user: NatsUser,
  options: LabNatsConnectOptions = {},
): Promise<NatsConnection> {
  const credentials = readCredentialsFile(credentialsFileOf(eventLog, user));
  return connect({
    servers: [...(options.servers ?? eventLog.servers)],
    ...credentials,
    tls: { caFile: eventLog.caFile },
    name: `chorus-lab-${user}`,
    timeout: options.timeoutMs ?? 2000,
    maxReconnectAttempts: options.maxReconnectAttempts ?? 0,
  });
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Opens the event log as `admin` with `createStream`: the stream and bucket exist afterwards. */
async function createAsAdmin(eventLog: LabNatsEventLog): Promise<void> {
  const log = await createNatsEventLog({
    servers: eventLog.servers,
    credentialsFile: credentialsFileOf(eventLog, 'admin'),
    tls: { caFile: eventLog.caFile },
    streamName: eventLog.streamName,
    createStream: true,
    replicas: eventLog.replicas,
    requestTimeoutMs: 2000,
    name: 'chorus-lab-admin',
  });
  await log.close();
}

async function anyNodeRuns(eventLog: LabNatsEventLog): Promise<boolean> {
  const running = await Promise.all(
    eventLog.nodes.map((node) => isRunning(node.pid, node.binary, node.directory)),
  );
  return running.includes(true);
}

/**
 * Creates the stream and the consumers' bucket (`replicas` each) as `admin`, retrying until the
 * deadline while JetStream elects its leaders (or until no node runs any more: a failed `up`
 * stopped them). Returns the stream's info with its replicas.
 */
export async function createNatsStream(
  eventLog: LabNatsEventLog,
  deadline: number,
): Promise<StreamInfo> {
  for (;;) {
    try {
      await createAsAdmin(eventLog);
      break;
    } catch (error) {
      const stopped = !(await anyNodeRuns(eventLog));
      if (stopped || Date.now() > deadline) {
        throw new LabError(
          `could not create the NATS stream ${eventLog.streamName}${stopped ? ' (no node runs)' : ' in time'}: ${describeError(error)}`,
        );
      }
    }
    await sleep(100);
  }
  const connection = await connectToLabNats(eventLog, 'admin');
  try {
    const manager = await jetstreamManager(connection, { timeout: 2000 });
    return await manager.streams.info(eventLog.streamName);
  } finally {
    await connection.close();
  }
}
