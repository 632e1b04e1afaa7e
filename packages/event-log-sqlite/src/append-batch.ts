import type { AppendResult } from '@chorus/core';

/** One append waiting for the next commit. */
export interface PendingAppend {
  stream: string;
  expectedVersion: number;
  bodies: readonly string[];
  /** `performance.now()` past which a busy database fails the append instead of waiting. */
  deadline: number;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

/** What the commit made of one append: written, or refused on its own (a version conflict). */
export type AppendOutcome = { result: AppendResult } | { refused: unknown };

export interface AppendBatcherOptions {
  /** Writes the whole batch in one transaction; throws when nothing was written. */
  commit: (batch: readonly PendingAppend[]) => AppendOutcome[];
  /** True for a failure that passes: another process holds the write lock. */
  isBusy: (error: unknown) => boolean;
  /** Called after a commit that wrote something. */
  committed: () => void;
}

/** Pauses between attempts at the write lock while another process holds it (then the last, repeated). */
const LOCK_RETRY_MS = [1, 2, 5, 10, 20, 25];

/**
 * Group commit: appends that arrive in the same turn of the event loop share one transaction,
 * so one fsync makes many durable. Each append still resolves only once its commit is on disk,
 * and a version conflict refuses that append alone. While another process holds the write lock,
 * the batch waits asynchronously (never in SQLite's busy handler, which would block the loop).
 */
export class AppendBatcher {
  #queue: PendingAppend[] = [];
  #scheduled = false;
  #busyAttempts = 0;

  constructor(private readonly options: AppendBatcherOptions) {}

  add(append: PendingAppend): void {
    this.#queue.push(append);
    this.#schedule(0);
  }

  /** Commits what is queued now (before the log closes). */
  flushNow(): void {
    this.#flush();
  }

  #schedule(delayMs: number): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    if (delayMs === 0) setImmediate(() => this.#flush());
    else setTimeout(() => this.#flush(), delayMs);
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    let outcomes: AppendOutcome[];
    try {
      outcomes = this.options.commit(batch);
    } catch (error) {
      this.#failed(batch, error);
      return;
    }
    this.#busyAttempts = 0;
    batch.forEach((append, index) => {
      const outcome = outcomes[index]!;
      if ('result' in outcome) append.resolve(outcome.result);
      else append.reject(outcome.refused);
    });
    if (outcomes.some((outcome) => 'result' in outcome)) this.options.committed();
    if (this.#queue.length > 0) this.#schedule(0);
  }

  /** A busy database: wait and try again until each append's deadline; anything else fails all. */
  #failed(batch: readonly PendingAppend[], error: unknown): void {
    if (!this.options.isBusy(error)) {
      for (const append of batch) append.reject(error);
      if (this.#queue.length > 0) this.#schedule(0);
      return;
    }
    const now = performance.now();
    const waiting = batch.filter((append) => now < append.deadline);
    for (const append of batch) if (now >= append.deadline) append.reject(error);
    this.#queue = [...waiting, ...this.#queue];
    if (this.#queue.length === 0) return;
    const pause = LOCK_RETRY_MS[Math.min(this.#busyAttempts, LOCK_RETRY_MS.length - 1)]!;
    this.#busyAttempts += 1;
    this.#schedule(Math.max(1, Math.round(pause * (0.5 + Math.random()))));
  }
}
