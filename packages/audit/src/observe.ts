/**
 * One snapshot of a zone from the public DNS alone: every parent server is asked for the
 * delegation (DS, NS, glue); then every address of every NS name, delegated or listed at the
 * apex, is asked directly (RD=0, DO=1, TCP) for the apex RRsets (through @chorus/parent's
 * observeChildServers), NSEC3PARAM and a nonexistent name. A server that fails is recorded,
 * never thrown; only an abort throws.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import {
  AbortError,
  DEFAULT_DNS_PORT,
  type DelegationGlue,
  type NameServer,
  type RRset,
} from '@chorus/core';
import { normalizeName } from '@chorus/dns';
import {
  classifyFailure,
  directQueryOptions,
  observeChildServers,
  type ChildServerObservation,
} from '@chorus/parent';
import { defaultAddressLookup, type AddressLookup } from './addresses.js';
import { observeParents } from './observe-parent.js';
import { askNsec3param, askProbe } from './probe.js';
import type { AuditObservations, ChildView, ParentView } from './types.js';
import { canonical, unique } from './views.js';

export interface ObserveZoneOptions {
  zone: string;
  parentZone: string;
  /** Every address of every parent nameserver. */
  parentServers: readonly NameServer[];
  /** DNS port of the child's nameservers (NS records carry none). Default 53. */
  childPort?: number;
  /** Per-query timeout. Default 2000 ms. */
  timeoutMs?: number;
  /** Extra attempts after a timeout or network error. Default 1. */
  retries?: number;
  signal?: AbortSignal;
  /** Addresses of an NS name without glue. Default: the parent servers, then the system resolver. */
  resolveAddresses?: AddressLookup;
  /** Validation time, seconds since the epoch. Default: now. */
  now?: number;
  /** Ask only IPv4 (4) or only IPv6 (6) addresses, for a host without the other. Default both. */
  family?: 4 | 6;
}

/** Keeps the addresses of the asked family (all without one). */
function ofFamily(addresses: readonly string[], family: 4 | 6 | undefined): string[] {
  return addresses.filter((address) => family === undefined || isIP(address) === family);
}

function nsRrset(zone: string, names: readonly string[]): RRset<'NS'> {
  return { name: zone, type: 'NS', class: 'IN', ttl: 0, records: [...names], signatures: [] };
}

/** The union of what the parent servers delegate to: NS names and glue. */
function delegationOf(parents: ParentView[]): { names: string[]; glue: DelegationGlue[] } {
  const answered = parents.filter((view) => view.status === 'answered');
  const names = unique(answered.flatMap((view) => (view.ns?.records ?? []).map(canonical)));
  const glue = new Map<string, DelegationGlue>();
  for (const entry of answered.flatMap((view) => view.glue)) {
    const known = glue.get(entry.name);
    glue.set(entry.name, {
      ...entry,
      addresses: unique([...(known?.addresses ?? []), ...entry.addresses]),
    });
  }
  return { names, glue: [...glue.values()] };
}

/** NS names the answered children list at the apex that the delegation lacks, with their addresses. */
function apexOnly(servers: readonly ChildServerObservation[], delegated: readonly string[]) {
  const names = new Set<string>();
  const glue = new Map<string, string[]>();
  for (const server of servers) {
    if (server.status !== 'answered') continue;
    for (const name of server.data.ns?.records ?? []) {
      if (!delegated.includes(canonical(name))) names.add(canonical(name));
    }
    for (const host of server.data.hosts) {
      const addresses = [...(host.a?.records ?? []), ...(host.aaaa?.records ?? [])];
      glue.set(
        canonical(host.name),
        unique([...(glue.get(canonical(host.name)) ?? []), ...addresses]),
      );
    }
  }
  const wanted = [...names].sort();
  const known = wanted.flatMap((name): DelegationGlue[] => {
    const addresses = glue.get(name) ?? [];
    return addresses.length > 0 ? [{ name, addresses, ttl: 0 }] : [];
  });
  return { names: wanted, glue: known };
}

