/**
 * A live subscription: an ordered JetStream consumer (ephemeral, unacknowledged) pushes every
 * stored message in order; each event is handled, then committed. While the server is unreachable
 * the subscription waits and retries from the last handled event; only a handler failure or an
 * error that retrying cannot fix stops it.
 *
 * The subscription does not rely on the client's own recovery of the ordered consumer: when the
 * consumer is lost (its server died, a cluster lost its quorum), `@nats-io/jetstream` 3.4 may
 * recreate it with a pull for 0 messages (the pull accounting of the dead consumer is kept), so
 * delivery stalls silently until two heartbeats are missed, once per recreation. Instead, any sign
 * of a lost consumer (a reconnection, a reset or recreation by the client, missed heartbeats, a
 * deleted consumer, no responders), or a liveness check that finds no message nor heartbeat for a
 * while although the stream holds messages not handled yet, makes the subscription drop that
 * consumer and follow the log again, through a new one, from the first message not handled.
 *
 * @module
 */
import type { Consumer, ConsumerMessages, ConsumerNotification } from '@nats-io/jetstream';
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
/** How often an idle subscription checks that its consumer is alive. */
const LIVENESS_CHECK_MS = 3000;
/**
 * No message nor heartbeat for this long while idle: the consumer may be gone. A live one sends
 * something at least every heartbeat (PULL_EXPIRES_MS / 2: a heartbeat, or the end of a pull).
 */
const STALL_MS = 12_000;

/** Client notifications that mean the consumer is gone or being recreated by the client. */
const LOSS_SIGNALS: ReadonlySet<ConsumerNotification['type']> = new Set([
  'reset',
  'ordered_consumer_recreated',
  'consumer_deleted',
  'consumer_not_found',
  'stream_not_found',
  'no_responders',
]);

