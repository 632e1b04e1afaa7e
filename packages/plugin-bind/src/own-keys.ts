/** BIND's own keys as both sources see them: the key file and the `rndc dnssec -status` block. */
import type { SigningKey } from '@chorus/core';
import { keyTag } from '@chorus/dns';
import type { BindKeyFile } from './key-files.js';
import { summarizeStates, type DnssecStatusKey } from './rndc.js';

export interface OwnKey {
  file: BindKeyFile;
  status: DnssecStatusKey;
}

/** DNSKEY states in which BIND publishes the key (rndc `- dnskey:` line). */
const SERVED_DNSKEY_STATES = new Set(['rumoured', 'omnipresent']);

/** One `- name: state` of the rndc block, e.g. `goal` → `omnipresent`. */
export function keyState(key: OwnKey, name: string): string | undefined {
  return key.status.states.find(([state]) => state === name)?.[1];
}

/** BIND serves the key in its DNSKEY RRset (a successor from `rumoured`, a predecessor until `unretentive`). */
export function isPublished(key: OwnKey): boolean {
  const state = keyState(key, 'dnskey');
  return state === undefined || SERVED_DNSKEY_STATES.has(state);
}

/** BIND means to keep the key (`goal: omnipresent`); a predecessor being rolled has goal `hidden`. */
export function isKept(key: OwnKey): boolean {
  return keyState(key, 'goal') === 'omnipresent';
}

export function toSigningKey({ file, status }: OwnKey): SigningKey {
  const summary = summarizeStates(status.states);
  return {
    role: status.role,
    algorithm: file.dnskey.algorithm,
    keyTag: keyTag(file.dnskey),
    dnskey: file.dnskey,
    ...(summary ? { state: summary } : {}),
  };
}