/** The NSEC3PARAM and the probe, added to an answered server; a failure replaces its answer. */
async function completeChild(
  server: ChildServerObservation,
  inDelegation: boolean,
  probeName: string,
  options: ObserveZoneOptions,
): Promise<ChildView> {
  const identity = {
    nameserver: server.nameserver,
    address: server.address,
    server: server.server,
    inDelegation,
  };
  if (server.status !== 'answered')
    return { ...identity, status: server.status, error: server.error };
  const endpoint = { address: server.address, port: options.childPort ?? DEFAULT_DNS_PORT };
  const queryOptions = directQueryOptions(options);
  try {
    const [nsec3param, probe] = await Promise.all([
      askNsec3param(endpoint, options.zone, queryOptions),
      askProbe(endpoint, probeName, queryOptions),
    ]);
    return { ...identity, status: 'answered', data: { ...server.data, nsec3param, probe } };
  } catch (error) {
    if (AbortError.isInstance(error)) throw error;
    return { ...identity, ...classifyFailure(error) };
  }
}

/** Address lookups of the asked family only. */
function addressLookup(options: ObserveZoneOptions): AddressLookup {
  const resolve =
    options.resolveAddresses ??
    defaultAddressLookup(options.parentServers, directQueryOptions(options));
  return async (name, signal) => ofFamily(await resolve(name, signal), options.family);
}

/** Observes the apex at every address of `names` (observeChildServers of @chorus/parent). */
function apexObserver(options: ObserveZoneOptions) {
  const lookup = addressLookup(options);
  const zone = normalizeName(options.zone);
  return (names: readonly string[], glue: readonly DelegationGlue[]) =>
    observeChildServers({
      zone,
      delegation: {
        ns: nsRrset(zone, names),
        glue: glue.map((entry) => ({
          ...entry,
          addresses: ofFamily(entry.addresses, options.family),
        })),
      },
      port: options.childPort ?? DEFAULT_DNS_PORT,
      resolveAddresses: lookup,
      observeCandidates: false,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.retries === undefined ? {} : { retries: options.retries }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
}

/** The delegated NS names first, then the names only the apex lists; then the audit's own questions. */
async function observeChildren(
  options: ObserveZoneOptions,
  parents: ParentView[],
): Promise<Pick<AuditObservations, 'children' | 'unresolved'>> {
  const observe = apexObserver(options);
  const delegation = delegationOf(parents);
  const delegated =
    delegation.names.length > 0 ? await observe(delegation.names, delegation.glue) : null;
  const extra = apexOnly(delegated?.servers ?? [], delegation.names);
  const listed = extra.names.length > 0 ? await observe(extra.names, extra.glue) : null;
  const probeName = `chorus-audit-${randomBytes(4).toString('hex')}.${normalizeName(options.zone)}`;
  const children = await Promise.all([
    ...(delegated?.servers ?? []).map((server) => completeChild(server, true, probeName, options)),
    ...(listed?.servers ?? []).map((server) => completeChild(server, false, probeName, options)),
  ]);
  const unresolved = [
    ...(delegated?.unresolved ?? []),
    ...(listed?.unresolved ?? []).map((entry) => ({ ...entry, inDelegation: false })),
  ];
  return { children, unresolved };
}

/** Observes `zone` on every parent server and every child address. */
export async function observeZone(options: ObserveZoneOptions): Promise<AuditObservations> {
  const started = Date.now();
  const parentServers = options.parentServers.filter(
    (server) => ofFamily([server.address], options.family).length > 0,
  );
  const asked = { ...options, parentServers };
  const parents = await observeParents(asked);
  const children = await observeChildren(asked, parents);
  return {
    zone: normalizeName(options.zone),
    parentZone: normalizeName(options.parentZone),
    observedAt: new Date(started).toISOString(),
    now: options.now ?? Math.floor(started / 1000),
    parent: parents,
    ...children,
  };
}
