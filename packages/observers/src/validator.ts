/**
 * An independent DNSSEC validator built on core's primitives, with no resolver involved. It walks
 * the chain a validating resolver would follow if it reached ONE provider of a zone: trust-anchor
 * DS → parent DNSKEY RRset → the zone's DS RRset at the parent → the provider's DNSKEY RRset → the
 * answer, or the NSEC (nsec-denial.ts) or NSEC3 (nsec3-denial.ts) records that deny it.
 */
import type { DnskeyData, DsData, NameServer, Rcode, RecordType, RRset } from '@chorus/core';
import {
  describeServer,
  isSubdomain,
  namesEqual,
  normalizeName,
  query,
  rrsigLabelCount,
} from '@chorus/dns';
import { createNsecProver } from './nsec-denial.js';
import { createNsec3Prover } from './nsec3-denial.js';
import {
  ancestorWithLabels,
  errorText,
  findRrset,
  requireDnskeyRrset,
  requireSigned,
  Stop,
  tagsOf,
  ZONE_KEY_SET,
  type DenialProver,
  type VerdictStatus,
} from './validator-checks.js';

export { compareCanonical, nsecCovers } from './nsec-denial.js';
export { MAX_NSEC3_ITERATIONS } from './nsec3-denial.js';

/** The outcome of {@link validateViaProvider}. */
export interface Verdict {
  /**
   * `indeterminate`: the chain could not be followed (network error) or ends insecure (no DS,
   * an NSEC3 opt-out span, an unknown NSEC3 hash or too many NSEC3 iterations).
   */
  status: VerdictStatus;
  /** The rcode of the last response received ('' when none was). */
  rcode: string;
  /** What made the verdict: the failing link for bogus, the last link for secure. */
  reason: string;
  /** The links that were validated, in order. */
  chain: string[];
}

/** The part of a DNS response the validator reads. */
export interface ValidatorResponse {
  rcode: Rcode;
  answers: RRset[];
  authorities: RRset[];
}

/**
 * How the validator asks a server one question (DO=1, RD=0). Defaults to core's `query`;
 * tests inject their own.
 */
export type ValidatorResolve = (
  server: NameServer,
  name: string,
  type: RecordType,
  options: { signal?: AbortSignal },
) => Promise<ValidatorResponse>;

export interface ValidateViaProviderOptions {
  /** The query name. */
  name: string;
  type: RecordType;
  /** The zone the provider serves. */
  zone: string;
  /** The zone's parent, whose DNSKEY RRset `trustAnchorDs` authenticates. */
  parentZone: string;
  /** DS records of the parent zone's KSK(s): the trust anchor. */
  trustAnchorDs: readonly DsData[];
  /** Authoritative servers of the parent zone, tried in order until one answers. */
  parentServers: readonly NameServer[];
  /** The provider (signer) to validate. */
  provider: NameServer;
  /** Validation time, seconds since the epoch. Defaults to the current time. */
  now?: number;
  signal?: AbortSignal;
  resolve?: ValidatorResolve;
  /**
   * Validate as a resolver that still holds these RRsets in its cache: the DS RRset from the
   * parent and/or a DNSKEY RRset (possibly fetched from another provider). Their signatures are
   * checked as if fetched; only the answer itself comes from `provider`.
   */
  cached?: { ds?: RRset<'DS'>; dnskey?: RRset<'DNSKEY'>; dnskeyFrom?: string };
}

const defaultResolve: ValidatorResolve = (server, name, type, options) =>
  query(server, name, type, { signal: options.signal, dnssecOk: true, recursionDesired: false });

/** NSEC3 when the authority section holds any, NSEC otherwise. */
function denialProver(
  response: ValidatorResponse,
  context: { zone: string; keys: readonly DnskeyData[]; now: number; subject: string },
): DenialProver {
  const input = { ...context, authorities: response.authorities };
  return response.authorities.some((set) => set.type === 'NSEC3')
    ? createNsec3Prover(input)
    : createNsecProver(input);
}

