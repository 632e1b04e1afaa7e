/**
 * Model 1 at one signer (RFC 8901 §2.1.1): while the zone's definition names an owner, the
 * sidecar records the ZSKs its server plans to sign with (`signer-zsks-planned`), so the owner
 * can sign them, and has its server serve every DNSKEY set the owner signed that the fold
 * accepted (`dnskey-set-signed`: every RRSIG verified with an owner KSK).
 */
import type { PlannedZsks, PresignedDnskeyPublisher, Signer } from '@chorus/core';
import { ownerSetServers, type ZoneState } from '@chorus/engine';
import type { Logger } from 'pino';

export interface Model1WatchHost {
  signer: Signer;
  signerId: string;
  logger: Logger;
  signal: AbortSignal;
  refresh(zone: string): Promise<ZoneState>;
  /** Appends `signer-zsks-planned` at `state`'s version; false when another append won. */
  appendPlanned(zone: string, state: ZoneState, planned: PlannedZsks[]): Promise<boolean>;
}

/** A plan without the time of its first entry, which is "now" at every read. */
const comparable = (planned: readonly PlannedZsks[] | undefined) =>
  JSON.stringify(
    (planned ?? []).map((entry, index) => ({ ...entry, at: index === 0 ? 0 : entry.at })),
  );

export class Model1Watch {
  /** Per zone: the `signedAt` of the owner's set this server serves. */
  private readonly published = new Map<string, string>();
  private readonly failures = new Map<string, string>();

  constructor(private readonly host: Model1WatchHost) {}

  /**
   * Whether the zone is in model 1 with this signer registered: every registered signer lists
   * its planned ZSKs, so that a join can start with them known.
   */
  static applies(state: ZoneState, signerId: string): boolean {
    return state.owner !== undefined && state.signers[signerId] !== undefined;
  }

  /** One round: records the planned ZSKs when they changed, then serves the newest owner set. */
  async round(zone: string): Promise<void> {
    const state = await this.host.refresh(zone);
    if (!Model1Watch.applies(state, this.host.signerId)) return;
    const publisher = this.host.signer.presignedDnskey;
    if (!publisher) {
      this.report(
        zone,
        new Error(
          `${this.host.signer.kind} cannot serve a DNSKEY RRset the owner signed (capability presigned-dnskey)`,
        ),
      );
      return;
    }
    try {
      await this.recordPlan(zone, state, publisher);
      await this.serveSigned(zone, await this.host.refresh(zone), publisher);
      if (this.failures.delete(zone))
        this.host.logger.info({ zone }, 'model 1: serving the owner-signed DNSKEY RRset again');
    } catch (error) {
      if (!this.host.signal.aborted) this.report(zone, error);
    }
  }

  private async recordPlan(zone: string, state: ZoneState, publisher: PresignedDnskeyPublisher) {
    const horizon = Math.floor(Date.now() / 1000) + 2 * state.owner!.signatureValiditySeconds;
    const planned = await publisher.plannedZsks(zone, horizon, { signal: this.host.signal });
    const known = state.signers[this.host.signerId]?.plannedZsks;
    if (comparable(known) === comparable(planned)) return;
    await this.host.appendPlanned(zone, state, planned);
  }

  private async serveSigned(zone: string, state: ZoneState, publisher: PresignedDnskeyPublisher) {
    // A registered signer outside the group (before its join) keeps what it serves.
    if (!ownerSetServers(state).includes(this.host.signerId)) return;
    const signed = state.ownerSigned;
    if (!signed || this.published.get(zone) === signed.signedAt) return;
    await publisher.publishSignedDnskeys(zone, signed.snapshots, { signal: this.host.signal });
    this.published.set(zone, signed.signedAt);
    this.host.logger.info(
      { zone, reason: signed.reason, signedAt: signed.signedAt },
      'model 1: serving the DNSKEY RRset the owner signed',
    );
  }

  /** Logs a failure once per distinct message. */
  private report(zone: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (this.failures.get(zone) === message) return;
    this.failures.set(zone, message);
    this.host.logger.warn(
      { zone, err: error },
      'model 1: cannot serve the owner-signed DNSKEY RRset',
    );
  }
}
