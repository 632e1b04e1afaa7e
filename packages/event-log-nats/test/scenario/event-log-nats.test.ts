// NATS-only behaviour, against real nats-servers this file starts: the subject layout and
// positions, the permissions of a restricted client as the server enforces them, credentials
// files, secrets kept out of errors and logs, TLS, restarts, and the clear errors at open.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLogError, WrongExpectedVersionError, type EventLog } from '@chorus/core';
import {
  clientPermissions,
  CONSUMERS_BUCKET,
  createNatsEventLog,
  DEFAULT_STREAM_NAME,
  subjectForStream,
  type NatsEventLogOptions,
} from '../../src/index.js';
import { startNatsServer, type NatsServer } from '../../src/testing.js';

interface TestEvent {
  type: string;
  [field: string]: unknown;
}

const dir = mkdtempSync(join(tmpdir(), 'chorus-nats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const fresh = (name: string) => join(dir, `${name}-${++counter}`);

const ADMIN = { user: 'admin', password: 'admin-pw-Qx7!' };
const SIDECAR = { user: 'sidecar-a', password: 's3cret-sidecar-pw-Zk2' };
/** A sidecar with its own inbox prefix, so it cannot read other clients' replies. */
const PRIVATE = { user: 'sidecar-c', password: 'private-pw-Lm4', inboxPrefix: '_INBOX_sidecar_c' };

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

async function until(predicate: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Prints a measured figure (not asserted: machines differ). */
function report(line: string): void {
  // eslint-disable-next-line no-console
  console.log(`[event-log-nats] ${line}`);
}

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return `median ${at(0.5).toFixed(2)} / p95 ${at(0.95).toFixed(2)} / max ${sorted.at(-1)!.toFixed(2)} ms`;
}

/** A file holding `user:password`, mode 0600 unless told otherwise. */
function credentialsFile(user: string, password: string, mode = 0o600): string {
  const path = `${fresh('credentials')}.txt`;
  writeFileSync(path, `${user}:${password}\n`);
  chmodSync(path, mode);
  return path;
}

/** Everything the logger wrote, as one string. */
function capturedLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), text: () => lines.join('') };
}

/** Every text an error exposes: message, JSON, its causes' messages. */
function errorText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  while (current instanceof Error) {
    parts.push(current.message, String(current.stack), JSON.stringify(current));
    current = current.cause;
  }
  return parts.join('\n');
}