/** Validates the answer RRsets; an expanded wildcard needs the prover's next-closer proof. */
function validateAnswers(
  answers: readonly RRset[],
  options: { zone: string; now: number },
  keys: readonly DnskeyData[],
  prover: DenialProver,
): string {
  const links: string[] = [];
  for (const set of answers) {
    if (!isSubdomain(set.name, options.zone)) {
      links.push(`${set.name} ${set.type} is outside ${options.zone}, not validated`);
      continue;
    }
    const what = `answer ${set.name} ${set.type}`;
    const { signature } = requireSigned(set, keys, options.zone, what, options.now, ZONE_KEY_SET);
    if (signature.labels < rrsigLabelCount(set.name)) {
      const encloser = ancestorWithLabels(set.name, signature.labels);
      const nextCloser = ancestorWithLabels(set.name, signature.labels + 1);
      const proof = prover.wildcardAnswer(what, encloser, nextCloser);
      links.push(`${what} from wildcard *.${encloser} signed by key ${signature.keyTag}; ${proof}`);
    } else {
      links.push(`${what} signed by key ${signature.keyTag}`);
    }
  }
  return links.join('; ');
}

/**
 * Validates a positive, NXDOMAIN or NODATA response from the provider with the zone's keys.
 * Returns the link description for the chain.
 */
function validateResponse(
  response: ValidatorResponse,
  options: { name: string; type: RecordType; zone: string; now: number },
  keys: readonly DnskeyData[],
): string {
  const { name, type, zone, now } = options;
  const subject = `${name} ${type}`;
  if (response.rcode !== 'NOERROR' && response.rcode !== 'NXDOMAIN') {
    throw new Stop('indeterminate', `the provider answered ${subject} with ${response.rcode}`);
  }
  const prover = denialProver(response, { zone, keys, now, subject });

  const answer = findRrset(response.answers, name, type);
  const cname = type === 'CNAME' ? undefined : findRrset(response.answers, name, 'CNAME');
  if (response.rcode === 'NOERROR' && (answer ?? cname)) {
    return validateAnswers(response.answers, { zone, now }, keys, prover);
  }

  // Signed SOA (and anything else) in the authority section must validate too.
  for (const set of response.authorities) {
    if (set.type === prover.recordType || set.type === 'NS') continue;
    if (!isSubdomain(set.name, zone)) continue;
    requireSigned(set, keys, zone, `authority ${set.name} ${set.type}`, now, ZONE_KEY_SET);
  }
  return response.rcode === 'NXDOMAIN' ? prover.nxdomain(name) : prover.nodata(name, type);
}

/**
 * Validates `name`/`type` the way a resolver that reached `provider` would, from the parent's
 * trust anchor down. Never throws for DNS or DNSSEC problems: network errors give
 * `indeterminate`, failed links give `bogus` with the link named. Throws only when `signal` aborts.
 */
