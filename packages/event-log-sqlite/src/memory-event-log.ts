import type { Logger } from 'pino';
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
import { LiveSubscription, type SubscriptionSource } from './subscription.js';

/** Options of {@link createMemoryEventLog}. */
export interface MemoryEventLogOptions {
  /** Receives errors of subscriptions that have no `onError`. */
  logger?: Logger;
}

interface StoredEvent {
  position: number;
  stream: string;
  streamVersion: number;
  recordedAt: string;
  /** Events are kept as JSON text, so callers can never mutate what the log holds. */
  body: string;
}

/**
 * An in-process {@link EventLog} with the same semantics as the SQLite backend (validation,
 * secret refusal, optimistic concurrency, JSON round trip, subscriptions), but nothing survives
 * the process. For embedding and unit tests.
 */
export function createMemoryEventLog<E>(options: MemoryEventLogOptions = {}): EventLog<E> {
  const logger = options.logger?.child({ component: 'event-log', backend: 'memory' });
  const events: StoredEvent[] = [];
  const streams = new Map<string, StoredEvent[]>();
  const consumers = new Map<string, number>();
  const subscriptions = new Set<LiveSubscription<E>>();
  let closed = false;

  const ensureOpen = (): void => {
    if (closed) throw new EventLogError('closed', 'the event log is closed');
  };
  const toRecorded = (stored: StoredEvent): RecordedEvent<E> => ({
    position: stored.position,
    stream: stored.stream,
    streamVersion: stored.streamVersion,
    recordedAt: stored.recordedAt,
    event: JSON.parse(stored.body) as E,
  });
  const readAfter = (
    afterPosition: number,
    streamPrefix: string | undefined,
    limit: number | undefined,
  ): RecordedEvent<E>[] => {
    const out: RecordedEvent<E>[] = [];
    // Positions are 1-based and dense here, so position p sits at index p - 1.
    for (let index = afterPosition; index < events.length; index++) {
      if (limit !== undefined && out.length >= limit) break;
      const stored = events[index]!;
      if (streamPrefix === undefined || stored.stream.startsWith(streamPrefix))
        out.push(toRecorded(stored));
    }
    return out;
  };
  const commit = (consumer: string, position: number): void => {
    assertName(consumer, 'consumer');
    assertInteger(position, 'position', 0);
    if (position > events.length)
      throw new EventLogError(
        'invalid-argument',
        `position ${position} is past the end of the log (${events.length})`,
      );
    consumers.set(consumer, position);
  };

  const source: SubscriptionSource<E> = {
    read: (afterPosition, streamPrefix, limit) => {
      ensureOpen();
      return Promise.resolve(readAfter(afterPosition, streamPrefix, limit));
    },
    consumerPosition: (consumer) => {
      ensureOpen();
      return Promise.resolve(consumers.get(consumer) ?? 0);
    },
    commitConsumer: (consumer, position) => {
      ensureOpen();
      commit(consumer, position);
      return Promise.resolve();
    },
    reportUnhandled: (error, consumer) => {
      logger?.error({ err: error, consumer }, 'event-log subscription stopped');
    },
    stopped: (subscription) => subscriptions.delete(subscription),
  };

  return {
    append(stream: string, expectedVersion: number, batch: readonly E[]): Promise<AppendResult> {
      return new Promise((resolve) => {
        ensureOpen();
        assertName(stream, 'stream');
        assertInteger(expectedVersion, 'expectedVersion', 0);
        const bodies = serializeEvents(batch);
        const existing = streams.get(stream) ?? [];
        if (existing.length !== expectedVersion)
          throw new WrongExpectedVersionError({
            stream,
            expected: expectedVersion,
            actual: existing.length,
          });
        const recordedAt = new Date().toISOString();
        const positions: number[] = [];
        for (const body of bodies) {
          const stored: StoredEvent = {
            position: events.length + 1,
            stream,
            streamVersion: existing.length + 1,
            recordedAt,
            body,
          };
          events.push(stored);
          existing.push(stored);
          positions.push(stored.position);
        }
        streams.set(stream, existing);
        for (const subscription of subscriptions) subscription.wake();
        resolve({ streamVersion: existing.length, positions });
      });
    },

    readStream(stream: string, readOptions?: ReadStreamOptions): Promise<RecordedEvent<E>[]> {
      return new Promise((resolve) => {
        ensureOpen();
        assertName(stream, 'stream');
        const fromVersion = normalizeFromVersion(readOptions);
        resolve((streams.get(stream) ?? []).slice(fromVersion - 1).map(toRecorded));
      });
    },

    readAll(readOptions?: ReadAllOptions): Promise<RecordedEvent<E>[]> {
      return new Promise((resolve) => {
        ensureOpen();
        const { afterPosition, limit, streamPrefix } = normalizeReadAll(readOptions);
        resolve(readAfter(afterPosition, streamPrefix, limit));
      });
    },

    streamVersion(stream: string): Promise<number> {
      return new Promise((resolve) => {
        ensureOpen();
        assertName(stream, 'stream');
        resolve(streams.get(stream)?.length ?? 0);
      });
    },

    subscribe(subscribeOptions: SubscribeOptions<E>): Subscription {
      ensureOpen();
      const subscription = new LiveSubscription(subscribeOptions, source);
      subscriptions.add(subscription);
      subscription.begin();
      return subscription;
    },

    consumerPosition(consumer: string): Promise<number> {
      return new Promise((resolve) => {
        ensureOpen();
        assertName(consumer, 'consumer');
        resolve(consumers.get(consumer) ?? 0);
      });
    },

    commitConsumer(consumer: string, position: number): Promise<void> {
      return new Promise((resolve) => {
        ensureOpen();
        commit(consumer, position);
        resolve();
      });
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
    },
  };
}
