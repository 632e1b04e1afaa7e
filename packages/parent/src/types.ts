/**
 * Plain-JSON shapes of the parental agent: what it observed at each child nameserver, and what
 * it decided (draft-ietf-dnsop-cds-consistency, RFC 7344, RFC 8078, RFC 7477, RFC 9615).
 */
import type { DsData, Rcode, RRset } from '@chorus/core';

/** A and AAAA of one (in-bailiwick) nameserver name, as one child server serves them. */
export interface HostAddressObservation {
  name: string;
  a: RRset<'A'> | null;
  aaaa: RRset<'AAAA'> | null;
}

/** Everything one child nameserver address answered. `null` is NODATA (a received response). */
export interface ChildServerData {
  /** SOA before the other queries. */
  soa: RRset<'SOA'> | null;
  /** SOA after the other queries (RFC 7477 §3.1: a change in between means "try again later"). */
  soaAfter: RRset<'SOA'> | null;
  dnskey: RRset<'DNSKEY'> | null;
  cds: RRset<'CDS'> | null;
  cdnskey: RRset<'CDNSKEY'> | null;
  csync: RRset<'CSYNC'> | null;
  ns: RRset<'NS'> | null;
  /** A/AAAA of the in-bailiwick NS names (those below the zone), for CSYNC glue processing. */
  hosts: HostAddressObservation[];
}

interface ChildServerIdentity {
  /** The NS name this address belongs to. */
  nameserver: string;
  address: string;
  /** `address:port`, as in error messages and reasons. */
  server: string;
  /**
   * True for the addresses of the NS names in the current delegation (the ones the consistency
   * rules apply to); false for a nameserver the child proposes in a CSYNC-requested NS set, which
   * is observed only to check that the change would not break the delegation.
   */
  inDelegation: boolean;
}

/** One child nameserver address: what it answered, or why there is no answer. */
export type ChildServerObservation =
  | (ChildServerIdentity & { status: 'answered'; data: ChildServerData })
  | (ChildServerIdentity & {
      /** `unreachable`: timeout or network error. `bad-response`: garbage, error rcode, no AA. */
      status: 'unreachable' | 'bad-response';
      error: string;
    });

/** An NS name for which no address was found. */
export interface UnresolvedNameserver {
  nameserver: string;
  inDelegation: boolean;
  error: string;
}

/**
 * One signalling RRset asked of the validating resolver (RD=1, DO=1). `answered`: a response
 * arrived; `rrset` is `null` for NODATA and NXDOMAIN (see `rcode`), `ad` is its AD bit.
 * `unreachable`: timeout or network error. `bad-response`: garbage or an unusable question.
 */
export type SignalAnswer<T extends 'CDS' | 'CDNSKEY'> =
  | { status: 'answered'; rcode: Rcode; ad: boolean; rrset: RRset<T> | null }
  | { status: 'unreachable' | 'bad-response'; error: string };

/** The RFC 9615 signalling RRsets of one NS hostname outside the child. */
export interface SignalNameObservation {
  nameserver: string;
  /** `_dsboot.<child>._signal.<nameserver>` (RFC 9615). */
  name: string;
  cds: SignalAnswer<'CDS'>;
  cdnskey: SignalAnswer<'CDNSKEY'>;
}

/** What the validating resolver answered at every signalling name of the delegation. */
export interface BootstrapSignals {
  /** The validating resolver (`address:port`). */
  resolver: string;
  /** One entry per delegated NS hostname outside the child, sorted by hostname. */
  names: SignalNameObservation[];
  /** Delegated NS hostnames at or below the child: RFC 9615 cannot use them. Sorted. */
  skipped: string[];
}

/** The input of the scanner: every address of every nameserver in the delegation, asked directly. */
export interface ChildObservations {
  zone: string;
  /** ISO 8601. */
  observedAt: string;
  servers: ChildServerObservation[];
  unresolved: UnresolvedNameserver[];
  /**
   * RFC 9615 signalling records, observed only for a delegation without DS and only when a
   * validating resolver was given. Absent otherwise.
   */
  signals?: BootstrapSignals;
}

