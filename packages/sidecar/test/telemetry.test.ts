import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryEventLog } from '@chorus/event-log-sqlite';
import {
  defineSignerPlugin,
  newTraceparent,
  spanContextFromTraceparent,
  tracer,
  withSpan,
  type ParentChannel,
  type Signer,
  type ZoneEvent,
} from '@chorus/core';
import { recordProcess, type ProcessState } from '@chorus/engine';
import {
  composeSidecar,
  createEventKeyFile,
  configureTelemetry,
  createRootLogger,
  otlpSettingsFromEnvironment,
  ProcessTracer,
  stepSpanId,
  type SidecarConfig,
} from '@chorus/sidecar';
import { startCollector, type StandInCollector } from './otlp-collector.js';

const SECRET = 'Bearer s3cr3t-otlp-token';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return {
    lines,
    stream,
    parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('which OTEL_ variables turn export on', () => {
  it('exports nothing without an endpoint or an otlp exporter', () => {
    expect(otlpSettingsFromEnvironment({})).toMatchObject({ traces: null, metrics: null });
    expect(
      otlpSettingsFromEnvironment({
        OTEL_SERVICE_NAME: 'chorus',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=lab',
        OTEL_EXPORTER_OTLP_HEADERS: `authorization=${SECRET}`,
      }),
    ).toMatchObject({ traces: null, metrics: null });
  });

  it('appends the signal path to the generic endpoint and takes a specific one as is', () => {
    const settings = otlpSettingsFromEnvironment({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/otlp/',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://metrics:9000/in',
    });
    expect(settings.traces?.url).toBe('http://collector:4318/otlp/v1/traces');
    expect(settings.metrics?.url).toBe('http://metrics:9000/in');
  });

  it('honours OTEL_SDK_DISABLED, "none" and the exporter variables', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };
    expect(otlpSettingsFromEnvironment({ ...endpoint, OTEL_SDK_DISABLED: 'true' })).toMatchObject({
      traces: null,
      metrics: null,
    });
    expect(
      otlpSettingsFromEnvironment({ ...endpoint, OTEL_METRICS_EXPORTER: 'none' }),
    ).toMatchObject({ metrics: null, traces: { url: 'http://127.0.0.1:4318/v1/traces' } });
    // The exporter variable alone selects the exporter's default endpoint.
    expect(otlpSettingsFromEnvironment({ OTEL_TRACES_EXPORTER: 'otlp' })).toMatchObject({
      traces: { url: undefined },
      metrics: null,
    });
    const console = otlpSettingsFromEnvironment({ ...endpoint, OTEL_TRACES_EXPORTER: 'console' });
    expect(console.traces).toBeNull();
    expect(console.notes.join(' ')).toMatch(/only "otlp" is supported/);
  });

  it('parses headers per signal', () => {
    const settings = otlpSettingsFromEnvironment({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
      OTEL_EXPORTER_OTLP_HEADERS: `authorization=${encodeURIComponent(SECRET)},x-team=dns`,
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-team=tracing',
    });
    expect(settings.traces?.headers).toEqual({ authorization: SECRET, 'x-team': 'tracing' });
    expect(settings.metrics?.headers).toEqual({ authorization: SECRET, 'x-team': 'dns' });
  });
});

