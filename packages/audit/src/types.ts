/**
 * Plain-JSON shapes of an audit: what every parent server and every child address answered,
 * the rules that judge it, and the report.
 */
import type { DelegationGlue, Rcode, RRset } from '@chorus/core';
import type { ChildServerData, UnresolvedNameserver } from '@chorus/parent';

/** Why a server gave no usable answer: no answer at all, or garbage / error rcode / no AA. */
export type ServerFailure = { status: 'unreachable' | 'bad-response'; error: string };

/** What one parent server says about the delegation: DS (authoritative), NS and glue (referral). */
export interface ParentAnswer {
  status: 'answered';
  ds: RRset<'DS'> | null;
  ns: RRset<'NS'> | null;
  glue: DelegationGlue[];
}

/** One parent server address (`address:port`) and its answer, or why there is none. */
export type ParentView = { server: string } & (ParentAnswer | ServerFailure);

/** The answer to the nonexistent probe name: rcode and every RRset (with RRSIGs) it carried. */
export interface ProbeAnswer {
  name: string;
  rcode: Rcode;
  answers: RRset[];
  authorities: RRset[];
}

/** Everything one child address answered: the apex RRsets (null is NODATA) and the probe. */
export interface ChildData extends ChildServerData {
  nsec3param: RRset<'NSEC3PARAM'> | null;
  probe: ProbeAnswer;
}

interface ChildIdentity {
  /** The NS name this address belongs to. */
  nameserver: string;
  address: string;
  /** `address:port`. */
  server: string;
  /** False for an NS name only the child's apex lists (not delegated by the parent). */
  inDelegation: boolean;
}

/** One child nameserver address and its answers, or why there are none. */
export type ChildView = ChildIdentity & ({ status: 'answered'; data: ChildData } | ServerFailure);

/** An answered child address. */
export type AnsweredChild = ChildIdentity & { status: 'answered'; data: ChildData };

/** The input of every rule: one snapshot of the zone as the public DNS serves it. */
export interface AuditObservations {
  zone: string;
  parentZone: string;
  /** ISO 8601, when the queries started. */
  observedAt: string;
  /** Validation time, seconds since the epoch. */
  now: number;
  parent: ParentView[];
  children: ChildView[];
  /** NS names (delegated or at the apex) for which no address was found. */
  unresolved: UnresolvedNameserver[];
}

export type Severity = 'fail' | 'warn';

/** One problem a rule found: what, where (`address:port` or NS names) and the records involved. */
export interface Finding {
  severity: Severity;
  message: string;
  servers: string[];
  records?: string[];
}

/** One check: a stable id, a title and a pure function of the observations. */
export interface AuditRule {
  id: string;
  title: string;
  check(observations: AuditObservations): Finding[];
}

export type CheckStatus = 'pass' | Severity;

/** One row of the report: the rule's verdict, the servers concerned and every finding. */
export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  servers: string[];
  details: Finding[];
}

/** The report `chorus audit --json` prints. */
export interface AuditReport {
  zone: string;
  parentZone: string;
  observedAt: string;
  /** `fail` when any check fails; `warn` when some warn and none fails. */
  status: CheckStatus;
  servers: {
    parent: { server: string; status: ParentView['status']; error?: string }[];
    child: {
      server: string;
      nameserver: string;
      inDelegation: boolean;
      status: ChildView['status'];
      error?: string;
    }[];
    unresolved: UnresolvedNameserver[];
  };
  checks: CheckResult[];
}
