import type { BlockReason, SignerReference, TimingSettings } from '@chorus/core';
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
 * rolls must pre-publish for long enough. KSK/CSK and algorithm rolls are refused, named.
 */
export function rollChecks(
  state: ZoneState,
  kind: 'roll-zsk' | 'roll-ksk' | 'roll-algorithm',
  signerId: string,
  dnskeyTtlSeconds: number,
): BlockReason[] {
  if (kind === 'roll-algorithm')
    return [
      block(
        'capability-missing',
        `a group algorithm rollover (standards §7.6) needs the capability algorithm-roll at every signer, and no Chorus signer plugin declares it yet; a group keeps one algorithm (RFC 8901 §4), and mixing algorithms stays an explicit operator choice`,
      ),
    ];
  if (kind === 'roll-ksk')
    return [
      block(
        'not-implemented',
        `KSK and CSK rolls inside a group (double-KSK with CDS and the parent DS, standards §7.4) are not driven by Chorus yet; the key watch records the server's new key, and the parent DS must follow by hand`,
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
  return shortfall ? [shortfall] : [];
}
