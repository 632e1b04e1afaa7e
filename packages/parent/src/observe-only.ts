/**
 * The observe-only parent channel: for real registries, where a person or the registry's own
 * CDS/CSYNC scanner acts, and Chorus can only watch the result. `getDelegation` asks every parent
 * nameserver address directly (RD=0, DO=1, TCP) for the zone's DS (an authoritative answer) and
 * NS (the referral's authority section, with glue from the additional section).
 */
import {
  canonicalName,
  describeServer,
  dsIdentity,
  isSubdomain,
  namesEqual,
  normalizeName,
  query,
  type QueryResponse,
} from '@chorus/dns';
import {
  AbortError,
  cannot,
  ConfigError,
  DnsNetworkError,
  DnsTimeoutError,
  DnsWireError,
  ParentAnswerError,
  ParentServerUnreachableError,
  type CallOptions,
  type Delegation,
  type DelegationGlue,
  type DelegationServerView,
  type NameServer,
  type ParentChannel,
  type RRset,
  type ZoneName,
} from '@chorus/core';
import { directQueryOptions } from './direct-query.js';

export interface ObserveOnlyParentChannelOptions {
  /** Instance id from configuration, e.g. `registry-ch`. */
  id: string;
  /** The parent zone, e.g. `ch.` or the lab's `test.`. */
  parentZone: string;
  /** Every address of every parent nameserver. Each one is asked; all must answer. */
  parentServers: NameServer[];
  /** Per-query timeout. Default 2000 ms. */
  timeoutMs?: number;
  /** Extra attempts after a timeout or network error. Default 1. */
  retries?: number;
}

/** What asking one parent server gives, or the typed error it ended in. */
interface ServerAnswer {
  server: string;
  ds: RRset<'DS'> | null;
  ns: RRset<'NS'> | null;
  glue: DelegationGlue[];
}

export interface ObserveDelegationOptions extends CallOptions {
  timeoutMs?: number;
  retries?: number;
}

function firstRRset<T extends 'DS' | 'NS'>(
  sets: readonly RRset[],
  zone: string,
  type: T,
): RRset<T> | null {
  const found = sets.find(
    (set) => set.type === type && namesEqual(set.name, zone) && set.records.length > 0,
  );
  return (found as RRset<T> | undefined) ?? null;
}

function glueFrom(response: QueryResponse, ns: RRset<'NS'>): DelegationGlue[] {
  const targets = new Set(ns.records.map((name) => canonicalName(normalizeName(name))));
  const byName = new Map<string, DelegationGlue>();
  for (const set of response.additionals) {
    if (set.type !== 'A' && set.type !== 'AAAA') continue;
    const name = canonicalName(normalizeName(set.name));
    if (!targets.has(name) || set.records.length === 0) continue;
    const entry = byName.get(name) ?? { name, addresses: [], ttl: set.ttl };
    entry.addresses.push(...(set.records as string[]));
    entry.ttl = Math.min(entry.ttl, set.ttl);
    byName.set(name, entry);
  }
  return [...byName.values()]
    .map((entry) => ({ ...entry, addresses: [...new Set(entry.addresses)].sort() }))
    .sort((left, right) => left.name.localeCompare(right.name));
}

/**
 * Turns a transport failure into the channel's typed errors; rethrows aborts as they are. Also
 * used by DSYNC discovery (dsync.ts), which asks the same parent servers.
 */
export function translateError(error: unknown, server: string, zone: string): never {
  if (AbortError.isInstance(error)) throw error;
  if (DnsTimeoutError.isInstance(error) || DnsNetworkError.isInstance(error)) {
    throw new ParentServerUnreachableError({ server, zone, cause: error });
  }
  if (DnsWireError.isInstance(error)) {
    throw new ParentAnswerError({
      server,
      zone,
      problem: 'malformed',
      detail: error.message,
      cause: error,
    });
  }
  throw error;
}

function checkRcode(response: QueryResponse, server: string, zone: string, what: string): void {
  if (response.rcode === 'NXDOMAIN') {
    throw new ParentAnswerError({
      server,
      zone,
      problem: 'not-delegated',
      detail: `NXDOMAIN for ${zone} ${what}`,
    });
  }
  if (response.rcode !== 'NOERROR') {
    throw new ParentAnswerError({
      server,
      zone,
      problem: 'rcode',
      detail: `${response.rcode} for ${zone} ${what}`,
      retryable: response.rcode === 'SERVFAIL',
    });
  }
}

