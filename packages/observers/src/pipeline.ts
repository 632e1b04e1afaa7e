import type { Logger } from 'pino';
import {
  EMPTY,
  Subject,
  catchError,
  concatMap,
  defer,
  lastValueFrom,
  timeout,
  defaultIfEmpty,
} from 'rxjs';
import type { ChorusEventEnvelope, Observer } from '@chorus/core';

/**
 * Delivers every event to every observer, each on its own ordered queue. RxJS stays inside:
 * observers see plain events and return Promises. A hook that throws, rejects or exceeds the
 * timeout is logged and counted, and never breaks the pipeline or the other observers.
 */

export interface ObserverStats {
  delivered: number;
  failures: number;
  timeouts: number;
  lastError?: string;
}

export interface ObserverPipelineOptions {
  logger?: Logger;
  /** Longest time one hook may take before it is abandoned (and counted). Default 5000 ms. */
  timeoutMs?: number;
}

export interface ObserverPipeline<Event extends ChorusEventEnvelope> {
  publish(event: Event): void;
  /** Per observer name. */
  stats(): Record<string, ObserverStats>;
  /** Waits until every queued event was handled (or abandoned), then calls each `forceFlush`. */
  forceFlush(): Promise<void>;
  /** Stops accepting events, drains the queues and calls each `shutdown`, isolated like the hooks. */
  shutdown(): Promise<void>;
}

export function createObserverPipeline<Event extends ChorusEventEnvelope>(
  observers: readonly Observer<Event>[],
  options: ObserverPipelineOptions = {},
): ObserverPipeline<Event> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const stats: Record<string, ObserverStats> = {};
  const subject = new Subject<Event>();
  let pending = 0;
  let idle: (() => void)[] = [];
  const settle = () => {
    pending -= 1;
    if (pending === 0) {
      const waiting = idle;
      idle = [];
      waiting.forEach((resolve) => resolve());
    }
  };

  const record = (name: string, error: unknown, timedOut: boolean) => {
    const entry = stats[name]!;
    if (timedOut) entry.timeouts += 1;
    else entry.failures += 1;
    entry.lastError = error instanceof Error ? error.message : String(error);
    options.logger?.warn(
      { observer: name, err: error, timedOut },
      'observer hook failed; the pipeline goes on',
    );
  };

  /** Runs one hook with the timeout and isolation every hook gets. */
  const guarded = (name: string, hook: () => void | Promise<void>) =>
    defer(async () => {
      await hook();
    }).pipe(
      timeout({ first: timeoutMs }),
      catchError((error: unknown) => {
        record(name, error, (error as { name?: string } | null)?.name === 'TimeoutError');
        return EMPTY;
      }),
      defaultIfEmpty(undefined),
    );

  const drained = observers.map((observer) => {
    stats[observer.name] = { delivered: 0, failures: 0, timeouts: 0 };
    return lastValueFrom(
      subject.pipe(
        concatMap((event) =>
          guarded(observer.name, () => {
            stats[observer.name]!.delivered += 1;
            return observer.onEvent?.(structuredClone(event)); // each observer gets its own copy
          }).pipe(defaultIfEmpty(undefined)),
        ),
        concatMap(async () => {
          settle();
          await Promise.resolve();
        }),
        defaultIfEmpty(undefined),
      ),
      { defaultValue: undefined },
    );
  });

  const whenIdle = () =>
    pending === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve));
  const eachObserver = (pick: (observer: Observer<Event>) => (() => Promise<void>) | undefined) =>
    Promise.all(
      observers.map((observer) => {
        const hook = pick(observer);
        return hook
          ? lastValueFrom(guarded(observer.name, hook), { defaultValue: undefined })
          : Promise.resolve(undefined);
      }),
    );
  let closed = false;

  return {
    publish(event) {
      if (closed) return;
      pending += observers.length;
      subject.next(event);
    },
    stats: () => structuredClone(stats),
    async forceFlush() {
      await whenIdle();
      await eachObserver((observer) =>
        observer.forceFlush ? () => observer.forceFlush!() : undefined,
      );
    },
    async shutdown() {
      if (closed) return;
      closed = true;
      subject.complete();
      await Promise.all(drained);
      await eachObserver((observer) =>
        observer.shutdown ? () => observer.shutdown!() : undefined,
      );
    },
  };
}
