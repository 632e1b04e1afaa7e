// A subscription through a quorum loss on a real 3-node cluster (R3 stream) that this file starts
// on 127.0.0.1: two nodes are killed for 10 s and restarted on the same ports and stores; every
// event appended afterwards must reach the open subscription, in order, once, within a bounded
// time. Once with the subscriber's own node surviving (its connection never drops, only the
// consumer behind it dies: the case that used to stall silently), once with its node killed too.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLogError, type EventLog, type RecordedEvent } from '@chorus/core';
import { createNatsEventLog, DEFAULT_STREAM_NAME } from '../../src/index.js';
import { startNatsCluster, type NatsCluster, type NatsServer } from '../../src/testing.js';

interface TestEvent {
  type: string;
  n: number;
}

/**
 * How long an event may take to reach the subscriber once it is appended and the subscriber has a
 * consumer (whichever comes later): seen 0–2 s. Below the 10–15 s (two missed heartbeats) the
 * client took to notice a stalled consumer by itself. A loaded machine may take longer to give
 * the cluster back its quorum for new consumers: that wait is not counted, up to RECOVERY_MS.
 */
const DELIVERY_BOUND_MS = 8000;
const RECOVERY_MS = 45_000;
/** The same for a durable consumer, whose commits wait for the consumers' bucket to be back. */
const DURABLE_BOUND_MS = 30_000;
const OUTAGE_MS = 10_000;

const dir = mkdtempSync(join(tmpdir(), 'chorus-nats-cluster-'));
let cluster: NatsCluster;
let admin: EventLog<TestEvent>;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Prints what happened (not asserted: machines differ). */
function report(line: string): void {
  // eslint-disable-next-line no-console
  console.log(`[event-log-nats cluster] ${line}`);
}

async function until(
  predicate: () => boolean,
  what: string,
  ms: number | (() => number),
): Promise<void> {
  const started = Date.now();
  const deadline = typeof ms === 'number' ? () => started + ms : ms;
  while (!predicate()) {
    if (Date.now() > deadline())
      throw new Error(`timed out after ${Date.now() - started} ms waiting for ${what}`);
    await pause(10);
  }
}

/** The event log's `unavailable` (no quorum yet, reconnecting…). */
const logUnavailable = (error: unknown) =>
  EventLogError.isInstance(error) && error.kind === 'unavailable';

/** A JetStream admin call's answer while the cluster has no quorum yet. */
const jetStreamUnavailable = (error: unknown) =>
  /temporarily unavailable|timeout|no responders/i.test(String(error));

/** Retries `call` while it fails as `transient` says, for up to `ms`. */
async function retrying<T>(
  call: () => Promise<T>,
  what: string,
  ms = 60_000,
  transient: (error: unknown) => boolean = logUnavailable,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!transient(error) || Date.now() > deadline)
        throw new Error(`${what}: ${String(error)}`, { cause: error });
      await pause(250);
    }
  }
}

/** A pino logger writing into memory. */
function capturedLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  const entries = () =>
    lines.map(
      (line) => JSON.parse(line) as { msg: string; level: number; time: number; consumer?: string },
    );
  return { logger: pino({ level: 'debug' }, stream), entries };
}

/** The node a named client connection is on, from the nodes' monitoring endpoints. */
async function nodeOf(connectionName: string): Promise<NatsServer> {
  for (const node of cluster.nodes) {
    const response = await fetch(`${node.monitorUrl}/connz?limit=1024`);
    const connz = (await response.json()) as { connections?: { name?: string }[] };
    if (connz.connections?.some((connection) => connection.name === connectionName)) return node;
  }
  throw new Error(`no node has a connection named ${connectionName}`);
}

/** A node's server_name. */
const nameOf = (node: NatsServer) => `n${cluster.nodes.indexOf(node) + 1}`;

/**
 * The stream's subscription consumers not in `known` (reads use chorus_read_…), with the node
 * hosting each; they join `known`. Called right before a subscription too, so that what is
 * listed right after it is its consumer (no leftover of an earlier test).
 */
async function newConsumers(known: Set<string>): Promise<{ name: string; host: NatsServer }[]> {
  const listed = await retrying(
    () => consumerHosts(),
    'the consumer list',
    RECOVERY_MS,
    jetStreamUnavailable,
  );
  const found = listed.filter(({ name }) => !known.has(name) && !name.startsWith('chorus_read_'));
  for (const { name } of found) known.add(name);
  return found;
}

/** Every consumer of the stream with the node leading it (none: left out). */
async function consumerHosts(): Promise<{ name: string; host: NatsServer }[]> {
  const nc = await connect({ servers: [...cluster.urls], timeout: 2000 });
  try {
    const jsm = await jetstreamManager(nc, { timeout: 2000, checkAPI: false });
    const found: { name: string; host: NatsServer }[] = [];
    for await (const info of jsm.consumers.list(DEFAULT_STREAM_NAME)) {
      const host = cluster.nodes.find((node) => nameOf(node) === info.cluster?.leader);
      if (host !== undefined) found.push({ name: info.name, host });
    }
    return found;
  } finally {
    await nc.close();
  }
}

