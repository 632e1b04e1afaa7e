import type { DsData, RRset } from '../dns/types.js';
import type { CapabilityNote } from './capabilities.js';
import type { CallOptions, ZoneName } from './signer.js';

export type ParentCapability = 'cds-scan' | 'csync-scan' | 'ds-push' | 'ns-push';

/**
 * Address records for one nameserver name of a delegation, as the parent serves them: glue in
 * the referral's additional section. `ttl` is the smallest TTL of the A and AAAA records.
 */
export interface DelegationGlue {
  name: string;
  /** IPv4 and IPv6 literals, sorted. */
  addresses: string[];
  ttl: number;
}

/** What one parent nameserver address served for the delegation. */
export interface DelegationServerView {
  /** The address that answered, e.g. `127.53.0.1:53`. */
  server: string;
  /** True when this server served the same DS, NS and glue as the first server. */
  consistent: boolean;
  ds: RRset<'DS'> | null;
  ns: RRset<'NS'> | null;
  glue: DelegationGlue[];
}

/**
 * What the parent publishes for a delegation, observed on every parent nameserver address
 * directly (RD=0, DO=1). Plain JSON. `ds`, `ns` and `glue` are the first server's view; when
 * `consistent` is false at least one server disagrees, and `servers` says which.
 *
 * The TTLs feed the waits: `ds.ttl` is the DS TTL of the DS-wait, `ns.ttl` the parent NS TTL of
 * the NS-wait (`reference/standards.md` §7).
 */
export interface Delegation {
  zone: ZoneName;
  parent: ZoneName;
  /** ISO 8601. */
  observedAt: string;
  /** The DS RRset with its TTL and RRSIGs; null when the parent has no DS (unsigned delegation). */
  ds: RRset<'DS'> | null;
  /** The delegation NS RRset (from the referral's authority section), with its TTL. */
  ns: RRset<'NS'> | null;
  /** Address records for the NS names that the referral carried (in-bailiwick glue, mostly). */
  glue: DelegationGlue[];
  /** True when every parent server returned the same DS, NS and glue. */
  consistent: boolean;
  /** Per parent server address: what it served and whether it agreed with the first. */
  servers: DelegationServerView[];
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
