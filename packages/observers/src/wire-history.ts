/**
 * What observers saw on the wire, version by version (standards §8.1). Every server's answer to
 * every question is kept as a sequence of versions with the times each was first and last seen.
 * From that the history answers the two questions the invariants are built on: which versions a
 * resolver may still hold in its cache at time t (possibly-cached), and which versions it could
 * fetch now (fetchable). Pure data and arithmetic; `sampleWire` fills it from the network.
 */
import { createHash } from 'node:crypto';
import { canonicalName, formatRdata } from '@chorus/dns';
import type { RecordType, RRset } from '@chorus/core';

/** A server an observer asks: `parent` for the parent zone's servers, else a signer id. */
export interface ObservedServer {
  provider: string;
  address: string;
  port: number;
}

/** One answer, reduced to what the invariants read. Plain JSON. */
export interface ServedAnswer {
  /** The question. */
  owner: string;
  type: RecordType;
  /** Null when the server did not answer (timeout, connection refused). */
  rcode: string | null;
  authoritative: boolean;
  /** The RRset of the asked type at the owner, from the answer section (or, for the parent's NS, the referral). */
  rrset: RRset | null;
  /** Authority-section RRsets of a negative answer (SOA, NSEC, NSEC3) with their RRSIGs. */
  authority: RRset[];
  error?: string;
}

export interface ObservedVersion {
  /** Stable id: a digest of rcode, records and the tags of the keys that signed them. */
  id: string;
  server: ObservedServer;
  answer: ServedAnswer;
  /** Seconds since the epoch. */
  firstSeen: number;
  lastSeen: number;
  /** When the next version was first seen at the same server: the latest it can have been served. */
  endedAt?: number;
}

export const serverLabel = (server: Pick<ObservedServer, 'address' | 'port'>): string =>
  `${server.address}#${server.port}`;

const questionKey = (server: ObservedServer, owner: string, type: RecordType) =>
  `${server.provider}|${serverLabel(server)}|${canonicalName(owner)}|${type}`;

/** The version id of an answer: equal answers (up to TTL and signature bytes) share it. */
export function versionId(answer: ServedAnswer): string {
  const rrset = answer.rrset;
  const records = rrset
    ? rrset.records
        .map((data) => formatRdata({ type: rrset.type, data }))
        .sort()
        .join('\n')
    : '';
  const signedBy = rrset
    ? [...new Set(rrset.signatures.map((sig) => `${sig.algorithm}/${sig.keyTag}`))].sort()
    : [];
  const authority = answer.authority
    .map((set) => `${canonicalName(set.name)} ${set.type} ${set.records.length}`)
    .sort();
  return createHash('sha256')
    .update(JSON.stringify([answer.rcode, answer.authoritative, records, signedBy, authority]))
    .digest('hex')
    .slice(0, 12);
}

export class WireHistory {
  private readonly sequences = new Map<string, ObservedVersion[]>();

  /**
   * Records one sighting at `at` (seconds). Returns the version and whether it is new for that
   * server (a change, or the first answer).
   */
  record(
    server: ObservedServer,
    answer: ServedAnswer,
    at: number,
  ): { version: ObservedVersion; changed: boolean } {
    const key = questionKey(server, answer.owner, answer.type);
    const sequence = this.sequences.get(key) ?? [];
    this.sequences.set(key, sequence);
    const id = versionId(answer);
    const current = sequence.at(-1);
    if (current && current.id === id) {
      current.lastSeen = Math.max(current.lastSeen, at);
      current.answer = answer; // fresher signatures and TTL
      return { version: current, changed: false };
    }
    if (current) current.endedAt = at;
    const version: ObservedVersion = { id, server, answer, firstSeen: at, lastSeen: at };
    sequence.push(version);
    return { version, changed: true };
  }

  /** Every version of every question, optionally filtered. */
  versions(
    filter: { provider?: string; owner?: string; type?: RecordType } = {},
  ): ObservedVersion[] {
    const owner = filter.owner === undefined ? undefined : canonicalName(filter.owner);
    return [...this.sequences.values()]
      .flat()
      .filter(
        (version) =>
          (filter.provider === undefined || version.server.provider === filter.provider) &&
          (owner === undefined || canonicalName(version.answer.owner) === owner) &&
          (filter.type === undefined || version.answer.type === filter.type),
      );
  }

  /** The version each server serves now (its latest), optionally filtered. */
  current(
    filter: { provider?: string; owner?: string; type?: RecordType } = {},
  ): ObservedVersion[] {
    return this.versions(filter).filter((version) => version.endedAt === undefined);
  }

