import type { BlockReason } from '@chorus/core';
import type { PreflightInput } from './preflight.js';

/** The block when the parent's delegation could not be read, whichever pre-flight needs it. */
export function parentNotObserved(input: PreflightInput): BlockReason | undefined {
  if (input.parentUnobserved === undefined) return undefined;
  return {
    code: 'parent-not-observed',
    message: `the delegation of ${input.state.zone} could not be read at the parent: ${input.parentUnobserved}`,
  };
}
