import type { NameServer } from '../dns/types.js';
import type { DesiredSignerState, SigningKey } from '../plugin/signer.js';

/**
 * The event catalogue of a zone's stream. Every event is versioned plain JSON with its source,
 * time and W3C traceparent; the state of a zone is a pure fold of its events (`foldZone`).
 * Events carry public DNS data and facts only, never secrets.
 */

export const EVENT_SCHEMA_VERSION = 1 as const;

export interface EventSource {
  /** `sidecar`, `cli`, `registry`, `observer`. */
  kind: string;
  id: string;
}

/** The shape every Chorus event shares: versioned, typed, sourced, timed and traced. */
export interface Envelope<Type extends string, Data> {
  schemaVersion: typeof EVENT_SCHEMA_VERSION;
  type: Type;
  zone: string;
  /** ISO 8601. */
  occurredAt: string;
  source: EventSource;
  traceparent?: string;
  data: Data;
}

/** A signer as the group knows it: public facts only. */
export interface SignerReference {
  id: string;
  /** Plugin kind, e.g. `bind`. */
  kind: string;
  /** The NS names this signer serves the zone under. */
  nameServerNames: string[];
  /** Every address the signer answers on (what its NS names resolve to). Post-conditions ask each one. */
  endpoints: NameServer[];
}

/** Timing inputs that are configuration, not observation (standards §1). Seconds. */
export interface TimingSettings {
  /** DprpC: child propagation delay, to every authoritative instance of every provider. */
  childPropagationSeconds: number;
  /** DprpP: parent propagation delay. */
  parentPropagationSeconds: number;
  /** S: operator safety margin added to every wait. */
  safetyMarginSeconds: number;
  /** TTLsig: the largest TTL in the zone (including negative answers), for the signature wait. */
  maxZoneTtlSeconds: number;
}

export type ProcessKind = 'add-signer' | 'remove-signer';

/** TTLs observed on the wire when a post-condition first held. Seconds; absent when not relevant. */
export interface ObservedTtls {
  dnskey?: number;
  ds?: number;
  parentNs?: number;
  childNs?: number;
}

/** Why a signer could not apply a step, as recorded: no secrets, at most a few hundred characters. */
export interface ApplyError {
  /** The error class, e.g. `Chorus_TsigError`. */
  name: string;
  message: string;
  /** False for faults only the operator can fix (BADSIG, BADKEY, 401/403, a refused configuration). */
  retryable: boolean;
}

export interface BlockReason {
  /** Machine-readable, e.g. `last-signer`, `algorithm-mismatch`. */
  code: string;
  message: string;
}

export type ZoneEvent =
  | Envelope<
      'zone-defined',
      {
        parentZone: string;
        signers: SignerReference[];
        timing: TimingSettings;
        recordTtlSeconds: number;
      }
    >
  | Envelope<
      'signer-registered',
      {
        signer: SignerReference;
        /** The registration this one replaces, when the signer was known with other facts. */
        before?: SignerReference;
      }
    >
  | Envelope<'signer-keys-observed', { signerId: string; keys: SigningKey[] }>
  | Envelope<
      'process-requested',
      {
        processId: string;
        kind: ProcessKind;
        signerId: string;
        requestedBy: string;
        /** Names of steps whose wait is skipped. UNSAFE: only for negative controls (`chorus demo --unsafe-skip-wait`). */
        unsafeSkipWaits?: string[];
      }
    >
  | Envelope<
      'process-blocked',
      { processId: string; kind: ProcessKind; signerId: string; reasons: BlockReason[] }
    >
  | Envelope<
      'process-started',
      {
        processId: string;
        kind: ProcessKind;
        signerId: string;
        steps: StepDefinition[];
        groupBefore: string[];
        groupAfter: string[];
        /** Copied from the request: steps whose wait is skipped (unsafe). */
        unsafeSkipWaits?: string[];
      }
    >
  | Envelope<
      'step-started',
      { processId: string; stepIndex: number; desired: Record<string, DesiredSignerState> }
    >
  | Envelope<
      'signer-reconciled',
      { processId: string; stepIndex: number; signerId: string; applied: number }
    >
  | Envelope<
      'signer-apply-failed',
      {
        processId: string;
        stepIndex: number;
        signerId: string;
        /** Attempts so far at this step (throttled: not every attempt is recorded). */
        attempt: number;
        /** Not retryable: the signer stops trying and the process needs the operator. */
        error: ApplyError;
      }
    >
  | Envelope<
      'postcondition-met',
      { processId: string; stepIndex: number; observedAt: string; ttls: ObservedTtls }
    >
  | Envelope<
      'wait-scheduled',
      {
        processId: string;
        stepIndex: number;
        notBefore: string;
        formula: string;
        terms: Record<string, number | string>;
      }
    >
  | Envelope<'step-completed', { processId: string; stepIndex: number }>
  | Envelope<'process-completed', { processId: string; groupAfter: string[] }>
  | Envelope<'process-failed', { processId: string; reason: BlockReason }>;

export type ZoneEventType = ZoneEvent['type'];
export type ZoneEventOf<Type extends ZoneEventType> = Extract<ZoneEvent, { type: Type }>;

/** Which signers a recipe addresses, relative to the process: the group before, after, or both. */
export type GroupSelector = 'before' | 'after' | 'union';

/**
 * How to compute each participant's desired state for a step. Plain data, so that a running
 * process keeps the recipe it started with even if the code changes.
 */
export interface DesiredRecipe {
  participants: GroupSelector;
  /** Whose keys every participant publishes. */
  keysFrom: GroupSelector;
  /** Whose KSKs get CDS/CDNSKEY. */
  cdsFor: GroupSelector;
  csync: boolean;
  /** The apex NS set: the NS names of this group, or leave NS alone. */
  apexNs: GroupSelector | 'unchanged';
}

/** What must be observed on the wire before a step counts as done. */
export type PostconditionSpec =
  /** Every IP of every participant serves its desired state (zero remaining changes). */
  | { kind: 'desired-state-served' }
  /** Every parent NS IP serves DS = DS(K) for the KSKs of `group`. */
  | { kind: 'parent-ds-matches'; group: GroupSelector }
  /** Every parent NS IP delegates with NS = the NS names of `group`. */
  | { kind: 'parent-ns-matches'; group: GroupSelector }
  /** Nothing to observe (a marker step, e.g. the leaving signer retired). */
  | { kind: 'none' };

/** Wait formulas of standards §7 (names refer to `computeWait`). */
export type WaitFormula = 'ds-and-dnskey' | 'ns' | 'signatures' | 'ds';

export interface StepDefinition {
  name: string;
  description: string;
  /**
   * Checked on the wire before the step starts (level-triggered: the world may have moved since
   * the previous step). Absent in streams recorded before pre-conditions existed: treated as none.
   */
  precondition?: PostconditionSpec;
  /** Null when the step only observes (the parent acts, or a marker). */
  action: DesiredRecipe | null;
  postcondition: PostconditionSpec;
  /** The wait that must elapse after the post-condition before the next step. */
  wait: WaitFormula | null;
}

/** The stream name of a zone in the event log. */
export function zoneStream(zone: string): string {
  return `zone/${zone.toLowerCase()}`;
}
