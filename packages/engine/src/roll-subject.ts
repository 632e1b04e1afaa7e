import type { SigningKey } from '@chorus/core';
import type { ProcessState, ZoneState } from './state.js';

/** The successor key of a roll, as the rolling signer's key watch last listed it. */
export function successorOf(state: ZoneState, process: ProcessState): SigningKey | undefined {
  const roll = process.roll;
  if (!roll) return undefined;
  const keys = state.signers[process.signerId]?.keys ?? [];
  if (roll.successorTag !== undefined) return keys.find((key) => key.keyTag === roll.successorTag);
  return keys.find((key) => key.role === roll.role && !roll.predecessorTags.includes(key.keyTag));
}
