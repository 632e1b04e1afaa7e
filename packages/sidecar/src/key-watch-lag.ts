/**
 * Whether the key watch keeps its registered period. The group's DNSKEY wait, and the check that
 * a server-timed signer pre-publishes for long enough, count on each zone's keys being read every
 * `keyWatchSeconds`. A sidecar that cannot keep up with its zones reads them later than that, and
 * says so: a `key watch late` count in the call tally, and a warning at most once a minute.
 */
import { countCall } from '@chorus/dns';
import type { Logger } from 'pino';

/** A read this much later than the period still counts as on time (timers, a busy event loop). */
export const KEY_WATCH_GRACE_MS = 1000;
const WARN_EVERY_MS = 60_000;

/**
 * The pause before a zone's next key read, so that reads start `periodMs` apart whatever a round
 * took: pausing the whole period after each round would make every period late by the round.
 */
export function pauseBeforeNextRead(
  lastReadAt: number | undefined,
  periodMs: number,
  now: number,
): number {
  if (lastReadAt === undefined) return periodMs;
  return Math.max(0, lastReadAt + periodMs - now);
}

export class KeyWatchLag {
  readonly #logger: Logger;
  readonly #now: () => number;
  #late = 0;
  #worstMs = 0;
  #warnedAt = -Infinity;

  constructor(logger: Logger, now: () => number = Date.now) {
    this.#logger = logger;
    this.#now = now;
  }

  /** Records one read of `zone`, `sinceMs` after its previous read; true when it was late. */
  observe(zone: string, sinceMs: number, periodMs: number): boolean {
    if (sinceMs <= periodMs + KEY_WATCH_GRACE_MS) return false;
    countCall('key watch late');
    this.#late += 1;
    this.#worstMs = Math.max(this.#worstMs, sinceMs);
    const now = this.#now();
    if (now - this.#warnedAt >= WARN_EVERY_MS) {
      this.#logger.warn(
        {
          zone,
          lateReads: this.#late,
          worstSeconds: Math.round(this.#worstMs / 1000),
          periodSeconds: periodMs / 1000,
        },
        'key watch is behind its period: a key a server introduced on its own could be seen later than the DNSKEY wait assumes; follow fewer zones with this sidecar, or give it more CPU',
      );
      this.#warnedAt = now;
      this.#late = 0;
      this.#worstMs = 0;
    }
    return true;
  }
}
