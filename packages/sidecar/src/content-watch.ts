/**
 * The content watch: a sidecar reads its own server's zone (capability `content-read`) and
 * records a digest of it in the log (`signer-content-observed`) whenever the digest changes. The
 * pre-flight compares these digests, so content is compared under NSEC3 too, without walking.
 * It reads again when the served SOA serial moves (asked over the pooled TCP connection), and
 * every `fullReadEveryRounds` rounds.
 */
import {
  capabilityStatus,
  type ApexSnapshot,
  type Signer,
  type ZoneContentDigest,
} from '@chorus/core';
import { describeServer, query, zoneContentDigest } from '@chorus/dns';
import type { ZoneState } from '@chorus/engine';
import type { Logger } from 'pino';

export interface ContentWatchHost {
  signer: Signer;
  signerId: string;
  logger: Logger;
  signal: AbortSignal;
  refresh(zone: string): Promise<ZoneState>;
  /** Appends `signer-content-observed` at `state`'s version; false when another append won. */
  appendContent(zone: string, state: ZoneState, content: ZoneContentDigest): Promise<boolean>;
}

export class ContentWatch {
  private readonly servedSerial = new Map<string, number>();
  private readonly rounds = new Map<string, number>();
  private readonly failures = new Map<string, string>();

  constructor(
    private readonly host: ContentWatchHost,
    private readonly fullReadEveryRounds = 10,
  ) {}

  /** Whether the plugin reads zone content at all. */
  get enabled(): boolean {
    const { signer } = this.host;
    return (
      signer.readZoneContent !== undefined &&
      capabilityStatus(signer.capabilities, 'content-read') === 'can'
    );
  }

  /** One round of the watch: reads the content when the serial moved or a full read is due. */
  async round(zone: string): Promise<void> {
    if (!this.enabled) return;
    const rounds = (this.rounds.get(zone) ?? 0) + 1;
    this.rounds.set(zone, rounds);
    await this.readNow(zone, rounds % this.fullReadEveryRounds === 0);
  }

  /**
   * Reads and records the zone (at registration, and in rounds), remembering the served serial,
   * so the rounds that follow read it again only when the serial moves or `always`.
   */
  async readNow(zone: string, always = true): Promise<void> {
    if (!this.enabled) return;
    const serial = await this.servedSoaSerial(zone);
    if (!always && serial === this.servedSerial.get(zone)) return;
    if (await this.record(zone)) this.servedSerial.set(zone, serial ?? -1);
  }

  /**
   * Reads the zone now and records its digest if the log does not hold it yet. Never throws:
   * false when the content could not be read.
   */
  async record(zone: string): Promise<boolean> {
    if (!this.enabled) return false;
    const { logger, signal } = this.host;
    let content: ZoneContentDigest;
    try {
      const records = await this.host.signer.readZoneContent!(zone, { signal });
      content = { ...zoneContentDigest(zone, records), source: this.host.signer.kind };
    } catch (error) {
      if (!signal.aborted) this.reportFailure(zone, error);
      return false;
    }
    if (this.failures.delete(zone)) logger.info({ zone }, 'zone content readable again');
    for (let race = 0; race < 10; race += 1) {
      const state = await this.host.refresh(zone);
      const known = state.signers[this.host.signerId];
      if (!known || known.content?.digest === content.digest) return true;
      if (await this.host.appendContent(zone, state, content)) {
        logger.info(
          { zone, rrsets: content.rrsets, serial: content.serial, digest: content.digest },
          'zone content changed',
        );
        return true;
      }
    }
    return true;
  }

  /**
   * Takes note of a change of this sidecar to its own server's zone, from the apex reads the
   * reconcile made just before and after it. Chorus writes only records the digest leaves out
   * (DNSKEY, CDS, CDNSKEY, CSYNC, the apex NS), so when the watch had read the content at the
   * serial before and the change moved the serial by exactly one (nobody else changed the zone
   * meanwhile), the content is still what it read: the next round reads nothing. Reads from
   * another server than the one the watch asks prove nothing and are ignored.
   */
  ownChangeApplied(zone: string, before: ApexSnapshot, after: ApexSnapshot): void {
    const known = this.enabled ? this.servedSerial.get(zone) : undefined;
    if (known === undefined) return;
    const server = this.host.signer.nameServers[0];
    if (!server || before.server !== describeServer(server) || after.server !== before.server)
      return;
    const from = soaSerialOf(before);
    const to = soaSerialOf(after);
    if (from !== known || to === undefined) return;
    if (to === serialAfter(from)) this.servedSerial.set(zone, to);
  }

  private async servedSoaSerial(zone: string): Promise<number | undefined> {
    const server = this.host.signer.nameServers[0];
    if (!server) return undefined;
    try {
      const answer = await query(server, zone, 'SOA', {
        signal: this.host.signal,
        retries: 1,
        transport: 'tcp',
      });
      const soa = answer.answers.find((set) => set.type === 'SOA')?.records[0] as
        { serial: number } | undefined;
      return soa?.serial;
    } catch {
      return undefined;
    }
  }

  /** Logs a read failure once per distinct message: the pre-flight points here. */
  private reportFailure(zone: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (this.failures.get(zone) === message) return;
    this.failures.set(zone, message);
    this.host.logger.warn(
      { err: error, zone },
      'could not read the zone content; the pre-flight cannot compare it by digest',
    );
  }
}

function soaSerialOf(apex: ApexSnapshot): number | undefined {
  return apex.soa?.records[0]?.serial;
}

/** The serial one change later (RFC 1982 arithmetic). */
export function serialAfter(serial: number): number {
  return (serial + 1) % 2 ** 32;
}
