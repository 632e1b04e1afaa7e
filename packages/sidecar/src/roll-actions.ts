/**
 * What the rolling signer's sidecar does in a roll step: one call to its plugin's KeyRoller. In a
 * server-timed roll only the start is a call; the server activates and removes keys itself and
 * the step's post-condition watches for it.
 */
import { ConvergenceError, UnsupportedCapabilityError, type Signer } from '@chorus/core';
import type { Decision } from '@chorus/engine';

export type RollActionDecision = Extract<Decision, { kind: 'roll-action' }>;

/** Performs the action; returns how many changes it asked of the server (0 = nothing to do). */
export async function performRollAction(
  signer: Signer,
  zone: string,
  decision: RollActionDecision,
  options: { signal?: AbortSignal },
): Promise<number> {
  const roller = signer.keyRoller;
  if (!roller)
    throw new UnsupportedCapabilityError({
      capability: 'key-roll',
      signerId: signer.id,
      reason: `its plugin (${signer.kind}) has no KeyRoller`,
    });
  const { roll, successor } = decision;
  switch (decision.action) {
    case 'start-roll':
      if (successor) return 0;
      await roller.startRoll(zone, roll.role, roll.predecessorTags, options);
      return 1;
    case 'activate-successor':
      if (roll.mode === 'server-timed') return 0;
      await roller.activateSuccessor(
        zone,
        requireSuccessor(signer, zone, decision),
        roll.predecessorTags,
        options,
      );
      return 1;
    case 'remove-predecessor':
      if (roll.mode === 'server-timed') return 0;
      await roller.removeKeys(zone, roll.predecessorTags, options);
      return 1;
    case 'confirm-parent-ds':
      if (!roller.confirmParentDs)
        throw new UnsupportedCapabilityError({
          capability: 'key-roll',
          signerId: signer.id,
          reason: `its plugin (${signer.kind}) cannot tell its server that the parent's DS changed`,
        });
      await roller.confirmParentDs(
        zone,
        { published: [requireSuccessor(signer, zone, decision)], withdrawn: roll.predecessorTags },
        options,
      );
      return 1;
  }
}

/** The successor must be in the log before it can be activated; the key watch puts it there. */
function requireSuccessor(signer: Signer, zone: string, decision: RollActionDecision): number {
  if (decision.successor) return decision.successor.keyTag;
  throw new ConvergenceError({
    zone,
    signerId: signer.id,
    remaining: 1,
    detail: 'the key watch has not recorded the successor key yet',
  });
}