  /**
   * The latest time `version` may have been served: until its successor appeared, or now while it
   * is still current.
   */
  static servedUntil(version: ObservedVersion, now: number): number {
    return version.endedAt ?? Math.max(version.lastSeen, now);
  }

  /**
   * Possibly-cached versions at `t` (standards §8.1): a resolver that fetched a version at the
   * last moment it was served may hold it for its TTL, plus `marginSeconds` of propagation slack.
   * Only versions that carried data (a positive RRset) are returned; TTL is the published one.
   */
  possiblyCached(
    filter: { provider?: string; owner?: string; type?: RecordType },
    t: number,
    marginSeconds: number,
  ): ObservedVersion[] {
    return this.versions(filter).filter((version) => {
      if (version.firstSeen > t) return false;
      const ttl = version.answer.rrset?.ttl ?? 0;
      return WireHistory.servedUntil(version, t) >= t - (ttl + marginSeconds);
    });
  }

  /** Plain JSON copy of everything, for reports and tests. */
  toJSON(): ObservedVersion[] {
    return this.versions();
  }
}

/** A provider as observers know it: its id and the NS names it serves the zone under. */
export interface ObservedProvider {
  id: string;
  nameServerNames: readonly string[];
}

/** Propagation slack added to TTLs when deciding what may be cached: DprpC for child data, DprpP for the parent's. */
export interface CacheMargins {
  childSeconds: number;
  parentSeconds: number;
}

function nsNames(version: ObservedVersion): string[] {
  const rrset = version.answer.rrset;
  if (!rrset || rrset.type !== 'NS') return [];
  return (rrset.records as string[]).map(canonicalName);
}

/**
 * The providers a resolver could reach at `t` (the "reachable under any NS set in PC_NS(t)" of
 * standards §8.1): named in a possibly-cached version of the parent's delegation NS, or of the
 * apex NS of a provider that is itself reachable. Returns provider ids.
 */
export function reachableProviders(
  history: WireHistory,
  zone: string,
  providers: readonly ObservedProvider[],
  t: number,
  margins: CacheMargins,
): Set<string> {
  const byName = new Map<string, string>();
  for (const provider of providers)
    for (const name of provider.nameServerNames) byName.set(canonicalName(name), provider.id);
  const reachable = new Set<string>();
  const add = (versions: ObservedVersion[]) => {
    let grew = false;
    for (const version of versions)
      for (const name of nsNames(version)) {
        const id = byName.get(name);
        if (id !== undefined && !reachable.has(id)) {
          reachable.add(id);
          grew = true;
        }
      }
    return grew;
  };
  add(
    history.possiblyCached(
      { provider: 'parent', owner: zone, type: 'NS' },
      t,
      margins.parentSeconds,
    ),
  );
  for (let grew = true; grew;) {
    grew = false;
    for (const id of [...reachable])
      if (
        add(
          history.possiblyCached(
            { provider: id, owner: zone, type: 'NS' },
            t,
            margins.childSeconds,
          ),
        )
      )
        grew = true;
  }
  return reachable;
}

/**
 * Whether a resolver could have cached `version` (of a provider's answer) and still hold it at
 * `t`: it was served while the provider was reachable, within its TTL + `marginSeconds` of `t`.
 * A version served only while nobody could be sent to its provider was never cached anywhere.
 */
export function cachedWhileReachable(
  history: WireHistory,
  zone: string,
  providers: readonly ObservedProvider[],
  margins: CacheMargins,
  version: ObservedVersion,
  t: number,
  marginSeconds: number,
): boolean {
  const ttl = version.answer.rrset?.ttl ?? 0;
  const from = Math.max(version.firstSeen, t - (ttl + marginSeconds));
  const to = Math.min(WireHistory.servedUntil(version, t), t);
  if (from > to) return false;
  // Reachability changes only when an NS version appears or runs out of caches.
  const moments = new Set([from, to]);
  for (const ns of history.versions({ type: 'NS' })) {
    const nsTtl = ns.answer.rrset?.ttl ?? 0;
    const margin = ns.server.provider === 'parent' ? margins.parentSeconds : margins.childSeconds;
    for (const moment of [ns.firstSeen, WireHistory.servedUntil(ns, t) + nsTtl + margin])
      if (moment > from && moment < to) moments.add(moment);
  }
  return [...moments].some((moment) =>
    reachableProviders(history, zone, providers, moment, margins).has(version.server.provider),
  );
}
