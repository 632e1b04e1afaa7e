// SQLite-only behaviour: durability, schema checks, rollback, and several OS processes sharing
// one file. The child processes import the BUILT package: run `pnpm -s build` first.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLogError, WrongExpectedVersionError } from '@chorus/core';
import { SQLITE_EVENT_LOG_SCHEMA_VERSION, createSqliteEventLog } from '../src/sqlite-event-log.js';

interface TestEvent {
  type: string;
  [field: string]: unknown;
}

const { DatabaseSync } = process.getBuiltinModule('node:sqlite');
const dir = mkdtempSync(join(tmpdir(), 'chorus-sqlite-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const freshPath = (): string => join(dir, `log-${++counter}.db`);
const open = (path: string, extra: { watch?: boolean; pollIntervalMs?: number } = {}) =>
  createSqliteEventLog<TestEvent>({ path, ...extra });

const now = (): number => performance.timeOrigin + performance.now();

/** Prints a measured figure (not asserted: machines differ). */
function report(line: string): void {
  // eslint-disable-next-line no-console
  console.log(`[event-log] ${line}`);
}

function summary(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return `min ${at(0).toFixed(1)} / median ${at(0.5).toFixed(1)} / p95 ${at(0.95).toFixed(1)} / max ${sorted.at(-1)!.toFixed(1)} ms`;
}

async function until(predicate: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('SQLite event log: storage', () => {
  it('keeps everything across close and reopen (durability)', async () => {
    const path = freshPath();
    const first = open(path);
    await first.append('zone/a.', 0, [{ type: 'a1' }, { type: 'a2' }]);
    await first.append('zone/b.', 0, [{ type: 'b1', nested: { list: [1, 'two', null] } }]);
    await first.commitConsumer('sidecar', 2);
    const before = await first.readAll();
    await first.close();

    const second = open(path);
    expect(await second.readAll()).toEqual(before);
    expect(await second.streamVersion('zone/a.')).toBe(2);
    expect(await second.consumerPosition('sidecar')).toBe(2);
    expect(await second.append('zone/a.', 2, [{ type: 'a3' }])).toEqual({
      streamVersion: 3,
      positions: [4],
    });
    await second.close();
  });

  it('uses the WAL journal and the expected schema', async () => {
    const path = freshPath();
    const log = open(path);
    await log.append('zone/a.', 0, [{ type: 'x' }]);
    const raw = new DatabaseSync(path);
    expect(raw.prepare('PRAGMA journal_mode').get()?.journal_mode).toBe('wal');
    expect(raw.prepare('SELECT schema_version FROM meta').get()?.schema_version).toBe(
      SQLITE_EVENT_LOG_SCHEMA_VERSION,
    );
    const row = raw.prepare('SELECT * FROM events').get();
    expect(row).toMatchObject({ position: 1, stream: 'zone/a.', stream_version: 1 });
    expect(JSON.parse(row?.body as string)).toEqual({ type: 'x' });
    raw.close();
    await log.close();
  });

  it('refuses a newer schema, a foreign database and a file that is not a database', async () => {
    const newer = freshPath();
    await open(newer).close();
    const raw = new DatabaseSync(newer);
    raw.exec('UPDATE meta SET schema_version = 99');
    raw.close();
    const schemaError = thrown(() => open(newer));
    expect(EventLogError.isInstance(schemaError) && schemaError.kind).toBe('schema');
    expect((schemaError as Error).message).toMatch(/schema version 99.*upgrade/);

    const foreign = freshPath();
    const other = new DatabaseSync(foreign);
    other.exec('CREATE TABLE customers (id INTEGER)');
    other.close();
    const foreignError = thrown(() => open(foreign));
    expect(EventLogError.isInstance(foreignError) && foreignError.kind).toBe('schema');
    expect((foreignError as Error).message).toMatch(/not a Chorus event log/);

    const garbage = freshPath();
    writeFileSync(garbage, 'this is not a database, just text that is long enough '.repeat(40));
    const garbageError = thrown(() => open(garbage));
    expect(EventLogError.isInstance(garbageError) && garbageError.kind).toBe('corrupt');

    const missingDir = thrown(() => open(join(dir, 'no-such-dir', 'log.db')));
    expect(EventLogError.isInstance(missingDir) && missingDir.kind).toBe('storage');
    expect(thrown(() => createSqliteEventLog({ path: ':memory:' }))).toMatchObject({
      kind: 'invalid-argument',
    });
    expect(thrown(() => open(freshPath(), { pollIntervalMs: 0 }))).toMatchObject({
      kind: 'invalid-argument',
    });
  });

  it('rolls back a failed append entirely and stays usable', async () => {
    const path = freshPath();
    const log = open(path);
    await log.append('zone/a.', 0, [{ type: 'first' }]);
    // A trigger makes the storage fail in the middle of a two-event append.
    const raw = new DatabaseSync(path);
    raw.exec(`CREATE TRIGGER refuse_boom BEFORE INSERT ON events WHEN NEW.body LIKE '%boom%'
              BEGIN SELECT RAISE(ABORT, 'simulated storage failure'); END`);
    const error = await rejection(log.append('zone/a.', 1, [{ type: 'fine' }, { type: 'boom' }]));
    expect(EventLogError.isInstance(error) && error.kind).toBe('storage');
    expect((error as Error).message).toMatch(/simulated storage failure/);
    expect((await log.readAll()).map((e) => e.event.type)).toEqual(['first']);
    raw.exec('DROP TRIGGER refuse_boom');
    raw.close();
    expect(await log.append('zone/a.', 1, [{ type: 'second' }])).toEqual({
      streamVersion: 2,
      positions: [2], // the rollback undid the position counter too: no gap
    });
    await log.close();
  });

  it('commits appends made at once in one transaction; a version conflict refuses that append alone', async () => {
    const path = freshPath();
    const log = open(path);
    await log.append('zone/a.', 0, [{ type: 'first' }]);
    // Every commit appends the pages it changed to the WAL: 23 commits would write dozens.
    const walPages = () => (statSync(`${path}-wal`).size - 32) / (4096 + 24);
    const before = walPages();
    const streams = Array.from({ length: 20 }, (_, index) => `zone/z${index}.`);
    const results = await Promise.allSettled([
      ...streams.map((stream) => log.append(stream, 0, [{ type: 'batched' }])),
      log.append('zone/a.', 0, [{ type: 'stale' }]),
      log.append('zone/c.', 0, [{ type: 'race-one' }]),
      log.append('zone/c.', 0, [{ type: 'race-two' }]),
    ]);
    const written = walPages() - before;
    report(`23 appends at once wrote ${written} WAL pages`);
    expect(written).toBeLessThanOrEqual(8);
    const refused = results.flatMap((result, index) =>
      result.status === 'rejected'
        ? [[index, WrongExpectedVersionError.isInstance(result.reason)]]
        : [],
    );
    expect(refused).toEqual([
      [20, true],
      [22, true],
    ]);
    expect((await log.readStream('zone/c.')).map((e) => e.event.type)).toEqual(['race-one']);
    expect((await log.readStream('zone/a.')).map((e) => e.event.type)).toEqual(['first']);
    const positions = (await log.readAll()).map((e) => e.position);
    expect(positions).toEqual(Array.from({ length: 22 }, (_, index) => index + 1));
    await log.close();
  });

  it('reports a corrupt row instead of returning garbage', async () => {
    const path = freshPath();
    const log = open(path);
    await log.append('zone/a.', 0, [{ type: 'ok' }]);
    const raw = new DatabaseSync(path);
    raw.exec("UPDATE events SET body = '{not json' WHERE position = 1");
    raw.close();
    const error = await rejection(log.readStream('zone/a.'));
    expect(EventLogError.isInstance(error) && error.kind).toBe('corrupt');
    expect((error as Error).message).toMatch(/position 1 is not valid JSON/);
    await log.close();
  });

  it('checks expected versions across two connections in one process', async () => {
    const path = freshPath();
    const one = open(path);
    const two = open(path);
    await one.append('zone/a.', 0, [{ type: 'from-one' }]);
    const error = await rejection(two.append('zone/a.', 0, [{ type: 'from-two' }]));
    expect(WrongExpectedVersionError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ expected: 0, actual: 1 });
    await two.append('zone/a.', 1, [{ type: 'from-two' }]);
    expect((await one.readStream('zone/a.')).map((e) => e.event.type)).toEqual([
      'from-one',
      'from-two',
    ]);
    await Promise.all([one.close(), two.close()]);
  });

  it("waits for another writer's lock without blocking the event loop, then appends", async () => {
    const path = freshPath();
    const log = open(path);
    await log.append('zone/a.', 0, [{ type: 'first' }]);
    const holder = new DatabaseSync(path);
    holder.exec('BEGIN IMMEDIATE');
    let ticks = 0;
    const ticker = setInterval(() => (ticks += 1), 5);
    const appended = log.append('zone/a.', 1, [{ type: 'after-the-lock' }]);
    await new Promise((resolve) => setTimeout(resolve, 150));
    holder.exec('COMMIT');
    await appended;
    clearInterval(ticker);
    holder.close();
    // A busy wait inside SQLite would freeze the timers (and never see this release).
    expect(ticks).toBeGreaterThan(5);
    expect((await log.readStream('zone/a.')).map((e) => e.event.type)).toEqual([
      'first',
      'after-the-lock',
    ]);
    await log.close();
  });

  it('reports busy, retryable, once the lock stays held past busyTimeoutMs', async () => {
    const path = freshPath();
    const log = createSqliteEventLog<TestEvent>({ path, busyTimeoutMs: 200 });
    await log.append('zone/a.', 0, [{ type: 'first' }]);
    const holder = new DatabaseSync(path);
    holder.exec('BEGIN IMMEDIATE');
    const started = performance.now();
    const error = await rejection(log.append('zone/a.', 1, [{ type: 'never' }]));
    const waited = performance.now() - started;
    holder.exec('ROLLBACK');
    holder.close();
    expect(EventLogError.isInstance(error) && error.kind).toBe('busy');
    expect((error as EventLogError).isRetryable).toBe(true);
    expect(waited).toBeGreaterThanOrEqual(190);
    expect((await log.readStream('zone/a.')).map((e) => e.event.type)).toEqual(['first']);
    await log.close();
  });

  it('measures single-process append throughput (fsync per commit)', async () => {
    const log = open(freshPath());
    const count = 300;
    let started = now();
    for (let i = 0; i < count; i++) await log.append('zone/a.', i, [{ type: 'tick', i }]);
    const single = now() - started;
    const batch = Array.from({ length: 1000 }, (_, i) => ({ type: 'bulk', i }));
    started = now();
    await log.append('zone/b.', 0, batch);
    const bulk = now() - started;
    started = now();
    const all = await log.readAll();
    const read = now() - started;
    expect(all).toHaveLength(count + batch.length);
    report(
      `single process: ${count} one-event appends in ${single.toFixed(0)} ms = ${((count / single) * 1000).toFixed(0)} appends/s ` +
        `(${(single / count).toFixed(2)} ms each); one append of ${batch.length} events in ${bulk.toFixed(1)} ms; ` +
        `readAll of ${all.length} events in ${read.toFixed(1)} ms`,
    );
    await log.close();
  });

  it('wakes a subscriber on another connection in the same process', async () => {
    const path = freshPath();
    const writer = open(path);
    const reader = open(path);
    const received = new Map<number, number>();
    const subscription = reader.subscribe({
      onEvent: (e) => void received.set(e.event.seq as number, now()),
    });
    await subscription.ready;
    const latencies: number[] = [];
    for (let seq = 0; seq < 20; seq++) {
      await writer.append('zone/a.', seq, [{ type: 'ping', seq }]);
      const committed = now();
      await until(() => received.has(seq), `event ${seq}`);
      latencies.push(received.get(seq)! - committed);
    }
    report(`other connection, same process (fs.watch): latency ${summary(latencies)}`);
    await subscription.close();
    await Promise.all([writer.close(), reader.close()]);
  });
});

// ---------------------------------------------------------------------------------------------
// Several OS processes on one file.

const workerScript = fileURLToPath(new URL('./fixtures/event-log/worker.mjs', import.meta.url));
const builtIndex = fileURLToPath(new URL('../dist/index.js', import.meta.url));

interface Worker {
  ready: Promise<void>;
  messages: Record<string, unknown>[];
  go(): void;
  exited: Promise<void>;
}

function spawnWorker(
  args: string[],
  onMessage?: (message: Record<string, unknown>) => void,
): Worker {
  const child = spawn(process.execPath, [workerScript, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const messages: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const message = JSON.parse(line) as Record<string, unknown>;
    if (message.ready === true) markReady();
    else {
      messages.push(message);
      onMessage?.(message);
    }
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`worker exited with ${code}: ${stderr}`)),
    );
  });
  // A worker that dies before "ready" must fail the test, not hang it.
  exited.catch(() => markReady());
  return { ready, messages, go: () => child.stdin.end('go\n'), exited };
}

