/**
 * The envelope every Chorus event shares. The event catalogue (a discriminated union on `type`)
 * is defined with the event log; observers see events as plain JSON.
 */
export interface ChorusEventEnvelope {
  schemaVersion: 1;
  /** kebab-case noun-verb, e.g. `step-completed`. */
  type: string;
  zone: string;
  /** ISO 8601. */
  occurredAt: string;
  source: { kind: string; id: string };
  traceparent?: string;
}

/**
 * Sees every event; may probe the DNS. Like a Vite plugin or an OTel span processor: a name and
 * optional hooks. Core isolates observers: a hook that throws or hangs is logged and counted and
 * never breaks the pipeline.
 */
export interface Observer<Event extends ChorusEventEnvelope = ChorusEventEnvelope> {
  readonly name: string;
  onEvent?(event: Event): void | Promise<void>;
  forceFlush?(): Promise<void>;
  shutdown?(): Promise<void>;
}
