import { AsyncLocalStorage } from 'node:async_hooks';
import {
  context,
  metrics,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type ContextManager,
  type Meter,
  type MeterProvider,
  type Span,
  type SpanOptions,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import {
  activeTraceparent,
  contextFromTraceparent,
  newTraceparent,
  traceparentOf,
  withSpan,
  type ParentChannel,
  type Signer,
} from '@chorus/core';
import { instrumentParentChannel, instrumentSigner } from '../src/telemetry/instrument.js';
import { recordPluginCall, recordProcess, recordWait } from '../src/telemetry/metrics.js';

// Core uses @opentelemetry/api only; these fakes stand in for an SDK to observe what it records.
interface FakeSpan {
  name: string;
  options: SpanOptions;
  parent: Context;
  ended: boolean;
  status?: { code: SpanStatusCode; message?: string };
  exceptions: unknown[];
  spanContext: ReturnType<Span['spanContext']>;
}

function fakeTracerProvider() {
  const spans: FakeSpan[] = [];
  let next = 1;
  const tracer = {
    startSpan(name: string, options: SpanOptions = {}, parent: Context = ROOT_CONTEXT): Span {
      const parentContext = trace.getSpanContext(parent);
      const record: FakeSpan = {
        name,
        options,
        parent,
        ended: false,
        exceptions: [],
        spanContext: {
          traceId: parentContext?.traceId ?? '1'.repeat(32),
          spanId: (next++).toString(16).padStart(16, '0'),
          traceFlags: 1,
        },
      };
      spans.push(record);
      const span: Span = {
        spanContext: () => record.spanContext,
        setAttribute: () => span,
        setAttributes: () => span,
        addEvent: () => span,
        addLink: () => span,
        addLinks: () => span,
        setStatus: (status) => ((record.status = status), span),
        updateName: () => span,
        end: () => void (record.ended = true),
        isRecording: () => !record.ended,
        recordException: (exception) => void record.exceptions.push(exception),
      };
      return span;
    },
  } as unknown as Tracer;
  const provider: TracerProvider = { getTracer: () => tracer };
  return { provider, spans };
}

function fakeMeterProvider() {
  const recorded: { instrument: string; value: number; attributes: Attributes }[] = [];
  const instrument = (name: string) => ({
    add: (value: number, attributes: Attributes = {}) =>
      recorded.push({ instrument: name, value, attributes }),
    record: (value: number, attributes: Attributes = {}) =>
      recorded.push({ instrument: name, value, attributes }),
  });
  const meter = {
    createCounter: instrument,
    createHistogram: instrument,
  } as unknown as Meter;
  const provider: MeterProvider = { getMeter: () => meter };
  return { provider, recorded };
}

/** What an SDK's AsyncLocalStorage context manager does, in a few lines. */
function asyncContextManager(): ContextManager {
  const storage = new AsyncLocalStorage<Context>();
  const manager: ContextManager = {
    active: () => storage.getStore() ?? ROOT_CONTEXT,
    with: (active, fn, thisArg, ...args) => storage.run(active, () => fn.call(thisArg, ...args)),
    bind: (_active, target) => target,
    enable: () => manager,
    disable: () => manager,
  };
  return manager;
}

const signer: Signer = {
  specificationVersion: 'v1',
  kind: 'bind',
  id: 'bind-ams',
  capabilities: {},
  nameServers: [{ address: '127.0.0.1', port: 53 }],
  checkZone: () => Promise.resolve(),
  listOwnKeys: () => Promise.resolve([]),
  readApex: () => Promise.reject(new Error('REFUSED by the server')),
  applyChanges: (plan) => Promise.resolve({ applied: plan.changes.length, warnings: [] }),
  close: () => Promise.resolve(),
};

afterEach(() => {
  trace.disable();
  metrics.disable();
  context.disable();
});

describe('traceparents and contexts', () => {
  it('parses a W3C traceparent into a remote parent, and refuses malformed ones', () => {
    const traceparent = newTraceparent();
    const parent = trace.getSpanContext(contextFromTraceparent(traceparent))!;
    expect(parent.isRemote).toBe(true);
    expect(traceparentOf(parent)).toBe(traceparent);
    for (const bad of [
      undefined,
      '',
      'garbage',
      `00-${'0'.repeat(32)}-${'1'.repeat(16)}-01`,
      `00-${'1'.repeat(32)}-${'0'.repeat(16)}-01`,
      `ff-${'1'.repeat(32)}-${'1'.repeat(16)}-01`,
    ])
      expect(contextFromTraceparent(bad)).toBe(ROOT_CONTEXT);
  });

  it('is a no-op without an SDK: no recorded span, no traceparent of its own', async () => {
    const value = await withSpan('work', {}, contextFromTraceparent(newTraceparent()), (span) => {
      expect(span.isRecording()).toBe(false);
      return activeTraceparent();
    });
    expect(value).toBeUndefined();
    await expect(
      withSpan('work', {}, undefined, () => Promise.reject(new Error('boom'))),
    ).rejects.toThrow('boom');
    recordProcess('add-signer', 'started'); // no meter provider: nothing happens, nothing throws
  });
});

describe('plugin instrumentation', () => {
  it('makes every signer call a CLIENT span in the caller’s trace, timed per method and outcome', async () => {
    const { provider, spans } = fakeTracerProvider();
    const meters = fakeMeterProvider();
    trace.setGlobalTracerProvider(provider);
    metrics.setGlobalMeterProvider(meters.provider);
    context.setGlobalContextManager(asyncContextManager());
    const instrumented = instrumentSigner(signer);
    expect(instrumented).toMatchObject({
      id: 'bind-ams',
      kind: 'bind',
      specificationVersion: 'v1',
    });
    expect(instrumented.nameServers).toBe(signer.nameServers);

    const parent = contextFromTraceparent(newTraceparent());
    await withSpan('reconcile', {}, parent, async () => {
      await instrumented.listOwnKeys('example.test.', {});
      await instrumented.applyChanges(
        { zone: 'example.test.', signerId: 'bind-ams', changes: [] },
        {},
      );
      await expect(instrumented.readApex('example.test.', {})).rejects.toThrow('REFUSED');
    });
    await instrumented.close?.();

    const calls = spans.filter((span) => span.name.startsWith('signer.'));
    expect(calls.map((span) => span.name)).toEqual([
      'signer.listOwnKeys',
      'signer.applyChanges',
      'signer.readApex',
    ]);
    const reconcile = spans.find((span) => span.name === 'reconcile')!;
    for (const call of calls) {
      expect(call.options.kind).toBe(SpanKind.CLIENT);
      expect(trace.getSpanContext(call.parent)?.spanId).toBe(reconcile.spanContext.spanId);
      expect(call.options.attributes).toMatchObject({
        'chorus.signer.id': 'bind-ams',
        'chorus.plugin': 'bind',
        'chorus.zone': 'example.test.',
      });
      expect(call.ended).toBe(true);
    }
    expect(calls[1]!.options.attributes).toMatchObject({ 'chorus.changes': 0 });
    expect(calls[2]!.status).toMatchObject({ code: SpanStatusCode.ERROR });
    expect(calls[2]!.exceptions).toHaveLength(1);

    const durations = meters.recorded.filter(
      (entry) => entry.instrument === 'chorus.plugin.call.duration',
    );
    expect(durations.map((entry) => entry.attributes)).toEqual([
      { 'chorus.plugin': 'bind', 'chorus.plugin.method': 'listOwnKeys', 'chorus.outcome': 'ok' },
      { 'chorus.plugin': 'bind', 'chorus.plugin.method': 'applyChanges', 'chorus.outcome': 'ok' },
      { 'chorus.plugin': 'bind', 'chorus.plugin.method': 'readApex', 'chorus.outcome': 'error' },
    ]);
    for (const entry of durations) expect(entry.value).toBeGreaterThanOrEqual(0);
  });

  it('hands the plugin the traceparent of its call span', async () => {
    const { provider, spans } = fakeTracerProvider();
    trace.setGlobalTracerProvider(provider);
    context.setGlobalContextManager(asyncContextManager());
    let seen: string | undefined;
    const instrumented = instrumentSigner({
      ...signer,
      checkZone: (_zone, options) => ((seen = options.traceparent), Promise.resolve()),
    });
    await instrumented.checkZone('example.test.', {});
    expect(seen).toBe(traceparentOf(spans[0]!.spanContext));
  });

  it('keeps the key roller, tracing its calls, and adds none where the plugin has none', async () => {
    const { provider, spans } = fakeTracerProvider();
    trace.setGlobalTracerProvider(provider);
    const calls: string[] = [];
    const instrumented = instrumentSigner({
      ...signer,
      keyRoller: {
        rolloverTiming: () => (calls.push('timing'), Promise.resolve({ mode: 'held' as const })),
        startRoll: () => Promise.reject(new Error('not in this test')),
        activateSuccessor: () => Promise.resolve(),
        removeKeys: (_zone, tags) => (calls.push(`remove ${tags.join(',')}`), Promise.resolve()),
      },
    });
    expect(await instrumented.keyRoller?.rolloverTiming('example.test.', {})).toEqual({
      mode: 'held',
    });
    await instrumented.keyRoller?.removeKeys('example.test.', [1, 2], {});
    expect(calls).toEqual(['timing', 'remove 1,2']);
    expect(spans.map((span) => span.name)).toEqual(['signer.rolloverTiming', 'signer.removeKeys']);
    expect('keyRoller' in instrumentSigner(signer)).toBe(false);
    // The optional DS confirmation is kept when the plugin has it, and only then.
    expect('confirmParentDs' in (instrumented.keyRoller ?? {})).toBe(false);
    const confirming = instrumentSigner({
      ...signer,
      keyRoller: {
        rolloverTiming: () => Promise.resolve({ mode: 'server-timed' as const }),
        startRoll: () => Promise.reject(new Error('not in this test')),
        activateSuccessor: () => Promise.resolve(),
        removeKeys: () => Promise.resolve(),
        confirmParentDs: (_zone, change) => (
          calls.push(`confirm ${change.published.join(',')}`),
          Promise.resolve()
        ),
      },
    });
    await confirming.keyRoller?.confirmParentDs?.(
      'example.test.',
      { published: [7], withdrawn: [3] },
      {},
    );
    expect(calls).toContain('confirm 7');
    expect(spans.map((span) => span.name)).toContain('signer.confirmParentDs');
  });

  it('wraps a parent channel, keeping only the request methods it has', async () => {
    const { provider, spans } = fakeTracerProvider();
    trace.setGlobalTracerProvider(provider);
    const parent: ParentChannel = {
      specificationVersion: 'v1',
      kind: 'observe-only',
      id: 'parent',
      capabilities: {},
      getDelegation: (zone) =>
        Promise.resolve({
          zone,
          parent: 'test.',
          observedAt: new Date().toISOString(),
          ds: null,
          ns: null,
          glue: [],
          consistent: true,
          servers: [],
        }),
    };
    const instrumented = instrumentParentChannel(parent);
    expect('requestDsUpdate' in instrumented).toBe(false);
    expect('requestNsUpdate' in instrumented).toBe(false);
    await instrumented.getDelegation('example.test.', {});
    expect(spans.map((span) => [span.name, span.options.attributes])).toEqual([
      [
        'parent.getDelegation',
        {
          'chorus.parent.id': 'parent',
          'chorus.zone': 'example.test.',
          'chorus.plugin': 'observe-only',
          'chorus.plugin.method': 'getDelegation',
        },
      ],
    ]);
  });
});

describe('metrics', () => {
  it('creates the instruments from the provider registered at the time of use', () => {
    recordWait(5, 'ds'); // before any provider: a no-op
    const first = fakeMeterProvider();
    metrics.setGlobalMeterProvider(first.provider);
    recordProcess('add-signer', 'completed');
    recordWait(42, 'ds-and-dnskey');
    recordWait(-1, 'ds'); // impossible: ignored
    metrics.disable();
    const second = fakeMeterProvider();
    metrics.setGlobalMeterProvider(second.provider);
    recordPluginCall('knot', 'readApex', 'ok', 0.01);
    expect(first.recorded).toEqual([
      {
        instrument: 'chorus.processes',
        value: 1,
        attributes: { 'chorus.process.kind': 'add-signer', 'chorus.process.outcome': 'completed' },
      },
      {
        instrument: 'chorus.waits.duration',
        value: 42,
        attributes: { 'chorus.wait.formula': 'ds-and-dnskey' },
      },
    ]);
    expect(second.recorded.map((entry) => entry.instrument)).toEqual([
      'chorus.plugin.call.duration',
    ]);
  });
});
