/**
 * Turns a scanner decision into one RFC 2136 UPDATE of the parent zone: replace (or delete) the
 * DS RRset, replace the NS RRset and the in-bailiwick glue. The prerequisites pin the DS and NS
 * RRsets the decision was made against, so a concurrent change makes the UPDATE fail
 * (NXRRSET/YXRRSET) instead of being overwritten.
 */
import { isIPv6 } from 'node:net';
import { canonicalName, isSubdomain, normalizeName, UpdateBuilder } from '@chorus/dns';
import type { Delegation, DnsRecord } from '@chorus/core';
import type { ParentUpdateDecision } from './types.js';

export interface ParentUpdateInput {
  parentZone: string;
  decision: ParentUpdateDecision;
  /** The delegation the decision was made against (its DS and NS become prerequisites). */
  delegation: Pick<Delegation, 'ds' | 'ns' | 'glue'>;
  /** TTL for new records when the parent has none to keep. */
  ttl: number;
}

/**
 * The UPDATE that applies `decision`, or null when it changes nothing. DS records keep the
 * current DS TTL, NS and glue the current NS TTL (else `ttl`).
 */
export function buildParentUpdate(input: ParentUpdateInput): UpdateBuilder | null {
  const { decision, delegation } = input;
  const zone = normalizeName(decision.zone);
  const changeDs = decision.ds.action !== 'none';
  const changeNs = decision.ns.action === 'replace' && (decision.ns.records?.length ?? 0) > 0;
  if (!changeDs && !changeNs) return null;
  const update = new UpdateBuilder(input.parentZone);

  const pin = (type: 'DS' | 'NS') => {
    const current = type === 'DS' ? delegation.ds : delegation.ns;
    if (current && current.records.length > 0) {
      update.requireRRsetEquals(
        (current.records as unknown[]).map(
          (data) => ({ name: zone, type, class: 'IN', ttl: 0, data }) as DnsRecord,
        ),
      );
    } else {
      update.requireRRsetAbsent(zone, type);
    }
  };

  if (changeDs) {
    pin('DS');
    update.deleteRRset(zone, 'DS');
    if (decision.ds.action === 'replace') {
      const ttl = delegation.ds?.ttl ?? input.ttl;
      for (const data of decision.ds.records ?? []) {
        update.add({ name: zone, type: 'DS', class: 'IN', ttl, data });
      }
    }
  }
  if (changeNs) {
    pin('NS');
    const ttl = delegation.ns?.ttl ?? input.ttl;
    const oldNames = (delegation.ns?.records ?? []).map((name) =>
      canonicalName(normalizeName(name)),
    );
    const newNames = decision.ns.records ?? [];
    update.deleteRRset(zone, 'NS');
    for (const name of newNames)
      update.add({ name: zone, type: 'NS', class: 'IN', ttl, data: name });
    // Glue lives below the cut: rewrite it for every in-bailiwick name, old or new.
    const glueNames = [...new Set([...oldNames, ...newNames])].filter((name) =>
      isSubdomain(name, zone),
    );
    for (const name of glueNames) {
      update.deleteRRset(name, 'A');
      update.deleteRRset(name, 'AAAA');
    }
    for (const entry of decision.ns.glue ?? []) {
      for (const address of entry.addresses) {
        update.add(
          isIPv6(address)
            ? { name: entry.name, type: 'AAAA', class: 'IN', ttl, data: address }
            : { name: entry.name, type: 'A', class: 'IN', ttl, data: address },
        );
      }
    }
  }
  return update;
}
