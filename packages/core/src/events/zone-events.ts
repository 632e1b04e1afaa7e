import type { DnskeyData, NameServer } from '../dns/types.js';
import type { PlannedZsks, SignedDnskeySnapshot } from '../plugin/presigned-dnskey.js';
import type { DesiredSignerState, KeyRole, SigningKey } from '../plugin/signer.js';
import type { TrustGrant } from '../trust/authority.js';
import type { EventSignature } from '../trust/event-keys.js';

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
export interface Envelope<Type extends string, Data> extends EnvelopeFields<Type, Data> {
  zone: string;
}

/** The envelope without what it is about (a zone, a group). */
export interface EnvelopeFields<Type extends string, Data> {
  schemaVersion: typeof EVENT_SCHEMA_VERSION;
  type: Type;
  /** ISO 8601. */
  occurredAt: string;
  source: EventSource;
  traceparent?: string;
  data: Data;
  /** Set when signed: unique per event. */
  id?: string;
  /** Set when signed: the stream version the event was written for (a copy elsewhere is a replay). */
  streamVersion?: number;
  /** The author's Ed25519 signature (docs/security.md); the fold refuses events without one. */
  signature?: EventSignature;
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
  /** How the signer's server rolls its keys; absent for plugins that cannot roll (or older streams). */
  rollover?: RolloverTiming;
  /** How often the signer's sidecar reads its server's keys (its key watch), in seconds. */
  keyWatchSeconds?: number;
  /** What the signer's plugin cannot do that changes the plan, with the plugin's reasons. */
  limits?: SignerLimit[];
}

/**
 * A capability the plan works around. `cds-import-foreign`: the signer publishes CDS/CDNSKEY for
 * its own keys only (as Cloudflare does), so the group's CDS never agrees and the parent's DS must
 * come through a parent channel that takes DS (a registrar). `bootstrap-signal`: the signer cannot
 * publish RFC 9615 signalling records, so the group cannot be bootstrapped through it.
 * `presigned-dnskey`: the signer cannot serve a DNSKEY RRset the zone owner signed (model 1).
 */
export interface SignerLimit {
  capability: 'cds-import-foreign' | 'bootstrap-signal' | 'presigned-dnskey';
  reason: string;
}

/**
 * How a signer's server times a key roll, as registered. `held`: a new key stays published and
 * inactive until Chorus activates it. `server-timed`: the server activates it after its own
 * pre-publication interval, which must cover the group's DNSKEY wait.
 */
export interface RolloverTiming {
  mode: 'held' | 'server-timed';
  /** server-timed: seconds from a successor's publication to its first signatures. */
  prePublicationSeconds?: number;
  /** The server settings that make up the interval, e.g. `dnskey-ttl 30 + publish-safety 40 + zone-propagation-delay 5`. */
  settings?: string;
  /** The setting to raise when the interval is too short, e.g. `publish-safety` in BIND's dnssec-policy. */
  settingToRaise?: string;
  /**
   * server-timed: the server keeps a predecessor KSK until told that the parent's DS set changed
   * (BIND `rndc dnssec -checkds`, Knot `zone-ksk-submitted`), so Chorus can drive KSK/CSK rolls.
   */
  confirmsParentDs?: boolean;
}

/**
 * Model 1 (RFC 8901 §2.1.1): the zone owner keeps the KSKs; every member serves the one DNSKEY
 * RRset they sign. The private keys are never here: only the owner's own process opens them.
 */
