/**
 * DSYNC discovery (RFC 9859 §4.1): where a parent wants NOTIFY(CDS) and NOTIFY(CSYNC) about one
 * child. The parent zone comes from configuration, so `_dsync` goes straight above the parent's
 * labels (`a.b._dsync.test.` for `a.b.test.` under `test.`), the name §4.1's SOA-guided retry
 * ends at; a wildcard `*._dsync.test.` answers it. On a negative answer the bare `_dsync.test.`
 * (NOT RECOMMENDED for parents, still allowed) is tried. The parent's own servers are asked
 * directly (RD=0); the first one that gives a usable answer wins. DNSSEC is not validated here.
 */
import {
  AbortError,
  ConfigError,
  DSYNC_SCHEME_NOTIFY,
  ParentAnswerError,
  ParentServerUnreachableError,
  type DsyncData,
  type NameServer,
  type RecordType,
} from '@chorus/core';
import {
  canonicalName,
  describeServer,
  formatRecord,
  isSubdomain,
  namesEqual,
  normalizeName,
  query,
  throwIfAborted,
  type QueryOptions,
  type QueryResponse,
} from '@chorus/dns';
import { translateError } from './observe-only.js';
import { directQueryOptions } from './direct-query.js';

/** The RR types RFC 9859 defines delegation-maintenance notifications for. */
export type DsyncNotifyType = 'CDS' | 'CSYNC';

/** One place to send NOTIFY(CDS) or NOTIFY(CSYNC), with the target's addresses. */
export interface DsyncTarget {
  type: DsyncNotifyType;
  scheme: number;
  port: number;
  target: string;
  /** Owner of the DSYNC RRset as answered (a wildcard answer carries the name asked for). */
  owner: string;
  ttl: number;
  /** A and AAAA of `target`; empty when they could not be found (see `ignored`). */
  addresses: string[];
}

/** A DSYNC record (or target) left out, in presentation format, and why. */
export interface DsyncIgnored {
  record: string;
  reason: string;
}

export interface DsyncDiscovery {
  zone: string;
  parentZone: string;
  /** The owner names queried for DSYNC, in order. */
  lookedUp: string[];
  /** Usable targets: scheme NOTIFY, port not 0, type CDS or CSYNC, one per type. */
  targets: DsyncTarget[];
  ignored: DsyncIgnored[];
}

export interface DiscoverDsyncOptions {
  /** The parent zone, from configuration (e.g. `test.`). */
  parentZone: string;
  /** The parent's authoritative servers, asked in order. */
  servers: NameServer[];
  signal?: AbortSignal;
  /** Per-query timeout. Default 2000 ms. */
  timeoutMs?: number;
  /** Extra attempts per server after a timeout or network error. Default 1. */
  retries?: number;
  /** Addresses of a target the parent's servers cannot give (outside the parent zone). */
  resolveAddresses?: (name: string) => Promise<string[]>;
}

/** A DSYNC record as a parent server answered it. */
export interface DsyncRecord {
  owner: string;
  ttl: number;
  data: DsyncData;
}

/** The usable targets among some DSYNC records (addresses still unknown), and the rest. */
export interface DsyncSelection {
  targets: Omit<DsyncTarget, 'addresses'>[];
  ignored: DsyncIgnored[];
}

// ---------------------------------------------------------------------------------------------
// Pure helpers

/**
 * The DSYNC owner names to query for `zone` under `parentZone`, in order: the child-specific
 * name (`example._dsync.test.`, also answered by `*._dsync.test.`), then `_dsync.test.`.
 * Throws ConfigError when `zone` is not strictly below `parentZone`.
 */
