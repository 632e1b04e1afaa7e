/**
 * `lab up --event-log nats` for real: a lab of its own on 127.66.0 (or $CHORUS_TEST_NATS_PREFIX)
 * with the 3-node NATS JetStream cluster. Checks the cluster and the stream, the lock-down (TLS,
 * passwords, per-user permissions), that no password leaks, the loss of one and of two nodes, and
 * that `down` leaves nothing running.
 */
import { lstat, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { connect as connectTcp } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { observationStream, zoneStream } from '@chorus/core';
import {
  CONSUMERS_BUCKET,
  createNatsEventLog,
  readCredentialsFile,
  subjectForStream,
} from '@chorus/event-log-nats';
import { waitUntil } from '../../src/testing/wait-until.js';
import { labDown, labRestart, labStatus, labStopServer, labUp } from '../../src/lab.js';
import { connectToLabNats } from '../../src/nats-stream.js';
import { isRunning } from '../../src/processes.js';
import type { LabNatsEventLog, LabNatsNode, LabStatus, NatsUser } from '../../src/types.js';

const PREFIX = process.env.CHORUS_TEST_NATS_PREFIX ?? '127.66.0';
const zoneSubject = (zone: string) => subjectForStream(zoneStream(zone));

let directory: string;
let status: LabStatus;
let log: LabNatsEventLog;
const progress: string[] = [];
const connections: NatsConnection[] = [];

function natsLog(lab: LabStatus | undefined): LabNatsEventLog {
  if (lab?.eventLog.kind !== 'nats') throw new Error('expected a lab with the NATS event log');
  return lab.eventLog;
}

/** A connection as `user`, closed after the file. */
async function as(user: NatsUser): Promise<NatsConnection> {
  const connection = await connectToLabNats(log, user);
  connections.push(connection);
  return connection;
}

function node(id: LabNatsNode['id']): LabNatsNode {
  return log.nodes.find((entry) => entry.id === id)!;
}

/** Every password of the lab, read from the credentials files. */
function passwords(): string[] {
  return Object.values(log.credentialsFiles).map((file) => readCredentialsFile(file).pass);
}

/** Every regular file under `root` except the credentials files themselves. */
async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true });
  const credentials = new Set(Object.values(log.credentialsFiles));
  const files: string[] = [];
  for (const entry of entries) {
    const file = path.join(root, entry);
    if (!credentials.has(file) && (await lstat(file)).isFile()) files.push(file);
  }
  return files;
}

/** What a client that does not speak TLS gets: the INFO line, then whatever else, until closed. */
function plainClient(address: string, port: number): Promise<{ info: string; rest: string }> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host: address, port });
    let received = '';
    socket.setTimeout(5000, () => socket.destroy(new Error('the server kept the connection')));
    socket.on('data', (chunk) => {
      const first = received === '';
      received += chunk.toString('latin1');
      if (first) socket.write('CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n');
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const [info = '', ...rest] = received.split('\r\n');
      resolve({ info, rest: rest.join('\r\n') });
    });
  });
}

async function monitorJson(entry: LabNatsNode, endpoint: string): Promise<unknown> {
  const response = await fetch(new URL(endpoint, entry.monitorUrl));
  return response.json();
}

/** Publishes as admin through the nodes still up, retrying while JetStream elects leaders. */
async function publishEventually(
  subject: string,
  servers: readonly string[],
  timeoutMs = 20_000,
): Promise<number> {
  return waitUntil(
    `a publish to ${subject}`,
    async () => {
      let connection: NatsConnection | undefined;
      try {
        connection = await connectToLabNats(log, 'admin', { servers });
        const ack = await jetstream(connection).publish(subject, 'fault', { timeout: 1500 });
        return ack.seq;
      } catch {
        return undefined;
      } finally {
        await connection?.close();
      }
    },
    { timeoutMs, intervalMs: 250 },
  );
}

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-nats-lab-'));
  const started = performance.now();
  status = await labUp({
    directory,
    addressPrefix: PREFIX,
    zones: ['example.test', 'shop.test'],
    eventLog: 'nats',
    registryAgent: false,
    onProgress: (line) => progress.push(line),
  });
  process.stderr.write(
    `[nats-cluster] lab up with NATS took ${((performance.now() - started) / 1000).toFixed(2)} s\n`,
  );
  log = natsLog(status);
}, 60_000);

afterAll(async () => {
  await Promise.all(connections.map((connection) => connection.close()));
  await labDown({ directory });
  await rm(directory, { recursive: true, force: true });
});

