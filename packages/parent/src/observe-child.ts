/**
 * Collects the scanner's input: every address of every nameserver in the current delegation
 * (glue included) is asked directly (RD=0, DO=1, TCP) for SOA, DNSKEY, CDS, CDNSKEY, CSYNC and
 * NS at the apex, then A/AAAA of the in-bailiwick NS names, then SOA again
 * (draft-ietf-dnsop-cds-consistency §3, RFC 7477 §3.1). Nameservers that the child proposes in a
 * CSYNC-requested NS set are observed too (marked `inDelegation: false`), so that the scanner
 * can check that the change would not break the delegation. For a delegation without DS, the
 * RFC 9615 signalling records are asked of a validating resolver when one is given.
 */
import { isIP } from 'node:net';
import {
  AbortError,
  DEFAULT_DNS_PORT,
  type Delegation,
  type NameServer,
  type RecordType,
  type RRset,
} from '@chorus/core';
import {
  canonicalName,
  describeServer,
  isSubdomain,
  normalizeName,
  query,
  type QueryOptions,
} from '@chorus/dns';
import type {
  ChildObservations,
  ChildServerData,
  ChildServerObservation,
  HostAddressObservation,
  UnresolvedNameserver,
} from './types.js';
import { classifyFailure, directQueryOptions, type QueryFailure } from './direct-query.js';
import { observeBootstrapSignals } from './observe-signals.js';

export interface ObserveChildOptions {
  zone: string;
  /**
   * The current delegation: its NS names and glue say whom to ask. Without `ds` (or with an empty
   * one) the delegation counts as unsigned, for the RFC 9615 signals.
   */
  delegation: Pick<Delegation, 'ns' | 'glue'> & Partial<Pick<Delegation, 'ds'>>;
  /** DNS port of the child's nameservers (NS records carry none). Default 53. */
  port?: number;
  /** Per-query timeout. Default 2000 ms. */
  timeoutMs?: number;
  /** Extra attempts after a timeout or network error. Default 1. */
  retries?: number;
  signal?: AbortSignal;
  /**
   * Addresses of an NS name the referral carried no glue for. Default: ask `parentServers`
   * directly for its A and AAAA (works for names in the parent zone, such as sibling names).
   * In production, pass a lookup through a validating resolver (the draft asks for one).
   */
  resolveAddresses?: (name: string, signal?: AbortSignal) => Promise<string[]>;
  /** Used by the default `resolveAddresses`. */
  parentServers?: readonly NameServer[];
  /** Observe nameservers proposed by a CSYNC-requested NS set. Default true. */
  observeCandidates?: boolean;
  /**
   * A validating resolver (RD=1, DO=1; its AD bit is trusted). When given and the delegation has
   * no DS, the RFC 9615 signalling names are asked through it (`observations.signals`).
   */
  validatingResolver?: NameServer;
}

class BadResponse extends Error {}

const APEX_TYPES = ['SOA', 'DNSKEY', 'CDS', 'CDNSKEY', 'CSYNC', 'NS'] as const;

function canonical(name: string): string {
  return canonicalName(normalizeName(name));
}

/** One question to one server: the RRset, null for NODATA; throws BadResponse or a DNS error. */
async function ask<T extends RecordType>(
  server: NameServer,
  name: string,
  type: T,
  options: QueryOptions,
  allowNxdomain = false,
): Promise<RRset<T> | null> {
  const response = await query(server, name, type, options);
  const nxdomain = response.rcode === 'NXDOMAIN' && allowNxdomain;
  if ((response.rcode !== 'NOERROR' && !nxdomain) || !response.flags.aa) {
    throw new BadResponse(
      `${name} ${type}: ${response.rcode}${response.flags.aa ? '' : ' without AA (not authoritative)'}`,
    );
  }
  const found = response.answers.find(
    (set) => set.type === type && canonical(set.name) === canonical(name) && set.records.length > 0,
  );
  return (found as RRset<T> | undefined) ?? null;
}

interface Target {
  nameserver: string;
  address: string;
  inDelegation: boolean;
}

async function observeApex(
  target: Target,
  zone: string,
  port: number,
  options: QueryOptions,
): Promise<
  | { ok: true; endpoint: NameServer; apex: Omit<ChildServerData, 'hosts' | 'soaAfter'> }
  | ({ ok: false } & QueryFailure)
> {
  const endpoint = { address: target.address, port };
  try {
    const [soa, dnskey, cds, cdnskey, csync, ns] = await Promise.all(
      APEX_TYPES.map((type) => ask(endpoint, zone, type, options)),
    );
    return {
      ok: true,
      endpoint,
      apex: {
        soa: soa as RRset<'SOA'> | null,
        dnskey: dnskey as RRset<'DNSKEY'> | null,
        cds: cds as RRset<'CDS'> | null,
        cdnskey: cdnskey as RRset<'CDNSKEY'> | null,
        csync: csync as RRset<'CSYNC'> | null,
        ns: ns as RRset<'NS'> | null,
      },
    };
  } catch (error) {
    return { ok: false, ...classifyFailure(error) };
  }
}

