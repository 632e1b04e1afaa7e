import { canonicalName, dnskeyIdentity } from '@chorus/dns';
import type { ApexSnapshot, BlockReason, KeyRole, ProcessKind, SigningKey } from '@chorus/core';
import { limitOf } from './desired.js';
import { conflictingProcess, sharedResources } from './locks.js';
import { contentChecks } from './preflight-content.js';
import { bootstrapChecks } from './preflight-bootstrap.js';
import { model1PreflightChecks } from './preflight-model1.js';
import { parentNotObserved } from './preflight-parent.js';
import { rollChecks } from './preflight-rolls.js';
import type { ProcessState, ZoneState } from './state.js';
import { undoneRollSuccessor, undoRequestFor, whyNotUndoable } from './undo.js';

/** What one signer serves, as the pre-flight checks need it. Gathered on the wire. */
export interface SignerObservation {
  keys: SigningKey[];
  /** One snapshot per address the signer answers on. */
  apex: ApexSnapshot[];
  /** `NSEC`, `NSEC3` or unknown; with NSEC3, its parameters as `alg flags iterations salt`. */
  denial: { method: 'NSEC' | 'NSEC3' | 'unknown'; parameters?: string };
  /**
   * The zone's content without DNSSEC records, SOA and apex NS: `owner type` → sorted rdata,
   * walked along the NSEC chain. Absent when it could not be walked, or was not needed because
   * the signer's sidecar recorded a content digest.
   */
  content?: Record<string, string[]>;
  /** Earliest RRSIG expiration served at the apex, epoch seconds. */
  earliestSignatureExpiration?: number;
}

export interface PreflightInput {
  state: ZoneState;
  kind: ProcessKind;
  signerId: string;
  observations: Record<string, SignerObservation>;
  /** Signers that could not be observed, with why (e.g. an endpoint that does not answer). */
  unobserved?: Record<string, string>;
  /** DS records at the parent (every parent server agreed on these). */
  parentDs: { keyTag: number; algorithm: number }[];
  /** The parent's NS names for the zone, lower-case and sorted (absent when not read). */
  parentNs?: string[];
  /** Why the parent could not be read, when it could not. */
  parentUnobserved?: string;
  /** Epoch seconds. */
  now: number;
  /** A followed roll: the successor the server already introduced (not yet at the other signers). */
  successorTag?: number;
  /** Roll requests: the key role to roll. */
  role?: KeyRole;
  /** Whether the parent channel takes DS changes (a registrar's API), not only observes. */
  parentTakesDs?: boolean;
  /** `chorus undo`: the stopped process this request reverses. */
  undoOf?: string;
}

const block = (code: string, message: string): BlockReason => ({ code, message });

/** The processes whose steps wait for the parent's DS. */
const CHANGES_PARENT_DS: ReadonlySet<ProcessKind> = new Set([
  'add-signer',
  'remove-signer',
  'roll-ksk',
  'roll-algorithm',
  'bootstrap',
]);

/**
 * A signer that publishes CDS for its own keys only leaves the group without one CDS set, so no
 * scanner can act: the DS must go through a parent channel that takes it (a registrar's API).
 */
function groupCdsChecks(
  state: ZoneState,
  kind: ProcessKind,
  group: readonly string[],
  parentTakesDs: boolean,
): BlockReason[] {
  if (!CHANGES_PARENT_DS.has(kind) || parentTakesDs) return [];
  return group.flatMap((id) => {
    const reason = limitOf(state, id);
    return reason === undefined
      ? []
      : [
          block(
            'group-cds-impossible',
            `${id} cannot publish the group's CDS/CDNSKEY (${reason}), so the parent never sees one consistent CDS set: its DS must go through a parent channel that takes DS, such as a registrar's API (parent.registrar in every sidecar's configuration)`,
          ),
        ];
  });
}

/** The largest DNSKEY TTL any observed signer serves (0 when none was observed). */
function largestDnskeyTtl(observations: Record<string, SignerObservation>): number {
  return Math.max(
    0,
    ...Object.values(observations).flatMap((observation) =>
      observation.apex.map((snapshot) => snapshot.dnskey?.ttl ?? 0),
    ),
  );
}

/** Why a request cannot start while another process holds the zone. */
/** Why a process of `kind` at `signerId` cannot start while `active` holds a resource it needs. */
export function processInFlight(
  state: ZoneState,
  active: ProcessState,
  wanted: { kind: ProcessKind; signerId: string },
): BlockReason {
  const held = active.status === 'needs-operator' ? ' and needs the operator' : '';
  const shared = sharedResources(active, wanted.kind, wanted.signerId).join(', ');
  return block(
    'process-in-flight',
    `${active.kind} of ${active.signerId} (process ${active.id}) is still in flight for ${state.zone}${held}, and holds ${shared}, which ${wanted.kind} of ${wanted.signerId} needs; processes run together only on disjoint resources (ZSK rolls at different signers do)`,
  );
}