/** Starts workers together: waits until all have opened the log, then releases them at once. */
async function runTogether(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((worker) => worker.ready));
  for (const worker of workers) worker.go();
  await Promise.all(workers.map((worker) => worker.exited));
}

describe('SQLite event log: several OS processes', () => {
  beforeAll(() => {
    if (
      !existsSync(builtIndex) ||
      !readFileSync(builtIndex, 'utf8').includes('createSqliteEventLog')
    )
      throw new Error(
        `${builtIndex} is missing or stale: run \`pnpm -s build\` before these tests`,
      );
  });

  it('4 processes × 50 optimistic appends to one stream: 200 events, no gaps, no duplicates', async () => {
    const path = freshPath();
    const log = open(path); // creates the file and schema before the workers start
    const started = now();
    const workers = [0, 1, 2, 3].map((id) =>
      spawnWorker(['loop', path, 'zone/shared.', '50', String(id)]),
    );
    await Promise.all(workers.map((worker) => worker.ready));
    const released = now();
    for (const worker of workers) worker.go();
    await Promise.all(workers.map((worker) => worker.exited));
    const elapsed = now() - released;

    const events = await log.readStream('zone/shared.');
    expect(events).toHaveLength(200);
    expect(events.map((e) => e.streamVersion)).toEqual(
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    const positions = events.map((e) => e.position);
    expect(positions.every((p, i) => i === 0 || p > positions[i - 1]!)).toBe(true);
    expect(new Set(positions).size).toBe(200);
    for (const id of [0, 1, 2, 3]) {
      const mine = events.filter((e) => e.event.worker === id).map((e) => e.event.i);
      expect(mine).toEqual(Array.from({ length: 50 }, (_, i) => i));
    }
    const results = workers.map((worker) => worker.messages.at(-1)!);
    const conflicts = results.map((r) => r.conflicts as number);
    const busy = results.reduce((sum, r) => sum + (r.busy as number), 0);
    report(
      `4 processes × 50 appends: ${elapsed.toFixed(0)} ms after release = ${((200 / elapsed) * 1000).toFixed(0)} appends/s; ` +
        `conflicts retried per worker ${conflicts.join('/')}, busy ${busy}; spawn+open ${(released - started).toFixed(0)} ms`,
    );
    await log.close();
  }, 60_000);

  it('N processes race once at the same expected version: exactly one wins each round', async () => {
    const path = freshPath();
    const log = open(path);
    const processes = 8;
    const rounds = 3;
    for (let round = 0; round < rounds; round++) {
      const workers = Array.from({ length: processes }, () =>
        spawnWorker(['once', path, 'zone/step.', String(round)]),
      );
      await runTogether(workers);
      const outcomes = workers.map((worker) => worker.messages.at(-1)!);
      expect(outcomes.filter((o) => o.ok === true)).toHaveLength(1);
      expect(outcomes.filter((o) => o.error === 'Chorus_WrongExpectedVersionError')).toHaveLength(
        processes - 1,
      );
      expect(await log.streamVersion('zone/step.')).toBe(round + 1);
    }
    const steps = await log.readStream('zone/step.');
    expect(steps.map((e) => e.event.type)).toEqual(Array(rounds).fill('step-completed'));
    report(
      `${processes} racing processes × ${rounds} rounds: exactly one step-completed per round`,
    );
    await log.close();
  }, 60_000);

  for (const mode of ['watch', 'poll-only'] as const) {
    it(`a subscriber sees events appended by a child process (${mode})`, async () => {
      const path = freshPath();
      const log = open(path, mode === 'watch' ? {} : { watch: false, pollIntervalMs: 1000 });
      const received = new Map<number, number>();
      const subscription = log.subscribe({
        consumer: 'observer',
        onEvent: (e) => void received.set(e.event.seq as number, now()),
      });
      await subscription.ready;
      const count = mode === 'watch' ? 30 : 6;
      const gap = mode === 'watch' ? 20 : 170;
      const worker = spawnWorker(['emit', path, 'zone/ping.', String(count), String(gap)]);
      await runTogether([worker]);
      await until(() => received.size === count, 'all pings');
      const commits = worker.messages.filter((m) => typeof m.seq === 'number');
      const latencies = commits.map(
        (m) => received.get(m.seq as number)! - (m.committedAt as number),
      );
      const appendMs = commits.map((m) => m.appendMs as number);
      report(
        `cross-process notification (${mode}): ${summary(latencies)} after the writer's append resolved; ` +
          `writer's append ${summary(appendMs)}`,
      );
      expect([...received.keys()].sort((a, b) => a - b)).toEqual(
        Array.from({ length: count }, (_, i) => i),
      );
      while ((await log.consumerPosition('observer')) < count)
        await new Promise((resolve) => setTimeout(resolve, 5));
      await subscription.close();
      expect(await log.consumerPosition('observer')).toBe(count);
      await log.close();
    }, 60_000);
  }
});
