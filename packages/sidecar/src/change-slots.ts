/**
 * At most `limit` changes to the signer's server at once, across all its zones: the plugin's
 * `concurrent-changes` limit (or the sidecar config's `maxConcurrentChanges`). The others wait
 * their turn in order, so a busy server (PowerDNS on SQLite) is never driven into locking.
 */
export class ChangeSlots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`a concurrency limit is a positive integer, not ${limit}`);
  }

  /** Changes running now and waiting for a slot, for logs and tests. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  async run<T>(change: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit)
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running += 1;
    try {
      return await change();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