/** Waits until every node says JetStream is current (`/healthz`), as after a restart. */
async function clusterHealthy(): Promise<void> {
  const healthy = async (node: NatsServer) => {
    const response = await fetch(`${node.monitorUrl}/healthz`).catch(() => undefined);
    return response?.ok === true;
  };
  const deadline = Date.now() + RECOVERY_MS;
  while (!(await Promise.all(cluster.nodes.map(healthy))).every(Boolean)) {
    if (Date.now() > deadline) throw new Error('the cluster did not become healthy');
    await pause(250);
  }
}

const knownConsumers = new Set<string>();

beforeAll(async () => {
  cluster = await startNatsCluster({ dir });
  // JetStream elects its meta leader a moment after the nodes listen.
  admin = await retrying(
    () =>
      createNatsEventLog<TestEvent>({
        servers: [...cluster.urls],
        createStream: true,
        replicas: 3,
        requestTimeoutMs: 2000,
      }),
    'the admin',
  );
});

afterAll(async () => {
  await admin?.close();
  await cluster?.stop({ kill: true });
  rmSync(dir, { recursive: true, force: true });
});

interface Placement {
  /** The node the subscriber's connection is on. */
  own: NatsServer;
  /** The node hosting its (R1, in-memory) ordered consumer. */
  host: NatsServer;
}

/** What one subscription received, and how. */
function receiver(log: EventLog<TestEvent>, stream: string, consumer?: string) {
  const seen: RecordedEvent<TestEvent>[] = [];
  const errors: unknown[] = [];
  const subscription = log.subscribe({
    ...(consumer === undefined ? {} : { consumer }),
    streamPrefix: stream,
    onEvent: (recorded) => void seen.push(recorded),
    onError: (error) => void errors.push(error),
  });
  const has = (position: number) => seen.some((recorded) => recorded.position === position);
  return { seen, errors, subscription, has };
}

/**
 * Subscribes (again, until `accept` likes where the connection and the consumer landed), appends
 * and sees the events delivered, kills the two nodes `victims` picks, restarts them after
 * OUTAGE_MS on the same ports and stores, then appends again and expects each new event at the
 * subscriber within DELIVERY_BOUND_MS of its append. A second subscription, with a durable
 * consumer (placed wherever), must get every event too, once, in order, and commit the last; its
 * commits wait for the consumers' bucket, whose own quorum may take longer to come back.
 */
