/** Small helpers the rules share: answered servers, key descriptions, grouping by version. */
import { DNSKEY_FLAG_SEP, type DnskeyData, type RRset } from '@chorus/core';
import { canonicalName, formatRdata, keyTag, normalizeName } from '@chorus/dns';
import type { AnsweredChild, AuditObservations, ParentAnswer, ParentView } from './types.js';

export function answeredChildren(observations: AuditObservations): AnsweredChild[] {
  return observations.children.filter(
    (child): child is AnsweredChild => child.status === 'answered',
  );
}

export function answeredParents(
  observations: AuditObservations,
): (ParentAnswer & { server: string })[] {
  return observations.parent.filter(
    (view): view is Extract<ParentView, { status: 'answered' }> => view.status === 'answered',
  );
}

/** A zone is signed when the parent has a DS or any child serves a DNSKEY RRset. */
export function isSigned(observations: AuditObservations): boolean {
  const hasDs = answeredParents(observations).some((view) => (view.ds?.records.length ?? 0) > 0);
  const hasKeys = answeredChildren(observations).some(
    (child) => (child.data.dnskey?.records.length ?? 0) > 0,
  );
  return hasDs || hasKeys;
}

export function canonical(name: string): string {
  return canonicalName(normalizeName(name));
}

/** `12345 (KSK, algorithm 13)`: how findings name a key. */
export function describeKey(key: DnskeyData): string {
  const role = (key.flags & DNSKEY_FLAG_SEP) !== 0 ? 'KSK' : 'ZSK';
  return `${keyTag(key)} (${role}, algorithm ${key.algorithm})`;
}

export function dnskeyText(zone: string, key: DnskeyData): string {
  return `${zone} DNSKEY ${formatRdata({ type: 'DNSKEY', data: key })}`;
}

/** Presentation lines of an RRset's records (without TTL), for a finding's `records`. */
export function rrsetText(rrset: RRset): string[] {
  return (rrset.records as unknown[]).map(
    (data) => `${rrset.name} ${rrset.type} ${formatRdata({ type: rrset.type, data } as never)}`,
  );
}

/** Groups `items` by `identity`: one entry per distinct identity with the servers that have it. */
export function groupBy<T>(
  items: readonly T[],
  identity: (item: T) => string,
  server: (item: T) => string,
): { identity: string; servers: string[] }[] {
  const groups = new Map<string, string[]>();
  for (const item of items) {
    const key = identity(item);
    groups.set(key, [...(groups.get(key) ?? []), server(item)]);
  }
  return [...groups.entries()].map(([key, servers]) => ({ identity: key, servers }));
}

/** `a, b (X); c (Y)`: who has which version, for a disagreement message. */
export function describeGroups(
  groups: readonly { identity: string; servers: string[] }[],
  label: (identity: string) => string,
): string {
  return groups.map((group) => `${group.servers.join(', ')}: ${label(group.identity)}`).join('; ');
}

/** A sorted, de-duplicated identity list as one string (order-blind RRset comparison). */
export function setIdentity(values: readonly string[]): string {
  return JSON.stringify([...new Set(values)].sort());
}

export function unique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

const SERIAL_HALF = 2 ** 31;
const SERIAL_MODULUS = 2 ** 32;

/** RFC 1982 difference `a - b` of two 32-bit RRSIG times, as a signed number of seconds. */
export function serialDifference(a: number, b: number): number {
  const difference = ((a >>> 0) - (b >>> 0) + SERIAL_MODULUS) % SERIAL_MODULUS;
  return difference >= SERIAL_HALF ? difference - SERIAL_MODULUS : difference;
}

/** An RRSIG time as an ISO date, in the window closest to `now`. */
export function describeTime(value: number, now: number): string {
  return new Date((now + serialDifference(value, now)) * 1000).toISOString().replace('.000Z', 'Z');
}

/** The RRsets other than DNSKEY that a child serves: apex, in-zone NS addresses, denial. */
export function dataRrsets(child: AnsweredChild): RRset[] {
  const { data } = child;
  const apex = [data.soa, data.ns, data.cds, data.cdnskey, data.csync, data.nsec3param];
  const hosts = data.hosts.flatMap((host) => [host.a, host.aaaa]);
  return [...apex, ...hosts, ...denialRrsets(child)].filter(
    (rrset): rrset is RRset => rrset !== null && rrset.records.length > 0,
  );
}

/** The NSEC and NSEC3 RRsets of the probe's answer. */
export function denialRrsets(child: AnsweredChild): RRset[] {
  const { probe } = child.data;
  return [...probe.authorities, ...probe.answers].filter(
    (rrset) => (rrset.type === 'NSEC' || rrset.type === 'NSEC3') && rrset.records.length > 0,
  );
}

/** Every RRset with signatures that a child serves, DNSKEY included. */
export function signedRrsets(child: AnsweredChild): RRset[] {
  const dnskey = child.data.dnskey;
  return [...(dnskey && dnskey.records.length > 0 ? [dnskey] : []), ...dataRrsets(child)];
}
