/**
 * RFC 9615 (authenticated DNSSEC bootstrapping), the observing half: for every delegated NS
 * hostname outside the child, ask a validating resolver for the CDS and CDNSKEY RRsets at
 * `_dsboot.<child>._signal.<hostname>` and record what it answered, with its AD bit.
 */
import type { NameServer, RRset } from '@chorus/core';
import {
  canonicalName,
  describeServer,
  isSubdomain,
  normalizeName,
  query,
  signallingName,
  type QueryOptions,
} from '@chorus/dns';
import type { BootstrapSignals, SignalAnswer, SignalNameObservation } from './types.js';
import { classifyFailure } from './direct-query.js';

export interface ObserveBootstrapSignalsOptions {
  zone: string;
  /** The NS hostnames of the current delegation. */
  nameservers: readonly string[];
  /** A validating resolver: asked with RD=1 and DO=1, its AD bit is trusted. */
  resolver: NameServer;
  /** Per-query timeout. Default 2000 ms. */
  timeoutMs?: number;
  /** Extra attempts after a timeout or network error. Default 1. */
  retries?: number;
  signal?: AbortSignal;
}

/** The longest domain name in presentation form, without the final dot (RFC 1035 §2.3.4). */
const MAX_NAME_LENGTH = 253;

function canonical(name: string): string {
  return canonicalName(normalizeName(name));
}

export { signallingName };

async function askResolver<T extends 'CDS' | 'CDNSKEY'>(
  resolver: NameServer,
  name: string,
  type: T,
  options: QueryOptions,
): Promise<SignalAnswer<T>> {
  if (name.replace(/\.$/, '').length > MAX_NAME_LENGTH) {
    return { status: 'bad-response', error: `${name} is longer than ${MAX_NAME_LENGTH} octets` };
  }
  try {
    const response = await query(resolver, name, type, options);
    const found = response.answers.find(
      (set) =>
        set.type === type && canonical(set.name) === canonical(name) && set.records.length > 0,
    );
    return {
      status: 'answered',
      rcode: response.rcode,
      ad: response.flags.ad,
      rrset: (found as RRset<T> | undefined) ?? null,
    };
  } catch (error) {
    return classifyFailure(error);
  }
}

async function observeName(
  zone: string,
  nameserver: string,
  resolver: NameServer,
  options: QueryOptions,
): Promise<SignalNameObservation> {
  const name = signallingName(zone, nameserver);
  const [cds, cdnskey] = await Promise.all([
    askResolver(resolver, name, 'CDS', options),
    askResolver(resolver, name, 'CDNSKEY', options),
  ]);
  return { nameserver, name, cds, cdnskey };
}

/**
 * Asks the resolver for the signalling RRsets of every NS hostname outside the child; hostnames
 * at or below the child are listed as skipped. Never throws for a failed query (only an abort).
 */
export async function observeBootstrapSignals(
  options: ObserveBootstrapSignalsOptions,
): Promise<BootstrapSignals> {
  const zone = canonical(options.zone);
  const hostnames = [...new Set(options.nameservers.map(canonical))].sort();
  const inside = (name: string) => isSubdomain(name, zone);
  const queryOptions: QueryOptions = {
    transport: 'tcp',
    dnssecOk: true,
    recursionDesired: true,
    timeoutMs: options.timeoutMs ?? 2000,
    retries: options.retries ?? 1,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const names = await Promise.all(
    hostnames
      .filter((name) => !inside(name))
      .map((name) => observeName(zone, name, options.resolver, queryOptions)),
  );
  return {
    resolver: describeServer(options.resolver),
    names,
    skipped: hostnames.filter(inside),
  };
}
