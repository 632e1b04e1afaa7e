/**
 * At most `limit` tasks at once; the others wait their turn in order. Sidecars use it for
 * changes to one server (a plugin's `concurrent-changes`), plugins for a server's own quotas
 * (BIND's transfers-out).
 */
export class ConcurrencySlots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`a concurrency limit is a positive integer, not ${limit}`);
  }

  /** Tasks running now and waiting for a slot, for logs and tests. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit)
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running += 1;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
