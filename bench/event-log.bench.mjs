// `pnpm bench:event-log` (and `pnpm bench`): the SQLite event log and the NATS JetStream event log
// side by side, in one run. Figures, not assertions: compare the columns of one run with each
// other (machines here are noisy); nothing here fails on a time.
//
// - append→deliver: a writer appends one event at a time while a subscriber on a SECOND log object
//   (its own connection) receives them; per event, the time from just before `append()` to the
//   subscriber's `onEvent`. The next append starts once both happened.
// - sequential appends/s: one writer, single-event appends with the right expected version.
// - racing appends/s: BENCH_RACERS log objects, each in its own worker thread (so SQLite writers
//   really meet each other's locks), append to ONE stream, retrying on WrongExpectedVersionError.
//
// NATS: a real `nats-server` started here on 127.0.0.1 (a free port, a temporary store), stopped
// by its PID; then a 3-node cluster on 127.0.0.1 (stream replicas 3), column "NATS R3", unless
// `--no-cluster` (or BENCH_NATS_CLUSTER=0).
//
// Options: `--json [file]` writes the figures as JSON to `file`, or to stdout (the table then goes
// to stderr) when no file or `-` is given; BENCH_JSON=<file> does the same. BENCH_DIR: where the
// temporary stores go (default the OS temp directory). Sizes: BENCH_LATENCY_EVENTS (1000),
// BENCH_APPENDS (2000), BENCH_RACERS (4), BENCH_RACE_APPENDS (1000, shared by the racers),
// BENCH_WARMUP (50).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { ChorusError, WrongExpectedVersionError } from '../packages/core/dist/index.js';
import { createSqliteEventLog } from '../packages/event-log-sqlite/dist/index.js';
import { createNatsEventLog } from '../packages/event-log-nats/dist/index.js';
import { startNatsServer } from '../packages/event-log-nats/dist/testing.js';

const DELIVERY_TIMEOUT_MS = 10_000;

function sizeFromEnv(name, fallback, min = 1) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min)
    throw new Error(`${name} must be an integer ≥ ${min}`);
  return value;
}

/** Opens a new log object (its own connection) on the backend a worker or the main thread names. */
function openLog(spec) {
  return spec.kind === 'sqlite'
    ? createSqliteEventLog({ path: spec.path })
    : createNatsEventLog({ servers: spec.servers, name: 'chorus-bench' });
}

// ---------------------------------------------------------------------------------------------
// Racing appenders: one worker thread per log object.

