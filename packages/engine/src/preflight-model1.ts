/**
 * Pre-flight of a model-1 zone (its definition names an owner KSK): which processes run, and
 * what a provider's ZSK roll needs before it starts.
 */
import type { BlockReason, ProcessKind } from '@chorus/core';
import { conflictingProcess } from './locks.js';
import { rollChecks } from './preflight-rolls.js';
import type { PreflightInput } from './preflight.js';
import type { ZoneState } from './state.js';

const block = (code: string, message: string): BlockReason => ({ code, message });

/** Why a process has no model-1 steps yet: model 2's would publish keys the owner never signed. */
function unbuilt(state: ZoneState, kind: ProcessKind): BlockReason {
  return block(
    'model-1-unsupported',
    `${state.zone} is in model 1 (its definition names an owner KSK): ${kind} has no model-1 steps yet, and model 2's would publish keys the owner has not signed at a provider that serves only the owner's DNSKEY RRset. What runs in model 1 now: a provider's ZSK roll ("chorus roll zsk"), and "chorus owner ${state.zone}", which signs every change of the members' planned ZSKs and refreshes the signatures`,
  );
}

/** The checks of a process on a model-1 zone; `inFlight` names a conflicting process. */
export function model1PreflightChecks(
  input: PreflightInput,
  inFlight: (active: NonNullable<ReturnType<typeof conflictingProcess>>) => BlockReason,
): BlockReason[] {
  const { state, kind, signerId } = input;
  if (kind !== 'roll-zsk' || input.undoOf !== undefined) return [unbuilt(state, kind)];
  const reasons: BlockReason[] = [];
  const conflict = conflictingProcess(state, kind, signerId);
  if (conflict) reasons.push(inFlight(conflict));
  if (input.role && input.role !== 'ZSK')
    return [
      ...reasons,
      block(
        'owner-key',
        `${state.zone} is in model 1: its KSK is the owner's, and ${signerId} has no ${input.role} of its own to roll`,
      ),
    ];
  reasons.push(...rollChecks(state, kind, signerId, 0, 'ZSK'));
  if (!state.ownerSigned)
    reasons.push(
      block(
        'owner-not-signed',
        `the owner has not signed a DNSKEY RRset of ${state.zone} yet: run "chorus owner ${state.zone}" first, and keep it running for the roll (it signs each step's set)`,
      ),
    );
  const signer = state.signers[signerId];
  if (signer && !signer.keys.some((key) => key.role === 'ZSK'))
    reasons.push(block('no-key-of-role', `${signerId} lists no ZSK of ${state.zone} to roll`));
  const why = input.unobserved?.[signerId];
  if (why !== undefined)
    reasons.push(block('not-observed', `${signerId} could not be observed on the wire: ${why}`));
  return reasons;
}
