import {
  assertInteger,
  assertName,
  EventLogError,
  reportSubscriptionError,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
} from '@chorus/core';

/** What a subscription needs from its backend. */
export interface SubscriptionSource<E> {
  /** Events after `afterPosition`, optionally filtered by stream prefix, at most `limit`. */
  read(
    afterPosition: number,
    streamPrefix: string | undefined,
    limit: number,
  ): Promise<RecordedEvent<E>[]>;
  /** The consumer's committed position (0 if none). */
  consumerPosition(consumer: string): Promise<number>;
  /** Commits the consumer's position after a handled event. */
  commitConsumer(consumer: string, position: number): Promise<void>;
  /** Reports an error that stopped a subscription without `onError`. */
  reportUnhandled(error: unknown, consumer: string | undefined): void;
  /** Called once when the subscription stops, for whatever reason. */
  stopped(subscription: LiveSubscription<E>): void;
}

/** Events read per batch while catching up. */
const BATCH_SIZE = 256;

/**
 * The delivery loop shared by the backends: read a batch after the cursor, hand each event to the
 * handler, commit, advance; once drained, sleep until the backend calls {@link wake}.
 */
export class LiveSubscription<E> implements Subscription {
  /** See {@link Subscription.ready}. */
  readonly ready: Promise<void>;
  private readonly options: SubscribeOptions<E>;
  private readonly source: SubscriptionSource<E>;
  private closed = false;
  /** Set by wake(); cleared before each read, so a wake during a read is never lost. */
  private pending = false;
  private wakeup: (() => void) | undefined;
  private settleReady: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  private readonly start: number;

  constructor(options: SubscribeOptions<E>, source: SubscriptionSource<E>) {
    if (typeof options !== 'object' || options === null)
      throw new EventLogError('invalid-argument', 'subscribe needs an options object');
    if (typeof options.onEvent !== 'function')
      throw new EventLogError('invalid-argument', 'subscribe needs an onEvent function');
    if (options.onError !== undefined && typeof options.onError !== 'function')
      throw new EventLogError('invalid-argument', 'onError must be a function');
    if (options.consumer !== undefined) assertName(options.consumer, 'consumer');
    if (options.streamPrefix !== undefined) assertName(options.streamPrefix, 'streamPrefix');
    const start: number =
      options.afterPosition === undefined
        ? 0
        : assertInteger(options.afterPosition, 'afterPosition', 0);
    this.options = options;
    this.source = source;
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    // Callers that never await `ready` must not get an unhandled rejection.
    this.ready.catch(() => undefined);
    this.start = start;
  }

  /** Starts delivery; the backend calls it once it tracks the subscription. */
  begin(): void {
    void this.run(this.start);
  }

  /** Tells the loop that new events may exist. Cheap; safe to call at any time. */
  wake(): void {
    this.pending = true;
    this.wakeup?.();
  }

  /** See {@link Subscription.close}: stops at once, without waiting for a running handler. */
  close(): Promise<void> {
    this.stop();
    return Promise.resolve();
  }

  private stop(): void {
    if (this.closed) return;
    this.closed = true;
    this.settleReady?.resolve();
    this.settleReady = undefined;
    this.wakeup?.();
    this.source.stopped(this);
  }

  private async run(start: number): Promise<void> {
    const { consumer, onEvent } = this.options;
    const prefix = this.options.streamPrefix === '' ? undefined : this.options.streamPrefix;
    let cursor = start;
    try {
      if (consumer !== undefined)
        cursor = Math.max(cursor, await this.source.consumerPosition(consumer));
      while (!this.closed) {
        this.pending = false;
        const batch = await this.source.read(cursor, prefix, BATCH_SIZE);
        for (const recorded of batch) {
          if (this.closed) return;
          await onEvent(recorded);
          // Closed while the handler ran: do not commit, the event comes again on resume.
          if (this.closed) return;
          if (consumer !== undefined) await this.source.commitConsumer(consumer, recorded.position);
          cursor = recorded.position;
        }
        if (batch.length < BATCH_SIZE) {
          this.settleReady?.resolve();
          this.settleReady = undefined;
          if (!this.pending && !this.closed) {
            await new Promise<void>((resolve) => {
              this.wakeup = resolve;
            });
            this.wakeup = undefined;
          }
        }
      }
    } catch (error) {
      if (this.closed) return;
      this.settleReady?.reject(error);
      this.settleReady = undefined;
      this.stop();
      this.report(error);
    }
  }

  private report(error: unknown): void {
    const { onError, consumer } = this.options;
    reportSubscriptionError(onError, error, (thrown) =>
      this.source.reportUnhandled(thrown, consumer),
    );
  }
}