export function dsyncLookupNames(zone: string, parentZone: string): [string, string] {
  const child = canonicalName(normalizeName(zone));
  const parent = canonicalName(normalizeName(parentZone));
  if (namesEqual(child, parent) || !isSubdomain(child, parent)) {
    throw new ConfigError({
      key: 'zone',
      problem: `${child} is not below the parent zone ${parent}`,
    });
  }
  const parentSuffix = parent === '.' ? '' : parent;
  const childLabels = child.slice(0, child.length - parentSuffix.length - 1);
  return [normalizeName(`${childLabels}._dsync.${parentSuffix}`), `_dsync.${parentSuffix}`];
}

function schemeName(scheme: number): string {
  return scheme === DSYNC_SCHEME_NOTIFY ? 'NOTIFY' : `scheme ${scheme}`;
}

function isNotifyType(type: RecordType): type is DsyncNotifyType {
  return type === 'CDS' || type === 'CSYNC';
}

/** Why one record (not a duplicate) is unusable, or undefined when it is usable. */
function unusableReason(data: DsyncData): string | undefined {
  if (!isNotifyType(data.rrtype)) {
    return `${data.rrtype} is not a type RFC 9859 notifies about (CDS and CSYNC only)`;
  }
  if (data.scheme === 0) return 'scheme 0 is the null scheme, which RFC 9859 says to ignore';
  if (data.scheme !== DSYNC_SCHEME_NOTIFY) {
    return `scheme ${data.scheme} is not NOTIFY (1), the only scheme Chorus uses`;
  }
  if (data.port === 0) return 'port 0, which RFC 9859 says to ignore';
  return undefined;
}

function describeDsync(record: DsyncRecord): string {
  return formatRecord({
    name: record.owner,
    ttl: record.ttl,
    class: 'IN',
    type: 'DSYNC',
    data: record.data,
  });
}

