import { cdsOfKey } from './desired.js';
import type { CsyncData, DesiredSignerState, SigningKey } from '@chorus/core';

export interface GroupMember {
  signerId: string;
  ownKeys: readonly SigningKey[];
}

export interface GroupDesiredStateOptions {
  zone: string;
  ttl: number;
  /**
   * Which of the other signers' keys each signer publishes. RFC 8901 needs the ZSKs (and CSKs);
   * `all` also imports KSKs, so every provider serves the same DNSKEY RRset, which helps parental
   * agents that expect each CDS to match a served DNSKEY (standards §9.3). Default `all`.
   */
  importKeys?: 'zsk' | 'all';
  /** CDS/CDNSKEY for every KSK in the group (joining), or none (steady state). Default true. */
  publishCds?: boolean;
  csync?: CsyncData | null;
  apexNs?: string[];
}

/**
 * The desired state of every member of a model-2 group: each publishes the other members' keys
 * and, when asked, CDS (the digest types each owner publishes) and CDNSKEY for the other members' KSKs, so that together with
 * its own CDS every member serves the same CDS/CDNSKEY RRsets (RFC 8901 §8). Pure.
 */
export function desiredStatesForGroup(
  members: readonly GroupMember[],
  options: GroupDesiredStateOptions,
): Record<string, DesiredSignerState> {
  const importAll = (options.importKeys ?? 'all') === 'all';
  const publishCds = options.publishCds ?? true;
  const states: Record<string, DesiredSignerState> = {};
  for (const member of members) {
    const others = members
      .filter((other) => other.signerId !== member.signerId)
      .flatMap((other) => other.ownKeys);
    const otherKsks = others.filter((key) => key.role !== 'ZSK');
    states[member.signerId] = {
      foreignDnskeys: others
        .filter((key) => importAll || key.role !== 'KSK')
        .map((key) => key.dnskey),
      foreignCds: publishCds ? otherKsks.flatMap((key) => cdsOfKey(options.zone, key)) : [],
      foreignCdnskeys: publishCds ? otherKsks.map((key) => key.dnskey) : [],
      csync: options.csync ?? null,
      ...(options.apexNs ? { apexNs: options.apexNs } : {}),
      ttl: options.ttl,
    };
  }
  return states;
}
