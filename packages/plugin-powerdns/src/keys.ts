/** PowerDNS cryptokeys as Chorus signing keys. Pure: the unit tests run it on recorded responses. */
import type { DnskeyData, KeyRole, SigningKey } from '@chorus/core';
import { keyTag, parseRdata } from '@chorus/dns';
import type { PdnsCryptokey } from './api.js';

/** A cryptokey next to the signing key it is on the wire. */
export interface OwnKey {
  cryptokey: PdnsCryptokey;
  key: SigningKey;
}

export function roleOf(key: PdnsCryptokey): KeyRole {
  return key.keytype === 'ksk' ? 'KSK' : key.keytype === 'zsk' ? 'ZSK' : 'CSK';
}

/**
 * PowerDNS's own words for a key's state, e.g. `active, published (id 3)` or
 * `inactive, published (id 7)` for a successor held by Chorus.
 */
export function stateOf(key: PdnsCryptokey): string {
  return `${key.active ? 'active' : 'inactive'}, ${key.published ? 'published' : 'unpublished'} (id ${key.id})`;
}

/** A cryptokey as a SigningKey. */
export function signingKeyOf(key: PdnsCryptokey): SigningKey {
  const dnskey = parseRdata('DNSKEY', key.dnskey) as DnskeyData;
  return {
    role: roleOf(key),
    algorithm: dnskey.algorithm,
    keyTag: keyTag(dnskey),
    dnskey,
    state: stateOf(key),
  };
}

export function ownKeysOf(cryptokeys: readonly PdnsCryptokey[]): OwnKey[] {
  return cryptokeys.map((cryptokey) => ({ cryptokey, key: signingKeyOf(cryptokey) }));
}

/** The keys whose key tag is in `tags`. */
export function withTags(keys: readonly OwnKey[], tags: readonly number[]): OwnKey[] {
  return keys.filter((own) => tags.includes(own.key.keyTag));
}
