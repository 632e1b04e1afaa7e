/**
 * A live subscription: an ordered JetStream consumer (ephemeral, unacknowledged, recreated by the
 * client at the right sequence after a gap or a server restart) pushes every stored message in
 * order; each event is handled, then committed. While the server is unreachable the subscription
 * waits and retries from the last handled event; only a handler failure or an error that
 * retrying cannot fix stops it.
 *
 * @module
 */
import type { Consumer, ConsumerMessages } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import {
  assertInteger,
  assertName,
  EventLogError,
  reportSubscriptionError,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
} from '@chorus/core';
import { decodeEvents, decodeHead, firstSeqAfter, type RawMessage } from './codec.js';
import { unavailable } from './errors.js';
import { fromDelivered, type NatsStore } from './store.js';

/** What a subscription needs from its log. */
export interface SubscriptionSource {
  store: NatsStore;
  consumerPosition(consumer: string): Promise<number>;
  commitConsumer(consumer: string, position: number): Promise<void>;
  /** Called once when the subscription stops, for whatever reason. */
  stopped(subscription: Subscription): void;
  logger: Logger | undefined;
}

/** Messages the ordered consumer pulls ahead. */
const PULL_BATCH = 256;
/** Lifetime of one pull request; heartbeats come every half of it. */
const PULL_EXPIRES_MS = 10_000;
/** Longest pause between retries while the server is unreachable. */
const MAX_RETRY_PAUSE_MS = 2000;

/** A handler's failure: stops the subscription, never retried. */
class HandlerFailure extends Error {
  constructor(readonly error: unknown) {
    super('the event handler failed');
  }
}

/** Checks the options of `subscribe` synchronously, as the port requires. */
function checkOptions<E>(options: SubscribeOptions<E>): number {
  if (typeof options !== 'object' || options === null)
    throw new EventLogError('invalid-argument', 'subscribe needs an options object');
  if (typeof options.onEvent !== 'function')
    throw new EventLogError('invalid-argument', 'subscribe needs an onEvent function');
  if (options.onError !== undefined && typeof options.onError !== 'function')
    throw new EventLogError('invalid-argument', 'onError must be a function');
  if (options.consumer !== undefined) assertName(options.consumer, 'consumer');
  if (options.streamPrefix !== undefined) assertName(options.streamPrefix, 'streamPrefix');
  return options.afterPosition === undefined
    ? 0
    : assertInteger(options.afterPosition, 'afterPosition', 0);
}

export class NatsSubscription<E> implements Subscription {
  /** See {@link Subscription.ready}. */
  readonly ready: Promise<void>;
  private readonly options: SubscribeOptions<E>;
  private readonly source: SubscriptionSource;
  private readonly prefix: string | undefined;
  private closed = false;
  private settleReady: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  /** The last position handled (and committed, with a consumer). */
  private cursor: number;
  /** The first message not completely handled yet (0: derive it from the cursor). */
  private nextSeq = 0;
  private messages: ConsumerMessages | undefined;
  private consumer: Consumer | undefined;
  private wakeRetry: (() => void) | undefined;