/** Asks one parent server for DS (authoritative answer) and NS (referral) of `zone`. */
async function askParentServer(
  target: NameServer,
  zone: string,
  options: ObserveDelegationOptions,
): Promise<ServerAnswer> {
  const server = describeServer(target);
  const queryOptions = directQueryOptions(options);
  let dsResponse: QueryResponse;
  let nsResponse: QueryResponse;
  try {
    [dsResponse, nsResponse] = await Promise.all([
      query(target, zone, 'DS', queryOptions),
      query(target, zone, 'NS', queryOptions),
    ]);
  } catch (error) {
    translateError(error, server, zone);
  }
  checkRcode(dsResponse, server, zone, 'DS');
  if (!dsResponse.flags.aa) {
    throw new ParentAnswerError({
      server,
      zone,
      problem: 'not-authoritative',
      detail: `the DS answer has no AA bit: ${server} is not authoritative for the parent of ${zone}`,
    });
  }
  checkRcode(nsResponse, server, zone, 'NS');
  // A referral carries the delegation NS in the authority section. A server that also serves
  // the child answers NS authoritatively instead; that is the best view it can give.
  const ns =
    firstRRset(nsResponse.authorities, zone, 'NS') ?? firstRRset(nsResponse.answers, zone, 'NS');
  if (!ns) {
    throw new ParentAnswerError({
      server,
      zone,
      problem: 'not-delegated',
      detail: `no NS RRset for ${zone} in the answer (rcode ${nsResponse.rcode}, aa=${nsResponse.flags.aa})`,
    });
  }
  return {
    server,
    ds: firstRRset(dsResponse.answers, zone, 'DS'),
    ns,
    glue: glueFrom(nsResponse, ns),
  };
}

/** Content identity of a view: DS rdata, NS names and glue; TTLs and signatures are ignored. */
function viewIdentity(view: Pick<ServerAnswer, 'ds' | 'ns' | 'glue'>): string {
  return JSON.stringify({
    ds: (view.ds?.records ?? []).map(dsIdentity).sort(),
    ns: (view.ns?.records ?? []).map((name) => canonicalName(normalizeName(name))).sort(),
    glue: view.glue.map((entry) => `${entry.name} ${entry.addresses.join(',')}`).sort(),
  });
}

/**
 * Observes the delegation of `zone` on every parent server address. Throws
 * ParentServerUnreachableError (retryable) when one does not answer and ParentAnswerError when
 * one answers garbage, an error rcode, non-authoritatively or without a delegation.
 */
export async function observeDelegation(
  parentZone: string,
  parentServers: readonly NameServer[],
  zone: ZoneName,
  options: ObserveDelegationOptions = {},
): Promise<Delegation> {
  const child = canonicalName(normalizeName(zone));
  if (parentServers.length === 0) {
    throw new ConfigError({
      key: 'parentServers',
      problem: 'at least one parent server is needed',
    });
  }
  const answers = await Promise.all(
    parentServers.map((server) => askParentServer(server, child, options)),
  );
  const first = answers[0]!;
  const reference = viewIdentity(first);
  const servers: DelegationServerView[] = answers.map((entry) => ({
    server: entry.server,
    consistent: viewIdentity(entry) === reference,
    ds: entry.ds,
    ns: entry.ns,
    glue: entry.glue,
  }));
  return {
    zone: child,
    parent: canonicalName(normalizeName(parentZone)),
    observedAt: new Date().toISOString(),
    ds: first.ds,
    ns: first.ns,
    glue: first.glue,
    consistent: servers.every((entry) => entry.consistent),
    servers,
  };
}

/**
 * A ParentChannel that only observes: for registries where a person or the registry's own
 * scanner acts. It has no request methods; every capability is `cannot`, with the reason.
 *
 * @example
 * const parent = createObserveOnlyParentChannel({
 *   id: 'lab-parent', parentZone: 'test.', parentServers: [{ address: '127.53.0.1' }],
 * });
 * const delegation = await parent.getDelegation('example.test.', {});
 * delegation.ds?.ttl; // the DS TTL, for the DS-wait
 */
export function createObserveOnlyParentChannel(
  options: ObserveOnlyParentChannelOptions,
): ParentChannel {
  if (options.parentServers.length === 0) {
    throw new ConfigError({
      key: 'parentServers',
      problem: 'at least one parent server is needed',
    });
  }
  const parentZone = normalizeName(options.parentZone);
  const servers = options.parentServers.map((server) => ({ ...server }));
  return Object.freeze({
    specificationVersion: 'v1' as const,
    kind: 'observe-only',
    id: options.id,
    capabilities: Object.freeze({
      'cds-scan': cannot(
        'observe-only: the registry scans CDS/CDNSKEY on its own schedule (or a person acts); Chorus only watches the DS at the parent',
      ),
      'csync-scan': cannot(
        'observe-only: CSYNC is processed (if at all) by the registry or a person; Chorus only watches the NS at the parent',
      ),
      'ds-push': cannot(
        'observe-only: no registrar API or UPDATE access; the DS changes through CDS/CDNSKEY or out of band',
      ),
      'ns-push': cannot(
        'observe-only: no registrar API or UPDATE access; the NS set changes through CSYNC or out of band',
      ),
    }),
    getDelegation(zone: ZoneName, callOptions: CallOptions): Promise<Delegation> {
      if (callOptions.signal?.aborted) {
        return Promise.reject(new AbortError(`delegation of ${zone}`, callOptions.signal.reason));
      }
      const child = normalizeName(zone);
      if (namesEqual(child, parentZone) || !isSubdomain(child, parentZone)) {
        return Promise.reject(
          new ConfigError({
            key: 'zone',
            problem: `${child} is not below the parent zone ${parentZone} of channel ${options.id}`,
          }),
        );
      }
      return observeDelegation(parentZone, servers, child, {
        ...callOptions,
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(options.retries === undefined ? {} : { retries: options.retries }),
      });
    },
  });
}
