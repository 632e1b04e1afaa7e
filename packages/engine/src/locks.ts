import type { ProcessKind } from '@chorus/core';
import type { ProcessState, ZoneState } from './state.js';

/**
 * The lock per resource. A process claims the resources its steps change; two processes run
 * together only when their claims are disjoint.
 *
 * - `membership`: who signs the zone, its NS set and DS set. ADD/REMOVE-SIGNER, BOOTSTRAP and a
 *   group algorithm roll claim it, and it conflicts with every other claim: their recipes rewrite every
 *   signer's DNSKEY, CDS and NS records from the group they started with.
 * - `keys:<signer>`: one signer's own keys. One roll per signer at a time.
 * - `parent-ds`: the shared CDS/CDNSKEY set and the parent's DS. KSK and CSK rolls are
 *   serialised on it: each submits a CDS set that must name every other signer's KSKs as they
 *   are, so two of them at once would race for the parent.
 *
 * ZSK rolls at different signers touch disjoint keys: they run together. Their key sync follows
 * the group's current keys (see `decide`), so neither undoes the other's successor.
 */
export type Resource = 'membership' | 'parent-ds' | `keys:${string}`;

export function resourcesOf(kind: ProcessKind, signerId: string): Resource[] {
  switch (kind) {
    case 'add-signer':
    case 'remove-signer':
    case 'roll-algorithm':
    case 'bootstrap':
      return ['membership'];
    case 'roll-zsk':
      return [`keys:${signerId}`];
    case 'roll-ksk':
      return [`keys:${signerId}`, 'parent-ds'];
  }
}

export function claimsConflict(a: readonly Resource[], b: readonly Resource[]): boolean {
  if (a.includes('membership') || b.includes('membership')) return true;
  return a.some((resource) => b.includes(resource));
}

/** The oldest process in flight whose claim conflicts with a new process of `kind` at `signerId`. */
export function conflictingProcess(
  state: Pick<ZoneState, 'activeProcesses'>,
  kind: ProcessKind,
  signerId: string,
): ProcessState | undefined {
  const wanted = resourcesOf(kind, signerId);
  return state.activeProcesses.find((process) =>
    claimsConflict(wanted, resourcesOf(process.kind, process.signerId)),
  );
}

/** The resources two processes both claim, for messages (`membership` when one claims it). */
export function sharedResources(a: ProcessState, kind: ProcessKind, signerId: string): Resource[] {
  const mine = resourcesOf(kind, signerId);
  const theirs = resourcesOf(a.kind, a.signerId);
  if (mine.includes('membership') || theirs.includes('membership')) return ['membership'];
  return mine.filter((resource) => theirs.includes(resource));
}