async function observeHosts(
  endpoint: NameServer,
  names: readonly string[],
  options: QueryOptions,
): Promise<HostAddressObservation[]> {
  return Promise.all(
    names.map(async (name) => {
      const [a, aaaa] = await Promise.all([
        ask(endpoint, name, 'A', options, true),
        ask(endpoint, name, 'AAAA', options, true),
      ]);
      return { name, a, aaaa };
    }),
  );
}

/** Asks the parent servers directly for A and AAAA of `name` (the union of what they serve). */
function parentLookup(parentServers: readonly NameServer[], options: QueryOptions) {
  return async (name: string): Promise<string[]> => {
    const addresses = new Set<string>();
    for (const server of parentServers) {
      for (const type of ['A', 'AAAA'] as const) {
        const response = await query(server, name, type, options);
        if (response.rcode !== 'NOERROR' && response.rcode !== 'NXDOMAIN') {
          throw new BadResponse(
            `${describeServer(server)} answered ${response.rcode} to ${name} ${type}`,
          );
        }
        for (const set of response.answers) {
          if (set.type === type && canonical(set.name) === canonical(name)) {
            for (const address of set.records as string[]) addresses.add(address);
          }
        }
      }
    }
    return [...addresses].sort();
  };
}

/** Addresses for each NS name: glue first, then the lookup. */
async function resolveTargets(
  names: readonly string[],
  inDelegation: boolean,
  known: ReadonlyMap<string, string[]>,
  lookup: ((name: string, signal?: AbortSignal) => Promise<string[]>) | undefined,
  signal: AbortSignal | undefined,
): Promise<{ targets: Target[]; unresolved: UnresolvedNameserver[] }> {
  const targets: Target[] = [];
  const unresolved: UnresolvedNameserver[] = [];
  await Promise.all(
    names.map(async (nameserver) => {
      let addresses = known.get(nameserver) ?? [];
      let error = 'no glue and no address lookup configured';
      if (addresses.length === 0 && lookup) {
        try {
          addresses = (await lookup(nameserver, signal)).filter((address) => isIP(address) !== 0);
          error = 'no A or AAAA record';
        } catch (caught) {
          if (AbortError.isInstance(caught)) throw caught;
          error = caught instanceof Error ? caught.message : String(caught);
        }
      }
      if (addresses.length === 0) unresolved.push({ nameserver, inDelegation, error });
      for (const address of addresses) targets.push({ nameserver, address, inDelegation });
    }),
  );
  const order = (left: Target, right: Target) =>
    left.nameserver.localeCompare(right.nameserver) || left.address.localeCompare(right.address);
  return {
    targets: targets.sort(order),
    unresolved: unresolved.sort((left, right) => left.nameserver.localeCompare(right.nameserver)),
  };
}

/** What every phase of an observation needs. */
interface Run {
  zone: string;
  port: number;
  queryOptions: QueryOptions;
  lookup: ((name: string, signal?: AbortSignal) => Promise<string[]>) | undefined;
  signal: AbortSignal | undefined;
}

function runOf(options: ObserveChildOptions): Run {
  const queryOptions = directQueryOptions(options);
  const lookup =
    options.resolveAddresses ??
    (options.parentServers && options.parentServers.length > 0
      ? parentLookup(options.parentServers, queryOptions)
      : undefined);
  return {
    zone: normalizeName(options.zone),
    port: options.port ?? DEFAULT_DNS_PORT,
    queryOptions,
    lookup,
    signal: options.signal,
  };
}

function identityOf(target: Target, port: number) {
  return {
    nameserver: target.nameserver,
    address: target.address,
    server: describeServer({ address: target.address, port }),
    inDelegation: target.inDelegation,
  };
}

type ApexResult = Awaited<ReturnType<typeof observeApex>>;

/** The in-bailiwick NS names, delegated or served at the apex by a server that answered. */
function inBailiwickNames(
  zone: string,
  delegatedNames: readonly string[],
  apex: readonly { result: ApexResult }[],
): string[] {
  const names = new Set(delegatedNames.filter((name) => isSubdomain(name, zone)));
  for (const { result } of apex) {
    if (!result.ok) continue;
    for (const name of result.apex.ns?.records ?? []) {
      if (isSubdomain(name, zone)) names.add(canonical(name));
    }
  }
  return [...names].sort();
}

/**
 * Phase 1: the apex RRsets at every delegated address. Phase 2: A/AAAA of every in-bailiwick NS
 * name (delegated or proposed), then SOA again.
 */
