import type { Envelope } from './zone-events.js';

/**
 * The event catalogue of a zone's observation stream (`observations/<zone>`): what the observers
 * saw on the wire and what they concluded. Plain JSON, public DNS data only. Kept apart from the
 * zone stream so that observers never race the sidecars for a stream version.
 */

type ObservationEnvelope<Type extends string, Data> = Envelope<Type, Data>;

/** A DNSKEY as the timeline shows it. */
export interface ObservedKey {
  keyTag: number;
  algorithm: number;
  /** From the flags: 257 = KSK (SEP), 256 = ZSK. A CSK shows as KSK. */
  role: 'KSK' | 'ZSK';
  /** The signer whose own key it is, when known from the zone stream. */
  owner?: string;
}

/** The invariants of standards §8.2. */
export type InvariantId = 'I1' | 'I2' | 'I3' | 'I4' | 'I5' | 'I6' | 'I7' | 'I8' | 'I9';

export type ObservationEvent =
  /** A server started serving a new version of an RRset (or stopped answering). */
  | ObservationEnvelope<
      'wire-version-observed',
      {
        /** `parent` for the parent's servers, else a signer id. */
        provider: string;
        /** `address#port`. */
        server: string;
        owner: string;
        rrtype: string;
        /** Stable id of the version (a short digest of rcode, records and signing key tags). */
        version: string;
        /** Null when the server did not answer. */
        rcode: string | null;
        ttl: number;
        /** The records in presentation format (rdata only). */
        records: string[];
        /** Key tags of the RRSIGs over the RRset. */
        signedBy: number[];
        /** For DNSKEY RRsets. */
        keys?: ObservedKey[];
      }
    >
  /** An invariant stopped holding. `key` identifies the violation until it clears. */
  | ObservationEnvelope<
      'invariant-violated',
      {
        invariant: InvariantId;
        key: string;
        providers: string[];
        /** The records (or RRset versions) involved, in presentation format. */
        records: string[];
        detail: string;
        processId?: string;
      }
    >
  | ObservationEnvelope<
      'invariant-restored',
      { invariant: InvariantId; key: string; violatedAt: string; processId?: string }
    >
  /** The validation observer saw a validation or resolution failure a resolver could meet. */
  | ObservationEnvelope<
      'validation-failed',
      {
        provider?: string;
        resolver?: string;
        name: string;
        rrtype: string;
        detail: string;
        /** The invariant the failure is an instance of, when known (I1 for unreachable, I2/I3 for bogus). */
        invariant?: InvariantId;
        processId?: string;
      }
    >
  /** Our validator and a validating resolver disagreed on the same question. */
  | ObservationEnvelope<
      'validator-disagreed',
      {
        provider?: string;
        resolver: string;
        name: string;
        rrtype: string;
        detail: string;
        processId?: string;
      }
    >
  /** Totals, appended when an observer stops (and periodically while it runs). */
  | ObservationEnvelope<'observer-summary', ObserverTotals & { observer: string; since: string }>;

/** What an observer counted: `observer-summary` events carry these. */
export interface ObserverTotals {
  probes: number;
  resolverAnswers: number;
  disagreements: number;
  validationFailures: number;
  invariantChecks: number;
  violations: number;
}

export type ObservationEventType = ObservationEvent['type'];

/** The stream name of a zone's observations in the event log. */
export function observationStream(zone: string): string {
  return `observations/${zone.toLowerCase()}`;
}
