/**
 * The decisions of a held key roll on PowerDNS 4.7, apart from the HTTP calls: which key is the
 * successor, what to ask PowerDNS to generate, and which removals to refuse. Pure: no I/O.
 */
import {
  UnsafePlanError,
  UnsupportedCapabilityError,
  type ChorusError,
  type KeyRole,
} from '@chorus/core';
import type { PdnsNewCryptokey } from './api.js';
import { withTags, type OwnKey } from './keys.js';

const KEYTYPE: Record<KeyRole, PdnsNewCryptokey['keytype']> = {
  KSK: 'ksk',
  ZSK: 'zsk',
  CSK: 'csk',
};

function tagList(keys: readonly OwnKey[]): string {
  return keys.map((own) => own.key.keyTag).join(', ');
}

/**
 * The successor of a roll in progress: the newest published key of `role` that is not a
 * predecessor. Unpublished keys are not served, so they are never a successor.
 */
export function successorOf(
  keys: readonly OwnKey[],
  role: KeyRole,
  predecessorTags: readonly number[],
): OwnKey | undefined {
  return keys
    .filter((own) => own.key.role === role && own.cryptokey.published)
    .filter((own) => !predecessorTags.includes(own.key.keyTag))
    .sort((a, b) => b.cryptokey.id - a.cryptokey.id)[0];
}

/** Why the predecessors' roles do not fit the roll, as a typed error. */
function roleMismatch(mismatched: readonly OwnKey[], role: KeyRole, signerId: string): ChorusError {
  const found = new Set(mismatched.map((own) => own.key.role));
  const roles = [...found].join('/');
  if (role !== 'CSK' && !found.has('CSK'))
    return new UnsafePlanError(
      `key tag(s) ${tagList(mismatched)} of ${signerId} are ${roles}, not ${role}`,
    );
  return new UnsupportedCapabilityError({
    capability: 'key-roll',
    signerId,
    reason: `a ${role} roll of ${roles} key(s) ${tagList(mismatched)}: PowerDNS 4.7 has no key type of its own for a CSK (a flags-257 key is listed as csk only while the zone has no active ZSK of its algorithm), so it cannot turn a CSK into a KSK/ZSK pair or back within a roll`,
  });
}

/** The own keys among `predecessorTags`; throws when there are none, or one is not of `role`. */
export function predecessorsOf(
  keys: readonly OwnKey[],
  role: KeyRole,
  predecessorTags: readonly number[],
  signerId: string,
): OwnKey[] {
  const predecessors = withTags(keys, predecessorTags);
  if (predecessors.length === 0)
    throw new UnsafePlanError(
      `${signerId} has no own key with key tag ${predecessorTags.join(', ') || '(none given)'}: nothing to roll`,
    );
  const mismatched = predecessors.filter((own) => own.key.role !== role);
  if (mismatched.length > 0) throw roleMismatch(mismatched, role, signerId);
  return predecessors;
}

/**
 * What to POST to introduce a successor for `predecessorTags`: the predecessors' algorithm and
 * size. A ZSK is held (inactive, published); a KSK or CSK is active at once, so the DNSKEY RRset
 * is signed by the old and the new key together (double signature).
 */
export function newKeyRequest(
  keys: readonly OwnKey[],
  role: KeyRole,
  predecessorTags: readonly number[],
  signerId: string,
): PdnsNewCryptokey {
  const predecessors = predecessorsOf(keys, role, predecessorTags, signerId);
  const algorithms = [...new Set(predecessors.map((own) => own.key.algorithm))];
  if (algorithms.length > 1)
    throw new UnsupportedCapabilityError({
      capability: 'algorithm-roll',
      signerId,
      reason: `the predecessors ${tagList(predecessors)} use algorithms ${algorithms.join(' and ')}; a roll keeps one algorithm`,
    });
  const bits = predecessors[0]!.cryptokey.bits;
  return {
    keytype: KEYTYPE[role],
    active: role !== 'ZSK',
    published: true,
    algorithm: algorithms[0]!,
    ...(bits === undefined ? {} : { bits }),
  };
}

/**
 * Why removing `targets` is refused, if it is: it would leave a role that has an active key now
 * without one (the zone, or the DNSKEY RRset, would stop being signed by that role).
 */
export function removalRefusal(
  keys: readonly OwnKey[],
  targets: readonly OwnKey[],
  signerId: string,
): string | undefined {
  const activeRoles = new Set(
    targets.filter((own) => own.cryptokey.active).map((own) => own.key.role),
  );
  for (const role of activeRoles) {
    const remaining = keys.filter(
      (own) => own.key.role === role && own.cryptokey.active && !targets.includes(own),
    );
    if (remaining.length === 0)
      return `removing key tag(s) ${tagList(targets)} would delete the last active ${role} of ${signerId}; activate a successor first`;
  }
  return undefined;
}
