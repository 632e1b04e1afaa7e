import { randomBytes } from 'node:crypto';

/**
 * W3C trace context for processes (https://www.w3.org/TR/trace-context/). A process's trace id
 * is chosen when it is requested; every event of the process carries a traceparent in that trace
 * with a span id of its own, so all sidecars' work on one process forms one trace.
 */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function newTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}

/** A traceparent in the same trace as `parent`, with a new span id; a new trace when `parent` is absent or malformed. */
export function childTraceparent(parent: string | undefined): string {
  const match = parent ? TRACEPARENT.exec(parent) : null;
  if (!match) return newTraceparent();
  return `00-${match[1]}-${randomBytes(8).toString('hex')}-${match[3]}`;
}

export function traceIdOf(traceparent: string | undefined): string | undefined {
  return traceparent ? TRACEPARENT.exec(traceparent)?.[1] : undefined;
}
