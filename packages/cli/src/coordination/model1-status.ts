/** Model 1 in `chorus status`: the owner's KSKs, what it signed last, and what it waits for. */
import { keyTag } from '@chorus/dns';
import {
  ownerSignaturesExpireAt,
  ownerSigningDue,
  refreshTransitSeconds,
  type ZoneState,
} from '@chorus/engine';

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** The model-1 facts of a zone, or undefined in model 2. Plain JSON. */
export function model1Json(state: ZoneState, now = new Date()) {
  const owner = state.owner;
  if (!owner) return undefined;
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const signed = state.ownerSigned;
  const expiresAt = signed ? ownerSignaturesExpireAt(signed) : undefined;
  const refreshBelow = owner.refreshLeadSeconds + refreshTransitSeconds(state);
  return {
    ownerKeys: owner.dnskeys.map(keyTag),
    signatureValiditySeconds: owner.signatureValiditySeconds,
    refreshLeadSeconds: owner.refreshLeadSeconds,
    ...(signed && expiresAt !== undefined
      ? {
          signed: {
            at: signed.signedAt,
            reason: signed.reason,
            keys: signed.snapshots[0]!.dnskeys.map(keyTag),
            expiresAt: iso(expiresAt),
            refreshDueAt: iso(expiresAt - refreshBelow),
          },
        }
      : {}),
    /** What the owner does next: sign now (and why), or why it waits. */
    owner: ownerSigningDue(state, nowSeconds),
    planned: Object.fromEntries(
      state.members.map((id) => {
        const signer = state.signers[id];
        return [
          id,
          {
            zsks: (signer?.plannedZsks ?? []).map((entry) => ({
              from: iso(entry.at),
              keys: entry.zsks.map(keyTag),
            })),
            ...(signer?.plannedZsksAt ? { readAt: signer.plannedZsksAt } : {}),
          },
        ];
      }),
    ),
  };
}

/** The model-1 lines of `chorus status`; none in model 2. */
export function model1Lines(state: ZoneState, now = new Date()): string[] {
  const facts = model1Json(state, now);
  if (!facts) return [];
  const lines = [`  model 1: owner KSK ${facts.ownerKeys.join(', ')}`];
  const signed = facts.signed;
  lines.push(
    signed
      ? `  owner signed ${signed.keys.join(' ')} at ${signed.at} (${signed.reason}); valid until ${signed.expiresAt}, refresh due at ${signed.refreshDueAt}`
      : '  owner has signed nothing yet: run "chorus owner ZONE" with the owner\'s KSK',
  );
  const next = facts.owner;
  lines.push(
    next.kind === 'sign' ? `  owner: due to sign now (${next.reason})` : `  owner: ${next.why}`,
  );
  for (const [id, plan] of Object.entries(facts.planned))
    lines.push(
      plan.zsks.length > 0
        ? `  ${id} plans ZSK ${plan.zsks.map((entry) => `${entry.keys.join(' ')} from ${entry.from}`).join(', ')}`
        : `  ${id} has not listed its planned ZSKs yet (its sidecar does, every key-watch round)`,
    );
  return lines;
}