async function racer({ spec, stream, target, id, counter: shared }) {
  const counter = new Int32Array(shared);
  const log = await openLog(spec);
  const tally = { appends: 0, conflicts: 0, retries: 0 };
  try {
    let version = await log.streamVersion(stream);
    parentPort.postMessage({ kind: 'ready' });
    await new Promise((resolve) => parentPort.once('message', resolve));
    while (Atomics.load(counter, 0) < target) {
      try {
        const result = await log.append(stream, version, [
          { type: 'bench.raced', racer: id, attempt: tally.appends + tally.conflicts },
        ]);
        version = result.streamVersion;
        tally.appends++;
        Atomics.add(counter, 0, 1);
      } catch (error) {
        if (WrongExpectedVersionError.isInstance(error)) {
          tally.conflicts++;
          version = error.actual;
        } else if (ChorusError.isInstance(error) && error.isRetryable) {
          tally.retries++; // busy (SQLite lock wait ran out) or unavailable (NATS lost 20 races)
          version = await log.streamVersion(stream);
        } else throw error;
      }
    }
    parentPort.postMessage({ kind: 'done', tally });
  } finally {
    await log.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The main thread.

function percentile(sorted, p) {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    median: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
  };
}

/** append→deliver latency through a second log object. */
async function measureLatency(spec, sizes) {
  const writer = await openLog(spec);
  const reader = await openLog(spec);
  const stream = 'latency.zone';
  const waiting = new Map();
  let failure;
  const subscription = reader.subscribe({
    streamPrefix: 'latency.',
    afterPosition: 0,
    onEvent: (recorded) => {
      const at = performance.now();
      waiting.get(recorded.event.n)?.(at);
      waiting.delete(recorded.event.n);
    },
    onError: (error) => (failure = error),
  });
  const deliver = [];
  const ack = [];
  try {
    await subscription.ready;
    for (let n = 0; n < sizes.warmup + sizes.latencyEvents; n++) {
      let timer;
      const delivered = new Promise((resolve, reject) => {
        waiting.set(n, resolve);
        timer = setTimeout(
          () =>
            reject(failure ?? new Error(`event ${n} not delivered in ${DELIVERY_TIMEOUT_MS} ms`)),
          DELIVERY_TIMEOUT_MS,
        );
      });
      const start = performance.now();
      await writer.append(stream, n, [{ type: 'bench.latency', n }]).catch((error) => {
        clearTimeout(timer); // nobody waits for this delivery any more
        throw error;
      });
      const acked = performance.now();
      const at = await delivered.finally(() => clearTimeout(timer));
      if (n >= sizes.warmup) {
        deliver.push(at - start);
        ack.push(acked - start);
      }
    }
  } finally {
    await subscription.close();
    await reader.close();
    await writer.close();
  }
  return { deliver: summary(deliver), ack: summary(ack), events: deliver.length };
}

/** Sequential single-event appends with the right expected version. */
async function measureSequential(spec, sizes) {
  const log = await openLog(spec);
  try {
    for (let n = 0; n < sizes.warmup; n++)
      await log.append('warmup.zone', n, [{ type: 'bench.w' }]);
    const start = performance.now();
    for (let n = 0; n < sizes.appends; n++)
      await log.append('sequential.zone', n, [{ type: 'bench.appended', n }]);
    const seconds = (performance.now() - start) / 1000;
    return { appends: sizes.appends, seconds, perSecond: sizes.appends / seconds };
  } finally {
    await log.close();
  }
}

/** Racing appenders, one worker thread (and log object) each, on one stream. */
async function measureRacing(spec, sizes) {
  const stream = 'raced.zone';
  const counter = new SharedArrayBuffer(4);
  const workers = Array.from(
    { length: sizes.racers },
    (_, id) =>
      new Worker(fileURLToPath(import.meta.url), {
        workerData: { spec, stream, target: sizes.raceAppends, id, counter },
      }),
  );
  const ready = [];
  const settled = workers.map((worker) => {
    let tally;
    ready.push(
      new Promise((resolve, reject) => {
        worker.on('message', (message) => message.kind === 'ready' && resolve());
        worker.once('error', reject);
        worker.once('exit', () => reject(new Error('racer exited before it was ready')));
      }),
    );
    worker.on('message', (message) => {
      if (message.kind === 'done') tally = message.tally;
    });
    return new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', (code) =>
        code === 0 && tally ? resolve(tally) : reject(new Error(`racer exited with code ${code}`)),
      );
    });
  });
  // Awaited below; a racer failing early must not also count as an unhandled rejection.
  for (const promise of [...ready, ...settled]) promise.catch(() => undefined);
  try {
    await Promise.all(ready);
    const start = performance.now();
    for (const worker of workers) worker.postMessage('go');
    const tallies = await Promise.all(settled);
    const seconds = (performance.now() - start) / 1000;
    const appends = tallies.reduce((sum, tally) => sum + tally.appends, 0);
    const conflicts = tallies.reduce((sum, tally) => sum + tally.conflicts, 0);
    const retries = tallies.reduce((sum, tally) => sum + tally.retries, 0);
    const check = await openLog(spec);
    const version = await check.streamVersion(stream).finally(() => check.close());
    if (version !== appends)
      throw new Error(`racing: the stream is at version ${version} after ${appends} appends`);
    return {
      racers: sizes.racers,
      appends,
      seconds,
      perSecond: appends / seconds,
      conflicts,
      conflictsPerAppend: conflicts / appends,
      retries,
      appendsPerRacer: tallies.map((tally) => tally.appends),
      busiestRacerShare: Math.max(...tallies.map((tally) => tally.appends)) / appends,
    };
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.terminate()));
    throw error;
  }
}

async function measure(label, spec, sizes) {
  const note = (what) => process.stderr.write(`event-log bench: ${label}: ${what}…\n`);
  note('append→deliver latency');
  const latency = await measureLatency(spec, sizes);
  note('sequential appends');
  const sequential = await measureSequential(spec, sizes);
  note(`${sizes.racers} racing appenders`);
  const racing = await measureRacing(spec, sizes);
  return { latency, sequential, racing };
}

