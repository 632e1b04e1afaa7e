import type { DnskeyData, RrsigData } from '../dns/types.js';
import type { CallOptions, ZoneName } from './signer.js';

/**
 * Model 1 (RFC 8901 §2.1.1): from `at` on, the provider publishes these ZSKs and signs the zone's
 * other RRsets with them. A provider that pre-generates keys (Knot's KSR) lists several, by time.
 */
export interface PlannedZsks {
  /** Seconds since the epoch. */
  at: number;
  zsks: DnskeyData[];
}

/**
 * One DNSKEY RRset signed by the zone owner's KSK(s), served from `at` on. Plain JSON: the owner
 * appends it to the log, and every provider serves it byte for byte.
 */
export interface SignedDnskeySnapshot {
  /** Seconds since the epoch; the snapshot replaces the previous one from then. */
  at: number;
  ttl: number;
  /** The whole RRset: the owner's KSKs and every provider's ZSKs. */
  dnskeys: DnskeyData[];
  /** The owner's RRSIGs over it, one per owner KSK. */
  rrsigs: RrsigData[];
}

/**
 * Serves a DNSKEY RRset the zone owner signed (capability `presigned-dnskey`), while the
 * provider keeps signing the rest of the zone with its own ZSKs.
 */
export interface PresignedDnskeyPublisher {
  /** The ZSKs the provider will publish from now until `untilSeconds`, by time. */
  plannedZsks(zone: ZoneName, untilSeconds: number, options: CallOptions): Promise<PlannedZsks[]>;
  /**
   * Serves `snapshots`, each from its `at`. Rejects with SignerConfigurationError when a snapshot
   * lacks a ZSK the provider signs with at that time, or the server refuses a signature.
   */
  publishSignedDnskeys(
    zone: ZoneName,
    snapshots: readonly SignedDnskeySnapshot[],
    options: CallOptions,
  ): Promise<void>;
}
