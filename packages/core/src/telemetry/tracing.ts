import {
  context,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanContext,
  type SpanOptions,
  type Tracer,
} from '@opentelemetry/api';

/**
 * Tracing helpers on `@opentelemetry/api` only. Without an SDK registered every call is a no-op;
 * the composition root (the sidecar, the CLI) registers one when the `OTEL_` variables ask for it.
 */

export const TRACER_NAME = '@chorus/core';

/**
 * The tracer of `@chorus/core`. Looked up from the global provider at each call, so a provider
 * registered (or replaced) after this module was loaded is always the one used.
 */
export const tracer: Tracer = {
  startSpan: (name, options, parent) =>
    trace.getTracer(TRACER_NAME).startSpan(name, options, parent),
  startActiveSpan: ((...args: Parameters<Tracer['startActiveSpan']>) =>
    (trace.getTracer(TRACER_NAME).startActiveSpan as (...all: unknown[]) => unknown)(
      ...args,
    )) as Tracer['startActiveSpan'],
};

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The span context a W3C traceparent names, marked remote; undefined when it is absent or malformed. */
export function spanContextFromTraceparent(
  traceparent: string | undefined,
): SpanContext | undefined {
  const match = traceparent ? TRACEPARENT.exec(traceparent.trim()) : null;
  if (!match || match[1] === 'ff') return undefined;
  const spanContext: SpanContext = {
    traceId: match[2]!,
    spanId: match[3]!,
    traceFlags: Number.parseInt(match[4]!, 16) & 0xff,
    isRemote: true,
  };
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}

/**
 * A context whose parent span is the one a W3C traceparent names (e.g. an event's), so spans
 * started in it join that trace even in another process. `base` (default ROOT_CONTEXT) when the
 * traceparent is absent or malformed.
 */
export function contextFromTraceparent(
  traceparent: string | undefined,
  base: Context = ROOT_CONTEXT,
): Context {
  const spanContext = spanContextFromTraceparent(traceparent);
  return spanContext ? trace.setSpanContext(base, spanContext) : base;
}

/** The W3C traceparent of a span context. */
export function traceparentOf(spanContext: SpanContext): string {
  return `00-${spanContext.traceId}-${spanContext.spanId}-${(spanContext.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/**
 * The traceparent of the active span when an SDK records it; undefined otherwise (no SDK, or
 * no span), so callers keep their own traceparent instead of repeating the parent's.
 */
export function activeTraceparent(active: Context = context.active()): string | undefined {
  const span = trace.getSpan(active);
  if (!span?.isRecording()) return undefined;
  const spanContext = span.spanContext();
  return isSpanContextValid(spanContext) ? traceparentOf(spanContext) : undefined;
}

export interface WithSpanOptions {
  kind?: SpanKind;
  /** The tracer to use; default {@link tracer}. */
  tracer?: Tracer;
  startTime?: SpanOptions['startTime'];
}

/**
 * Runs `fn` inside a new span, child of `parentContext` (default: the active context). A throw or
 * rejection is recorded on the span (exception event, status ERROR) and rethrown; the span ends
 * when `fn` settles. Attributes must be public facts: never secrets.
 */
export async function withSpan<T>(
  name: string,
  attributes: Attributes,
  parentContext: Context | undefined,
  fn: (span: Span) => T | Promise<T>,
  options: WithSpanOptions = {},
): Promise<T> {
  const parent = parentContext ?? context.active();
  const span = (options.tracer ?? tracer).startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      attributes,
      ...(options.startTime === undefined ? {} : { startTime: options.startTime }),
    },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    recordError(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Records an error on a span: an exception event with the error's name and message, status ERROR. */
export function recordError(span: Span, error: unknown): void {
  if (error instanceof Error) {
    span.recordException(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: `${error.name}: ${error.message}` });
  } else {
    span.recordException(String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
  }
}