/** The state of one ordered consumer while the subscription follows it. */
interface Following {
  /** Why the consumer was given up, once it was. */
  lost: string | undefined;
  /** The last message or heartbeat from the server, or the end of the last handler. */
  lastActivity: number;
  /** A handler (or its commit) is running: silence is expected then, the client pulls no more. */
  handling: boolean;
  /** A liveness check is under way. */
  checking: boolean;
}

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
  /** The cursor moved past the consumer's committed position and the commit failed. */
  private uncommitted = false;
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

  /** The first message that may hold an event not handled yet. */
  private resumeSeq(): number {
    return Math.max(this.nextSeq, firstSeqAfter(this.cursor));
  }

  /** Follows the log, retrying while the server is unreachable, until closed or failed. */
  private async run(): Promise<void> {
    const { store, logger } = this.source;
    const { consumer } = this.options;
    /** Failed attempts in a row (the pause before the next one doubles). */
    let attempt = 0;
    /** Consumers lost in a row without a message handled in between. */
    let lostInARow = 0;
    /** A warning was logged: say so when following again. */
    let interrupted = false;
    let resumed = consumer === undefined;
    while (!this.closed) {
      try {
        if (!resumed && consumer !== undefined) {
          this.cursor = Math.max(this.cursor, await this.source.consumerPosition(consumer));
          resumed = true;
        }
        if (this.uncommitted && consumer !== undefined) await this.commit(consumer);
        const from = this.resumeSeq();
        const lost = await this.follow(() => {
          if (interrupted) logger?.info({ consumer, seq: from }, 'event-log subscription resumed');
          interrupted = false;
          attempt = 0;
        });
        if (this.closed) return;
        if (lost === undefined)
          throw unavailable(store.settings.serversText, 'ended the subscription; resuming');
        lostInARow = this.resumeSeq() > from ? 0 : lostInARow + 1;
        if (!interrupted) {
          const seq = this.resumeSeq();
          logger?.warn(
            { consumer, reason: lost, seq },
            `event-log subscription lost its consumer; following again from seq ${seq}`,
          );
          interrupted = true;
        }
        // At once the first time; a consumer lost again and again waits like a retry.
        if (lostInARow > 1) await this.pause(Math.min(100 * 2 ** lostInARow, MAX_RETRY_PAUSE_MS));
      } catch (thrown) {
        if (this.closed) return;
        if (thrown instanceof HandlerFailure) return this.fail(thrown.error);
        const error = store.failure('subscription', thrown);
        if (!EventLogError.isInstance(error) || error.kind !== 'unavailable')
          return this.fail(error);
        if (!interrupted)
          logger?.warn({ err: error, consumer }, 'event-log subscription waiting for NATS');
        else logger?.debug({ err: error, consumer }, 'event-log subscription still waiting');
        interrupted = true;
        await this.pause(Math.min(100 * 2 ** attempt++, MAX_RETRY_PAUSE_MS));
      }
    }
  }

  /**
   * One ordered consumer from the first message not yet handled. Returns when it ends: why it
   * was given up, or undefined (closed, or the client ended it).
   */
  private async follow(connected: () => void): Promise<string | undefined> {
    const { store } = this.source;
    const { streamName, subjectPrefix } = store.settings;
    const startSeq = this.resumeSeq();
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
    this.source.logger?.debug(
      { consumer: this.options.consumer, seq: startSeq },
      'event-log subscription consuming',
    );
    if (this.closed) {
      this.release();
      return undefined;
    }
    const following: Following = {
      lost: undefined,
      lastActivity: Date.now(),
      handling: false,
      checking: false,
    };
    const lose = (reason: string) => {
      if (following.lost !== undefined || this.closed) return;
      following.lost = reason;
      // Ends the loop below; the next consumer starts from the first message not handled.
      void messages.close().catch(() => undefined);
    };
    void this.watchStatus(messages, following, lose);
    // After a reconnection the consumer may be gone with its server (it lives in memory on one
    // node), and the client would find out late or never: follow again at once.
    const unlisten = store.onReconnect(() => lose('reconnected'));
    const liveness = setInterval(() => void this.checkLiveness(following, lose), LIVENESS_CHECK_MS);
    liveness.unref();
    connected();
    try {
      for await (const message of messages) {
        if (this.closed) return undefined;
        if (following.lost !== undefined) break;
        following.handling = true;
        await this.handle(fromDelivered(message));
        following.handling = false;
        following.lastActivity = Date.now();
        if (this.closed) return undefined;
        this.nextSeq = message.seq + 1;
        remaining--;
        if (remaining <= 0 || message.info.pending === 0) this.markReady();
      }
    } finally {
      unlisten();
      clearInterval(liveness);
    }
    return following.lost;
  }

  /** Watches the client's notifications about the consumer: heartbeats, and signs of its loss. */
  private async watchStatus(
    messages: ConsumerMessages,
    following: Following,
    lose: (reason: string) => void,
  ): Promise<void> {
    try {
      for await (const status of messages.status()) {
        if (status.type === 'heartbeat' || status.type === 'discard')
          following.lastActivity = Date.now();
        else if (LOSS_SIGNALS.has(status.type)) lose(status.type);
        // A long handler holds back the client's next pull: that silence is expected.
        else if (status.type === 'heartbeats_missed' && !following.handling)
          lose('heartbeats missed');
      }
    } catch {
      // The status stream ends with the consumer; the message loop reports its failures.
    }
  }

  /**
   * While idle and silent for STALL_MS, asks the stream for its last sequence: if it holds a
   * message not handled yet, the consumer is not delivering it, so it is given up. A cheap request
   * every LIVENESS_CHECK_MS, only while silent; a failure just waits for the next check.
   */
  private async checkLiveness(following: Following, lose: (reason: string) => void): Promise<void> {
    const silent = () => !following.handling && Date.now() - following.lastActivity >= STALL_MS;
    if (following.lost !== undefined || following.checking || this.closed || !silent()) return;
    following.checking = true;
    try {
      const state = await this.source.store.streamState();
      if (state.last_seq >= this.resumeSeq() && silent())
        lose(`no message nor heartbeat for ${STALL_MS / 1000} s`);
    } catch {
      // Unreachable or without a quorum: the connection or the next check will tell.
    } finally {
      following.checking = false;
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
      // Handled: never handed over again by this subscription, even if the commit fails (it is
      // retried before the next event; a restarted consumer may get the event again).
      this.cursor = recorded.position;
      if (consumer !== undefined) await this.commit(consumer);
    }
  }

  /** Commits the cursor; until that succeeds, `uncommitted` makes `run` retry it first. */
  private async commit(consumer: string): Promise<void> {
    this.uncommitted = true;
    await this.source.commitConsumer(consumer, this.cursor);
    this.uncommitted = false;
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
