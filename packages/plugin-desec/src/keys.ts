/** deSEC's own keys as Chorus signing keys. Pure: the unit tests run it on recorded responses. */
import type { KeyRole, SigningKey } from '@chorus/core';
import { keyTag } from '@chorus/dns';
import type { DesecDomain, DesecKey } from './api.js';

const ROLE_ORDER: Record<KeyRole, number> = { KSK: 0, CSK: 1, ZSK: 2 };

/**
 * The role of one of deSEC's keys: from `keytype` when deSEC gives it (the field is
 * deprecated), else from the SEP flag: a CSK when deSEC has no ZSK, a KSK when it has one.
 */
export function roleOf(key: DesecKey, hasZsk: boolean): KeyRole {
  if (key.keytype === 'csk') return 'CSK';
  if (key.keytype === 'ksk') return 'KSK';
  if (key.keytype === 'zsk') return 'ZSK';
  if ((key.dnskey.flags & 1) === 0) return 'ZSK';
  return hasZsk ? 'KSK' : 'CSK';
}

/** A key of deSEC's own as a SigningKey. */
export function signingKeyOf(key: DesecKey, hasZsk: boolean): SigningKey {
  return {
    role: roleOf(key, hasZsk),
    algorithm: key.dnskey.algorithm,
    keyTag: keyTag(key.dnskey),
    dnskey: key.dnskey,
    state: `managed by deSEC${key.keytype ? ` (${key.keytype})` : ''}`,
  };
}

/**
 * deSEC's own keys: the `keys` entries with `managed: true`, KSK first. Entries with
 * `managed: false` are the user DNSKEY RRset (foreign keys) and are never own keys.
 */
export function ownKeysOf(domain: DesecDomain): SigningKey[] {
  const managed = domain.keys.filter((key) => key.managed);
  const hasZsk = managed.some(
    (key) => key.keytype === 'zsk' || (key.keytype === null && (key.dnskey.flags & 1) === 0),
  );
  return managed
    .map((key) => signingKeyOf(key, hasZsk))
    .sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || a.keyTag - b.keyTag);
}
