/**
 * What undoes a stopped process, and why some cannot be (docs/sidecar.md, "Stop and undo"). A
 * join is undone by removing the joiner, a leave by adding the leaver back, and a held roll by
 * rolling back: the predecessor becomes the successor of a roll that retires the stopped roll's
 * successor, with the same steps, waits and proofs.
 */
import type { KeyRole, ProcessKind } from '@chorus/core';
import { successorOf } from './roll-subject.js';
import type { ProcessState, ZoneState } from './state.js';

/** What each stopped process kind is undone by. */
export const UNDO_KIND: Partial<Record<ProcessKind, ProcessKind>> = {
  'add-signer': 'remove-signer',
  'remove-signer': 'add-signer',
  'roll-zsk': 'roll-zsk',
  'roll-ksk': 'roll-ksk',
};

/** The request that undoes a stopped process. */
export interface UndoRequest {
  kind: ProcessKind;
  signerId: string;
  /** Rolls: the role rolled back, and the key that signs again (the stopped roll's predecessor). */
  role?: KeyRole;
  successorTag?: number;
}

/** Why a stopped roll cannot be rolled back now; undefined when it can. */
function rollUndoProblem(state: ZoneState, undone: ProcessState): string | undefined {
  const roll = undone.roll;
  if (!roll)
    return 'it stopped before its keys were chosen: nothing changed, so nothing needs undoing';
  if (roll.mode !== 'held')
    return `${undone.signerId}'s server times its own rolls (server-timed): a roll it started only goes forward; let a new ${roll.role} roll finish the change`;
  if (roll.predecessorTags.length !== 1)
    return `it replaces ${roll.predecessorTags.length} ${roll.role}s (${roll.predecessorTags.join(', ')}); a roll back restores exactly one`;
  if (!successorOf(state, undone))
    return 'its successor never appeared: nothing changed, so nothing needs undoing';
  const predecessor = roll.predecessorTags[0]!;
  const keys = state.signers[undone.signerId]?.keys ?? [];
  if (!keys.some((key) => key.keyTag === predecessor))
    return `its predecessor ${roll.role} ${predecessor} is gone from ${undone.signerId} already: only a new ${roll.role} roll can change the keys now`;
  return undefined;
}

/** Why `undone` cannot be undone, in words; undefined when it can. */
export function whyNotUndoable(state: ZoneState, undone: ProcessState): string | undefined {
  if (undone.kind === 'bootstrap')
    return 'the parent took the DS of every signer, and only a process that removes signers could change that';
  if (undone.kind === 'roll-zsk' || undone.kind === 'roll-ksk')
    return rollUndoProblem(state, undone);
  return UNDO_KIND[undone.kind] ? undefined : `${undone.kind} has no reverse process`;
}

/** The request that undoes `undone` (check `whyNotUndoable` first). */
export function undoRequestFor(undone: ProcessState): UndoRequest {
  const kind = UNDO_KIND[undone.kind]!;
  const roll = undone.roll;
  if (!roll || (kind !== 'roll-zsk' && kind !== 'roll-ksk'))
    return { kind, signerId: undone.signerId };
  return {
    kind,
    signerId: undone.signerId,
    role: roll.role,
    successorTag: roll.predecessorTags[0]!,
  };
}

/** The key a stopped roll introduced, which its undo retires: in motion while the undo runs. */
export function undoneRollSuccessor(
  state: ZoneState,
  undoOf: string | undefined,
): number | undefined {
  const undone = undoOf === undefined ? undefined : state.processes.find((p) => p.id === undoOf);
  return undone?.roll ? successorOf(state, undone)?.keyTag : undefined;
}
