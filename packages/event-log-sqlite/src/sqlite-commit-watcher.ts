/**
 * Noticing other processes' commits to a SQLite event log. `PRAGMA data_version` changes whenever
 * another connection commits. A watch event comes when a writer writes its WAL frames, which is
 * BEFORE its commit is visible (the fsync and the shared-memory index update that follow raise no
 * event), so a watch event starts a short series of re-checks (at once, then every millisecond,
 * then backing off) that ends at the first change. The safety poll covers watch events that
 * never come.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';

/**
 * Delays of the re-checks after a watch event: every millisecond while a commit is most likely
 * in flight, then backing off; about 1 s in all, after which the safety poll takes over.
 */
const RECHECK_DELAYS_MS = [...Array<number>(16).fill(1), 2, 4, 8, 16, 32, 64, 128, 256, 512];

export interface CommitWatcherOptions {
  /** The database file. */
  path: string;
  /** Reads `PRAGMA data_version`; throws on a storage failure. */
  dataVersion: () => number;
  /** Called when another connection has committed. */
  wake: () => void;
  /** False once there is nobody to wake (no subscriber, or the log is closed). */
  active: () => boolean;
  pollIntervalMs: number;
  /** Watch the database directory (default true); without it only the safety poll runs. */
  watch: boolean;
  logger: Logger | undefined;
}

/** Wakes the subscribers of one log object when another connection commits. */
export class CommitWatcher {
  private lastDataVersion = -1;
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private recheck: NodeJS.Timeout | undefined;
  private recheckStep = 0;
  private immediatePending = false;

  constructor(private readonly options: CommitWatcherOptions) {}

  /** Starts the safety poll and the watch. Throws if `data_version` cannot be read. */
  start(): void {
    this.lastDataVersion = this.options.dataVersion();
    this.poll = setInterval(() => this.check(), this.options.pollIntervalMs);
    if (this.options.watch) this.watchDirectory();
  }

  stop(): void {
    clearInterval(this.poll);
    this.poll = undefined;
    this.stopRechecks();
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** Wakes the subscribers if another connection committed since the last check. */
  private check(): boolean {
    if (!this.options.active()) return false;
    let version: number;
    try {
      version = this.options.dataVersion();
    } catch (error) {
      this.options.logger?.warn({ err: error }, 'cannot read data_version');
      return false;
    }
    if (version === this.lastDataVersion) return false;
    this.lastDataVersion = version;
    this.options.wake();
    return true;
  }

  private stopRechecks(): void {
    clearTimeout(this.recheck);
    this.recheck = undefined;
  }

  private armRecheck(): void {
    if (!this.options.active() || this.recheckStep >= RECHECK_DELAYS_MS.length) {
      this.recheck = undefined;
      return;
    }
    this.recheck = setTimeout(() => {
      if (this.check()) this.recheck = undefined;
      else this.armRecheck();
    }, RECHECK_DELAYS_MS[this.recheckStep++]);
  }

  private onWatchEvent(): void {
    this.recheckStep = 0;
    if (this.immediatePending) return;
    this.immediatePending = true;
    setImmediate(() => {
      this.immediatePending = false;
      // A commit made by this process is already visible; another process's may still be in flight.
      if (this.check()) this.stopRechecks();
      else if (this.recheck === undefined) this.armRecheck();
    });
  }

  private watchDirectory(): void {
    const { path, logger } = this.options;
    const file = basename(path);
    try {
      this.watcher = watch(dirname(path), (_event, filename) => {
        // Any change to the database file or its WAL (or an unnamed event).
        if (filename === null || filename.startsWith(file)) this.onWatchEvent();
      });
      this.watcher.on('error', (error) => {
        logger?.warn({ err: error }, 'watch failed; falling back to the safety poll');
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (error) {
      logger?.warn({ err: error }, 'cannot watch the database directory; using the safety poll');
    }
  }
}