function algorithmsOf(keys: readonly SigningKey[]): string {
  return [...new Set(keys.map((key) => key.algorithm))].sort((a, b) => a - b).join(',');
}

/**
 * Unique key tags across the group: the key watch and the processes tell keys apart by tag. A
 * key of a signer that is not a member yet is published by nobody else, so the fix is to replace
 * that one; between two members, a roll of either.
 */
function keyTagCollisions(
  observations: PreflightInput['observations'],
  group: readonly string[],
  members: readonly string[],
): BlockReason[] {
  const reasons: BlockReason[] = [];
  const owners = new Map<number, { id: string; role: string }>();
  for (const id of group) {
    for (const key of observations[id]!.keys) {
      const other = owners.get(key.keyTag);
      owners.set(key.keyTag, { id, role: key.role });
      if (other === undefined || other.id === id) continue;
      const joining = [other.id, id].find((signer) => !members.includes(signer));
      const fix = joining
        ? `have ${joining} make a new ${joining === id ? key.role : other.role} (it is not in the group yet, so no other signer publishes it), then ask again`
        : 'roll one of the two keys first';
      reasons.push(
        block(
          'key-tag-collision',
          `key tag ${key.keyTag} is used by both ${other.id}'s ${other.role} and ${id}'s ${key.role}; ${fix}`,
        ),
      );
    }
  }
  return reasons;
}

/**
 * The global pre-conditions C0 (standards §7) plus the joining signer's prerequisites (§7.1
 * step 1) or the remove rules (§7.2 step 1). A non-empty result blocks the process before any
 * change, each reason naming the problem.
 */
export function preflightChecks(input: PreflightInput): BlockReason[] {
  const { state, kind, signerId, observations } = input;
  const reasons: BlockReason[] = [];
  if (!state.defined)
    return [
      block('zone-undefined', `zone ${state.zone} is not defined; run "chorus zone define" first`),
    ];
  if (state.owner)
    return model1PreflightChecks(input, (active) =>
      processInFlight(state, active, { kind, signerId }),
    );
  const conflict = conflictingProcess(state, kind, signerId);
  if (conflict) reasons.push(processInFlight(state, conflict, { kind, signerId }));
  if (!state.signers[signerId]) {
    return [
      ...reasons,
      block(
        'unknown-signer',
        `signer ${signerId} is not registered for ${state.zone}; start its sidecar first`,
      ),
    ];
  }
  const undo = input.undoOf !== undefined;
  // The steady group: an undone leave's leaver may already lack what the others serve.
  const members =
    undo && kind === 'add-signer' ? state.members.filter((id) => id !== signerId) : state.members;
  if (kind === 'roll-zsk' || kind === 'roll-ksk' || kind === 'roll-algorithm')
    reasons.push(...rollChecks(state, kind, signerId, largestDnskeyTtl(observations), input.role));
  if (kind === 'bootstrap') reasons.push(...bootstrapChecks(input));
  if (undo) reasons.push(...undoChecks(input, input.undoOf!));
  if (kind === 'add-signer' && members.includes(signerId))
    reasons.push(block('already-member', `${signerId} already signs ${state.zone}`));
  if (kind === 'remove-signer' && !undo) {
    if (!members.includes(signerId))
      reasons.push(block('not-a-member', `${signerId} does not sign ${state.zone}`));
    else if (members.length === 1)
      reasons.push(
        block(
          'last-signer',
          `${signerId} is the last signer of ${state.zone}; removing it would leave the zone unsigned and unserved`,
        ),
      );
  }
  const group = kind === 'add-signer' || undo ? [...new Set([...members, signerId])] : members;
  reasons.push(...groupCdsChecks(state, kind, group, input.parentTakesDs === true));
  for (const id of group) {
    const why = input.unobserved?.[id];
    if (!observations[id])
      reasons.push(
        block('not-observed', `${id} could not be observed on the wire${why ? `: ${why}` : ''}`),
      );
  }
  const parent = parentNotObserved(input);
  if (parent) reasons.push(parent);
  if (reasons.length > 0) return reasons;

  // Same algorithm set everywhere (RFC 8901 §4).
  const reference = members[0] ?? signerId;
  const expectedAlgorithms = algorithmsOf(observations[reference]!.keys);
  for (const id of group) {
    const algorithms = algorithmsOf(observations[id]!.keys);
    if (algorithms !== expectedAlgorithms) {
      reasons.push(
        block(
          'algorithm-mismatch',
          `${id} signs with algorithm ${algorithms || 'none'} but ${reference} uses ${expectedAlgorithms}; a group needs one common algorithm (RFC 8901 §4)`,
        ),
      );
    }
  }

  reasons.push(...keyTagCollisions(observations, group, members));

  // One denial method and identical NSEC3 parameters (RFC 8901 §5).
  const denial = (id: string) =>
    `${observations[id]!.denial.method}${observations[id]!.denial.parameters ? ` ${observations[id]!.denial.parameters}` : ''}`;
  for (const id of group) {
    if (denial(id) !== denial(reference))
      reasons.push(
        block(
          'denial-mismatch',
          `${id} uses ${denial(id)} but ${reference} uses ${denial(reference)}; use one denial method with identical parameters`,
        ),
      );
  }

  // Identical content (RFC 8901 §5).
  reasons.push(...contentChecks(state, observations, group, reference));

  // Before a bootstrap the signers do not know one another yet: its first step syncs them.
  if (kind === 'bootstrap') return [...reasons, ...signatureChecks(input, group)];

  // Steady state: every member serves every member's keys on every address; NS identical; DS for
  // every member. The keys of a signer whose roll is in flight are in motion: its roll syncs them.
  // So is a successor whose followed roll is requested and queued (its server began the roll).
  const rolling = new Set(
    state.activeProcesses.filter((process) => process.roll).map((process) => process.signerId),
  );
  const undoneSuccessor = undoneRollSuccessor(state, input.undoOf);
  const queuedSuccessor = (id: string, tag: number) =>
    (id === signerId && (tag === input.successorTag || tag === undoneSuccessor)) ||
    state.pendingRequests.some(
      (request) => request.signerId === id && request.successorTag === tag,
    );
  const memberKeys = members.flatMap((id) =>
    (rolling.has(id) ? [] : observations[id]!.keys)
      .filter((key) => !queuedSuccessor(id, key.keyTag))
      .map((key) => dnskeyIdentity(key.dnskey)),
  );
  for (const id of members) {
    for (const snapshot of observations[id]!.apex) {
      const served = new Set((snapshot.dnskey?.records ?? []).map(dnskeyIdentity));
      const missing = memberKeys.filter((key) => !served.has(key));
      if (missing.length > 0)
        reasons.push(
          block(
            'not-steady',
            `${id} at ${snapshot.server} does not serve ${missing.length} key(s) of the group; finish or repair the previous process first`,
          ),
        );
    }
  }
  const nsSets = members.flatMap((id) =>
    observations[id]!.apex.map((snapshot) =>
      (snapshot.ns?.records ?? []).map(canonicalName).sort().join(' '),
    ),
  );
  if (new Set(nsSets).size > 1)
    reasons.push(
      block(
        'not-steady',
        `the signers of ${state.zone} serve different NS sets: ${[...new Set(nsSets)].join(' | ')}`,
      ),
    );
  for (const id of members) {
    const ksks = observations[id]!.keys.filter((key) => key.role !== 'ZSK');
    if (
      !ksks.some((key) =>
        input.parentDs.some((ds) => ds.keyTag === key.keyTag && ds.algorithm === key.algorithm),
      )
    ) {
      reasons.push(block('not-steady', `the parent holds no DS for any KSK of ${id}`));
    }
  }

  reasons.push(...signatureChecks(input, group));
  return reasons;
}