/** A free TCP port on 127.0.0.1 (for the cluster's fixed route ports). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A 3-node JetStream cluster on 127.0.0.1, every node from startNatsServer. */
async function startCluster(root, servers) {
  const nodes = [];
  for (let index = 0; index < 3; index++)
    nodes.push({ name: `bench-${index + 1}`, client: await freePort(), route: await freePort() });
  const started = await Promise.all(
    nodes.map((node) =>
      startNatsServer({
        dir: join(root, node.name),
        port: node.client,
        config: [
          `server_name: ${node.name}`,
          'cluster {',
          '  name: chorus-bench',
          `  listen: "127.0.0.1:${node.route}"`,
          `  routes: [${nodes.map((other) => `"nats-route://127.0.0.1:${other.route}"`).join(', ')}]`,
          '}',
        ].join('\n'),
      }),
    ),
  );
  servers.push(...started);
  return started.map((server) => server.url);
}

/** Creates the stream and the bucket (admin), retrying while a cluster elects its leaders. */
async function createStream(urls, replicas) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const admin = await createNatsEventLog({ servers: urls, createStream: true, replicas });
      await admin.close();
      return;
    } catch (error) {
      if (!(ChorusError.isInstance(error) && error.isRetryable) || Date.now() > deadline)
        throw error;
      await sleep(250);
    }
  }
}

