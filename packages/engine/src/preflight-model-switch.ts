/**
 * Moving a zone between RFC 8901's models (issue: "without going insecure, as a process, or a
 * refusal with the reason if a step cannot be made safe"). The safe order is a double DS around
 * the one step where each member changes who signs its DNSKEY RRset; most plugins cannot make
 * that step on a zone their server is serving, and no process drives it, so the move is refused,
 * with what each member lacks.
 */
import type { BlockReason } from '@chorus/core';
import type { ZoneState } from './state.js';

const block = (code: string, message: string): BlockReason => ({ code, message });

/** The steps a move to `to` takes, in words: the DS around each member's switch of signer. */
export function modelSwitchOrder(zone: string, to: 1 | 2): string[] {
  return to === 1
    ? [
        `the parent's DS set for ${zone} gains the owner KSK's DS beside every member's (CDS/CDNSKEY for the owner's KSK at every member, or the parent channel), then DS-Wait`,
        "each member in turn serves the owner's signed DNSKEY RRset (the owner's KSK, every member's ZSKs) in place of the set its own KSK signs, then DNSKEY-Wait",
        "the members' DS leave the parent (the owner's KSK alone), then DS-Wait",
      ]
    : [
        "each member gets a KSK of its own, which the owner's signed set carries beside every ZSK, then DNSKEY-Wait",
        `the parent's DS set for ${zone} gains every member KSK's DS beside the owner's, then DS-Wait`,
        'each member in turn signs its DNSKEY RRset (its KSK, every ZSK) with its own KSK again, then DNSKEY-Wait',
        "the owner's DS leaves the parent, then DS-Wait",
      ];
}

/** Why `zone` cannot move to model `to` now: every reason, none when it could. */
export function modelSwitchRefusal(state: ZoneState, to: 1 | 2): BlockReason[] {
  if (!state.defined)
    return [
      block('zone-undefined', `zone ${state.zone} is not defined; run "chorus zone define" first`),
    ];
  const from = state.owner ? 1 : 2;
  if (from === to) return [block('already-in-model', `${state.zone} is in model ${to} already`)];
  const reasons = to === 1 ? cannotServeOwnerSet(state) : [];
  const step = to === 1 ? 2 : 3;
  reasons.push(
    block(
      'model-switch-unbuilt',
      `Chorus has no process for this move: step ${step}, where each member changes who signs its DNSKEY RRset, has no call in most plugins (Knot takes offline-ksk from knotd's own configuration, which Chorus never edits, and a policy change of a signed zone is not measured; NS1's presigned_dnskey route alone makes it), and a member that changed outside the order would serve a set no cached DS validates. Keep ${state.zone} in model ${from}, or define a new zone in model ${to} and move the content to it`,
    ),
  );
  return reasons;
}

/** Members whose plugin registered that it cannot serve the owner's signed set, with why. */
function cannotServeOwnerSet(state: ZoneState): BlockReason[] {
  return state.members.flatMap((id) => {
    const limit = state.signers[id]?.limits?.find(
      (entry) => entry.capability === 'presigned-dnskey',
    );
    return limit
      ? [
          block(
            'presigned-dnskey-missing',
            `${id} cannot serve a DNSKEY RRset the owner signed: ${limit.reason}`,
          ),
        ]
      : [];
  });
}
