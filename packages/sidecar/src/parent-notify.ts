/**
 * Generalized NOTIFY to the parent (RFC 9859): once the group's CDS/CDNSKEY (or CSYNC) is served
 * everywhere and a step waits for the parent, one sidecar tells the parent's scanner so that it
 * scans the zone now instead of at its next scheduled pass. The targets are the parent's DSYNC
 * records (discovered per zone, §4.1), or addresses fixed in the configuration. Best effort: a
 * NOTIFY that is lost or refused costs only the scanner's own schedule, so failures are logged,
 * never raised.
 */
import {
  canonicalName,
  ConcurrencySlots,
  describeServer,
  normalizeName,
  sendNotify,
} from '@chorus/dns';
import type { NameServer } from '@chorus/core';
import { discoverDsync } from '@chorus/parent';
import type { Logger } from 'pino';

export type ParentNotifyType = 'CDS' | 'CSYNC';

/** Where NOTIFYs go: addresses fixed in the configuration, or the parent's DSYNC records. */
export type ParentNotifyTargets =
  | { kind: 'fixed'; servers: readonly NameServer[] }
  | { kind: 'dsync'; parentZone: string; parentServers: readonly NameServer[] };

/** One place a NOTIFY goes: its addresses are tried in order until one acknowledges. */
export interface NotifyTarget {
  /** The DSYNC target name, or the configured address. */
  name: string;
  addresses: NameServer[];
}

/** NOTIFYs in flight at once, across zones (1,000 zones may reach the parent step together). */
const NOTIFY_CONCURRENCY = 16;
/** How long discovered DSYNC targets are reused: their TTL, within these bounds. */
const MIN_DSYNC_CACHE_MS = 30_000;
const MAX_DSYNC_CACHE_MS = 3_600_000;
/** A parent without DSYNC (or unreachable) is asked again after this long. */
const NO_DSYNC_CACHE_MS = 300_000;
/**
 * A step still waiting for the parent this long after its NOTIFY is notified again, then after
 * twice as long each time, up to the cap: a scan that came too early (or a lost NOTIFY) would
 * otherwise leave the zone to the scanner's schedule, which at 10,000 zones is many minutes.
 */
const NOTIFY_AGAIN_AFTER_MS = 30_000;
const NOTIFY_AGAIN_MAX_MS = 480_000;

export interface ParentNotifierOptions {
  targets: ParentNotifyTargets;
  logger: Logger;
  signal: AbortSignal;
  /** Per attempt; default 1000 ms. */
  timeoutMs?: number;
}

/** The last NOTIFY of a zone's step: what went where, when, and how many times. */
interface SentNotify {
  step: string;
  type: ParentNotifyType;
  targets: readonly NotifyTarget[];
  sentAt: number;
  sends: number;
}

interface CachedTargets {
  expiresAt: number;
  byType: Record<ParentNotifyType, NotifyTarget[]>;
}

export class ParentNotifier {
  private readonly slots = new ConcurrencySlots(NOTIFY_CONCURRENCY);
  /** Per zone: the step last notified for, so that this sidecar notifies each step once. */
  private readonly notified = new Map<string, SentNotify>();
  private readonly discovered = new Map<string, CachedTargets>();
  /** NOTIFYs acknowledged and failed, repeated for a step still waiting, and DSYNC lookups made. */
  readonly counts = { sent: 0, failed: 0, repeated: 0, dsyncLookups: 0 };

  constructor(private readonly options: ParentNotifierOptions) {}

  get enabled(): boolean {
    const { targets } = this.options;
    return targets.kind === 'dsync' || targets.servers.length > 0;
  }

  /** Whether this sidecar already notified `zone` for `step`. */
  hasNotified(zone: string, step: string): boolean {
    return this.notified.get(canonicalName(normalizeName(zone)))?.step === step;
  }

  /** The targets for `zone` and `type`: the configured ones, or the parent's DSYNC (cached). */
  async targetsFor(zone: string, type: ParentNotifyType): Promise<NotifyTarget[]> {
    const { targets } = this.options;
    if (targets.kind === 'fixed')
      return targets.servers.map((server) => ({
        name: describeServer(server),
        addresses: [server],
      }));
    const name = canonicalName(normalizeName(zone));
    const cached = this.discovered.get(name);
    if (cached && cached.expiresAt > Date.now()) return cached.byType[type];
    const found = await this.discover(name, targets.parentZone, targets.parentServers);
    this.discovered.set(name, found);
    return found.byType[type];
  }

