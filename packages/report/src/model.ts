/** The timeline model: everything the report draws, as plain JSON (also written as timeline.json). */
import type {
  BlockReason,
  InvariantId,
  KeyRole,
  ObserverTotals,
  ProcessKind,
  RollSubject,
} from '@chorus/core';

export const TIMELINE_SCHEMA_VERSION = 1;

/** A DNSKEY in a lane segment. `owner` is the signer whose own key it is, when known. */
export interface TimelineKey {
  keyTag: number;
  algorithm: number;
  role: 'KSK' | 'ZSK';
  owner?: string;
}

/** One version of one RRset at one server, from its first sighting to the next version's. */
export interface LaneSegment {
  /** `address#port`. */
  server: string;
  /** ISO 8601: first seen. */
  from: string;
  /** ISO 8601: when the server's next version was first seen; null while still current. */
  to: string | null;
  version: string;
  /** Null when the server did not answer. */
  rcode: string | null;
  ttl: number;
  /** What the segment shows, e.g. `KSK 12345 / ZSK 2345`, `DS 12345`, `ns1.a.test.`. */
  label: string;
  /** DNSKEY lanes: the keys, KSKs first. */
  keys?: TimelineKey[];
  /** Parent DS lane: the key tags of the DS records. */
  dsKeyTags?: number[];
  /** Parent NS lane: the NS names. */
  names?: string[];
}

export type LaneKind = 'parent-ds' | 'parent-ns' | 'provider' | 'unattributed';

export interface Lane {
  /** `parent-ds`, `parent-ns`, `provider/<id>` or `unattributed`. */
  id: string;
  kind: LaneKind;
  /** What the picture prints at the left: `parent DS`, `parent NS`, or the provider id. */
  label: string;
  /** `parent` for the parent's lanes, else the provider id (empty for `unattributed`). */
  provider: string;
  /** The servers with segments, sorted: one row each. */
  servers: string[];
  segments: LaneSegment[];
}

export interface WaitSpan {
  /** ISO: when the post-condition held (the wait's start). */
  from: string;
  notBefore: string;
  seconds: number;
  formula: string;
  terms: Record<string, number | string>;
  /** The formula starts with `SKIPPED`: the wait was skipped, unsafely. */
  skipped: boolean;
  /** A skipped wait: when it should have ended (the `mandatedNotBefore` term), when recorded. */
  mandatedNotBefore?: string;
}

export interface StepTimeline {
  /** 0-based, as in the events. */
  index: number;
  /** 1-based, as people count. */
  number: number;
  name: string;
  description: string;
  startedAt?: string;
  postconditionMetAt?: string;
  completedAt?: string;
  /** Started → completed, when both are known. */
  seconds?: number;
  reconciled: { signerId: string; at: string; applied: number }[];
  wait?: WaitSpan;
}

/** A roll process: the keys it replaces, their successors and who timed it. */
export interface RollTimeline {
  role: KeyRole;
  mode: RollSubject['mode'];
  /** The rolling signer's keys of `role` when the process started. */
  predecessorTags: number[];
  /** The successor named at the start, else the keys of `role` that entered during the process. */
  successorTags: number[];
}

/** A key entering or leaving its signer's own DNSKEY RRset (from `signer-keys-observed` changes). */
export interface KeyEvent {
  /** `K1`, `K2`, … in order of time. */
  id: string;
  signerId: string;
  /** The signer's provider lane. */
  laneId: string;
  /** ISO 8601: when the signer's key watch saw the change. */
  at: string;
  keyTag: number;
  role: KeyRole;
  change: 'appeared' | 'disappeared';
  /** The roll of that signer in flight at `at`, when there is one. */
  processId?: string;
}

export type ProcessStatus =
  'requested' | 'blocked' | 'running' | 'completed' | 'failed' | 'stopped';

export interface ProcessTimeline {
  id: string;
  /** 1-based, in order of request. */
  number: number;
  kind: ProcessKind;
  signerId: string;
  /** What the report calls it: `add-signer powerdns`, `roll-zsk bind (held)`. */
  label: string;
  /** Roll processes only. */
  roll?: RollTimeline;
  status: ProcessStatus;
  requestedAt?: string;
  startedAt?: string;
  endedAt?: string;
  seconds?: number;
  /** Sum of the waits from post-condition to notBefore. */
  mandatedWaitSeconds: number;
  groupBefore: string[];
  groupAfter: string[];
  reasons: BlockReason[];
  steps: StepTimeline[];
  /** Time zero of the picture (start, else request). */
  t0: string;
  /** What the picture shows: the process with a margin either side. */
  window: { from: string; to: string };
  /** Lanes shown, top to bottom. */
  laneIds: string[];
  /** Glitches that overlap the window. */
  glitchIds: string[];
  /** Key events in the window on a lane shown, in order of time. */
  keyEventIds: string[];
  /** Processes that ran during the window (this one included), in order of number: one row each. */
  concurrentIds: string[];
}

export type GlitchType = 'invariant-violated' | 'validation-failed' | 'validator-disagreed';

export interface Glitch {
  /** `G1`, `G2`, … in order of time. */
  id: string;
  type: GlitchType;
  /** Short text for the marker: the invariant id, or what failed. */
  label: string;
  invariant?: InvariantId;
  /** The violation's key (invariant-violated). */
  key?: string;
  from: string;
  /** Restored at; equal to `from` for a point event; null while a violation is still open. */
  to: string | null;
  providers: string[];
  laneIds: string[];
  resolver?: string;
  name?: string;
  rrtype?: string;
  detail: string;
  records: string[];
  /** As recorded, else the process running at `from`. */
  processId?: string;
}

export interface ObserverReport extends ObserverTotals {
  observer: string;
  since: string;
  at: string;
}

export type { ObserverTotals };

export interface TimelineSummary {
  processes: number;
  completed: number;
  failed: number;
  blocked: number;
  running: number;
  steps: number;
  waits: number;
  skippedWaits: number;
  mandatedWaitSeconds: number;
  glitches: number;
  invariantViolations: number;
  openViolations: number;
  validationFailures: number;
  disagreements: number;
  wireVersions: number;
  /** Keys that entered or left a signer's own DNSKEY RRset. */
  keyEvents: number;
  /** Sum of each observer's latest summary; null when no observer reported. */
  observerTotals: ObserverTotals | null;
  /** Each observer's latest summary, by observer name. */
  observers: ObserverReport[];
}

export interface ProviderInfo {
  id: string;
  kind?: string;
  nameServerNames: string[];
  /** The keys its sidecar last reported as its own. */
  keys: TimelineKey[];
  /** Colour of its keys and lane label. */
  colour: string;
}

export interface TimelineModel {
  schemaVersion: typeof TIMELINE_SCHEMA_VERSION;
  zone: string;
  parentZone?: string;
  generatedAt: string;
  providers: ProviderInfo[];
  lanes: Lane[];
  processes: ProcessTimeline[];
  glitches: Glitch[];
  keyEvents: KeyEvent[];
  summary: TimelineSummary;
}