/**
 * An undo reverses one stopped process, once, with the reverse kind at the same signer; a roll
 * back names the stopped roll's predecessor as its successor.
 */
function undoChecks(input: PreflightInput, undoOf: string): BlockReason[] {
  const { state, kind, signerId } = input;
  const undone = state.processes.find((process) => process.id === undoOf);
  if (!undone) return [block('not-undoable', `there is no process ${undoOf}`)];
  const expected = undone.status === 'stopped' ? undoRequestFor(undone) : undefined;
  const problem =
    undone.status !== 'stopped'
      ? `process ${undoOf} is ${undone.status}, not stopped`
      : undone.undoneBy !== undefined
        ? `process ${undoOf} was undone already by ${undone.undoneBy}`
        : (whyNotUndoable(state, undone) ??
          (expected!.kind !== kind || undone.signerId !== signerId
            ? `${undone.kind} of ${undone.signerId} is undone by ${expected!.kind} of ${undone.signerId}, not ${kind} of ${signerId}`
            : expected!.successorTag !== undefined &&
                (expected!.successorTag !== input.successorTag || expected!.role !== input.role)
              ? `rolling back ${undone.kind} of ${undone.signerId} makes ${expected!.role} ${expected!.successorTag} sign again, not ${input.role ?? 'its role'} ${input.successorTag ?? '(none named)'}`
              : undefined));
  return problem ? [block('not-undoable', problem)] : [];
}

/** Signatures must outlive any cached copy (standards §7 C0 item 6). */
function signatureChecks(input: PreflightInput, group: readonly string[]): BlockReason[] {
  const { state, observations } = input;
  const margin = state.timing.maxZoneTtlSeconds + state.timing.safetyMarginSeconds;
  return group.flatMap((id) => {
    const expiration = observations[id]!.earliestSignatureExpiration;
    if (expiration === undefined || expiration >= input.now + margin) return [];
    return [
      block(
        'signatures-expiring',
        `${id} serves signatures expiring at ${new Date(expiration * 1000).toISOString()}, within the max zone TTL plus margin`,
      ),
    ];
  });
}