describe('NATS event log: layout', () => {
  let server: NatsServer;
  let log: EventLog<TestEvent>;
  beforeAll(async () => {
    server = await startNatsServer({ dir: fresh('layout') });
    log = await createNatsEventLog<TestEvent>({ servers: [server.url], createStream: true });
  });
  afterAll(async () => {
    await log?.close();
    await server?.stop();
  });

  it('maps each stream to chorus.log.<base64url(name)>, without padding', () => {
    expect(subjectForStream('zone/example.test')).toBe('chorus.log.em9uZS9leGFtcGxlLnRlc3Q');
    expect(subjectForStream('zone/a.', 'x.y')).toBe('x.y.em9uZS9hLg');
    expect(subjectForStream('zone/zürich.test')).toBe(
      `chorus.log.${Buffer.from('zone/zürich.test').toString('base64url')}`,
    );
    expect(() => subjectForStream('')).toThrow(/stream must not be empty/);
    expect(() => subjectForStream('zone/a.', 'chorus.*')).toThrow(/subjectPrefix/);
  });

  it('stores one message per append with its version headers; positions count 1024 per message', async () => {
    const first = await log.append('zone/layout.', 0, [{ type: 'a' }, { type: 'b' }]);
    const second = await log.append('zone/layout.', 2, [{ type: 'c' }]);
    const nc = await connect({ servers: server.url });
    try {
      const jsm = await jetstreamManager(nc);
      const subject = subjectForStream('zone/layout.');
      const last = await jsm.streams.getMessage(DEFAULT_STREAM_NAME, { last_by_subj: subject });
      expect(last!.subject).toBe(subject);
      expect(last!.header.get('Chorus-Log')).toBe('1');
      expect(last!.header.get('Chorus-Version')).toBe('3');
      const previous = Number(last!.header.get('Chorus-Previous'));
      expect(first.positions).toEqual([(previous - 1) * 1024 + 1, (previous - 1) * 1024 + 2]);
      expect(second.positions).toEqual([(last!.seq - 1) * 1024 + 1]);
      expect(last!.json()).toEqual([{ type: 'c' }]);
      const info = await jsm.streams.info(DEFAULT_STREAM_NAME);
      expect(info.config).toMatchObject({
        subjects: ['chorus.log.>'],
        deny_delete: true,
        deny_purge: true,
      });
      await jsm.streams.info(`KV_${CONSUMERS_BUCKET}`);
    } finally {
      await nc.close();
    }
  });

  it('makes a retried append idempotent for the same log object only', async () => {
    const events = [{ type: 'step-completed', step: 2 }];
    const once = await log.append('zone/retry.', 0, events);
    // The same append again (a retry after `unavailable`, say) returns the first result.
    expect(await log.append('zone/retry.', 0, events)).toEqual(once);
    expect(await log.streamVersion('zone/retry.')).toBe(1);
    const other = await createNatsEventLog<TestEvent>({ servers: [server.url] });
    try {
      const error = await rejection(other.append('zone/retry.', 0, events));
      expect(WrongExpectedVersionError.isInstance(error)).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('lets exactly one of several clients win a race with identical events', async () => {
    const clients = await Promise.all(
      Array.from({ length: 5 }, () => createNatsEventLog<TestEvent>({ servers: [server.url] })),
    );
    try {
      const step = [{ type: 'step-completed', step: 7 }];
      const outcomes = await Promise.allSettled(
        clients.map((client) => client.append('zone/race.', 0, step)),
      );
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      for (const outcome of outcomes)
        if (outcome.status === 'rejected')
          expect(WrongExpectedVersionError.isInstance(outcome.reason)).toBe(true);
      expect(await log.streamVersion('zone/race.')).toBe(1);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  });

  it('refuses an append larger than the server max_payload, naming the limit', async () => {
    const big = { type: 'big', blob: 'x'.repeat(1024 * 1024) };
    const error = await rejection(log.append('zone/big.', 0, [big]));
    expect(EventLogError.isInstance(error) && error.kind).toBe('invalid-argument');
    expect((error as Error).message).toMatch(/max_payload \(1048576\)/);
  });
});

describe('NATS event log: measured (printed, not asserted)', () => {
  it('appends, a large append, and the delay until another client is notified', async () => {
    const server = await startNatsServer({ dir: fresh('measure') });
    const writer = await createNatsEventLog<TestEvent>({
      servers: [server.url],
      createStream: true,
    });
    const reader = await createNatsEventLog<TestEvent>({ servers: [server.url] });
    try {
      const appends: number[] = [];
      for (let version = 0; version < 200; version++) {
        const started = performance.now();
        await writer.append('zone/measure.', version, [{ type: 'tick', version }]);
        appends.push(performance.now() - started);
      }
      const bulk = Array.from({ length: 1000 }, (_, i) => ({ type: 'bulk', i }));
      let started = performance.now();
      await writer.append('zone/bulk.', 0, bulk);
      const bulkMs = performance.now() - started;
      started = performance.now();
      expect(await reader.readAll()).toHaveLength(1200);
      const readMs = performance.now() - started;

      const notified: number[] = [];
      let sentAt = 0;
      const subscription = reader.subscribe({
        afterPosition: (await reader.readAll()).at(-1)!.position,
        onEvent: () => void notified.push(performance.now() - sentAt),
      });
      await subscription.ready;
      for (let version = 200; version < 250; version++) {
        await writer.append('zone/measure.', version, [{ type: 'tick', version }]);
        sentAt = performance.now();
        await until(() => notified.length === version - 199, 'the notification');
      }
      await subscription.close();
      report(
        `one-event appends ${summary(appends)}; 1,000 events in one append ${bulkMs.toFixed(1)} ms; ` +
          `readAll of 1,200 events ${readMs.toFixed(1)} ms; other client notified ${summary(notified)} after the append resolved`,
      );
    } finally {
      await reader.close();
      await writer.close();
      await server.stop();
    }
  });
});

describe('NATS event log: restarts', () => {
  it('keeps events and consumer positions across a server restart and a new client', async () => {
    const server = await startNatsServer({ dir: fresh('restart') });
    const options: NatsEventLogOptions = {
      servers: [server.url],
      createStream: true,
      reconnectWaitMs: 50,
    };
    try {
      const first = await createNatsEventLog<TestEvent>(options);
      await first.append('zone/a.', 0, [{ type: '1' }, { type: '2' }]);
      const handled: string[] = [];
      const subscription = first.subscribe({
        consumer: 'sidecar',
        onEvent: (e) => void handled.push(e.event.type),
      });
      await subscription.ready;
      const committed = await first.consumerPosition('sidecar');
      await first.close(); // the "process" ends

      await server.stop({ kill: true });
      await server.start();

      const second = await createNatsEventLog<TestEvent>({ ...options, createStream: false });
      try {
        expect(await second.consumerPosition('sidecar')).toBe(committed);
        expect((await second.readStream('zone/a.')).map((e) => e.event.type)).toEqual(['1', '2']);
        await second.append('zone/a.', 2, [{ type: '3' }]);
        const resumed: string[] = [];
        const again = second.subscribe({
          consumer: 'sidecar',
          onEvent: (e) => void resumed.push(e.event.type),
        });
        await again.ready;
        await again.close();
        expect([handled, resumed]).toEqual([['1', '2'], ['3']]);
      } finally {
        await second.close();
      }
    } finally {
      await server.stop();
    }
  });
});

describe('NATS event log: permissions of a restricted client', () => {
  let server: NatsServer;
  let admin: EventLog<TestEvent>;
  const sidecarPermissions = clientPermissions({ streams: ['zone/a.'], consumers: ['sidecar-a'] });

  beforeAll(async () => {
    server = await startNatsServer({
      dir: fresh('permissions'),
      users: [
        ADMIN,
        { ...SIDECAR, permissions: sidecarPermissions },
        {
          user: PRIVATE.user,
          password: PRIVATE.password,
          permissions: clientPermissions({
            streams: ['zone/c.'],
            consumers: ['sidecar-c'],
            inboxPrefix: PRIVATE.inboxPrefix,
          }),
        },
      ],
    });
    admin = await createNatsEventLog<TestEvent>({
      servers: [server.url],
      credentialsFile: credentialsFile(ADMIN.user, ADMIN.password),
      createStream: true,
    });
    await admin.append('zone/b.', 0, [{ type: 'b1' }]);
  });
  afterAll(async () => {
    await admin?.close();
    await server?.stop();
  });

  const openSidecar = (logger?: ReturnType<typeof capturedLogger>['logger']) =>
    createNatsEventLog<TestEvent>({
      servers: [server.url],
      credentialsFile: credentialsFile(SIDECAR.user, SIDECAR.password),
      requestTimeoutMs: 2000,
      ...(logger === undefined ? {} : { logger }),
    });

  it('lists only its subjects and the JetStream API calls it needs, no admin ones', () => {
    expect(sidecarPermissions.publish).toContain(subjectForStream('zone/a.'));
    expect(sidecarPermissions.publish).not.toContain(subjectForStream('zone/b.'));
    expect(sidecarPermissions.subscribe).toEqual(['_INBOX.>']);
    for (const subject of sidecarPermissions.publish)
      expect(subject).not.toMatch(/STREAM\.(CREATE|UPDATE|DELETE|PURGE)|MSG\.DELETE|\$JS\.API\.>/);
  });

  it('appends to its own stream, reads everything, subscribes and commits its consumer', async () => {
    const sidecar = await openSidecar();
    try {
      await sidecar.append('zone/a.', 0, [{ type: 'a1' }]);
      expect((await sidecar.readStream('zone/b.')).map((e) => e.event.type)).toEqual(['b1']);
      expect((await sidecar.readAll()).map((e) => e.event.type)).toEqual(['b1', 'a1']);
      const seen: string[] = [];
      const subscription = sidecar.subscribe({
        consumer: 'sidecar-a',
        onEvent: (e) => void seen.push(e.event.type),
      });
      await subscription.ready;
      await admin.append('zone/b.', 1, [{ type: 'b2' }]);
      await until(() => seen.length === 3, 'the live event');
      await subscription.close();
      expect(seen).toEqual(['b1', 'a1', 'b2']);
      const last = (await admin.readAll()).at(-1)!.position;
      expect(await sidecar.consumerPosition('sidecar-a')).toBe(last);
      await sidecar.commitConsumer('sidecar-a', 0);
      expect(await admin.consumerPosition('sidecar-a')).toBe(0);
    } finally {
      await sidecar.close();
    }
  });

  it("cannot append to another stream or commit another consumer's position", async () => {
    const { logger, text } = capturedLogger();
    const sidecar = await openSidecar(logger);
    try {
      for (const call of [
        sidecar.append('zone/b.', 2, [{ type: 'forged' }]),
        sidecar.commitConsumer('sidecar-b', 0),
      ]) {
        const error = await rejection(call);
        expect(EventLogError.isInstance(error) && error.kind).toBe('permission');
        expect((error as EventLogError).isRetryable).toBe(false);
        expect(errorText(error)).not.toContain(SIDECAR.password);
      }
      expect((await admin.readStream('zone/b.')).map((e) => e.event.type)).toEqual(['b1', 'b2']);
      expect(await admin.consumerPosition('sidecar-b')).toBe(0);
    } finally {
      await sidecar.close();
    }
    expect(text()).not.toContain(SIDECAR.password);
  });

  it('cannot create, change, purge or delete the stream or the bucket', async () => {
    const nc = await connect({ servers: server.url, user: SIDECAR.user, pass: SIDECAR.password });
    try {
      const jsm = await jetstreamManager(nc, { checkAPI: false, timeout: 2000 });
      const attempts: [string, () => Promise<unknown>][] = [
        ['delete', () => jsm.streams.delete(DEFAULT_STREAM_NAME)],
        ['purge', () => jsm.streams.purge(DEFAULT_STREAM_NAME)],
        ['update', () => jsm.streams.update(DEFAULT_STREAM_NAME, { max_msgs: 1 })],
        ['create', () => jsm.streams.add({ name: 'EVIL', subjects: ['evil.>'] })],
        ['delete bucket', () => jsm.streams.delete(`KV_${CONSUMERS_BUCKET}`)],
        ['delete message', () => jsm.streams.deleteMessage(DEFAULT_STREAM_NAME, 1)],
      ];
      for (const [what, attempt] of attempts) {
        const error = await rejection(attempt());
        expect([what, (error as Error).message]).toEqual([
          what,
          expect.stringMatching(/^Permissions Violation for Publish to "\$JS\.API\./),
        ]);
      }
    } finally {
      await nc.close();
    }
    const info = await admin.readAll();
    expect(info.map((e) => e.event.type)).toEqual(['b1', 'a1', 'b2']);
  });

  it('works with its own inbox prefix, which is all it may subscribe to', async () => {
    const sidecar = await createNatsEventLog<TestEvent>({
      servers: [server.url],
      user: PRIVATE.user,
      pass: PRIVATE.password,
      inboxPrefix: PRIVATE.inboxPrefix,
      requestTimeoutMs: 2000,
    });
    try {
      await sidecar.append('zone/c.', 0, [{ type: 'c1' }]);
      const seen: string[] = [];
      const subscription = sidecar.subscribe({
        consumer: 'sidecar-c',
        streamPrefix: 'zone/c.',
        onEvent: (e) => void seen.push(e.event.type),
      });
      await subscription.ready;
      await subscription.close();
      expect(seen).toEqual(['c1']);
      expect((await sidecar.readStream('zone/c.')).map((e) => e.event.type)).toEqual(['c1']);
    } finally {
      await sidecar.close();
    }
    // With the default inbox it cannot even get an answer.
    const error = await rejection(
      createNatsEventLog({
        servers: [server.url],
        user: PRIVATE.user,
        pass: PRIVATE.password,
        requestTimeoutMs: 1000,
      }),
    );
    expect(EventLogError.isInstance(error) && error.kind).toBe('permission');
  });

  it('is refused with a wrong password, without the password in the error or the logs', async () => {
    const { logger, text } = capturedLogger();
    const wrong = 'wrong-pw-9f8e7d';
    const error = await rejection(
      createNatsEventLog({
        servers: [server.url],
        credentialsFile: credentialsFile(SIDECAR.user, wrong),
        logger,
      }),
    );
    expect(EventLogError.isInstance(error) && error.kind).toBe('permission');
    expect(errorText(error)).not.toContain(wrong);
    expect(text()).not.toContain(wrong);
  });
});

describe('NATS event log: opening', () => {
  it('refuses a credentials file readable by group or others, and bad ones, quoting no secret', async () => {
    const loose = credentialsFile('u', 'loose-pw-1', 0o640);
    const missing = join(dir, 'no-such-file');
    const malformed = `${fresh('malformed')}.txt`;
    writeFileSync(malformed, 'just-a-password-2\n', { mode: 0o600 });
    const cases: [NatsEventLogOptions, RegExp][] = [
      [{ servers: ['nats://127.0.0.1:1'], credentialsFile: loose }, /chmod 600.*|mode 0640/],
      [{ servers: ['nats://127.0.0.1:1'], credentialsFile: missing }, /cannot read.*ENOENT/],
      [{ servers: ['nats://127.0.0.1:1'], credentialsFile: malformed }, /"user:password"/],
      [{ servers: ['nats://u:url-pw-3@127.0.0.1:1'] }, /must not carry credentials/],
      [{ servers: ['nats://127.0.0.1:1'], user: 'u' }, /user and pass go together/],
      [{ servers: [] }, /at least one server/],
      [{ servers: ['http://127.0.0.1:1'] }, /nats:\/\/ or tls:\/\//],
      [{ servers: ['nats://127.0.0.1:1'], streamName: 'A.B' }, /streamName/],
    ];
    for (const [options, message] of cases) {
      const error = await rejection(createNatsEventLog(options));
      expect(EventLogError.isInstance(error) && error.kind).toBe('invalid-argument');
      expect((error as Error).message).toMatch(message);
      expect(errorText(error)).not.toMatch(/loose-pw-1|just-a-password-2|url-pw-3/);
    }
  });

  it('rejects as unavailable, in time, naming the servers, when no server answers', async () => {
    const started = Date.now();
    const error = await rejection(
      createNatsEventLog({
        servers: ['nats://127.0.0.1:1'],
        user: 'u',
        pass: 'unreachable-pw-4',
        requestTimeoutMs: 1000,
      }),
    );
    expect(Date.now() - started).toBeLessThan(3000);
    expect(EventLogError.isInstance(error) && error.kind).toBe('unavailable');
    expect((error as EventLogError).isRetryable).toBe(true);
    expect((error as Error).message).toMatch(
      /^event log unavailable: NATS at nats:\/\/127.0.0.1:1 /,
    );
    expect(errorText(error)).not.toContain('unreachable-pw-4');
  });

  it('refuses to open a stream that an admin has not created', async () => {
    const server = await startNatsServer({ dir: fresh('missing') });
    try {
      const error = await rejection(createNatsEventLog({ servers: [server.url] }));
      expect(EventLogError.isInstance(error) && error.kind).toBe('storage');
      expect((error as Error).message).toMatch(
        /has no JetStream stream CHORUS; an admin creates it \(createStream: true\)/,
      );
    } finally {
      await server.stop();
    }
  });
});

describe('NATS event log: TLS', () => {
  it('connects over tls:// with the CA file, and refuses a server it cannot verify', async () => {
    const tlsDir = fresh('tls');
    const server = await startTlsServer(tlsDir);
    const url = `tls://127.0.0.1:${server.port}`;
    try {
      const log = await createNatsEventLog<TestEvent>({
        servers: [url],
        tls: { caFile: join(tlsDir, 'ca.pem') },
        createStream: true,
      });
      await log.append('zone/tls.', 0, [{ type: 'over-tls' }]);
      expect(await log.streamVersion('zone/tls.')).toBe(1);
      await log.close();

      const error = await rejection(createNatsEventLog({ servers: [url], requestTimeoutMs: 1000 }));
      expect(EventLogError.isInstance(error) && error.kind).toBe('storage');
      expect((error as Error).message).toMatch(/certificate/);
      expect((error as Error).message).toContain(url);
    } finally {
      await server.stop();
    }
  });
});

/** A CA and a certificate for 127.0.0.1 (openssl), and a server that requires TLS. */
function startTlsServer(tlsDir: string): Promise<NatsServer> {
  mkdirSync(tlsDir, { recursive: true });
  const openssl = (command: string) =>
    execFileSync('openssl', command.split(' '), { cwd: tlsDir, stdio: 'ignore' });
  openssl('req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=ca -keyout ca-key.pem -out ca.pem');
  openssl('req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout key.pem -out server.csr');
  writeFileSync(join(tlsDir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    'x509 -req -days 1 -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -extfile san.cnf -out cert.pem',
  );
  const file = (name: string) => JSON.stringify(join(tlsDir, name));
  return startNatsServer({
    dir: tlsDir,
    config: `tls { cert_file: ${file('cert.pem')}, key_file: ${file('key.pem')} }`,
  });
}