  constructor(options: SubscribeOptions<E>, source: SubscriptionSource) {
    this.cursor = checkOptions(options);
    this.options = options;
    this.source = source;
    this.prefix = options.streamPrefix === '' ? undefined : options.streamPrefix;
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    // Callers that never await `ready` must not get an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  /** Starts delivery; the log calls it once it tracks the subscription. */
  begin(): void {
    void this.run();
  }

  /** See {@link Subscription.close}: stops at once, without waiting for a running handler. */
  close(): Promise<void> {
    this.stop();
    return Promise.resolve();
  }

  private stop(): void {
    if (this.closed) return;
    this.closed = true;
    this.markReady();
    this.release();
    this.wakeRetry?.();
    this.source.stopped(this);
  }

  /** Stops the ordered consumer and deletes it on the server (it would expire anyway). */
  private release(): void {
    void this.messages?.close().catch(() => undefined);
    void this.consumer?.delete().catch(() => undefined);
    this.messages = undefined;
    this.consumer = undefined;
  }

  private markReady(): void {
    this.settleReady?.resolve();
    this.settleReady = undefined;
  }

  /** Follows the log, retrying while the server is unreachable, until closed or failed. */
  private async run(): Promise<void> {
    const { store, logger } = this.source;
    const { consumer } = this.options;
    let attempt = 0;
    let resumed = consumer === undefined;
    while (!this.closed) {
      try {
        if (!resumed && consumer !== undefined) {
          this.cursor = Math.max(this.cursor, await this.source.consumerPosition(consumer));
          resumed = true;
        }
        await this.follow(() => {
          if (attempt > 0) logger?.info({ consumer }, 'event-log subscription resumed');
          attempt = 0;
        });
        if (this.closed) return;
        throw unavailable(store.settings.serversText, 'ended the subscription; resuming');
      } catch (thrown) {
        if (this.closed) return;
        if (thrown instanceof HandlerFailure) return this.fail(thrown.error);
        const error = store.failure('subscription', thrown);
        if (!EventLogError.isInstance(error) || error.kind !== 'unavailable')
          return this.fail(error);
        if (attempt === 0)
          logger?.warn({ err: error, consumer }, 'event-log subscription waiting for NATS');
        await this.pause(Math.min(100 * 2 ** attempt++, MAX_RETRY_PAUSE_MS));
      }
    }
  }

  /** One ordered consumer from the first message not yet handled; returns when it ends. */
  private async follow(connected: () => void): Promise<void> {
    const { store } = this.source;
    const { streamName, subjectPrefix } = store.settings;
    const startSeq = Math.max(this.nextSeq, firstSeqAfter(this.cursor));
    this.release();
    const consumer = await store.call('cannot subscribe', () =>
      store.js.consumers.get(streamName, {
        filter_subjects: `${subjectPrefix}.>`,
        opt_start_seq: startSeq,
      }),
    );
    this.consumer = consumer;
    let remaining = (await consumer.info(true)).num_pending;
    if (remaining === 0) this.markReady();
    const messages = await store.call('cannot subscribe', () =>
      consumer.consume({ max_messages: PULL_BATCH, expires: PULL_EXPIRES_MS }),
    );
    this.messages = messages;
    if (this.closed) return this.release();
    connected();
    for await (const message of messages) {
      if (this.closed) return;
      await this.handle(fromDelivered(message));
      if (this.closed) return;
      this.nextSeq = message.seq + 1;
      remaining--;
      if (remaining <= 0 || message.info.pending === 0) this.markReady();
    }
  }

  /** Hands each event of one message to the handler, committing after each. */
  private async handle(raw: RawMessage): Promise<void> {
    const { store } = this.source;
    const head = decodeHead(raw, store.settings.subjectPrefix);
    if (this.prefix !== undefined && !head.stream.startsWith(this.prefix)) return;
    const { consumer, onEvent } = this.options;
    for (const recorded of decodeEvents<E>(raw, head)) {
      if (recorded.position <= this.cursor) continue;
      if (this.closed) return;
      await this.deliver(onEvent, recorded);
      // Closed while the handler ran: do not commit, the event comes again on resume.
      if (this.closed) return;
      if (consumer !== undefined) await this.source.commitConsumer(consumer, recorded.position);
      this.cursor = recorded.position;
    }
  }

  private async deliver(
    onEvent: SubscribeOptions<E>['onEvent'],
    recorded: RecordedEvent<E>,
  ): Promise<void> {
    try {
      await onEvent(recorded);
    } catch (error) {
      throw new HandlerFailure(error);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeRetry = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private fail(error: unknown): void {
    if (this.closed) return;
    this.settleReady?.reject(error);
    this.settleReady = undefined;
    this.stop();
    this.report(error);
  }

  private report(error: unknown): void {
    const { onError, consumer } = this.options;
    reportSubscriptionError(onError, error, (thrown) =>
      this.source.logger?.error({ err: thrown, consumer }, 'event-log subscription stopped'),
    );
  }
}
