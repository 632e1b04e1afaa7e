/**
 * The distributed event-log backend: NATS JetStream (designed against nats-server 2.9).
 *
 * - One JetStream stream (`CHORUS`) with one subject per event-log stream:
 *   `chorus.log.<base64url(stream name)>`. The server orders every append in one sequence.
 * - One append is one message (the events as a JSON array), so multi-event appends are atomic.
 *   The events' positions are `(seq - 1) * 1024 + index + 1`: strictly increasing, with gaps.
 * - Optimistic concurrency per stream: an append states the sequence of the stream's last
 *   message (`Nats-Expected-Last-Subject-Sequence`); the stream's version is in a header.
 *   `Nats-Msg-Id` makes a retried append idempotent.
 * - Consumer positions live in a KV bucket (`CHORUS_CONSUMERS`), one key per consumer.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { nuid } from '@nats-io/transport-node';
import {
  assertInteger,
  assertName,
  EventLogError,
  normalizeFromVersion,
  normalizeReadAll,
  serializeEvents,
  WrongExpectedVersionError,
  type AppendResult,
  type EventLog,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
} from '@chorus/core';
import {
  appendHeaders,
  appendPayload,
  decodeEvents,
  decodeHead,
  firstSeqAfter,
  positionOf,
  type MessageHead,
  type RawMessage,
} from './codec.js';
import { settingsOf, type NatsEventLogOptions } from './settings.js';
import { NatsStore } from './store.js';
import { consumerKey, subjectForStream } from './subjects.js';
import { NatsSubscription, type SubscriptionSource } from './subscription.js';

/** Room left in a message for its headers, below the server's max_payload. */
const HEADER_ROOM = 1024;
/** readStream walks back message by message when it needs at most this many versions. */
const WALK_BACK_VERSIONS = 16;

function corrupt(message: string): EventLogError {
  return new EventLogError('corrupt', message);
}

/** A stream's last message: its head and the message, or nothing for a new stream. */
interface Tail {
  raw: RawMessage;
  head: MessageHead;
}

/**
 * Opens the event log on NATS JetStream. Rejects with EventLogError `unavailable` (retryable)
 * when no server answers, `permission` when the credentials are refused, `storage` when the
 * stream or the bucket is missing (unless `createStream`), `invalid-argument` for bad options
 * (including a credentials file readable by group or others).
 *
 * @example
 * const log = await createNatsEventLog<ZoneEvent>({
 *   servers: ['tls://nats.example.net:4222'],
 *   credentialsFile: '/etc/chorus/nats.credentials', // "user:password", mode 0600
 *   tls: { caFile: '/etc/chorus/nats-ca.pem' },
 * });
 */