export interface ZoneOwner {
  /** The owner's KSKs (flags 257), whose DS the parent holds. */
  dnskeys: DnskeyData[];
  /** How long an owner signature lasts, in seconds. */
  signatureValiditySeconds: number;
  /**
   * Every member serves owner signatures with more than this left (seconds); one with less is a
   * late refresh (I8). The owner re-signs earlier by the time a new set takes to reach every
   * member (key watch, DprpC and S).
   */
  refreshLeadSeconds: number;
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

export type ProcessKind =
  'add-signer' | 'remove-signer' | 'roll-zsk' | 'roll-ksk' | 'roll-algorithm' | 'bootstrap';

/** The roll a roll process performs: which of the rolling signer's keys it replaces. */
export interface RollSubject {
  role: KeyRole;
  /** Key tags of the keys being replaced (the rolling signer's keys of `role` when the process started). */
  predecessorTags: number[];
  /** Set when the successor already existed at the start (a roll the server began, followed). */
  successorTag?: number;
  /** Who times the roll (from the signer's registration). */
  mode: RolloverTiming['mode'];
  /** Model 1's KSK roll: the owner's new KSK (public only), which the process introduces. */
  ownerSuccessor?: DnskeyData;
}

/** One change of a signer's own keys, as its key watch saw it. */
export interface KeyChange {
  keyTag: number;
  role: KeyRole;
  change: 'appeared' | 'state-changed' | 'disappeared';
  /** The server's own word for the state before and after (absent when not reported). */
  from?: string;
  to?: string;
  /** KSK/CSK: whether the server now publishes CDS for the key, when that changed. */
  cdsPublished?: boolean;
}

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
  /**
   * ISO 8601: when the server said the next attempt may come (HTTP `Retry-After` on a rate limit
   * or an exhausted quota). The sidecar does not try again before it.
   */
  retryAt?: string;
}

/**
 * A signer's zone content as its own server holds it, digested: every record that is not DNSSEC
 * (RRSIG, NSEC, NSEC3, NSEC3PARAM, DNSKEY, CDS, CDNSKEY, private-type signing state), CSYNC, SOA
 * or apex NS, in canonical form without TTLs. Equal digests mean equal content at every signer,
 * whatever the denial method.
 */
export interface ZoneContentDigest {
  /** `sha384`: hex SHA-384 over the sorted canonical records (see `zoneContentDigest` in @chorus/dns). */
  algorithm: 'sha384';
  digest: string;
  /** How many RRsets and records were digested. */
  rrsets: number;
  records: number;
  /** The SOA serial the server had when the content was read. */
  serial: number;
  /** The kind of the plugin that read it (`bind`: AXFR, `knot`: knotc, `powerdns`: its API…). */
  source: string;
}

export interface BlockReason {
  /** Machine-readable, e.g. `last-signer`, `algorithm-mismatch`. */
  code: string;
  message: string;
}

/** A change to one parent RRset, for the person who makes it: what to add, remove and leave alone. */
export interface RecordSetChange {
  add: string[];
  remove: string[];
  /** Already right at the parent: leave these as they are. */
  keep: string[];
}

/** Address records for one in-bailiwick NS name (glue), as the parent should hold them. */
export interface GlueRecords {
  name: string;
  /** IPv4 and IPv6 literals, sorted. */
  addresses: string[];
}

/**
 * What must change at the parent for a step's parent post-condition to hold, in the forms a
 * registrar's web form or an EPP client takes. For parents that nobody scans: a person acts.
 */
export interface ParentChange {
  processId: string;
  stepIndex: number;
  parentZone: string;
  kind: 'ds' | 'ns';
  /** `kind: 'ds'`: full presentation lines, e.g. `example.test. 3600 IN DS 40696 13 2 AF47…`. */
  ds?: RecordSetChange;
  /** `kind: 'ds'`: the DNSKEY lines of the keys behind the DS to add or remove (registrars that take keys). */
  dnskey?: { add: string[]; remove: string[] };
  /** `kind: 'ns'`: absolute NS names, lower-case. */
  ns?: RecordSetChange;
  /** `kind: 'ns'`: glue for the NS names at or below the zone that are added or removed. */
  glue?: { add: GlueRecords[]; remove: GlueRecords[] };
  /** What the parent did that is neither the old nor the requested state, in words. */
  differs: string[];
}

