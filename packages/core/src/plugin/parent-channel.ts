import type { DsData, RRset } from '../dns/types.js';
import type { CapabilityNote } from './capabilities.js';
import type { CallOptions, ZoneName } from './signer.js';

export type ParentCapability = 'cds-scan' | 'csync-scan' | 'ds-push' | 'ns-push';

/** What the parent publishes for a delegation, observed on every parent nameserver. */
export interface Delegation {
  zone: ZoneName;
  parent: ZoneName;
  /** ISO 8601. */
  observedAt: string;
  ds: RRset<'DS'> | null;
  ns: RRset<'NS'> | null;
  /** Per parent server, for consistency checks: the address and whether it agreed with the rest. */
  servers: { server: string; consistent: boolean }[];
}

export interface ParentRequest {
  /** Correlates the request with later observations in the event log. */
  requestId: string;
}

/**
 * The parent side of a zone: a registry scanner, a registrar API, RFC 2136 to the parent, or a
 * person. `getDelegation` observes; the optional request methods ask for a change.
 */
export interface ParentChannel {
  readonly specificationVersion: 'v1';
  /** e.g. `observe-only`, `lab-registry`, `registrar-api`. */
  readonly kind: string;
  readonly id: string;
  readonly capabilities: Readonly<Partial<Record<ParentCapability, CapabilityNote>>>;
  /** The source of truth for post-conditions about the parent. */
  getDelegation(zone: ZoneName, options: CallOptions): Promise<Delegation>;
  requestDsUpdate?(zone: ZoneName, desired: DsData[], options: CallOptions): Promise<ParentRequest>;
  requestNsUpdate?(zone: ZoneName, desired: string[], options: CallOptions): Promise<ParentRequest>;
}
