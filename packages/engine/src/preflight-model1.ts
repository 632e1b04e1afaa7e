/**
 * Pre-flight of a model-1 zone (its definition names an owner KSK): which processes run, and
 * what a provider's ZSK roll needs before it starts.
 */
import type { BlockReason, ProcessKind } from '@chorus/core';
import { keyTag } from '@chorus/dns';
import { conflictingProcess } from './locks.js';
import { OWNER_ID } from './model1.js';
import { parentNotObserved } from './preflight-parent.js';
import { rollChecks } from './preflight-rolls.js';
import type { PreflightInput } from './preflight.js';
import type { ZoneState } from './state.js';

const block = (code: string, message: string): BlockReason => ({ code, message });

/** Why a process has no model-1 steps yet: model 2's would publish keys the owner never signed. */
function unbuilt(state: ZoneState, kind: ProcessKind): BlockReason {
  return block(
    'model-1-unsupported',
    `${state.zone} is in model 1 (its definition names an owner KSK): ${kind} has no model-1 steps yet, and model 2's would publish keys the owner has not signed at a provider that serves only the owner's DNSKEY RRset. What runs in model 1 now: a provider's join and leave ("chorus signer add/remove"), its ZSK roll ("chorus roll ZONE SIGNER --zsk"), the owner's KSK roll ("chorus roll ZONE owner --ksk"), and "chorus owner ${state.zone}", which signs every change of the members' planned ZSKs and refreshes the signatures`,
  );
}

const MODEL1_KINDS: ReadonlySet<ProcessKind> = new Set([
  'add-signer',
  'remove-signer',
  'roll-zsk',
  'roll-ksk',
]);

/** Every signer of `group` observed on the wire, and the parent read. */
function observedChecks(input: PreflightInput, group: readonly string[]): BlockReason[] {
  const reasons = group
    .filter((id) => input.unobserved?.[id] !== undefined || !input.observations[id])
    .map((id) =>
      block(
        'not-observed',
        `${id} could not be observed on the wire${input.unobserved?.[id] ? `: ${input.unobserved[id]}` : ''}`,
      ),
    );
  const parent = parentNotObserved(input);
  if (parent) reasons.push(parent);
  return reasons;
}

/**
 * M1-ADD: the joiner's sidecar is registered (so its server can serve the owner's set), has
 * listed the ZSKs it would sign with, and signs with the owner KSK's algorithm (RFC 8901 §4).
 */
function joinChecks(input: PreflightInput): BlockReason[] {
  const { state, signerId } = input;
  const joiner = state.signers[signerId];
  if (!joiner)
    return [
      block(
        'unknown-signer',
        `signer ${signerId} is not registered for ${state.zone}; start its sidecar first (in model 1 it must be able to serve the owner's DNSKEY RRset: capability presigned-dnskey)`,
      ),
    ];
  if (state.members.includes(signerId))
    return [block('already-member', `${signerId} already signs ${state.zone}`)];
  const reasons = observedChecks(input, [...state.members, signerId]);
  const planned = joiner.plannedZsks?.flatMap((entry) => entry.zsks) ?? [];
  if (planned.length === 0)
    reasons.push(
      block(
        'plan-unknown',
        `${signerId} has not listed the ZSKs it would sign ${state.zone} with; its sidecar does so at its next key-watch round`,
      ),
    );
  const algorithms = new Set((state.owner?.dnskeys ?? []).map((key) => key.algorithm));
  const foreign = [...new Set(planned.map((key) => key.algorithm))].filter(
    (algorithm) => !algorithms.has(algorithm),
  );
  if (foreign.length > 0)
    reasons.push(
      block(
        'algorithm-mismatch',
        `${signerId} signs with algorithm ${foreign.join(', ')}, the owner's KSK with ${[...algorithms].join(', ')}: a group needs one common algorithm (RFC 8901 §4)`,
      ),
    );
  return reasons;
}

/** M1-REMOVE: a member leaves, and another stays to serve the zone. */
function leaveChecks(input: PreflightInput): BlockReason[] {
  const { state, signerId } = input;
  if (!state.members.includes(signerId))
    return [block('not-a-member', `${signerId} does not sign ${state.zone}`)];
  if (state.members.length === 1)
    return [
      block(
        'last-signer',
        `${signerId} is the last signer of ${state.zone}; removing it would leave the zone unsigned and unserved`,
      ),
    ];
  return observedChecks(input, state.members);
}

