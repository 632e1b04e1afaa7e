import { format } from 'node:util';
import {
  context,
  diag,
  DiagLogLevel,
  isSpanContextValid,
  metrics,
  propagation,
  trace,
  type Attributes,
  type Context,
  type DiagLogger,
  type Span,
  type SpanOptions,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import {
  BatchSpanProcessor,
  RandomIdGenerator,
  TracerProvider,
  type IdGenerator,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_INSTANCE_ID, ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { tracer } from '@chorus/core';
import type { Logger } from 'pino';

/**
 * The composition root's OpenTelemetry SDK. Core and plugins use only `@opentelemetry/api`; this
 * file is where a tracer provider (AsyncLocalStorage context, W3C propagation, batched OTLP/HTTP
 * JSON export) and a meter provider (periodic OTLP/HTTP JSON export) are registered, and only
 * when the standard `OTEL_` variables ask for export. Otherwise nothing is registered and every
 * span and instrument stays a no-op.
 */

export interface Telemetry {
  /** True when an SDK was registered and exports traces or metrics. */
  readonly exporting: boolean;
  /** Flushes and stops the exporters, then unregisters the SDK. Safe to call more than once. */
  shutdown(): Promise<void>;
}

export interface TelemetryOptions {
  /** `service.name` when OTEL_SERVICE_NAME (or `service.name` in OTEL_RESOURCE_ATTRIBUTES) does not set one. */
  serviceName?: string;
  /** `service.instance.id` unless OTEL_RESOURCE_ATTRIBUTES sets one, e.g. the sidecar id. */
  serviceInstanceId?: string;
  /** Resource attributes Chorus owns (e.g. `chorus.sidecar.id`); they win over the environment. */
  attributes?: Attributes;
  /** Metric export interval when OTEL_METRIC_EXPORT_INTERVAL is not set. Default 5 s. */
  metricIntervalMs?: number;
  /** The longest `shutdown()` waits for the final export. Default 4 s. */
  shutdownTimeoutMs?: number;
}

interface SignalSettings {
  /** The export URL; undefined for the exporter's default (http://localhost:4318/v1/<signal>). */
  url: string | undefined;
  headers: Record<string, string>;
  timeoutMillis: number | undefined;
}

export interface OtlpSettings {
  /** Null when traces are not exported. */
  traces: SignalSettings | null;
  metrics: SignalSettings | null;
  /** Things the operator asked for that this build does not do (named, never with values). */
  notes: string[];
}

const truthy = (value: string | undefined) => value?.trim().toLowerCase() === 'true';

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** `k1=v1,k2=v2` with percent-encoded keys and values (OTEL_*_HEADERS, OTEL_RESOURCE_ATTRIBUTES). */
function parsePairs(value: string | undefined): Record<string, string> | undefined {
  const result: Record<string, string> = {};
  if (!value) return result;
  for (const entry of value.split(',')) {
    if (entry.trim() === '') continue;
    const separator = entry.indexOf('=');
    if (separator <= 0) return undefined;
    try {
      const key = decodeURIComponent(entry.slice(0, separator).trim());
      const item = decodeURIComponent(entry.slice(separator + 1).trim());
      if (key === '') return undefined;
      result[key] = item;
    } catch {
      return undefined;
    }
  }
  return result;
}

function signalSettings(
  environment: NodeJS.ProcessEnv,
  signal: 'TRACES' | 'METRICS',
  notes: string[],
): SignalSettings | null {
  const exporters = (nonEmpty(environment[`OTEL_${signal}_EXPORTER`]) ?? '')
    .toLowerCase()
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const specific = nonEmpty(environment[`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`]);
  const generic = nonEmpty(environment.OTEL_EXPORTER_OTLP_ENDPOINT);
  const unsupported = exporters.filter((name) => name !== 'otlp' && name !== 'none');
  if (unsupported.length > 0)
    notes.push(
      `OTEL_${signal}_EXPORTER: only "otlp" is supported (ignored: ${unsupported.join(', ')})`,
    );
  if (exporters.includes('none')) return null;
  const wanted = exporters.includes('otlp') || (exporters.length === 0 && (specific ?? generic));
  if (!wanted) return null;
  const path = signal === 'TRACES' ? 'v1/traces' : 'v1/metrics';
  const url = specific ?? (generic ? `${generic.replace(/\/+$/, '')}/${path}` : undefined);
  const headers: Record<string, string> = {};
  for (const name of ['OTEL_EXPORTER_OTLP_HEADERS', `OTEL_EXPORTER_OTLP_${signal}_HEADERS`]) {
    const parsed = parsePairs(environment[name]);
    if (parsed) Object.assign(headers, parsed);
    else notes.push(`${name} is malformed and was ignored (expected key=value,…)`);
  }
  const timeout = Number(
    nonEmpty(environment[`OTEL_EXPORTER_OTLP_${signal}_TIMEOUT`]) ??
      nonEmpty(environment.OTEL_EXPORTER_OTLP_TIMEOUT),
  );
  const protocol =
    nonEmpty(environment[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`]) ??
    nonEmpty(environment.OTEL_EXPORTER_OTLP_PROTOCOL);
  if (protocol && protocol !== 'http/json')
    notes.push(`${signal.toLowerCase()} are exported with http/json, not ${protocol}`);
  return {
    url,
    headers,
    timeoutMillis: Number.isFinite(timeout) && timeout > 0 ? timeout : undefined,
  };
}

/**
 * What the `OTEL_` variables ask for. Export is on for a signal when its OTLP endpoint (or the
 * generic one) is set, or when OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER says `otlp`; `none`
 * turns a signal off, and OTEL_SDK_DISABLED=true turns everything off.
 */
export function otlpSettingsFromEnvironment(environment: NodeJS.ProcessEnv): OtlpSettings {
  const notes: string[] = [];
  if (truthy(environment.OTEL_SDK_DISABLED)) return { traces: null, metrics: null, notes };
  return {
    traces: signalSettings(environment, 'TRACES', notes),
    metrics: signalSettings(environment, 'METRICS', notes),
    notes,
  };
}

/** An export URL fit for a log line: no user, password, query or fragment. */
export function describeEndpoint(url: string | undefined, signalPath: string): string {
  if (!url) return `http://localhost:4318/${signalPath} (default)`;
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * Span ids chosen by the caller. A process's root span must carry the span id its request's
 * traceparent already named (every sidecar parented its spans to it), and a step's span an id
 * every sidecar derives alike; the SDK asks its IdGenerator for ids, so this one can be told the
 * next pair. `startSpan` is synchronous, so a preset is consumed by exactly the span it was set for.
 */
class PresettableIdGenerator implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  preset: { traceId: string; spanId: string } | undefined;

  generateTraceId(): string {
    return this.preset?.traceId ?? this.random.generateTraceId();
  }

  generateSpanId(): string {
    return this.preset?.spanId ?? this.random.generateSpanId();
  }
}

const idGenerator = new PresettableIdGenerator();
/** True while a tracer provider using {@link idGenerator} is the registered global one. */
let idsHonoured = false;

/** True when {@link startSpanWithIds} can choose span ids (this file's SDK is registered). */
export function canChooseSpanIds(): boolean {
  return idsHonoured;
}

/**
 * Starts a span with the given ids: `traceId` applies when `parent` holds no span (a root span),
 * otherwise the parent's trace id is kept. Without this file's SDK the ids are not honoured
 * (check {@link canChooseSpanIds}).
 */
export function startSpanWithIds(
  name: string,
  options: SpanOptions,
  parent: Context,
  ids: { traceId: string; spanId: string },
): Span {
  idGenerator.preset = ids;
  try {
    return tracer.startSpan(name, options, parent);
  } finally {
    idGenerator.preset = undefined;
  }
}

/** pino fields of the active span, so every line logged inside a span names its trace. */
export function traceLogFields(): Record<string, string> {
  const span = trace.getActiveSpan();
  const spanContext = span?.spanContext();
  if (!spanContext || !isSpanContextValid(spanContext)) return {};
  return {
    trace_id: spanContext.traceId,
    span_id: spanContext.spanId,
    trace_flags: (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0'),
  };
}

/** Routes the SDK's own warnings (failed exports, bad settings) to pino. */
function pinoDiagLogger(logger: Logger): DiagLogger {
  const line =
    (level: 'error' | 'warn' | 'info' | 'debug' | 'trace') =>
    (message: string, ...args: unknown[]) =>
      logger[level]({ component: 'opentelemetry' }, format(message, ...args));
  return {
    error: line('error'),
    warn: line('warn'),
    info: line('info'),
    debug: line('debug'),
    verbose: line('trace'),
  };
}

const NOTHING: Telemetry = { exporting: false, shutdown: () => Promise.resolve() };

/**
 * Registers the OpenTelemetry SDK when the `OTEL_` variables in `environment` ask for export, and
 * returns its shutdown. Honours OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, the OTLP endpoint,
 * headers and timeout variables (generic and per signal), OTEL_TRACES_EXPORTER,
 * OTEL_METRICS_EXPORTER and OTEL_SDK_DISABLED. Header values are sent, never logged.
 */
export function configureTelemetry(
  environment: NodeJS.ProcessEnv,
  logger: Logger,
  options: TelemetryOptions = {},
): Telemetry {
  const settings = otlpSettingsFromEnvironment(environment);
  for (const note of settings.notes) logger.warn({ component: 'opentelemetry' }, note);
  if (!settings.traces && !settings.metrics) {
    logger.debug('OpenTelemetry export is off (no OTEL_ exporter settings)');
    return NOTHING;
  }
  const fromEnvironment = parsePairs(environment.OTEL_RESOURCE_ATTRIBUTES);
  if (!fromEnvironment)
    logger.warn(
      { component: 'opentelemetry' },
      'OTEL_RESOURCE_ATTRIBUTES is malformed and was ignored (expected key=value,…)',
    );
  const serviceName = nonEmpty(environment.OTEL_SERVICE_NAME);
  const resource = resourceFromAttributes({
    ...defaultResource().attributes,
    [ATTR_SERVICE_NAME]: options.serviceName ?? 'chorus',
    ...(options.serviceInstanceId ? { [ATTR_SERVICE_INSTANCE_ID]: options.serviceInstanceId } : {}),
    ...fromEnvironment,
    ...(serviceName ? { [ATTR_SERVICE_NAME]: serviceName } : {}),
    ...options.attributes,
  });

  // Each global is unregistered on shutdown only if this call registered it.
  const registered = {
    diag: diag.setLogger(pinoDiagLogger(logger), DiagLogLevel.WARN),
    context: context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()),
    propagation: propagation.setGlobalPropagator(new W3CTraceContextPropagator()),
    traces: false,
    metrics: false,
  };

  let tracerProvider: TracerProvider | undefined;
  if (settings.traces) {
    const { url, headers, timeoutMillis } = settings.traces;
    tracerProvider = new TracerProvider({
      resource,
      idGenerator,
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: new OTLPTraceExporter({
            ...(url ? { url } : {}),
            headers,
            ...(timeoutMillis ? { timeoutMillis } : {}),
          }),
        }),
      ],
    });
    registered.traces = trace.setGlobalTracerProvider(tracerProvider);
    idsHonoured = registered.traces;
  }
  let meterProvider: MeterProvider | undefined;
  if (settings.metrics) {
    const { url, headers, timeoutMillis } = settings.metrics;
    const interval = Number(nonEmpty(environment.OTEL_METRIC_EXPORT_INTERVAL));
    const exportIntervalMillis =
      Number.isFinite(interval) && interval > 0 ? interval : (options.metricIntervalMs ?? 5000);
    meterProvider = new MeterProvider({
      resource,
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({
            ...(url ? { url } : {}),
            headers,
            ...(timeoutMillis ? { timeoutMillis } : {}),
          }),
          exportIntervalMillis,
          exportTimeoutMillis: Math.min(exportIntervalMillis, timeoutMillis ?? 10_000),
        }),
      ],
    });
    registered.metrics = metrics.setGlobalMeterProvider(meterProvider);
  }
  logger.info(
    {
      component: 'opentelemetry',
      traces: settings.traces ? describeEndpoint(settings.traces.url, 'v1/traces') : 'off',
      metrics: settings.metrics ? describeEndpoint(settings.metrics.url, 'v1/metrics') : 'off',
      headers: Object.keys({ ...settings.traces?.headers, ...settings.metrics?.headers }),
      service: resource.attributes[ATTR_SERVICE_NAME],
    },
    'OpenTelemetry export enabled (OTLP http/json)',
  );

  let stopping: Promise<void> | undefined;
  const shutdown = async () => {
    const flushed = Promise.allSettled([tracerProvider?.shutdown(), meterProvider?.shutdown()]);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), options.shutdownTimeoutMs ?? 4000);
    });
    const outcome = await Promise.race([flushed, timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout')
      logger.warn(
        { component: 'opentelemetry' },
        'OpenTelemetry export did not finish before shutdown; some spans or metrics are lost',
      );
    if (registered.traces) {
      idsHonoured = false;
      trace.disable();
    }
    if (registered.metrics) metrics.disable();
    if (registered.propagation) propagation.disable();
    if (registered.context) context.disable();
    if (registered.diag) diag.disable();
  };
  return {
    exporting: true,
    shutdown: () => (stopping ??= shutdown()),
  };
}