describe('telemetry with a stand-in collector', () => {
  let collector: StandInCollector;
  beforeEach(async () => {
    collector = await startCollector();
  });
  afterEach(async () => {
    await collector.close();
  });

  it('puts trace_id and span_id on lines logged inside a span, and never logs header values', async () => {
    const output = capture();
    const logger = createRootLogger('trace', output.stream);
    const telemetry = configureTelemetry(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        OTEL_EXPORTER_OTLP_HEADERS: `authorization=${encodeURIComponent(SECRET)}`,
        OTEL_SERVICE_NAME: 'chorus-test',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=unit,service.instance.id=from-env',
      },
      logger,
      { serviceInstanceId: 'ignored', attributes: { 'chorus.component': 'test' } },
    );
    expect(telemetry.exporting).toBe(true);
    logger.info('outside any span');
    const inside = await withSpan(
      'unit work',
      { 'chorus.zone': 'example.test.' },
      undefined,
      (span) => {
        logger.child({ component: 'child' }).info('inside the span');
        recordProcess('add-signer', 'started');
        return span.spanContext();
      },
    );
    await telemetry.shutdown();

    const lines = output.parsed();
    const outside = lines.find((line) => line.msg === 'outside any span')!;
    const logged = lines.find((line) => line.msg === 'inside the span')!;
    expect(outside.trace_id).toBeUndefined();
    expect(logged).toMatchObject({
      trace_id: inside.traceId,
      span_id: inside.spanId,
      trace_flags: '01',
      component: 'child',
    });
    // The header is sent to the collector, and appears nowhere in the logs (its name may).
    const enabled = lines.find(
      (line) => line.msg === 'OpenTelemetry export enabled (OTLP http/json)',
    );
    expect(enabled).toMatchObject({ headers: ['authorization'], service: 'chorus-test' });
    expect(output.lines.join('\n')).not.toContain('s3cr3t');
    const traceRequests = collector.requests.filter((request) => request.path === '/v1/traces');
    expect(traceRequests.length).toBeGreaterThan(0);
    expect(traceRequests[0]!.headers.authorization).toBe(SECRET);
    expect(traceRequests[0]!.headers['content-type']).toMatch(/json/);

    const span = collector.spans().find((candidate) => candidate.name === 'unit work')!;
    expect(span.traceId).toBe(inside.traceId);
    expect(span.resource).toMatchObject({
      'service.name': 'chorus-test',
      'service.instance.id': 'from-env',
      'deployment.environment': 'unit',
      'chorus.component': 'test',
    });
    expect(collector.metrics().map((metric) => metric.name)).toContain('chorus.processes');
    // Shut down: the globals are unregistered, spans are no-ops again.
    expect(tracer.startSpan('after').isRecording()).toBe(false);
  });

  it('gives a process one root span with the request’s ids, and steps ids every sidecar derives alike', async () => {
    const telemetry = configureTelemetry(
      { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_METRICS_EXPORTER: 'none' },
      createRootLogger('silent'),
    );
    const request = newTraceparent();
    const root = spanContextFromTraceparent(request)!;
    const processTrace = new ProcessTracer('bind');
    const requestedAt = new Date(Date.now() - 5000).toISOString();
    processTrace.note({
      schemaVersion: 1,
      type: 'process-requested',
      zone: 'example.test.',
      occurredAt: requestedAt,
      source: { kind: 'cli', id: 'operator' },
      traceparent: request,
      data: { processId: 'p1', kind: 'add-signer', signerId: 'knot', requestedBy: 'operator' },
    } satisfies ZoneEvent);
    const process: ProcessState = {
      id: 'p1',
      kind: 'add-signer',
      signerId: 'knot',
      status: 'running',
      steps: [
        {
          name: 'sync-dnskeys',
          description: '',
          action: null,
          postcondition: { kind: 'none' },
          wait: 'ds-and-dnskey',
        },
      ],
      stepStates: [
        {
          status: 'waiting',
          startedAt: new Date(Date.now() - 3000).toISOString(),
          reconciled: { bind: { applied: 2, at: new Date(Date.now() - 2500).toISOString() } },
          postconditionMetAt: new Date(Date.now() - 2000).toISOString(),
        },
      ],
      currentStep: 0,
      groupBefore: ['bind'],
      groupAfter: ['bind', 'knot'],
      traceparent: newTraceparent(), // the process-started event's: a different span id
      startedAt: new Date(Date.now() - 4000).toISOString(),
    };
    // Another sidecar's action inside the step: its parent is the step's derived span id.
    await withSpan('reconcile', {}, processTrace.stepContext(process, 0), () => undefined);
    processTrace.emitStep('example.test.', process, 0);
    processTrace.emitProcess('example.test.', { ...process, steps: 1 }, 'completed');
    await telemetry.shutdown();

    const spans = collector.spans();
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([root.traceId]));
    const rootSpan = spans.find((span) => span.name === 'process add-signer knot')!;
    expect(rootSpan).toMatchObject({ spanId: root.spanId, parentSpanId: '' });
    expect(rootSpan.startMs).toBe(Date.parse(requestedAt));
    const step = spans.find((span) => span.name === 'step 1 sync-dnskeys')!;
    expect(step).toMatchObject({
      spanId: stepSpanId(root.traceId, 'p1', 0),
      parentSpanId: root.spanId,
      attributes: { 'chorus.step.name': 'sync-dnskeys', 'chorus.wait.formula': 'ds-and-dnskey' },
    });
    expect(step.events).toEqual(['signer-reconciled', 'postcondition-met']);
    expect(spans.find((span) => span.name === 'reconcile')!.parentSpanId).toBe(step.spanId);
  });
});