/** How many records share each (RRtype, scheme). */
function countByTypeAndScheme(records: readonly DsyncRecord[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { data } of records) {
    const key = `${data.rrtype}|${data.scheme}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/**
 * RFC 9859 filtering: keeps scheme NOTIFY, port not 0, RRtype CDS or CSYNC. When more than one
 * record has the same (RRtype, scheme), which §3 forbids, none of them is kept.
 */
export function selectDsyncTargets(records: readonly DsyncRecord[]): DsyncSelection {
  const counts = countByTypeAndScheme(records);
  const selection: DsyncSelection = { targets: [], ignored: [] };
  for (const record of records) {
    const { rrtype, scheme, port, target } = record.data;
    const reason =
      (counts.get(`${rrtype}|${scheme}`) ?? 0) > 1
        ? `more than one DSYNC for ${rrtype} ${schemeName(scheme)}: RFC 9859 allows one`
        : unusableReason(record.data);
    if (reason === undefined) {
      // unusableReason has checked that rrtype is CDS or CSYNC.
      const type = rrtype as DsyncNotifyType;
      selection.targets.push({ type, scheme, port, target, owner: record.owner, ttl: record.ttl });
    } else {
      selection.ignored.push({ record: describeDsync(record), reason });
    }
  }
  return selection;
}

// ---------------------------------------------------------------------------------------------
// Asking the parent's servers

interface ParentServers {
  /** The child zone, for error messages. */
  zone: string;
  servers: readonly NameServer[];
  queryOptions: QueryOptions;
  /** The server that answered last: asked first next time. */
  preferred: number;
}

/** Server indexes, the preferred one first. */
function serverOrder(parent: ParentServers): number[] {
  const rest = parent.servers.map((_, index) => index).filter((i) => i !== parent.preferred);
  return [parent.preferred, ...rest];
}

/** An authoritative NOERROR or NXDOMAIN answer, or a typed error saying what was wrong. */
function checkAnswer(response: QueryResponse, server: string, zone: string, what: string): void {
  if (response.rcode !== 'NOERROR' && response.rcode !== 'NXDOMAIN') {
    throw new ParentAnswerError({
      server,
      zone,
      problem: 'rcode',
      detail: `${response.rcode} for ${what}`,
      retryable: response.rcode === 'SERVFAIL',
    });
  }
  if (!response.flags.aa) {
    throw new ParentAnswerError({
      server,
      zone,
      problem: 'not-authoritative',
      detail: `the answer to ${what} has no AA bit (a referral, or the server does not serve it)`,
    });
  }
}

async function askServer(
  parent: ParentServers,
  target: NameServer,
  name: string,
  type: RecordType,
): Promise<QueryResponse> {
  const server = describeServer(target);
  let response: QueryResponse;
  try {
    response = await query(target, name, type, parent.queryOptions);
  } catch (error) {
    translateError(error, server, parent.zone);
  }
  checkAnswer(response, server, parent.zone, `${name} ${type}`);
  return response;
}

function isServerProblem(error: unknown): boolean {
  return ParentServerUnreachableError.isInstance(error) || ParentAnswerError.isInstance(error);
}

/**
 * Asks the parent's servers in turn until one answers authoritatively. Throws the last server's
 * ParentServerUnreachableError or ParentAnswerError when none does.
 */
async function askParent(
  parent: ParentServers,
  name: string,
  type: RecordType,
): Promise<QueryResponse> {
  let lastError: unknown;
  for (const index of serverOrder(parent)) {
    try {
      const response = await askServer(parent, parent.servers[index]!, name, type);
      parent.preferred = index;
      return response;
    } catch (error) {
      if (!isServerProblem(error)) throw error;
      lastError = error;
    }
  }
  throw lastError;
}

/** The records of `type` owned by `name` in the answer section. */
function answerRecords(response: QueryResponse, name: string, type: RecordType): unknown[] {
  return response.answers
    .filter((set) => set.type === type && namesEqual(set.name, name))
    .flatMap((set) => set.records as unknown[]);
}

/** The DSYNC records at `name`, or null for NXDOMAIN or NODATA. */
async function lookupDsync(parent: ParentServers, name: string): Promise<DsyncRecord[] | null> {
  const response = await askParent(parent, name, 'DSYNC');
  const set = response.answers.find(
    (entry) => entry.type === 'DSYNC' && namesEqual(entry.name, name) && entry.records.length > 0,
  );
  if (set === undefined) return null;
  const owner = canonicalName(normalizeName(set.name));
  return (set.records as DsyncData[]).map((data) => ({ owner, ttl: set.ttl, data }));
}

// ---------------------------------------------------------------------------------------------
// Target addresses

interface Resolution {
  addresses: string[];
  /** Why there are no addresses. */
  problem?: string;
}

/** A and AAAA from the parent's servers; undefined when they are not authoritative for `name`. */
async function addressesFromParent(
  parent: ParentServers,
  name: string,
): Promise<string[] | undefined> {
  try {
    const [a, aaaa] = await Promise.all([
      askParent(parent, name, 'A'),
      askParent(parent, name, 'AAAA'),
    ]);
    return [...answerRecords(a, name, 'A'), ...answerRecords(aaaa, name, 'AAAA')] as string[];
  } catch (error) {
    if (ParentAnswerError.isInstance(error) && error.problem === 'not-authoritative') {
      return undefined;
    }
    throw error;
  }
}

async function addressesFromResolver(
  resolve: (name: string) => Promise<string[]>,
  name: string,
): Promise<Resolution> {
  try {
    const addresses = [...new Set(await resolve(name))];
    return addresses.length > 0 ? { addresses } : { addresses, problem: 'the resolver found none' };
  } catch (error) {
    if (AbortError.isInstance(error)) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    return { addresses: [], problem: `the resolver failed: ${detail}` };
  }
}

/** Addresses of a target: the parent's servers for names in the parent zone, else the resolver. */
async function resolveTarget(
  parent: ParentServers,
  parentZone: string,
  name: string,
  resolve: DiscoverDsyncOptions['resolveAddresses'],
): Promise<Resolution> {
  let problem = 'it is outside the parent zone and no resolver was given';
  if (isSubdomain(name, parentZone)) {
    const fromParent = await addressesFromParent(parent, name);
    if (fromParent !== undefined && fromParent.length > 0) {
      return { addresses: [...new Set(fromParent)] };
    }
    problem =
      fromParent === undefined
        ? 'the parent servers are not authoritative for it'
        : 'the parent servers have no A or AAAA for it';
  }
  return resolve === undefined ? { addresses: [], problem } : addressesFromResolver(resolve, name);
}

function asDsyncRecord(target: Omit<DsyncTarget, 'addresses'>): DsyncRecord {
  const { type: rrtype, scheme, port } = target;
  return {
    owner: target.owner,
    ttl: target.ttl,
    data: { rrtype, scheme, port, target: target.target },
  };
}

/** Adds addresses to each target, resolving each target name once. */
async function withAddresses(
  parent: ParentServers,
  parentZone: string,
  selection: DsyncSelection,
  resolve: DiscoverDsyncOptions['resolveAddresses'],
): Promise<{ targets: DsyncTarget[]; ignored: DsyncIgnored[] }> {
  const resolutions = new Map<string, Resolution>();
  const targets: DsyncTarget[] = [];
  const ignored: DsyncIgnored[] = [];
  for (const target of selection.targets) {
    const key = canonicalName(normalizeName(target.target));
    const resolution =
      resolutions.get(key) ?? (await resolveTarget(parent, parentZone, key, resolve));
    resolutions.set(key, resolution);
    targets.push({ ...target, addresses: resolution.addresses });
    if (resolution.problem !== undefined) {
      ignored.push({
        record: describeDsync(asDsyncRecord(target)),
        reason: `target ${target.target} could not be resolved: ${resolution.problem}`,
      });
    }
  }
  return { targets, ignored };
}

// ---------------------------------------------------------------------------------------------
// Discovery

/** The DSYNC records of the first lookup name that has any, and the names asked. */
async function findDsyncRecords(
  parent: ParentServers,
  names: readonly string[],
): Promise<{ lookedUp: string[]; records: DsyncRecord[] }> {
  const lookedUp: string[] = [];
  for (const name of names) {
    lookedUp.push(name);
    const records = await lookupDsync(parent, name);
    if (records !== null) return { lookedUp, records };
  }
  return { lookedUp, records: [] };
}

/**
 * Finds where the parent wants NOTIFY(CDS) and NOTIFY(CSYNC) for `zone` (RFC 9859 §4.1). No
 * DSYNC at all is not an error: `targets` is empty. Throws ConfigError for a zone outside the
 * parent or no servers, ParentServerUnreachableError when no server answers, ParentAnswerError
 * when none answers usably (error rcode, no AA bit, garbage), AbortError when `signal` fires.
 *
 * @example
 * const found = await discoverDsync('example.test.', {
 *   parentZone: 'test.', servers: [{ address: '127.53.0.1' }],
 * });
 * found.targets; // [{ type: 'CDS', scheme: 1, port: 5300, target: 'scanner.test.', … }]
 */
export async function discoverDsync(
  zone: string,
  options: DiscoverDsyncOptions,
): Promise<DsyncDiscovery> {
  throwIfAborted(options.signal, `DSYNC discovery for ${zone}`);
  const names = dsyncLookupNames(zone, options.parentZone);
  if (options.servers.length === 0) {
    throw new ConfigError({ key: 'servers', problem: 'at least one parent server is needed' });
  }
  const child = canonicalName(normalizeName(zone));
  const parentZone = canonicalName(normalizeName(options.parentZone));
  const parent: ParentServers = {
    zone: child,
    servers: options.servers,
    queryOptions: directQueryOptions(options),
    preferred: 0,
  };
  const { lookedUp, records } = await findDsyncRecords(parent, names);
  const selection = selectDsyncTargets(records);
  const resolved = await withAddresses(parent, parentZone, selection, options.resolveAddresses);
  return {
    zone: child,
    parentZone,
    lookedUp,
    targets: resolved.targets,
    ignored: [...selection.ignored, ...resolved.ignored],
  };
}