/** A parent step's change, sent through a parent channel that takes changes (a registrar's API). */
export interface ParentChangeSubmission {
  processId: string;
  stepIndex: number;
  kind: 'ds' | 'ns';
  /** The parent channel's id, e.g. `registrar`. */
  channel: string;
  /** The whole set sent: DS in presentation form (`40696 13 2 AF47…`), or NS names. */
  records: string[];
  /** `refused`: the channel gave up; `error` says why (never a credential). */
  outcome: 'accepted' | 'refused';
  /** The channel's reference for the change, when it gives one. */
  requestId?: string;
  error?: string;
}

export type ZoneEvent =
  | Envelope<
      'zone-defined',
      {
        parentZone: string;
        signers: SignerReference[];
        timing: TimingSettings;
        recordTtlSeconds: number;
        /** The group the zone belongs to (`chorus zone define --group`), if any. */
        group?: string;
        /**
         * Set when the group was adopted as it stood (two or more signers, checked on the wire):
         * when it was observed, the parent servers asked, and which NS names belong to which
         * signer, by signer id (absolute, lower-case).
         */
        adopted?: {
          observedAt: string;
          parentServers: string[];
          nameServers: Record<string, string[]>;
        };
        /** Model 1 (RFC 8901 §2.1.1): the zone owner's KSKs sign the one DNSKEY RRset. Absent: model 2. */
        owner?: ZoneOwner;
      }
    >
  | Envelope<
      'dnskey-set-signed',
      {
        /**
         * Model 1: the DNSKEY RRsets the owner signed, each served from its `at`; every member
         * serves them byte for byte. A fold applies it only when every RRSIG verifies with an
         * owner KSK of the zone's definition.
         */
        snapshots: SignedDnskeySnapshot[];
        /** Why the owner signed: the first set, a member's planned ZSKs changed, or a refresh. */
        reason: 'initial' | 'keys-changed' | 'refresh';
      }
    >
  | Envelope<
      'signer-zsks-planned',
      {
        signerId: string;
        /** Model 1: the ZSKs the signer signs with, by time (its plugin's `plannedZsks`). */
        planned: PlannedZsks[];
      }
    >
  | Envelope<
      'trust-changed',
      {
        /** Keys granted (or revoked with null) by principal id; only operators may append it. */
        grant: TrustGrant;
        /** Why, in the operator's words. */
        reason?: string;
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
  | Envelope<
      'signer-keys-observed',
      {
        signerId: string;
        keys: SigningKey[];
        /** What changed since the previous observation (absent on the first, and in older streams). */
        changes?: KeyChange[];
      }
    >
  | Envelope<
      'signer-content-observed',
      {
        signerId: string;
        content: ZoneContentDigest;
      }
    >
  | Envelope<
      'process-requested',
      {
        processId: string;
        kind: ProcessKind;
        signerId: string;
        requestedBy: string;
        /** Roll processes: the key role to roll (roll-zsk: ZSK; roll-ksk: KSK or CSK). */
        role?: KeyRole;
        /** A roll the server began: the successor's key tag (the process follows it). */
        successorTag?: number;
        /** Model 1's KSK roll (signer `owner`): the owner's new KSK, public only. */
        ownerKsk?: DnskeyData;
        /** Names of steps whose wait is skipped. UNSAFE: only for negative controls (`chorus demo --unsafe-skip-wait`). */
        unsafeSkipWaits?: string[];
        /** `chorus undo`: the stopped process this one reverses (from wherever it stopped). */
        undoOf?: string;
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
        /** Roll processes: the keys being replaced and who times the roll. */
        roll?: RollSubject;
        /** Copied from the request: steps whose wait is skipped (unsafe). */
        unsafeSkipWaits?: string[];
        /** Copied from the request: the stopped process this one reverses. */
        undoOf?: string;
      }
    >
  | Envelope<
      'step-started',
      { processId: string; stepIndex: number; desired: Record<string, DesiredSignerState> }
    >
  | Envelope<
      'signer-reconciled',
      {
        processId: string;
        stepIndex: number;
        signerId: string;
        applied: number;
        /**
         * Roll steps: a digest of the desired state applied. A roll's key sync follows the group's
         * current keys, so a signer whose digest is stale reconciles the step again.
         */
        desiredDigest?: string;
      }
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
  | Envelope<'parent-change-needed', ParentChange>
  | Envelope<'parent-change-submitted', ParentChangeSubmission>
  | Envelope<
      'parent-notified',
      {
        processId: string;
        stepIndex: number;
        /** NOTIFY(CDS) for a DS step, NOTIFY(CSYNC) for an NS step (RFC 9859). */
        rrtype: 'CDS' | 'CSYNC';
        /** The DSYNC target names (or configured addresses) the author notifies. */
        targets: string[];
      }
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
  /** `chorus stop`: end the process at its next safe point (the operator's request). */
  | Envelope<'process-stop-requested', { processId: string; requestedBy: string; reason?: string }>
  /**
   * The process ended at a safe point: every step before `stepIndex` is done (post-condition and
   * wait), none after it started. The group is the one before the process.
   */
  | Envelope<
      'process-stopped',
      { processId: string; stepIndex: number; requestedBy: string; reason?: string }
    >
  | Envelope<'process-failed', { processId: string; reason: BlockReason }>;

export type ZoneEventType = ZoneEvent['type'];
export type ZoneEventOf<Type extends ZoneEventType> = Extract<ZoneEvent, { type: Type }>;
/** The event that tells a person at the parent exactly what to change (see `ParentChange`). */
export type ParentChangeNeeded = ZoneEventOf<'parent-change-needed'>;

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
  /**
   * RFC 9615 signalling records: copy the group's CDS/CDNSKEY under every participant's
   * `_signal` names, or withdraw them. Absent: leave them alone.
   */
  bootstrapSignals?: 'publish' | 'withdraw';
  /**
   * Model 1: the owner's signed DNSKEY RRset carries every key, so DNSKEY, CDS and CDNSKEY are
   * left alone (`keysFrom` and `cdsFor` are not used). Absent: model 2, Chorus writes them.
   */
  keys?: 'owner';
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
  | { kind: 'none' }
  /** Roll: the rolling signer lists a successor key and serves it in its DNSKEY RRset at every IP. */
  | { kind: 'successor-published' }
  /** Roll: no RRSIG by a predecessor key is served at any IP of the rolling signer (sampled names). */
  | { kind: 'predecessor-not-signing' }
  /** Roll: the rolling signer no longer lists or serves the predecessor keys. */
  | { kind: 'predecessor-removed' }
  /**
   * Server-timed KSK/CSK roll: every IP of the rolling signer serves its own CDS for the
   * successor and none for a predecessor (the server moved its CDS/CDNSKEY on its own schedule).
   */
  | { kind: 'successor-cds-published' }
  /**
   * Model 1: the owner has signed a DNSKEY RRset holding exactly the members' planned ZSKs and
   * its KSKs, and every IP of every member serves that RRset with the owner's RRSIGs.
   */
  | { kind: 'owner-set-served' };

/** Wait formulas of standards §7 (names refer to `computeWait`). `dnskey`: DprpC + TTLkey + S (Ipub). */
export type WaitFormula = 'ds-and-dnskey' | 'ns' | 'signatures' | 'ds' | 'dnskey';

/**
 * What the rolling signer's own server does in a roll step (its sidecar calls its plugin's
 * `KeyRoller`). In a server-timed roll, only `start-roll` and `confirm-parent-ds` are calls; the
 * server does the rest and the post-condition observes it.
 */
export type RollAction =
  | 'start-roll'
  | 'activate-successor'
  | 'remove-predecessor'
  /** Server-timed KSK/CSK roll: tell the server the parent's DS set changed (it then retires the predecessor). */
  | 'confirm-parent-ds';

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
  /** Roll processes: what the rolling signer's server does in this step (before any recipe). */
  rollAction?: RollAction;
  postcondition: PostconditionSpec;
  /** The wait that must elapse after the post-condition before the next step. */
  wait: WaitFormula | null;
}

/** The stream name of a zone in the event log. */
export function zoneStream(zone: string): string {
  return `zone/${zone.toLowerCase()}`;
}