describe('the sidecar composition root', () => {
  const keyDirectory = mkdtempSync(path.join(os.tmpdir(), 'chorus-sidecar-key-'));
  afterAll(() => rmSync(keyDirectory, { recursive: true, force: true }));
  const eventKeyFile = path.join(keyDirectory, 'fake.key');
  const publicKey = createEventKeyFile(eventKeyFile);
  const config: SidecarConfig = {
    id: 'fake',
    eventLog: { kind: 'sqlite', path: '/nonexistent/events.sqlite' },
    eventKeyFile,
    trust: { operators: { alice: publicKey }, sidecars: { fake: publicKey } },
    signer: { plugin: 'fake-plugin', config: {} },
    zones: ['example.test.'],
    nameServerNames: ['ns.fake.test.'],
    parent: { zone: 'test.', servers: [{ address: '127.0.0.1', port: 53 }] },
    logLevel: 'info',
  };
  const signer: Signer = {
    specificationVersion: 'v1',
    kind: 'fake',
    id: 'fake',
    capabilities: {},
    // No addresses: the start-up probe (an SOA query to each) has nothing to ask.
    nameServers: [],
    checkZone: () => Promise.resolve(),
    listOwnKeys: () => Promise.resolve([]),
    readApex: () => Promise.reject(new Error('not used')),
    applyChanges: () => Promise.reject(new Error('not used')),
  };
  const plugin = defineSignerPlugin({
    specificationVersion: 'v1',
    kind: 'fake',
    capabilities: {},
    parseConfig: () => ({}),
    create: () => signer,
  });
  const parent: ParentChannel = {
    specificationVersion: 'v1',
    kind: 'fake-parent',
    id: 'fake-parent',
    capabilities: {},
    getDelegation: () => Promise.reject(new Error('not used')),
  };

  async function runSidecar(environment: NodeJS.ProcessEnv) {
    const output = capture();
    const { runtime, telemetry } = await composeSidecar(config, {
      logger: createRootLogger('debug', output.stream),
      parent,
      eventLog: createMemoryEventLog<ZoneEvent>(),
      importModule: () => Promise.resolve({ plugin }),
      environment,
    });
    await runtime.start();
    const recording = tracer.startSpan('probe', {}, ROOT_CONTEXT).isRecording();
    await runtime.stop();
    await telemetry.shutdown();
    return { telemetry, recording, lines: output.parsed() };
  }

  let collector: StandInCollector;
  beforeEach(async () => {
    collector = await startCollector();
  });
  afterEach(async () => {
    await collector.close();
  });

  it('exports the sidecar’s spans and plugin call metrics when OTEL_ asks for it', async () => {
    const { telemetry, recording, lines } = await runSidecar({
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
    });
    expect(telemetry.exporting).toBe(true);
    expect(recording).toBe(true);
    const spans = collector.spans();
    const start = spans.find((span) => span.name === 'sidecar start')!;
    expect(start.resource).toMatchObject({
      'service.name': 'chorus-sidecar',
      'service.instance.id': 'fake',
      'chorus.sidecar.id': 'fake',
    });
    const calls = spans.filter((span) => span.name.startsWith('signer.'));
    expect(new Set(calls.map((span) => span.name))).toEqual(
      new Set(['signer.checkZone', 'signer.listOwnKeys']),
    );
    for (const call of calls) {
      expect(call.traceId).toBe(start.traceId);
      expect(call.kind).toBe(3); // CLIENT
      expect(call.attributes).toMatchObject({
        'chorus.signer.id': 'fake',
        'chorus.plugin': 'fake',
      });
    }
    // The registration lines were logged inside the start span.
    const appended = lines.filter((line) => line.msg === 'event appended');
    expect(appended.length).toBeGreaterThan(0);
    for (const line of appended) expect(line.trace_id).toBe(start.traceId);
    const duration = collector
      .metrics()
      .find((metric) => metric.name === 'chorus.plugin.call.duration')!;
    expect(duration.points).toContainEqual({
      'chorus.plugin': 'fake',
      'chorus.plugin.method': 'checkZone',
      'chorus.outcome': 'ok',
    });
  });

  it('registers nothing and sends nothing without OTEL_ export settings (negative control)', async () => {
    for (const environment of [
      {},
      // Settings that do not ask for export: still nothing.
      { OTEL_SERVICE_NAME: 'chorus', OTEL_EXPORTER_OTLP_HEADERS: `authorization=${SECRET}` },
      // Asked for, but the SDK is disabled.
      { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_SDK_DISABLED: 'true' },
    ]) {
      const { telemetry, recording, lines } = await runSidecar(environment);
      expect(telemetry.exporting).toBe(false);
      expect(recording).toBe(false);
      expect(lines.some((line) => 'trace_id' in line)).toBe(false);
      expect(lines.some((line) => line.component === 'opentelemetry')).toBe(false);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(collector.requests).toEqual([]);
    expect(trace.getTracerProvider().getTracer('x').startSpan('y').isRecording()).toBe(false);
  });
});