/** The checks of a process on a model-1 zone; `inFlight` names a conflicting process. */
export function model1PreflightChecks(
  input: PreflightInput,
  inFlight: (active: NonNullable<ReturnType<typeof conflictingProcess>>) => BlockReason,
): BlockReason[] {
  const { state, kind, signerId } = input;
  if (!MODEL1_KINDS.has(kind) || input.undoOf !== undefined) return [unbuilt(state, kind)];
  const reasons: BlockReason[] = [];
  const conflict = conflictingProcess(state, kind, signerId);
  if (conflict) reasons.push(inFlight(conflict));
  if (!state.ownerSigned)
    reasons.push(
      block(
        'owner-not-signed',
        `the owner has not signed a DNSKEY RRset of ${state.zone} yet: run "chorus owner ${state.zone}" first, and keep it running for the ${kind} (it signs each step's set)`,
      ),
    );
  if (kind === 'roll-ksk') return [...reasons, ...ownerKskRollChecks(input)];
  if (kind === 'add-signer') return [...reasons, ...joinChecks(input)];
  if (kind === 'remove-signer') return [...reasons, ...leaveChecks(input)];
  if (kind !== 'roll-zsk') return [...reasons, unbuilt(state, kind)];
  reasons.push(...rollChecks(state, kind, signerId, 0, 'ZSK'));
  const signer = state.signers[signerId];
  if (signer && !signer.keys.some((key) => key.role === 'ZSK'))
    reasons.push(block('no-key-of-role', `${signerId} lists no ZSK of ${state.zone} to roll`));
  const why = input.unobserved?.[signerId];
  if (why !== undefined)
    reasons.push(block('not-observed', `${signerId} could not be observed on the wire: ${why}`));
  return reasons;
}

/** The owner's KSK roll: named `owner`, a new KSK of the same algorithm, the parent's DS in place. */
function ownerKskRollChecks(input: PreflightInput): BlockReason[] {
  const { state, signerId } = input;
  if (signerId !== OWNER_ID || (input.role && input.role !== 'KSK'))
    return [
      block(
        'owner-key',
        `${state.zone} is in model 1: its KSK is the owner's, and ${signerId} has no ${input.role ?? 'KSK'} of its own to roll; roll the owner's with "chorus roll ${state.zone} ${OWNER_ID} --ksk --new-owner-dnskey '257 3 …'"`,
      ),
    ];
  const request = state.pendingRequests.find(
    (pending) => pending.kind === 'roll-ksk' && pending.signerId === OWNER_ID,
  );
  const successor = request?.ownerKsk;
  if (!successor)
    return [block('owner-ksk-missing', `the request names no new owner KSK (--new-owner-dnskey)`)];
  const current = state.owner?.dnskeys ?? [];
  const reasons: BlockReason[] = [];
  if ((successor.flags & 1) !== 1 || successor.protocol !== 3)
    reasons.push(
      block(
        'not-a-ksk',
        `the new owner key has flags ${successor.flags} and protocol ${successor.protocol}: a KSK has flags 257 (SEP) and protocol 3`,
      ),
    );
  if (current.some((key) => key.publicKey === successor.publicKey))
    reasons.push(
      block(
        'already-owner-ksk',
        `key ${keyTag(successor)} is already an owner KSK of ${state.zone}`,
      ),
    );
  if (current.some((key) => key.algorithm !== successor.algorithm))
    reasons.push(
      block(
        'algorithm-mismatch',
        `the new owner KSK uses algorithm ${successor.algorithm}, the current one ${current.map((key) => key.algorithm).join(', ')}: changing algorithm is an algorithm roll (standards §7.6), not built`,
      ),
    );
  const tags = new Set(input.parentDs.map((ds) => ds.keyTag));
  const parent = parentNotObserved(input);
  if (parent) reasons.push(parent);
  else if (!current.some((key) => tags.has(keyTag(key))))
    reasons.push(
      block(
        'parent-ds-mismatch',
        `the parent's DS (${[...tags].join(', ') || 'none'}) names no current owner KSK (${current.map((key) => keyTag(key)).join(', ')}): the roll starts from a DS that validates`,
      ),
    );
  return reasons;
}