export async function validateViaProvider(options: ValidateViaProviderOptions): Promise<Verdict> {
  const resolve = options.resolve ?? defaultResolve;
  const now = Math.floor(options.now ?? Date.now() / 1000);
  const zone = normalizeName(options.zone);
  const parentZone = normalizeName(options.parentZone);
  const name = normalizeName(options.name);
  const { type, signal } = options;
  const chain: string[] = [];
  let rcode = '';
  const providerLabel = describeServer(options.provider);

  const ask = async (server: NameServer, qname: string, qtype: RecordType) => {
    try {
      const response = await resolve(server, qname, qtype, { signal });
      rcode = response.rcode;
      return response;
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new Stop(
        'indeterminate',
        `${qname} ${qtype} from ${describeServer(server)}: ${errorText(error)}`,
      );
    }
  };
  /** Asks the parent servers in turn; a network error moves on to the next one. */
  const askParent = async (qname: string, qtype: RecordType) => {
    const problems: string[] = [];
    for (const server of options.parentServers) {
      try {
        const response = await ask(server, qname, qtype);
        return { response, label: describeServer(server) };
      } catch (error) {
        if (!(error instanceof Stop)) throw error;
        problems.push(error.reason);
      }
    }
    throw new Stop('indeterminate', problems.join('; ') || 'no parent servers given');
  };

  try {
    if (!isSubdomain(name, zone)) throw new Stop('indeterminate', `${name} is not in ${zone}`);
    if (!isSubdomain(zone, parentZone) || namesEqual(zone, parentZone)) {
      throw new Stop('indeterminate', `${zone} is not below ${parentZone}`);
    }

    // 1. Parent DNSKEY RRset, authenticated by the trust anchor.
    const parentKeys = await askParent(parentZone, 'DNSKEY');
    const parentDnskey = findRrset(parentKeys.response.answers, parentZone, 'DNSKEY');
    if (parentKeys.response.rcode !== 'NOERROR' || !parentDnskey) {
      throw new Stop(
        'bogus',
        `no DNSKEY RRset for ${parentZone} at parent ${parentKeys.label} (${parentKeys.response.rcode})`,
      );
    }
    const parent = requireDnskeyRrset(
      parentZone,
      parentDnskey,
      options.trustAnchorDs,
      now,
      `DNSKEY RRset of ${parentZone} at parent ${parentKeys.label}`,
      'in the trust anchor',
    );
    chain.push(
      `${parentZone} DNSKEY (${parent.keys.length} keys) validated by trust-anchor DS for key ${parent.anchor}`,
    );

    // 2. The zone's DS RRset at the parent, signed by the parent's keys.
    const parentDs = options.cached?.ds
      ? { label: 'a cached copy', response: { rcode: 'NOERROR', answers: [options.cached.ds] } }
      : await askParent(zone, 'DS');
    const ds = findRrset(parentDs.response.answers, zone, 'DS');
    if (!ds || ds.records.length === 0) {
      throw new Stop(
        'indeterminate',
        `no DS RRset for ${zone} at parent ${parentDs.label} (${parentDs.response.rcode}): the delegation is insecure or broken, not validated further`,
      );
    }
    const dsSigned = requireSigned(
      ds,
      parent.keys,
      parentZone,
      `DS RRset of ${zone} at parent ${parentDs.label}`,
      now,
      `the DNSKEY RRset of ${parentZone}`,
    );
    chain.push(
      `${zone} DS (tags ${ds.records.map((entry) => entry.keyTag).join(', ')}) signed by ${parentZone} key ${dsSigned.signature.keyTag}`,
    );

    // 3. The provider's DNSKEY RRset, authenticated by a DS.
    const providerKeys = options.cached?.dnskey
      ? { rcode: 'NOERROR', answers: [options.cached.dnskey] }
      : await ask(options.provider, zone, 'DNSKEY');
    const cachedFrom = options.cached?.dnskey
      ? `cached from ${options.cached.dnskeyFrom ?? 'another server'}`
      : undefined;
    const dnskey = findRrset(providerKeys.answers, zone, 'DNSKEY');
    if (providerKeys.rcode !== 'NOERROR' || !dnskey) {
      throw new Stop(
        'bogus',
        `no DNSKEY RRset for ${zone} ${cachedFrom ?? `at ns ${providerLabel}`} (${providerKeys.rcode})`,
      );
    }
    const child = requireDnskeyRrset(
      zone,
      dnskey,
      ds.records,
      now,
      `DNSKEY RRset ${cachedFrom ?? `of ns ${providerLabel}`}`,
      'at the parent',
    );
    chain.push(
      `${zone} DNSKEY ${cachedFrom ?? `at ns ${providerLabel}`} (tags ${tagsOf(child.keys)}) validated by DS for key ${child.anchor}`,
    );

    // 4. The answer, or its denial.
    const response = await ask(options.provider, name, type);
    const link = validateResponse(response, { name, type, zone, now }, child.keys);
    chain.push(link);
    return { status: 'secure', rcode, reason: link, chain };
  } catch (error) {
    if (error instanceof Stop) return { status: error.status, rcode, reason: error.reason, chain };
    if (signal?.aborted) throw error;
    return {
      status: 'indeterminate',
      rcode,
      reason: `validator error: ${errorText(error)}`,
      chain,
    };
  }
}
