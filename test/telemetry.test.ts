import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CLI_MAIN } from './helpers/cli.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteEventLog } from '@chorus/event-log-sqlite';
import { spanContextFromTraceparent, zoneStream, type ZoneEvent } from '@chorus/core';
import { labStatus } from '@chorus/lab';
import { sidecarConfigFor } from '@chorus/cli';
import {
  startCollector,
  type CollectedSpan,
  type StandInCollector,
} from '../packages/sidecar/test/otlp-collector.js';

// Telemetry end to end: the real demo (three sidecar processes and the CLI) exports OTLP/HTTP JSON
// to a stand-in collector on loopback. Each process must be exactly one trace with one root span,
// one span per step and spans from every sidecar; without OTEL_ settings nothing is sent.
const PREFIX = process.env.CHORUS_TEST_TELEMETRY_PREFIX ?? '127.56.0';
const SIDECARS = ['bind', 'powerdns', 'knot'];

/** The test's environment without any OTEL_ variable of the developer's. */
const plainEnvironment = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.startsWith('OTEL_')),
);

interface Finished {
  code: number | null;
  /** The signal that ended the process, when one did. */
  signal: NodeJS.Signals | null;
  output: string;
}

function startNode(args: string[], environment: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    env: environment,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const finished = new Promise<Finished>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, output })),
  );
  return { child, finished, output: () => output };
}

async function runNode(
  args: string[],
  environment: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<Finished> {
  const started = startNode(args, environment);
  const timer = setTimeout(() => started.child.kill('SIGTERM'), timeoutMs);
  try {
    return await started.finished;
  } finally {
    clearTimeout(timer);
  }
}

const tail = (text: string) => text.split('\n').slice(-40).join('\n');

let directory: string;
let collector: StandInCollector;

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-telemetry-'));
  collector = await startCollector();
});

afterAll(async () => {
  await runNode(['lab', 'down', '--dir', directory], plainEnvironment, 60_000);
  await collector.close();
  await rm(directory, { recursive: true, force: true });
});

