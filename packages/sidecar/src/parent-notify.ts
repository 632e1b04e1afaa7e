/**
 * Generalized NOTIFY to the parent (RFC 9859): once the group's CDS/CDNSKEY (or CSYNC) is served
 * everywhere and a step waits for the parent, each sidecar tells the parent's scanner so that it
 * scans the zone now instead of at its next scheduled pass. Best effort: a NOTIFY that is lost
 * or refused costs only the scanner's own schedule, so failures are logged, never raised.
 */
import {
  canonicalName,
  ConcurrencySlots,
  describeServer,
  normalizeName,
  sendNotify,
} from '@chorus/dns';
import type { NameServer } from '@chorus/core';
import type { Logger } from 'pino';

export type ParentNotifyType = 'CDS' | 'CSYNC';

/** NOTIFYs in flight at once, across zones (1,000 zones may reach the parent step together). */
const NOTIFY_CONCURRENCY = 16;

export interface ParentNotifierOptions {
  targets: readonly NameServer[];
  logger: Logger;
  signal: AbortSignal;
  /** Per attempt; default 1000 ms. */
  timeoutMs?: number;
}

export class ParentNotifier {
  private readonly slots = new ConcurrencySlots(NOTIFY_CONCURRENCY);
  /** Per zone: the step last notified for, so that each step notifies once. */
  private readonly notified = new Map<string, string>();
  /** NOTIFYs acknowledged and failed. */
  readonly counts = { sent: 0, failed: 0 };

  constructor(private readonly options: ParentNotifierOptions) {}

  get enabled(): boolean {
    return this.options.targets.length > 0;
  }

  /** Notifies every target about `zone`, once per `step` (e.g. `processId/stepIndex`). */
  notifyOnce(zone: string, step: string, type: ParentNotifyType): void {
    if (!this.enabled) return;
    const name = canonicalName(normalizeName(zone));
    if (this.notified.get(name) === step) return;
    this.notified.set(name, step);
    for (const target of this.options.targets) void this.notifyTarget(name, type, target);
  }

  private async notifyTarget(zone: string, type: ParentNotifyType, target: NameServer) {
    const { logger, signal, timeoutMs = 1000 } = this.options;
    try {
      const sent = await this.slots.run(() =>
        sendNotify(target, zone, type, { timeoutMs, signal }),
      );
      this.counts.sent += 1;
      logger.debug({ zone, type, server: sent.server, ms: sent.elapsedMs }, 'parent notified');
    } catch (error) {
      if (signal.aborted) return;
      this.counts.failed += 1;
      logger.warn(
        { zone, type, server: describeServer(target), reason: (error as Error).message },
        `NOTIFY(${type}) to the parent's scanner failed; it will find the change on its own schedule`,
      );
    }
  }
}