describe('lab up --event-log nats', () => {
  it('runs three nodes in one JetStream cluster, and the stream on all three', async () => {
    expect(log.nodes.map((entry) => entry.address)).toEqual(
      [71, 72, 73].map((host) => `${PREFIX}.${host}`),
    );
    for (const entry of log.nodes) {
      expect(await isRunning(entry.pid, entry.binary), entry.id).toBe(true);
      const jsz = (await monitorJson(entry, 'jsz')) as {
        meta_cluster: { name: string; leader: string; cluster_size: number };
      };
      expect(jsz.meta_cluster).toMatchObject({ name: 'chorus', cluster_size: 3 });
      expect(jsz.meta_cluster.leader).toMatch(/^nats-[123]$/);
    }
    const manager = await jetstreamManager(await as('admin'));
    const info = await manager.streams.info('CHORUS');
    expect(info.config).toMatchObject({
      subjects: ['chorus.log.>'],
      num_replicas: 3,
      deny_delete: true,
      deny_purge: true,
    });
    const bucket = await manager.streams.info(`KV_${CONSUMERS_BUCKET}`);
    expect(bucket.config.num_replicas).toBe(3);
    const peers = [
      info.cluster?.leader,
      ...(info.cluster?.replicas ?? []).map((peer) => peer.name),
    ];
    expect(peers.sort()).toEqual(['nats-1', 'nats-2', 'nats-3']);
  });

  it('refuses clients without TLS, without a user or with a wrong password', async () => {
    const plain = await plainClient(node('nats-1').address, node('nats-1').clientPort);
    expect(plain.info).toMatch(/^INFO /);
    expect(JSON.parse(plain.info.slice(5))).toMatchObject({
      tls_required: true,
      auth_required: true,
    });
    expect(plain.rest).not.toContain('PONG');

    const tls = { caFile: log.caFile };
    await expect(connect({ servers: log.servers, tls, maxReconnectAttempts: 0 })).rejects.toThrow(
      /Authorization Violation/,
    );
    const { pass: password } = readCredentialsFile(log.credentialsFiles.bind!);
    await expect(
      connect({
        servers: log.servers,
        tls,
        user: 'bind',
        pass: `${password}x`,
        maxReconnectAttempts: 0,
      }),
    ).rejects.toThrow(/Authorization Violation/);
    // A server certificate from another CA is not trusted.
    await expect(
      connect({
        servers: log.servers,
        tls: {},
        user: 'bind',
        pass: password,
        maxReconnectAttempts: 0,
      }),
    ).rejects.toThrow();
  });

  it('serves a sidecar as its event log: own streams and consumer only', async () => {
    const sidecarLog = await createNatsEventLog<{ type: string }>({
      servers: log.servers,
      credentialsFile: log.credentialsFiles.powerdns!,
      tls: { caFile: log.caFile },
    });
    try {
      const stream = zoneStream('example.test.');
      const appended = await sidecarLog.append(stream, 0, [{ type: 'lab-check' }]);
      expect(appended.streamVersion).toBe(1);
      expect((await sidecarLog.readStream(stream)).map((recorded) => recorded.event)).toEqual([
        { type: 'lab-check' },
      ]);
      await expect(
        sidecarLog.append(zoneStream('other.test.'), 0, [{ type: 'lab-check' }]),
      ).rejects.toThrow(/ermission/);
      await sidecarLog.commitConsumer('powerdns', appended.positions[0]!);
      expect(await sidecarLog.consumerPosition('powerdns')).toBe(appended.positions[0]);
      await expect(sidecarLog.commitConsumer('knot', 1)).rejects.toThrow(/ermission/);
    } finally {
      await sidecarLog.close();
    }
  });

  it('gives racing appenders on different nodes exactly one winner per version', async () => {
    // nats-server 2.9 checks a subject's expected last sequence against stored messages only,
    // so in a cluster two appends in flight could both pass it; the log must not let them.
    const users = ['bind', 'powerdns', 'knot'] as const;
    const logs = await Promise.all(
      users.map((user, index) =>
        createNatsEventLog<{ type: string; by: string }>({
          servers: [log.servers[index]!],
          credentialsFile: log.credentialsFiles[user]!,
          tls: { caFile: log.caFile },
        }),
      ),
    );
    try {
      const stream = observationStream('example.test.');
      const rounds = 15;
      const winners: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const version = await logs[0]!.streamVersion(stream);
        const results = await Promise.allSettled(
          logs.map((racer, index) =>
            racer.append(stream, version, [{ type: 'race', by: users[index]! }]),
          ),
        );
        winners.push(results.filter((result) => result.status === 'fulfilled').length);
      }
      expect(winners).toEqual(Array.from({ length: rounds }, () => 1));
      const versions = (await logs[1]!.readStream(stream)).map(
        (recorded) => recorded.streamVersion,
      );
      expect(versions).toEqual(Array.from({ length: versions.length }, (_, index) => index + 1));
    } finally {
      await Promise.all(logs.map((racer) => racer.close()));
    }
  });

  it('lets a sidecar publish to its own zones only, and never manage the stream', async () => {
    const powerdns = await as('powerdns');
    const js = jetstream(powerdns);
    const own = await js.publish(zoneSubject('shop.test.'), '{"own":true}');
    expect(own.stream).toBe('CHORUS');
    await js.publish(subjectForStream(observationStream('shop.test.')), '{}');
    // broken.test. is the BIND signer's zone, other.test. nobody's.
    for (const zone of ['broken.test.', 'other.test.']) {
      await expect(js.publish(zoneSubject(zone), '{}'), zone).rejects.toThrow(
        /Permissions Violation for Publish/,
      );
    }
    const manager = await jetstreamManager(powerdns, { checkAPI: false });
    for (const stream of ['CHORUS', `KV_${CONSUMERS_BUCKET}`]) {
      await expect(manager.streams.delete(stream)).rejects.toThrow(/Permissions Violation/);
      await expect(manager.streams.purge(stream)).rejects.toThrow(/Permissions Violation/);
    }
    await expect(manager.streams.add({ name: 'MINE', subjects: ['mine.>'] })).rejects.toThrow(
      /Permissions Violation/,
    );
    // It reads the log through a consumer of its own.
    const consumer = await js.consumers.get('CHORUS', {
      filter_subjects: zoneSubject('shop.test.'),
    });
    const message = await consumer.next({ expires: 2000 });
    expect(message?.json()).toEqual({ own: true });
    // The BIND signer may write about broken.test.
    await jetstream(await as('bind')).publish(
      subjectForStream(observationStream('broken.test.')),
      '{}',
    );
  });

  it('keeps every credentials file 0600 and every password out of state, files, logs and monitoring', async () => {
    for (const file of Object.values(log.credentialsFiles)) {
      expect((await stat(file)).mode & 0o777, file).toBe(0o600);
      expect((await readFile(file, 'utf8')).split('\n'), file).toHaveLength(1);
    }
    for (const file of [log.authFile, path.join(path.dirname(log.caFile), 'server.key')])
      expect((await stat(file)).mode & 0o777, file).toBe(0o600);

    const secrets = passwords();
    expect(new Set(secrets).size).toBe(secrets.length);
    const texts = [
      JSON.stringify(await labStatus({ directory })),
      progress.join('\n'),
      ...(await Promise.all(
        log.nodes.flatMap((entry) =>
          ['varz', 'connz?auth=true&subs=true', 'routez', 'jsz?accounts=true'].map(
            async (endpoint) => JSON.stringify(await monitorJson(entry, endpoint)),
          ),
        ),
      )),
    ];
    const files = await filesUnder(directory);
    expect(files).toContain(path.join(directory, 'lab.json'));
    expect(files).toContain(node('nats-2').logFile);
    for (const file of files) texts.push(await readFile(file, 'latin1'));
    for (const text of texts)
      for (const secret of secrets) expect(text.includes(secret), 'a password leaked').toBe(false);
  });

  it('keeps a quorum without one node, stops taking writes without two, and recovers', async () => {
    const subject = zoneSubject('shop.test.');
    const down = await labStopServer({ directory, server: 'nats-2' });
    expect(natsLog(down).nodes.find((entry) => entry.id === 'nats-2')?.alive).toBe(false);
    expect(await isRunning(node('nats-2').pid, node('nats-2').binary)).toBe(false);
    const survivors = [node('nats-1'), node('nats-3')].map(
      (entry) => `tls://${entry.address}:4222`,
    );
    expect(await publishEventually(subject, survivors)).toBeGreaterThan(0);

    await labStopServer({ directory, server: 'nats-3' });
    const alone = await connectToLabNats(log, 'admin', { servers: [survivors[0]!] });
    await expect(
      jetstream(alone).publish(subject, 'no quorum', { timeout: 1500 }),
    ).rejects.toThrow();
    await alone.close();

    // Back to a quorum. Readiness waits for the meta leader, not for the stream's replicas to
    // catch up and elect a leader: on a loaded machine (CI runs the lab files alongside) that
    // has taken longer than 20 s, so the first write after it gets as long as readiness did.
    const restartedAt = performance.now();
    // A loaded machine may need a while for the meta leader election (as in nats-faults).
    const restarted = await labRestart({
      directory,
      servers: ['nats-2', 'nats-3'],
      readyTimeoutMs: 90_000,
    });
    process.stderr.write(
      `[nats-cluster] restarting two nodes took ${((performance.now() - restartedAt) / 1000).toFixed(2)} s\n`,
    );
    const nodes = natsLog(restarted).nodes;
    for (const entry of nodes)
      expect(await isRunning(entry.pid, entry.binary), entry.id).toBe(true);
    expect(nodes.find((entry) => entry.id === 'nats-3')?.restartedAt).toBeDefined();
    log = natsLog(restarted);
    expect(await publishEventually(subject, log.servers, 90_000)).toBeGreaterThan(0);
  }, 240_000);

  it('stops every node on down and removes the credentials, keys and stores', async () => {
    const before = natsLog(await labStatus({ directory }));
    const report = await labDown({ directory });
    expect(report.stopped.filter((entry) => entry.id.startsWith('nats-'))).toHaveLength(3);
    for (const entry of before.nodes)
      expect(await isRunning(entry.pid, entry.binary), entry.id).toBe(false);
    for (const file of [...Object.values(before.credentialsFiles), before.authFile, before.caFile])
      await expect(stat(file), file).rejects.toThrow(/ENOENT/);
    for (const entry of before.nodes) await expect(stat(entry.storeDir)).rejects.toThrow(/ENOENT/);
    expect(await labStatus({ directory })).toBeUndefined();
  });
});