async function observeDelegated(
  run: Run,
  delegatedNames: readonly string[],
  targets: readonly Target[],
): Promise<ChildServerObservation[]> {
  const { zone, port, queryOptions } = run;
  const apex = await Promise.all(
    targets.map(async (target) => ({
      target,
      result: await observeApex(target, zone, port, queryOptions),
    })),
  );
  const hostNames = inBailiwickNames(zone, delegatedNames, apex);
  return Promise.all(
    apex.map(async ({ target, result }): Promise<ChildServerObservation> => {
      const identity = identityOf(target, port);
      if (!result.ok) return { ...identity, status: result.status, error: result.error };
      try {
        const hosts = await observeHosts(result.endpoint, hostNames, queryOptions);
        const soaAfter = await ask(result.endpoint, zone, 'SOA', queryOptions);
        return { ...identity, status: 'answered', data: { ...result.apex, soaAfter, hosts } };
      } catch (error) {
        return { ...identity, ...classifyFailure(error) };
      }
    }),
  );
}

/** True when some server's CSYNC asks for the NS RRset to be synchronised. */
function csyncWantsNs(servers: readonly ChildServerObservation[]): boolean {
  return servers.some(
    (entry) =>
      entry.status === 'answered' &&
      (entry.data.csync?.records ?? []).some((csync) =>
        csync.types.some((type) => type.toUpperCase() === 'NS'),
      ),
  );
}

/** NS names the child serves that are not delegated, and the addresses the child gives them. */
function proposedNameservers(
  servers: readonly ChildServerObservation[],
  delegatedNames: readonly string[],
) {
  const delegated = new Set(delegatedNames);
  const proposed = new Set<string>();
  const childAddresses = new Map<string, string[]>();
  for (const entry of servers) {
    if (entry.status !== 'answered') continue;
    for (const name of entry.data.ns?.records ?? []) {
      if (!delegated.has(canonical(name))) proposed.add(canonical(name));
    }
    for (const host of entry.data.hosts) {
      const addresses = [...(host.a?.records ?? []), ...(host.aaaa?.records ?? [])];
      if (addresses.length > 0) {
        childAddresses.set(host.name, [
          ...new Set([...(childAddresses.get(host.name) ?? []), ...addresses]),
        ]);
      }
    }
  }
  return { names: [...proposed].sort(), childAddresses };
}

/** Phase 3: nameservers a CSYNC-requested NS set would add (apex only, `inDelegation: false`). */
async function observeCandidates(
  run: Run,
  servers: readonly ChildServerObservation[],
  delegatedNames: readonly string[],
): Promise<{ servers: ChildServerObservation[]; unresolved: UnresolvedNameserver[] }> {
  const { names, childAddresses } = proposedNameservers(servers, delegatedNames);
  const candidates = await resolveTargets(names, false, childAddresses, run.lookup, run.signal);
  const observed = await Promise.all(
    candidates.targets.map(async (target): Promise<ChildServerObservation> => {
      const identity = identityOf(target, run.port);
      const result = await observeApex(target, run.zone, run.port, run.queryOptions);
      if (!result.ok) return { ...identity, status: result.status, error: result.error };
      return {
        ...identity,
        status: 'answered',
        data: { ...result.apex, soaAfter: result.apex.soa, hosts: [] },
      };
    }),
  );
  return { servers: observed, unresolved: candidates.unresolved };
}

/**
 * Observes every address of every nameserver of the current delegation. Never throws for a
 * server that fails: it is recorded as `unreachable` or `bad-response` (only an abort throws).
 */
export async function observeChildServers(
  options: ObserveChildOptions,
): Promise<ChildObservations> {
  const run = runOf(options);
  const glue = new Map<string, string[]>(
    options.delegation.glue.map((entry) => [canonical(entry.name), entry.addresses]),
  );
  const delegatedNames = [
    ...new Set((options.delegation.ns?.records ?? []).map((name) => canonical(name))),
  ].sort();
  const resolved = await resolveTargets(delegatedNames, true, glue, run.lookup, run.signal);
  const servers = await observeDelegated(run, delegatedNames, resolved.targets);
  const unresolved = [...resolved.unresolved];
  if (csyncWantsNs(servers) && options.observeCandidates !== false) {
    const candidates = await observeCandidates(run, servers, delegatedNames);
    servers.push(...candidates.servers);
    unresolved.push(...candidates.unresolved);
  }
  const signals = await observeSignalsIfUnsigned(options, run, delegatedNames);
  return {
    zone: run.zone,
    observedAt: new Date().toISOString(),
    servers,
    unresolved,
    ...(signals ? { signals } : {}),
  };
}

/** RFC 9615 signals: only for a delegation without DS, and only with a validating resolver. */
async function observeSignalsIfUnsigned(
  options: ObserveChildOptions,
  run: Run,
  delegatedNames: readonly string[],
) {
  const resolver = options.validatingResolver;
  if (!resolver || (options.delegation.ds?.records.length ?? 0) > 0) return undefined;
  return observeBootstrapSignals({
    zone: run.zone,
    nameservers: delegatedNames,
    resolver,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
    ...(run.signal ? { signal: run.signal } : {}),
  });
}
