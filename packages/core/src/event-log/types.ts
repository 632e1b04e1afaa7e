/**
 * The `EventLog` port: an append-only, totally ordered log of plain-JSON events, split into
 * streams (one per zone), with optimistic concurrency per stream and durable consumer positions.
 * Backends: {@link createSqliteEventLog} (embedded, one host, several processes),
 * {@link createMemoryEventLog} (one process, for embedding and tests) and `createNatsEventLog`
 * (NATS JetStream, sidecars on different machines). See docs/event-log.md.
 *
 * @module
 */

/** One event as stored in the log. */
export interface RecordedEvent<E> {
  /**
   * Global position: a positive integer, strictly increasing in commit order across all streams,
   * but it may have gaps (the NATS backend numbers the events of an append inside one message).
   * Compare positions, page with them and commit them; never count or predict them.
   */
  position: number;
  /** The stream the event belongs to (one per zone). */
  stream: string;
  /** 1-based version of the event within its stream, without gaps. */
  streamVersion: number;
  /** When the log committed the event (ISO 8601, UTC). All events of one append share it. */
  recordedAt: string;
  /** The event as appended, after a JSON round trip. */
  event: E;
}

/** What a successful {@link EventLog.append} wrote. */
export interface AppendResult {
  /** The stream's version after the append (the version of its last event). */
  streamVersion: number;
  /** The global positions of the appended events, in order (strictly increasing). */
  positions: number[];
}

/** Options of {@link EventLog.readStream}. */
export interface ReadStreamOptions {
  /** First stream version to return (inclusive); 1 (or 0) means from the start. */
  fromVersion?: number;
}

/** Options of {@link EventLog.readAll}. */
export interface ReadAllOptions {
  /** Return events after this position (exclusive); 0 means from the start. */
  afterPosition?: number;
  /** At most this many events (a positive integer); no limit when absent. */
  limit?: number;
  /** Only events whose stream name starts with this prefix. */
  streamPrefix?: string;
}

/** Options of {@link EventLog.subscribe}. */
export interface SubscribeOptions<E> {
  /**
   * A durable consumer name. The subscription starts after the consumer's committed position (or
   * after `afterPosition` if that is greater) and commits each event's position once `onEvent`
   * has finished with it, so a restarted consumer resumes where it stopped.
   */
  consumer?: string;
  /** Start after this position (exclusive); 0 or absent means from the start. */
  afterPosition?: number;
  /** Only events whose stream name starts with this prefix. */
  streamPrefix?: string;
  /**
   * Called once per event, in log order; the next event waits for the returned promise. Delivery
   * is at least once: after a crash the last event may come again, so handlers must be idempotent.
   * A throw (or rejection) stops the subscription and goes to `onError`; the event is not committed.
   */
  onEvent: (event: RecordedEvent<E>) => void | Promise<void>;
  /**
   * Receives the error that stopped the subscription (a handler failure or a storage failure).
   * Without it the backend logs the error; either way the subscription stops and never skips.
   * A remote backend rides out an outage instead (it retries until the server is back and
   * resumes after the last handled event); only failures that retrying cannot fix stop it.
   */
  onError?: (error: unknown) => void;
}

/** A live subscription returned by {@link EventLog.subscribe}. */
export interface Subscription {
  /**
   * Resolves once every event present at subscribe time has been handled (or when the
   * subscription is closed first). Rejects with the error that stopped the subscription before that.
   */
  readonly ready: Promise<void>;
  /**
   * Stops delivery. After it resolves `onEvent` is not called again; an event whose handler is
   * still running is not committed (it comes again to a resumed consumer). Idempotent.
   */
  close(): Promise<void>;
}

/**
 * The event log port, generic over the event type `E` (plain JSON: objects, arrays, strings,
 * finite numbers, booleans, null). Every method rejects with an `EventLogError` of kind `closed`
 * once {@link EventLog.close} has been called.
 */
export interface EventLog<E> {
  /**
   * Appends atomically iff the stream is at `expectedVersion` (0 = the stream must not exist yet).
   * Otherwise rejects with WrongExpectedVersionError (isRetryable true: re-read, re-decide, retry)
   * and writes nothing. Rejects with SecretInEventError if an event carries a secret-looking key,
   * and with EventLogError (`invalid-argument`) if an event is not plain JSON, or `events` is
   * empty or longer than `MAX_EVENTS_PER_APPEND` (1024).
   */
  append(stream: string, expectedVersion: number, events: readonly E[]): Promise<AppendResult>;
  /** The events of one stream in version order (empty if the stream does not exist). */
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent<E>[]>;
  /** Every event after `afterPosition` (exclusive), in total order. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent<E>[]>;
  /** The stream's current version: the number of events in it, 0 if it does not exist. */
  streamVersion(stream: string): Promise<number>;
  /**
   * Delivers events in order, at least once. With `consumer`, starts after that consumer's
   * committed position and commits after each handled event (resume after a restart).
   * Event-driven: no coarse polling. Throws `EventLogError` synchronously on invalid options or a
   * closed log.
   */
  subscribe(options: SubscribeOptions<E>): Subscription;
  /** The last position the consumer committed, 0 if it never committed. */
  consumerPosition(consumer: string): Promise<number>;
  /**
   * Records the consumer's position (the last event it has fully handled). It may move backwards
   * to replay; it may not point past the end of the log.
   */
  commitConsumer(consumer: string, position: number): Promise<void>;
  /** Closes every subscription and releases the storage. Idempotent. */
  close(): Promise<void>;
}
