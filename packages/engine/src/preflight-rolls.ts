import type { BlockReason, KeyRole, SignerReference, TimingSettings } from '@chorus/core';
import type { ZoneState } from './state.js';

const block = (code: string, message: string): BlockReason => ({ code, message });

/**
 * The DNSKEY wait a server-timed roll must cover before the server signs with its successor: the
 * key watch must see the key, every other signer must publish it, and every cached DNSKEY RRset
 * without it must expire (standards §7.3 step 2, with the key watch's delay in front).
 */
export function requiredPrePublicationSeconds(
  timing: TimingSettings,
  keyWatchSeconds: number,
  dnskeyTtlSeconds: number,
): number {
  return (
    keyWatchSeconds + timing.childPropagationSeconds + dnskeyTtlSeconds + timing.safetyMarginSeconds
  );
}

/** Why a server-timed signer's pre-publication interval is too short for the group, if it is. */
export function prePublicationShortfall(
  signer: Pick<SignerReference, 'id' | 'rollover' | 'keyWatchSeconds'>,
  timing: TimingSettings,
  dnskeyTtlSeconds: number,
): BlockReason | undefined {
  const rollover = signer.rollover;
  if (rollover?.mode !== 'server-timed') return undefined;
  const keyWatch = signer.keyWatchSeconds ?? 30;
  const required = requiredPrePublicationSeconds(timing, keyWatch, dnskeyTtlSeconds);
  const actual = rollover.prePublicationSeconds ?? 0;
  if (actual >= required) return undefined;
  return block(
    'pre-publication-too-short',
    `${signer.id} pre-publishes a new key for ${actual} s (${rollover.settings ?? 'its server settings'}), but the group needs ${required} s before it may sign: key watch ${keyWatch} s + DprpC ${timing.childPropagationSeconds} s + largest DNSKEY TTL ${dnskeyTtlSeconds} s + safety margin ${timing.safetyMarginSeconds} s. Raise ${rollover.settingToRaise ?? 'the pre-publication interval'} by at least ${required - actual} s, or shorten the sidecar's keyWatchSeconds`,
  );
}

/**
 * Roll requests: only a member rolls, its plugin must roll keys, and a server that times its own
 * rolls must pre-publish for long enough. KSK/CSK rolls need a held signer; an algorithm roll is
 * refused, naming the missing capability.
 */
export function rollChecks(
  state: ZoneState,
  kind: 'roll-zsk' | 'roll-ksk' | 'roll-algorithm',
  signerId: string,
  dnskeyTtlSeconds: number,
  role?: KeyRole,
): BlockReason[] {
  if (kind === 'roll-algorithm')
    return [
      block(
        'capability-missing',
        `a group algorithm rollover (standards §7.6) needs the capability algorithm-roll at every signer, and no Chorus signer plugin declares it yet; a group keeps one algorithm (RFC 8901 §4), and mixing algorithms stays an explicit operator choice`,
      ),
    ];
  const signer = state.signers[signerId];
  if (!state.members.includes(signerId) || !signer)
    return [
      block(
        'not-a-member',
        `${signerId} does not sign ${state.zone}; only a member rolls its keys`,
      ),
    ];
  if (!signer.rollover)
    return [
      block(
        'capability-missing',
        `${signerId} (${signer.kind}) did not register a key roller: its plugin does not declare the capability key-roll`,
      ),
    ];
  const shortfall = prePublicationShortfall(signer, state.timing, dnskeyTtlSeconds);
  if (kind === 'roll-ksk')
    return [...kskRollChecks(state, signerId, role), ...(shortfall ? [shortfall] : [])];
  return shortfall ? [shortfall] : [];
}

/**
 * A KSK or CSK roll goes through the parent: the predecessor may leave only after the parent's DS
 * change has reached every cache. A held signer waits for Chorus; a server-timed one must wait
 * for Chorus's word that the DS changed (`confirmsParentDs`). The signer must have a key of the role.
 */
function kskRollChecks(state: ZoneState, signerId: string, role: KeyRole = 'KSK'): BlockReason[] {
  const signer = state.signers[signerId]!;
  if (signer.rollover?.mode === 'server-timed' && !signer.rollover.confirmsParentDs)
    return [
      block(
        'capability-missing',
        `${signerId} times its own KSK rolls (${signer.rollover.settings ?? 'server-timed'}) and its plugin cannot tell it when the parent's DS changed (no confirmParentDs), so the predecessor could leave before the DS change reached every cache; roll the KSK at a signer that holds keys or whose plugin confirms the DS`,
      ),
    ];
  if (!signer.keys.some((key) => key.role === role))
    return [
      block(
        'no-key-of-role',
        `${signerId} has no ${role} in ${state.zone} (its keys: ${signer.keys.map((key) => `${key.role} ${key.keyTag}`).join(', ') || 'none'}); roll the role it uses`,
      ),
    ];
  return [];
}