  /** Sends NOTIFY(`type`) for `zone` to each target, once per `step` (e.g. `processId/stepIndex`). */
  notify(
    zone: string,
    step: string,
    type: ParentNotifyType,
    targets: readonly NotifyTarget[],
    now = Date.now(),
  ) {
    const name = canonicalName(normalizeName(zone));
    if (this.notified.get(name)?.step === step) return;
    this.notified.set(name, { step, type, targets, sentAt: now, sends: 1 });
    for (const target of targets) void this.notifyTarget(name, type, target);
  }

  /**
   * Sends this sidecar's NOTIFY for `step` again when the step still waits for the parent
   * NOTIFY_AGAIN_AFTER_MS after it (doubling each time, up to NOTIFY_AGAIN_MAX_MS). Returns
   * whether it sent.
   */
  notifyAgainIfDue(zone: string, step: string, now = Date.now()): boolean {
    const name = canonicalName(normalizeName(zone));
    const last = this.notified.get(name);
    if (last?.step !== step) return false;
    const after = Math.min(NOTIFY_AGAIN_MAX_MS, NOTIFY_AGAIN_AFTER_MS * 2 ** (last.sends - 1));
    if (now - last.sentAt < after) return false;
    this.notified.set(name, { ...last, sentAt: now, sends: last.sends + 1 });
    this.counts.repeated += 1;
    this.options.logger.info(
      { zone: name, type: last.type, waitedSeconds: Math.round((now - last.sentAt) / 1000) },
      `the parent has not acted on NOTIFY(${last.type}) yet: notifying its scanner again`,
    );
    for (const target of last.targets) void this.notifyTarget(name, last.type, target);
    return true;
  }

  private async discover(
    zone: string,
    parentZone: string,
    parentServers: readonly NameServer[],
  ): Promise<CachedTargets> {
    const { logger, signal, timeoutMs = 1000 } = this.options;
    this.counts.dsyncLookups += 1;
    const none: CachedTargets = {
      expiresAt: Date.now() + NO_DSYNC_CACHE_MS,
      byType: { CDS: [], CSYNC: [] },
    };
    try {
      const found = await discoverDsync(zone, {
        parentZone,
        servers: [...parentServers],
        signal,
        timeoutMs,
      });
      for (const ignored of found.ignored)
        logger.warn({ zone, record: ignored.record, reason: ignored.reason }, 'DSYNC ignored');
      if (found.targets.length === 0) return none;
      const ttl = Math.min(...found.targets.map((target) => target.ttl)) * 1000;
      const byType = (type: ParentNotifyType) =>
        found.targets
          .filter((target) => target.type === type && target.addresses.length > 0)
          .map((target) => ({
            name: target.target,
            addresses: target.addresses.map((address) => ({ address, port: target.port })),
          }));
      return {
        expiresAt: Date.now() + Math.min(MAX_DSYNC_CACHE_MS, Math.max(MIN_DSYNC_CACHE_MS, ttl)),
        byType: { CDS: byType('CDS'), CSYNC: byType('CSYNC') },
      };
    } catch (error) {
      if (!signal.aborted)
        logger.warn(
          { zone, parentZone, reason: (error as Error).message },
          "could not look up the parent's DSYNC; the parent's scanner will find changes on its own schedule",
        );
      return none;
    }
  }

  /** Tries the target's addresses in order until one acknowledges. */
  private async notifyTarget(zone: string, type: ParentNotifyType, target: NotifyTarget) {
    const { logger, signal, timeoutMs = 1000 } = this.options;
    let reason = 'no address';
    for (const address of target.addresses) {
      try {
        const sent = await this.slots.run(() =>
          sendNotify(address, zone, type, { timeoutMs, signal }),
        );
        this.counts.sent += 1;
        logger.debug({ zone, type, server: sent.server, ms: sent.elapsedMs }, 'parent notified');
        return;
      } catch (error) {
        if (signal.aborted) return;
        reason = `${describeServer(address)}: ${(error as Error).message}`;
      }
    }
    this.counts.failed += 1;
    logger.warn(
      { zone, type, target: target.name, reason },
      `NOTIFY(${type}) to the parent's scanner failed; it will find the change on its own schedule`,
    );
  }
}
