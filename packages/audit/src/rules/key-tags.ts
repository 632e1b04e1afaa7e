/**
 * `key-tags`: no two different DNSKEYs served anywhere share a key tag. Validators pick keys by
 * tag and algorithm, so a collision costs them extra verifications; two providers that made
 * colliding keys cannot tell their keys apart by tag.
 */
import type { DnskeyData } from '@chorus/core';
import { dnskeyIdentity, keyTag } from '@chorus/dns';
import type { AuditObservations, AuditRule, Finding } from '../types.js';
import { answeredChildren, describeKey, dnskeyText } from '../views.js';

interface ServedKey {
  key: DnskeyData;
  servers: string[];
}

/** Every distinct DNSKEY in the union of the DNSKEY RRsets, with who serves it. */
function unionOfKeys(observations: AuditObservations): ServedKey[] {
  const keys = new Map<string, ServedKey>();
  for (const child of answeredChildren(observations)) {
    for (const key of child.data.dnskey?.records ?? []) {
      const entry = keys.get(dnskeyIdentity(key)) ?? { key, servers: [] };
      entry.servers.push(child.server);
      keys.set(dnskeyIdentity(key), entry);
    }
  }
  return [...keys.values()];
}

function collision(zone: string, tag: number, keys: readonly ServedKey[]): Finding {
  const algorithms = new Set(keys.map((entry) => entry.key.algorithm));
  const sameAlgorithm = algorithms.size < keys.length;
  return {
    severity: sameAlgorithm ? 'fail' : 'warn',
    message: `${keys.length} different DNSKEYs share the key tag ${tag}: ${keys.map((entry) => `${describeKey(entry.key)} at ${entry.servers.join(', ')}`).join('; ')}`,
    servers: [...new Set(keys.flatMap((entry) => entry.servers))],
    records: keys.map((entry) => dnskeyText(zone, entry.key)),
  };
}

function check(observations: AuditObservations): Finding[] {
  const byTag = new Map<number, ServedKey[]>();
  for (const entry of unionOfKeys(observations)) {
    const tag = keyTag(entry.key);
    byTag.set(tag, [...(byTag.get(tag) ?? []), entry]);
  }
  return [...byTag.entries()]
    .filter(([, keys]) => keys.length > 1)
    .map(([tag, keys]) => collision(observations.zone, tag, keys));
}

export const keyTagsRule: AuditRule = {
  id: 'key-tags',
  title: 'no two different DNSKEYs share a key tag',
  check,
};