export async function createNatsEventLog<E>(options: NatsEventLogOptions): Promise<EventLog<E>> {
  const settings = settingsOf(options);
  const store = await NatsStore.open(settings);
  const { subjectPrefix, logger } = settings;
  // Message IDs are unique to this log object: its own retries dedupe, other writers never do.
  const instance = nuid.next();
  const subscriptions = new Set<Subscription>();
  let closed = false;
  logger?.debug('event log opened');

  const ensureOpen = (): void => {
    if (closed) throw new EventLogError('closed', 'the event log is closed');
  };

  const tailOf = async (subject: string): Promise<Tail | undefined> => {
    const raw = await store.lastMessage(subject);
    return raw === undefined ? undefined : { raw, head: decodeHead(raw, subjectPrefix) };
  };

  const msgIdOf = (subject: string, expectedVersion: number, payload: Uint8Array): string =>
    createHash('sha256')
      .update(`${instance}\0${subject}\0${expectedVersion}\0`)
      .update(payload)
      .digest('base64url');

  const MAX_APPEND_ATTEMPTS = 20;
  /** Consumer reads of a whole stream before walking back through the leader instead. */
  const CONSUMER_READ_ATTEMPTS = 3;

  const appended = (seq: number, expectedVersion: number, count: number): AppendResult => ({
    streamVersion: expectedVersion + count,
    positions: Array.from({ length: count }, (_, index) => positionOf(seq, index)),
  });

  /**
   * Appends state the stream's last sequence, not the subject's: nats-server 2.9 checks the
   * expected last subject sequence against stored messages only, so two clustered appends in
   * flight at once could both pass it; the stream-wide expectation counts proposals in flight.
   */
  const append = async (
    stream: string,
    expectedVersion: number,
    events: readonly E[],
  ): Promise<AppendResult> => {
    ensureOpen();
    assertName(stream, 'stream');
    assertInteger(expectedVersion, 'expectedVersion', 0);
    const bodies = serializeEvents(events);
    const subject = subjectForStream(stream, subjectPrefix);
    const payload = appendPayload(bodies);
    if (payload.length + HEADER_ROOM > store.maxPayload)
      throw new EventLogError(
        'invalid-argument',
        `the append is ${payload.length} bytes, more than the server's max_payload (${store.maxPayload}) allows: split it`,
      );
    for (let attempt = 1; ; attempt++) {
      // The stream's last sequence first, then the subject's tail: an append to this stream in
      // between shows in the tail, an append anywhere after makes the publish conflict.
      const { last_seq: lastSequence } = await store.streamState();
      const tail = await tailOf(subject);
      const actual = tail?.head.version ?? 0;
      const msgId = msgIdOf(subject, expectedVersion, payload);
      if (actual !== expectedVersion) {
        // Our own earlier attempt (that failed as `unavailable`) was written after all.
        if (tail?.head.msgId === msgId)
          return appended(tail.head.seq, expectedVersion, bodies.length);
        throw new WrongExpectedVersionError({ stream, expected: expectedVersion, actual });
      }
      const previous = tail?.head.seq ?? 0;
      const headers = appendHeaders(expectedVersion + bodies.length, previous);
      const ack = await store.publish(subject, payload, headers, msgId, lastSequence);
      if (ack !== 'conflict') return appended(ack.seq, expectedVersion, bodies.length);
      // Another append landed somewhere in the stream: ours may still be at the right version.
      if (attempt >= MAX_APPEND_ATTEMPTS)
        throw new EventLogError(
          'unavailable',
          `event log unavailable: ${stream} lost ${attempt} races for the stream's last sequence in a row; retry`,
        );
    }
  };

  /** Walks back from the stream's last message through `Chorus-Previous` to `fromVersion`. */
  const walkBack = async (tail: Tail, fromVersion: number): Promise<RecordedEvent<E>[]> => {
    const chunks = [decodeEvents<E>(tail.raw, tail.head)];
    let head = tail.head;
    while (chunks[0]![0]!.streamVersion > fromVersion) {
      const raw = head.previous === 0 ? undefined : await store.messageAt(head.previous);
      if (raw === undefined)
        throw corrupt(`message ${head.seq} of ${JSON.stringify(head.stream)} has no predecessor`);
      const previous = decodeHead(raw, subjectPrefix);
      if (previous.stream !== head.stream)
        throw corrupt(`message ${head.seq} points to a message of another stream`);
      chunks.unshift(decodeEvents<E>(raw, previous));
      head = previous;
    }
    return chunks.flat().filter((recorded) => recorded.streamVersion >= fromVersion);
  };

  /**
   * Reads a whole stream through a consumer filtered on its subject, or undefined when what came
   * is not every version up to the tail: the consumer reads one replica's copy, which may still be
   * catching up after a restart (a missing stretch, or a short end).
   */
  const readSubjectOnce = async (
    subject: string,
    tail: Tail,
    fromVersion: number,
  ): Promise<RecordedEvent<E>[] | undefined> => {
    const out: RecordedEvent<E>[] = [];
    let expected = 1;
    const messages = store.readMessages({ startSeq: 1, filter: subject, lastSeq: tail.head.seq });
    for await (const raw of messages) {
      for (const recorded of decodeEvents<E>(raw, decodeHead(raw, subjectPrefix))) {
        if (recorded.streamVersion !== expected++) return undefined;
        if (recorded.streamVersion >= fromVersion) out.push(recorded);
      }
    }
    return expected - 1 === tail.head.version ? out : undefined;
  };

  /**
   * A whole stream: through a consumer (fast), again if a replica was behind, and at last by
   * walking back from the tail through the stream leader, which tells a replica that lags from a
   * stream that really has a gap (corrupt).
   */
  const readSubject = async (
    subject: string,
    tail: Tail,
    fromVersion: number,
  ): Promise<RecordedEvent<E>[]> => {
    for (let attempt = 1; attempt <= CONSUMER_READ_ATTEMPTS; attempt++) {
      const read = await readSubjectOnce(subject, tail, fromVersion);
      if (read !== undefined) return read;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
    return walkBack(tail, fromVersion);
  };

  const readStream = async (
    stream: string,
    readOptions?: ReadStreamOptions,
  ): Promise<RecordedEvent<E>[]> => {
    ensureOpen();
    assertName(stream, 'stream');
    const fromVersion = normalizeFromVersion(readOptions);
    const subject = subjectForStream(stream, subjectPrefix);
    const tail = await tailOf(subject);
    if (tail === undefined || fromVersion > tail.head.version) return [];
    return tail.head.version - fromVersion < WALK_BACK_VERSIONS
      ? walkBack(tail, fromVersion)
      : readSubject(subject, tail, fromVersion);
  };

  const readAfter = async (
    afterPosition: number,
    streamPrefix: string | undefined,
    limit: number | undefined,
  ): Promise<RecordedEvent<E>[]> => {
    const out: RecordedEvent<E>[] = [];
    const messages = store.readMessages({
      startSeq: firstSeqAfter(afterPosition),
      filter: `${subjectPrefix}.>`,
    });
    for await (const raw of messages) {
      const head = decodeHead(raw, subjectPrefix);
      if (streamPrefix !== undefined && !head.stream.startsWith(streamPrefix)) continue;
      for (const recorded of decodeEvents<E>(raw, head)) {
        if (recorded.position <= afterPosition) continue;
        out.push(recorded);
        if (limit !== undefined && out.length >= limit) return out;
      }
    }
    return out;
  };

  /** The position of the log's last event (0 for an empty log). */
  const endPosition = async (): Promise<number> => {
    const state = await store.streamState();
    if (state.messages === 0) return 0;
    const raw = await store.messageAt(state.last_seq);
    if (raw === undefined) return positionOf(state.last_seq, 0);
    return decodeEvents(raw, decodeHead(raw, subjectPrefix)).at(-1)!.position;
  };

  const commitConsumer = async (consumer: string, position: number): Promise<void> => {
    ensureOpen();
    const key = consumerKey(consumer);
    assertInteger(position, 'position', 0);
    const end = await endPosition();
    if (position > end)
      throw new EventLogError(
        'invalid-argument',
        `position ${position} is past the end of the log (${end})`,
      );
    await store.commitConsumer(key, position);
  };

  const source: SubscriptionSource = {
    store,
    consumerPosition: (consumer) => store.consumerPosition(consumerKey(consumer)),
    // Positions a subscription commits were just delivered: no need to check the end.
    commitConsumer: (consumer, position) => store.commitConsumer(consumerKey(consumer), position),
    stopped: (subscription) => subscriptions.delete(subscription),
    logger,
  };

  // Every method runs inside a promise, so a synchronous throw becomes a rejection.
  const run = <T>(fn: () => Promise<T>): Promise<T> => new Promise<T>((resolve) => resolve(fn()));

  return {
    append: (stream, expectedVersion, events) => run(() => append(stream, expectedVersion, events)),
    readStream: (stream, readOptions) => run(() => readStream(stream, readOptions)),
    readAll: (readOptions?: ReadAllOptions) =>
      run(() => {
        ensureOpen();
        const { afterPosition, limit, streamPrefix } = normalizeReadAll(readOptions);
        return readAfter(afterPosition, streamPrefix, limit);
      }),
    streamVersion: (stream) =>
      run(async () => {
        ensureOpen();
        const tail = await tailOf(subjectForStream(assertName(stream, 'stream'), subjectPrefix));
        return tail?.head.version ?? 0;
      }),
    subscribe: (subscribeOptions: SubscribeOptions<E>): Subscription => {
      ensureOpen();
      const subscription = new NatsSubscription(subscribeOptions, source);
      subscriptions.add(subscription);
      subscription.begin();
      return subscription;
    },
    consumerPosition: (consumer) =>
      run(() => {
        ensureOpen();
        return store.consumerPosition(consumerKey(consumer));
      }),
    commitConsumer: (consumer, position) => run(() => commitConsumer(consumer, position)),
    close: async () => {
      if (closed) return;
      closed = true;
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      await store.close();
      logger?.debug('event log closed');
    },
  };
}