function natsServerVersion() {
  try {
    return execFileSync('nats-server', ['--version'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/usr/bin` },
    }).trim();
  } catch {
    return 'unknown';
  }
}

const ms = (value) => value.toFixed(2);
const rate = (value) => Math.round(value).toLocaleString('en');
const percent = (value) => `${Math.round(value * 100)}%`;

function renderTable(columns, results) {
  const [base, ...others] = columns;
  const rows = [
    ['append→deliver median (ms)', (r) => r.latency.deliver.median, ms, true],
    ['append→deliver p95 (ms)', (r) => r.latency.deliver.p95, ms, true],
    ['append→deliver p99 (ms)', (r) => r.latency.deliver.p99, ms, true],
    ['append ack median (ms)', (r) => r.latency.ack.median, ms, true],
    ['append ack p99 (ms)', (r) => r.latency.ack.p99, ms, true],
    ['sequential appends/s', (r) => r.sequential.perSecond, rate, true],
    ['racing appends/s', (r) => r.racing.perSecond, rate, true],
    ['racing conflicts', (r) => r.racing.conflicts, String, false],
    ['racing conflicts per append', (r) => r.racing.conflictsPerAppend, (v) => v.toFixed(2), false],
    ['racing other retries', (r) => r.racing.retries, String, false],
    ['racing busiest racer share', (r) => r.racing.busiestRacerShare, percent, false],
  ];
  const header = ['', ...columns.map((column) => column.label)];
  for (const other of others) header.push(`${other.label}/${base.label}`);
  const lines = [header];
  for (const [name, pick, format, withRatio] of rows) {
    const values = columns.map((column) => pick(results[column.key]));
    const line = [name, ...values.map(format)];
    for (let index = 1; index < columns.length; index++)
      line.push(withRatio && values[0] !== 0 ? `${(values[index] / values[0]).toFixed(2)}×` : '');
    lines.push(line);
  }
  const widths = header.map((_, index) => Math.max(...lines.map((line) => line[index].length)));
  const render = (line) =>
    line
      .map((cell, index) =>
        index === 0 ? cell.padEnd(widths[index]) : cell.padStart(widths[index]),
      )
      .join('  ');
  return [
    render(lines[0]),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...lines.slice(1).map(render),
  ]
    .map((line) => `${line}\n`)
    .join('');
}

const HELP = `Usage: pnpm bench:event-log [--json [FILE|-]] [--no-cluster]

The SQLite and NATS JetStream event logs side by side, in one run (not part of CI): append to
delivery latency, sequential appends a second, racing appends a second. NATS runs as one
nats-server, then a 3-node cluster (stream replicas 3) unless --no-cluster.

Options:
  --json [FILE|-]       also write the figures as JSON to FILE, or to stdout when no FILE or -
                        is given (the table then goes to stderr); or BENCH_JSON=FILE
  --no-cluster          skip the 3-node cluster (or BENCH_NATS_CLUSTER=0)
  -h, --help            this text

Environment: BENCH_DIR (where the temporary stores go), BENCH_LATENCY_EVENTS (1000),
BENCH_APPENDS (2000), BENCH_RACERS (4), BENCH_RACE_APPENDS (1000), BENCH_WARMUP (50).
`;

/** The arguments, or exit: 0 after --help, 2 on an unknown option. */
function checkArguments(args) {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const unknown = args.filter(
    (arg, index) =>
      arg !== '--json' &&
      arg !== '--no-cluster' &&
      !(args[index - 1] === '--json' && !arg.startsWith('-')) &&
      arg !== '-',
  );
  if (unknown.length > 0) {
    process.stderr.write(`bench:event-log: unknown argument ${unknown[0]}\n(see --help)\n`);
    process.exit(2);
  }
  return args;
}

async function main() {
  const args = checkArguments(process.argv.slice(2));
  const jsonIndex = args.indexOf('--json');
  let jsonTarget = process.env.BENCH_JSON || undefined;
  if (jsonIndex !== -1) {
    const next = args[jsonIndex + 1];
    jsonTarget = next === undefined || next.startsWith('--') ? '-' : next;
  }
  const cluster = !args.includes('--no-cluster') && process.env.BENCH_NATS_CLUSTER !== '0';
  const sizes = {
    latencyEvents: sizeFromEnv('BENCH_LATENCY_EVENTS', 1000),
    appends: sizeFromEnv('BENCH_APPENDS', 2000),
    racers: sizeFromEnv('BENCH_RACERS', 4),
    raceAppends: sizeFromEnv('BENCH_RACE_APPENDS', 1000),
    warmup: sizeFromEnv('BENCH_WARMUP', 50, 0),
  };

  const root = mkdtempSync(join(process.env.BENCH_DIR || tmpdir(), 'chorus-event-log-bench-'));
  const servers = [];
  const results = {};
  const columns = [
    { key: 'sqlite', label: 'SQLite' },
    { key: 'nats', label: 'NATS' },
  ];
  try {
    results.sqlite = await measure('SQLite', { kind: 'sqlite', path: join(root, 'log.db') }, sizes);

    const single = await startNatsServer({ dir: join(root, 'nats'), host: '127.0.0.1' });
    servers.push(single);
    await createStream([single.url], 1);
    results.nats = await measure('NATS', { kind: 'nats', servers: [single.url] }, sizes);
    await single.stop();

    if (cluster) {
      const urls = await startCluster(root, servers);
      await createStream(urls, 3);
      results.natsCluster = await measure('NATS R3', { kind: 'nats', servers: urls }, sizes);
      columns.push({ key: 'natsCluster', label: 'NATS R3' });
    }
  } finally {
    for (const server of servers) await server.stop();
    rmSync(root, { recursive: true, force: true });
  }

  const machine = `${cpus().length} CPU(s), ${process.platform}/${process.arch}`;
  const heading =
    `Event log: SQLite (WAL, synchronous=FULL) vs NATS JetStream (${natsServerVersion()}, file store` +
    `${cluster ? '; R3 = 3-node cluster, replicas 3' : ''}), on 127.0.0.1. Node ${process.version}, ${machine}, ${new Date().toISOString()}\n` +
    `${sizes.latencyEvents} append→deliver samples, ${sizes.appends} sequential appends, ${sizes.racers} racers sharing ${sizes.raceAppends} appends; ratios: ${columns
      .slice(1)
      .map((column) => column.label)
      .join(', ')} ÷ SQLite\n`;
  const table = heading + renderTable(columns, results);

  const ratios = {};
  for (const column of columns.slice(1)) {
    const r = results[column.key];
    const s = results.sqlite;
    ratios[column.key] = {
      deliverMedian: r.latency.deliver.median / s.latency.deliver.median,
      deliverP95: r.latency.deliver.p95 / s.latency.deliver.p95,
      deliverP99: r.latency.deliver.p99 / s.latency.deliver.p99,
      ackMedian: r.latency.ack.median / s.latency.ack.median,
      ackP99: r.latency.ack.p99 / s.latency.ack.p99,
      sequentialPerSecond: r.sequential.perSecond / s.sequential.perSecond,
      racingPerSecond: r.racing.perSecond / s.racing.perSecond,
    };
  }
  const report = {
    benchmark: 'event-log',
    date: new Date().toISOString(),
    node: process.version,
    machine: { cpus: cpus().length, platform: process.platform, arch: process.arch },
    natsServer: natsServerVersion(),
    sizes,
    unit: { latency: 'ms', rate: 'appends/s' },
    backends: results,
    ratios,
  };

  if (jsonTarget === '-') {
    process.stderr.write(table);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    process.stdout.write(table);
    if (jsonTarget !== undefined) {
      writeFileSync(jsonTarget, `${JSON.stringify(report, null, 2)}\n`);
      process.stdout.write(`figures written to ${jsonTarget}\n`);
    }
  }
}

// Last: main() uses every declaration above.
if (isMainThread) await main();
else await racer(workerData);