async function quorumLoss(
  name: string,
  accept: (placement: Placement) => boolean,
  victims: (placement: Placement) => NatsServer[],
): Promise<void> {
  const stream = `zone/${name}.`;
  const consumer = `sidecar-${name}`;
  const connectionName = `subscriber-${name}`;
  const { logger, entries } = capturedLogger();
  const said = (durable: boolean) =>
    entries()
      .filter((entry) => (entry.consumer !== undefined) === durable && entry.level >= 30)
      .map((entry) => entry.msg)
      .filter((message) => message.startsWith('event-log subscription'));
  /** When the live subscription last said one of `messages`. */
  const lastSaid = (...messages: string[]) =>
    Math.max(
      0,
      ...entries()
        .filter((entry) => entry.consumer === undefined)
        .filter((entry) => messages.some((message) => entry.msg.startsWith(message)))
        .map((entry) => entry.time),
    );
  /**
   * When event `at` must have reached the live subscriber: DELIVERY_BOUND_MS after its append or
   * after the subscription got its consumer back, whichever is later. While it has said it lost
   * its consumer and has no new one yet, the cluster is still giving quorum back (its retries
   * wait for new consumers): that is not counted, up to RECOVERY_MS.
   */
  const deliveryDeadline = (at: number) => {
    const consuming = lastSaid('event-log subscription consuming');
    const lostOrWaiting = lastSaid(
      'event-log subscription lost its consumer',
      'event-log subscription waiting',
      'event-log subscription still waiting',
    );
    if (lostOrWaiting > consuming) return at + RECOVERY_MS;
    return Math.min(at + RECOVERY_MS, Math.max(at, consuming) + DELIVERY_BOUND_MS);
  };
  // The subscriber keeps the default timeouts, as a sidecar does.
  const subscriberLog = await createNatsEventLog<TestEvent>({
    servers: [...cluster.urls],
    name: connectionName,
    logger,
  });
  const writer = await createNatsEventLog<TestEvent>({
    servers: [...cluster.urls],
    reconnectWaitMs: 250,
    requestTimeoutMs: 2000,
  });
  await clusterHealthy(); // an earlier test's restarted nodes may still be catching up
  const started = Date.now();
  let live: ReturnType<typeof receiver> | undefined;
  let durable: ReturnType<typeof receiver> | undefined;
  try {
    let version = 0;
    const append = async (n: number) => {
      const result = await retrying(
        () => writer.append(stream, version, [{ type: 'tick', n }]),
        `append ${n}`,
      );
      version = result.streamVersion;
      return { at: Date.now(), position: result.positions[0]! };
    };
    for (let n = 1; n <= 3; n++) await append(n);

    let placement: Placement | undefined;
    for (let attempt = 1; placement === undefined; attempt++) {
      await live?.subscription.close();
      await newConsumers(knownConsumers); // whatever exists already is not ours
      const candidateLive = receiver(subscriberLog, stream);
      live = candidateLive;
      await candidateLive.subscription.ready;
      const own = await nodeOf(connectionName);
      const [found, ...more] = await newConsumers(knownConsumers);
      expect(more).toEqual([]);
      const candidate = { own, host: found!.host };
      if (accept(candidate)) placement = candidate;
      else if (attempt === 20) throw new Error('could not place the subscription as wanted');
    }
    const following = live!;
    await newConsumers(knownConsumers);
    const kept = receiver(subscriberLog, stream, consumer);
    durable = kept;
    await kept.subscription.ready;
    const [durableConsumer] = await newConsumers(knownConsumers);
    expect([following.seen.length, kept.seen.length]).toEqual([3, 3]);

    const killed = victims(placement);
    await Promise.all(killed.map((node) => node.stop({ kill: true })));
    await pause(OUTAGE_MS);
    await Promise.all(killed.map((node) => node.start()));
    const restartedAt = Date.now();

    const delays: number[] = [];
    let writable = 0;
    let last = 0;
    for (let n = 4; n <= 6; n++) {
      const { at, position } = await append(n);
      if (n === 4) writable = at - restartedAt;
      await until(
        () => following.has(position),
        `event ${n} at the subscriber (its log: ${said(false).join(' | ')})`,
        () => deliveryDeadline(at),
      );
      delays.push(Date.now() - at);
      last = position;
    }
    const lastAppend = Date.now();
    await until(
      () => kept.has(last),
      `the last event at the durable subscriber (its log: ${said(true).join(' | ')})`,
      DURABLE_BOUND_MS,
    );
    const durableDelay = Date.now() - lastAppend;

    // Every event, in log order, each once, and no onError.
    const all = (await writer.readAll()).filter((recorded) => recorded.stream === stream);
    expect(all.map((recorded) => recorded.event.n)).toEqual([1, 2, 3, 4, 5, 6]);
    const positions = all.map((recorded) => recorded.position);
    for (const { seen, errors } of [following, kept]) {
      expect(seen.map((recorded) => recorded.position)).toEqual(positions);
      expect(errors).toEqual([]);
    }
    // The live one noticed its consumer was gone, said so once, then said it followed again.
    expect(said(false)[0]).toMatch(
      /^event-log subscription lost its consumer; following again from seq \d+$/,
    );
    expect(said(false).at(-1)).toBe('event-log subscription resumed');
    await kept.subscription.close();
    expect(await retrying(() => subscriberLog.consumerPosition(consumer), 'the position')).toBe(
      positions.at(-1),
    );
    report(
      `${name}: killed ${killed.map(nameOf).join(' and ')} (subscriber on ` +
        `${nameOf(placement.own)}, its consumer on ${nameOf(placement.host)}, the durable one on ` +
        `${durableConsumer === undefined ? '?' : nameOf(durableConsumer.host)}) for ` +
        `${OUTAGE_MS / 1000} s; writable ${writable} ms after the restart; events delivered ` +
        `${delays.join(' / ')} ms after their appends (durable: the last ${durableDelay} ms after ` +
        `it); ${((Date.now() - started) / 1000).toFixed(1)} s in all; subscriber log: ` +
        `${entries()
          .filter((entry) => entry.level >= 30)
          .map((entry) => `${entry.msg}${entry.consumer === undefined ? '' : ' (durable)'}`)
          .join(' | ')}`,
    );
  } finally {
    await live?.subscription.close();
    await durable?.subscription.close();
    await writer.close();
    await subscriberLog.close();
  }
}

describe('NATS event log on a 3-node cluster: a subscription through a quorum loss', () => {
  it('follows again when its consumer died with the two other nodes, its connection intact', async () => {
    await quorumLoss(
      'others',
      ({ own, host }) => host !== own,
      ({ own }) => cluster.nodes.filter((node) => node !== own),
    );
  }, 180_000);

  it("follows again when its own node and its consumer's node were killed", async () => {
    await quorumLoss(
      'own',
      () => true,
      ({ own, host }) => [own, host !== own ? host : cluster.nodes.find((node) => node !== own)!],
    );
  }, 180_000);
});