/** Why the scanner decided what it decided. Every decision carries at least one. */
export type ScanReasonCode =
  /** Nothing published: NODATA for CDS and CDNSKEY (or CSYNC) at every server that answered. */
  | 'no-signal'
  /** What the child asks for is what the parent has. */
  | 'in-sync'
  /** A consistent, validated request for a change. */
  | 'change-requested'
  /** An address of a delegated nameserver did not answer, or no address was found. */
  | 'server-unreachable'
  /** A delegated nameserver answered garbage, an error rcode or without AA. */
  | 'server-bad-response'
  /** The delegation lists no nameserver. */
  | 'no-delegation-servers'
  /** The parent has no DS and no RFC 9615 signalling was observed (or bootstrapping is off). */
  | 'no-current-ds'
  /** RFC 9615 §4.2: a DS set bootstrapped from signalling records authenticated by a resolver. */
  | 'bootstrapped'
  /** RFC 9615: every delegated NS hostname is at or below the child, so none can signal. */
  | 'bootstrap-no-outside-ns'
  /** RFC 9615: a signalling name has no CDS or CDNSKEY (NXDOMAIN or NODATA) while the apex has. */
  | 'bootstrap-signal-missing'
  /** RFC 9615: the resolver answered for a signalling name without AD=1. */
  | 'bootstrap-signal-not-authenticated'
  /** RFC 9615: a signalling RRset differs from the apex RRset, or the apex RRsets differ. */
  | 'bootstrap-signal-differs'
  /** RFC 9615: the resolver did not answer, answered garbage or an error rcode (SERVFAIL). */
  | 'bootstrap-signal-unreachable'
  /** A server's DNSKEY RRset does not validate under the current DS. */
  | 'dnskey-not-validated'
  /** A CDS, CDNSKEY, CSYNC, NS, A or AAAA RRset does not validate under the server's DNSKEY RRset. */
  | 'signal-not-validated'
  /** At one server, a key is in CDS but not in CDNSKEY or vice versa (or one type is missing). */
  | 'cds-cdnskey-mismatch'
  /** The servers do not agree (different keys, delete vs NODATA, different CSYNC or NS/A/AAAA). */
  | 'inconsistent'
  /** An RFC 8078 delete record that is not alone in its RRset. */
  | 'malformed-delete'
  /** Local digest-type policy leaves a requested key without a DS. */
  | 'digest-policy'
  /** The change would leave a delegated (or proposed) nameserver's DNSKEY RRset unauthenticated, or the NS set unusable. */
  | 'would-break-delegation'
  /** CSYNC without the immediate flag: the parent waits for out-of-band approval (RFC 7477 §3). */
  | 'csync-not-immediate'
  /** CSYNC flags other than immediate and soaminimum (RFC 7477). */
  | 'csync-unknown-flags'
  /** CSYNC type bitmap names a type other than NS, A and AAAA (RFC 7477 §3.2). */
  | 'csync-unknown-types'
  /** More than one CSYNC record at the apex (RFC 7477). */
  | 'csync-multiple-records'
  /** soaminimum is set and the server's SOA serial is below the CSYNC serial. */
  | 'csync-soa-serial'
  /** The SOA serial changed between the first and the last query (RFC 7477 §3.1). */
  | 'soa-changed-during-scan'
  /** The requested NS set is empty or below the local minimum (RFC 7477 §3.2.1). */
  | 'empty-ns-set'
  /** An in-bailiwick NS name would have no glue (RFC 7477 §3.2.2). */
  | 'missing-glue';

export interface ScanReason {
  code: ScanReasonCode;
  message: string;
  /** The servers involved (`address:port`, with the NS name), sorted. */
  servers: string[];
  /** The records involved, in presentation format. */
  records: string[];
}

/**
 * `no-signal`/`in-sync`: nothing to do. `change`: act on `records`. `refused`: the child asked
 * for something, but a consistency, reachability or validation rule failed; nothing changes.
 */
export type ScanStatus = 'no-signal' | 'in-sync' | 'change' | 'refused';

export interface DsDecision {
  action: 'none' | 'replace' | 'delete';
  status: ScanStatus;
  /** With `replace`: the complete new DS RRset. */
  records?: DsData[];
  reasons: ScanReason[];
}

/** Glue for one in-bailiwick NS name. */
export interface GlueAddresses {
  name: string;
  /** IPv4 and IPv6 literals, sorted. */
  addresses: string[];
}

export interface NsDecision {
  action: 'none' | 'replace';
  status: ScanStatus;
  /** With `replace`: the complete new NS set (names, lower-case, sorted). */
  records?: string[];
  /** With `replace`: the glue for every in-bailiwick name of `records` (others need none). */
  glue?: GlueAddresses[];
  reasons: ScanReason[];
}

/** The scanner's output: plain JSON, all or nothing per RRset. */
export interface ParentUpdateDecision {
  zone: string;
  /** When the observations were taken (ISO 8601). */
  observedAt: string;
  ds: DsDecision;
  ns: NsDecision;
  /** The servers considered and how each answered. */
  servers: {
    server: string;
    nameserver: string;
    inDelegation: boolean;
    status: ChildServerObservation['status'];
  }[];
}

/** Local policy of the parental agent. Every field has a default. */
export interface ParentScanPolicy {
  /** Validation time, seconds since the epoch. Default: now. */
  now?: number;
  /**
   * `both` (default): each server must publish CDS and CDNSKEY together, referencing the same
   * keys (draft-ietf-dnsop-ds-automation: parents SHOULD require both). `either`: a server may
   * publish only one of the two types; keys are still compared across servers.
   */
  cdsCdnskey?: 'both' | 'either';
  /**
   * Which keys may sign CDS/CDNSKEY. `dnskey-rrset` (default): any key of the server's DNSKEY
   * RRset once that RRset validates under the current DS (ordinary DNSSEC validation).
   * `ds-key`: only a key that itself has a DS (the strict reading of RFC 7344 §4.1 "Signer").
   */
  cdsSigner?: 'dnskey-rrset' | 'ds-key';
  /** DS digest types the parent publishes; CDS of other types are dropped. Default [2, 4]. */
  digestTypes?: number[];
  /** Digest type for a key known only from CDNSKEY. Default 2 (SHA-256). */
  cdnskeyDigestType?: 2 | 4;
  /** Smallest NS set the parent accepts. Default 1 (RFC 7477 §3.2.1: never empty). */
  minimumNsCount?: number;
  /**
   * RFC 9615 authenticated bootstrapping of a delegation without DS, from the `signals` of the
   * observations. Default true; it needs those signals (a `validatingResolver` when observing).
   */
  bootstrap?: boolean;
}