describe('telemetry across the demo', () => {
  it('exports one trace per process, rooted once, with spans from every sidecar it changes', async () => {
    const demo = await runNode(
      ['demo', '--ttl', '5', '--address-prefix', PREFIX, '--dir', directory],
      {
        ...plainEnvironment,
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        OTEL_SERVICE_NAME: 'chorus',
      },
      240_000,
    );
    // The demo's own verdict (glitches, the parent's final DS and NS) is not this test's subject;
    // the migration must have run: checked on the event log below.
    process.stderr.write(`[telemetry] the demo exited with ${demo.code}\n`);

    // The processes as the event log recorded them: id, kind, request traceparent, steps.
    const status = await labStatus({ directory });
    expect(status, tail(demo.output)).toBeDefined();
    const zone = status!.zones[0]!;
    const log = createSqliteEventLog<ZoneEvent>({
      path: path.join(status!.directory, 'demo', 'events.sqlite'),
    });
    const events = (await log.readStream(zoneStream(zone))).map((recorded) => recorded.event);
    await log.close();
    const processes = events.flatMap((event) =>
      event.type === 'process-requested'
        ? [
            {
              id: event.data.processId,
              kind: event.data.kind,
              signerId: event.data.signerId,
              root: spanContextFromTraceparent(event.traceparent)!,
              steps:
                events.flatMap((started) =>
                  started.type === 'process-started' &&
                  started.data.processId === event.data.processId
                    ? [started.data.steps.map((step) => step.name)]
                    : [],
                )[0] ?? [],
              participants: events.flatMap((started) =>
                started.type === 'process-started' &&
                started.data.processId === event.data.processId
                  ? [...new Set([...started.data.groupBefore, ...started.data.groupAfter])].sort()
                  : [],
              ),
            },
          ]
        : [],
    );
    const completed = new Set(
      events.flatMap((event) => (event.type === 'process-completed' ? [event.data.processId] : [])),
    );
    expect(
      processes.map((process) => completed.has(process.id)),
      tail(demo.output),
    ).toEqual([true, true, true]);
    expect(processes.map((process) => `${process.kind} ${process.signerId}`)).toEqual([
      'add-signer powerdns',
      'add-signer knot',
      'remove-signer bind',
    ]);

    const spans = collector.spans();
    const byTrace = new Map<string, CollectedSpan[]>();
    for (const span of spans)
      byTrace.set(span.traceId, [...(byTrace.get(span.traceId) ?? []), span]);
    // Every span that names a process is in that process's trace, and only three traces do.
    const processTraces = new Set(
      spans.filter((span) => span.attributes['chorus.process.id']).map((span) => span.traceId),
    );
    expect(processTraces).toEqual(new Set(processes.map((process) => process.root.traceId)));

    const figures: string[] = [];
    for (const process of processes) {
      const label = `${process.kind} ${process.signerId}`;
      const inTrace = byTrace.get(process.root.traceId) ?? [];
      const named = spans.filter((span) => span.attributes['chorus.process.id'] === process.id);
      expect(new Set(named.map((span) => span.traceId)), label).toEqual(
        new Set([process.root.traceId]),
      );
      // One root, with the request's span id; every other span's parent is in the trace.
      const roots = inTrace.filter((span) => span.parentSpanId === '');
      expect(
        roots.map((span) => [span.name, span.spanId]),
        label,
      ).toEqual([[`process ${label}`, process.root.spanId]]);
      expect(roots[0]!.attributes['chorus.process.outcome']).toBe('completed');
      const ids = new Set(inTrace.map((span) => span.spanId));
      expect(ids.size, `${label}: span ids are unique`).toBe(inTrace.length);
      const orphans = inTrace.filter(
        (span) => span.parentSpanId !== '' && !ids.has(span.parentSpanId),
      );
      expect(
        orphans.map((span) => span.name),
        label,
      ).toEqual([]);
      // Spans from the sidecar of every signer the process changes (a sidecar outside the group
      // leaves its bookkeeping to the process's scribe), and from the CLI that requested it.
      const sidecars = new Set(inTrace.map((span) => span.resource['chorus.sidecar.id']));
      expect(process.participants.length, label).toBeGreaterThanOrEqual(2);
      for (const id of process.participants) {
        expect(SIDECARS, label).toContain(id);
        expect(sidecars, `${label}: spans of ${id}`).toContain(id);
      }
      for (const span of inTrace) expect(span.resource['service.name']).toBe('chorus');
      expect(
        inTrace.some((span) => span.resource['chorus.component'] === 'cli'),
        label,
      ).toBe(true);
      // One span per step, child of the root, spanning the step.
      const steps = inTrace.filter((span) => span.name.startsWith('step '));
      expect(steps.map((span) => span.name).sort(), label).toEqual(
        process.steps.map((name, index) => `step ${index + 1} ${name}`).sort(),
      );
      for (const step of steps) {
        expect(step.parentSpanId).toBe(process.root.spanId);
        expect(step.endMs).toBeGreaterThanOrEqual(step.startMs);
      }
      // Server calls: signer (plugin) and parent calls are CLIENT spans inside the trace.
      const calls = inTrace.filter(
        (span) => span.name.startsWith('signer.') || span.name.startsWith('parent.'),
      );
      expect(
        calls.some((span) => span.name.startsWith('signer.')),
        label,
      ).toBe(true);
      for (const call of calls) expect(call.kind).toBe(3);
      figures.push(
        `${label}: ${inTrace.length} spans, ${steps.length} step spans, ${calls.length} server calls, sidecars ${[...sidecars].filter(Boolean).sort().join('+')}`,
      );
    }

    // Each event a sidecar wrote names the span that wrote it.
    for (const process of processes) {
      const ids = new Set((byTrace.get(process.root.traceId) ?? []).map((span) => span.spanId));
      const written = events.filter(
        (event) =>
          event.source.kind === 'sidecar' &&
          'processId' in event.data &&
          event.data.processId === process.id,
      );
      expect(written.length).toBeGreaterThan(0);
      for (const event of written)
        expect(ids, `${event.type} of ${process.kind}`).toContain(
          spanContextFromTraceparent(event.traceparent)!.spanId,
        );
    }

    const metrics = collector.metrics();
    const names = new Set(metrics.map((metric) => metric.name));
    for (const name of [
      'chorus.processes',
      'chorus.steps',
      'chorus.waits.duration',
      'chorus.plugin.call.duration',
      // From the demo's validation observer, in the CLI process.
      'chorus.validation.checks',
    ])
      expect(names, name).toContain(name);
    const outcomes = metrics
      .filter((metric) => metric.name === 'chorus.processes')
      .flatMap((metric) => metric.points.map((point) => point['chorus.process.outcome']));
    expect(new Set(outcomes)).toEqual(new Set(['started', 'completed']));
    // No credential reached the collector: neither a TSIG secret nor the PowerDNS API key.
    const sent = JSON.stringify(collector.requests.map((request) => request.body));
    const credentials: string[] = [];
    for (const server of status!.servers) {
      const tsig = await readFile(server.tsig.keyFile, 'utf8').catch(() => '');
      for (const match of tsig.matchAll(/secret\s+"([^"]+)"/g)) credentials.push(match[1]!);
      if (server.control.kind === 'powerdns-api')
        credentials.push((await readFile(server.control.apiKeyFile, 'utf8')).trim());
    }
    expect(credentials.length).toBeGreaterThan(2);
    for (const credential of credentials) expect(sent).not.toContain(credential);
    process.stderr.write(`[telemetry] ${figures.join('\n[telemetry] ')}\n`);
  }, 300_000);

  it('sends nothing without OTEL_ export settings (negative control: a real sidecar)', async () => {
    const status = (await labStatus({ directory }))!;
    const zone = status.zones[0]!;
    const server = status.servers.find((entry) => entry.id === 'powerdns')!;
    await rm(path.join(directory, 'negative'), { recursive: true, force: true });
    await mkdir(path.join(directory, 'negative'), { recursive: true });
    const config = sidecarConfigFor(
      status,
      server,
      path.join(directory, 'negative', 'events.sqlite'),
      zone,
    );
    const configFile = path.join(directory, 'negative-sidecar.json');
    await writeFile(configFile, `${JSON.stringify(config)}\n`, { mode: 0o600 });

    /** Starts the sidecar, lets it register, stops it with SIGTERM. */
    async function runSidecar(environment: NodeJS.ProcessEnv): Promise<Finished> {
      const started = startNode(['sidecar', '--config', configFile], environment);
      const deadline = Date.now() + 30_000;
      while (!started.output().includes('following') && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100));
      started.child.kill('SIGTERM');
      return started.finished;
    }

    // A collector on the OTLP default port, where a default-on exporter would send.
    let atDefault: StandInCollector | undefined;
    try {
      atDefault = await startCollector(4318);
    } catch {
      atDefault = undefined; // the port is taken on this machine: the check below still holds
    }
    const fresh = await startCollector();
    try {
      for (const environment of [
        plainEnvironment,
        { ...plainEnvironment, OTEL_SERVICE_NAME: 'chorus', OTEL_RESOURCE_ATTRIBUTES: 'a=b' },
        {
          ...plainEnvironment,
          OTEL_EXPORTER_OTLP_ENDPOINT: fresh.url,
          OTEL_SDK_DISABLED: 'true',
        },
      ]) {
        const run = await runSidecar(environment);
        expect(run.code, `signal ${run.signal}\n${tail(run.output)}`).toBe(0);
        expect(run.output).not.toContain('OpenTelemetry export enabled');
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(fresh.requests).toEqual([]);
      expect(atDefault?.requests ?? []).toEqual([]);

      // Positive control: the same sidecar with an endpoint exports its start-up spans.
      const run = await runSidecar({ ...plainEnvironment, OTEL_EXPORTER_OTLP_ENDPOINT: fresh.url });
      expect(run.code, `signal ${run.signal}\n${tail(run.output)}`).toBe(0);
      const names = new Set(fresh.spans().map((span) => span.name));
      expect(names).toContain('sidecar start');
      expect(names).toContain('signer.checkZone');
      expect(fresh.spans()[0]!.resource['chorus.sidecar.id']).toBe('powerdns');
    } finally {
      await fresh.close();
      await atDefault?.close();
    }
  }, 120_000);
});
