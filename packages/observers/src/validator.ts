/**
 * An independent DNSSEC validator built on core's primitives, with no resolver involved. It walks
 * the chain a validating resolver would follow if it reached ONE provider of a zone: trust-anchor
 * DS → parent DNSKEY RRset → the zone's DS RRset at the parent → the provider's DNSKEY RRset → the
 * answer (or the NSEC records that deny it). NSEC3 denial is reported as indeterminate.
 */
import {
  DNSKEY_FLAG_REVOKE,
  type DnskeyData,
  type DsData,
  type NameServer,
  type NsecData,
  type Rcode,
  type RecordType,
  type RRset,
  type RrsigData,
} from '@chorus/core';
import {
  canonicalName,
  describeServer,
  dsMatchesKey,
  isSubdomain,
  keyTag,
  namesEqual,
  nameToLabels,
  normalizeName,
  query,
  rrsigLabelCount,
  verifyRrsig,
} from '@chorus/dns';

/** The outcome of {@link validateViaProvider}. */
export interface Verdict {
  /** `indeterminate`: the chain could not be followed (network error, NSEC3, insecure zone). */
  status: 'secure' | 'bogus' | 'indeterminate';
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

/** Thrown inside the walk to end it with a verdict; never escapes validateViaProvider. */
class Stop extends Error {
  constructor(
    readonly status: Verdict['status'],
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'ValidationStop';
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function usableKey(key: DnskeyData): boolean {
  return (key.flags & DNSKEY_FLAG_REVOKE) === 0;
}

function tagsOf(keys: readonly DnskeyData[]): string {
  return keys.length === 0 ? 'none' : keys.map(keyTag).join(', ');
}

/** RFC 4034 §6.1 canonical ordering of names: negative when a sorts before b. */
export function compareCanonical(a: string, b: string): number {
  const left = nameToLabels(normalizeName(a))
    .map((label) => Buffer.from(canonicalName(label.toString('latin1')), 'latin1'))
    .reverse();
  const right = nameToLabels(normalizeName(b))
    .map((label) => Buffer.from(canonicalName(label.toString('latin1')), 'latin1'))
    .reverse();
  for (let index = 0; index < Math.min(left.length, right.length); index += 1) {
    const order = Buffer.compare(left[index]!, right[index]!);
    if (order !== 0) return order;
  }
  return left.length - right.length;
}

/** True when the NSEC `owner → next` covers `name` (strictly between, with wrap-around). */
export function nsecCovers(owner: string, next: string, name: string): boolean {
  if (compareCanonical(owner, name) >= 0) return false;
  // The last NSEC of the zone points back at the apex: it covers everything after its owner.
  return compareCanonical(name, next) < 0 || compareCanonical(next, owner) <= 0;
}

/** The longest common ancestor of two names. */
function commonAncestor(a: string, b: string): string {
  const left = nameToLabels(normalizeName(a)).reverse();
  const right = nameToLabels(normalizeName(b)).reverse();
  const kept: string[] = [];
  for (let index = 0; index < Math.min(left.length, right.length); index += 1) {
    const label = left[index]!.toString('latin1');
    if (canonicalName(label) !== canonicalName(right[index]!.toString('latin1'))) break;
    kept.push(label);
  }
  return kept.length === 0 ? '.' : `${kept.reverse().join('.')}.`;
}

/** The ancestor of `name` with `labels` labels (not counting the root). */
function ancestorWithLabels(name: string, labels: number): string {
  const all = nameToLabels(normalizeName(name));
  const kept = all.slice(all.length - labels).map((label) => label.toString('latin1'));
  return kept.length === 0 ? '.' : `${kept.join('.')}.`;
}

function signedRrset(rrset: RRset) {
  return { name: rrset.name, type: rrset.type, class: rrset.class, records: rrset.records };
}

/**
 * Validates `rrset` with `keys` (all trusted for `signer`); returns the key tag that verified or
 * throws a bogus Stop naming what failed. The RRSIG's time validity is part of the check.
 */
function requireSigned(
  rrset: RRset,
  keys: readonly DnskeyData[],
  signer: string,
  what: string,
  now: number,
  keySetName: string,
): { signature: RrsigData; key: DnskeyData } {
  if (rrset.signatures.length === 0) throw new Stop('bogus', `${what} has no RRSIG`);
  const failures: string[] = [];
  for (const signature of rrset.signatures) {
    if (!namesEqual(signature.signerName, signer)) {
      failures.push(
        `RRSIG by key ${signature.keyTag} names signer ${signature.signerName}, not ${signer}`,
      );
      continue;
    }
    const candidates = keys.filter(
      (key) =>
        usableKey(key) && key.algorithm === signature.algorithm && keyTag(key) === signature.keyTag,
    );
    if (candidates.length === 0) {
      failures.push(`signed by key ${signature.keyTag} not in ${keySetName}`);
      continue;
    }
    for (const key of candidates) {
      const result = verifyRrsig({ rrset: signedRrset(rrset), signature, key, now });
      if (result.ok) return { signature, key };
      failures.push(`RRSIG by key ${signature.keyTag}: ${result.reason}`);
    }
  }
  throw new Stop('bogus', `${what} ${failures.join('; ')}`);
}

/**
 * Validates a DNSKEY RRset under a DS set: some DS must match a key of the RRset that signs the
 * whole RRset. Returns the usable keys of the RRset and the tag of the key that anchored it.
 */
function requireDnskeyRrset(
  owner: string,
  dnskey: RRset<'DNSKEY'>,
  ds: readonly DsData[],
  now: number,
  what: string,
  dsOrigin: string,
): { keys: DnskeyData[]; anchor: number } {
  const keys = dnskey.records.filter(usableKey);
  const withDs = keys.filter((key) => ds.some((entry) => dsMatchesKey(owner, entry, key)));
  const dsTags = ds.map((entry) => entry.keyTag).join(', ') || 'none';
  if (withDs.length === 0) {
    throw new Stop(
      'bogus',
      `${what} not signed by any key with a DS ${dsOrigin}: no key of the RRset (tags ${tagsOf(keys)}) matches a DS (tags ${dsTags})`,
    );
  }
  const failures: string[] = [];
  for (const signature of dnskey.signatures) {
    if (!namesEqual(signature.signerName, owner)) continue;
    for (const key of withDs) {
      if (keyTag(key) !== signature.keyTag || key.algorithm !== signature.algorithm) continue;
      const result = verifyRrsig({ rrset: signedRrset(dnskey), signature, key, now });
      if (result.ok) return { keys, anchor: keyTag(key) };
      failures.push(`RRSIG by key ${signature.keyTag}: ${result.reason}`);
    }
  }
  throw new Stop(
    'bogus',
    failures.length > 0
      ? `${what} not signed by any key with a DS ${dsOrigin} (${failures.join('; ')})`
      : `${what} not signed by any key with a DS ${dsOrigin}: keys with a DS (tags ${tagsOf(withDs)}) made no RRSIG over it (RRSIGs by ${dnskey.signatures.map((s) => s.keyTag).join(', ') || 'none'})`,
  );
}

function findRrset<T extends RecordType>(
  sets: readonly RRset[],
  name: string,
  type: T,
): RRset<T> | undefined {
  return sets.find((set) => set.type === type && namesEqual(set.name, name)) as
    RRset<T> | undefined;
}

interface ValidatedNsec {
  owner: string;
  data: NsecData;
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
  const keySet = 'the DNSKEY RRset';
  if (response.rcode !== 'NOERROR' && response.rcode !== 'NXDOMAIN') {
    throw new Stop('indeterminate', `the provider answered ${subject} with ${response.rcode}`);
  }

  const nsecProofs = (): ValidatedNsec[] => {
    if (response.authorities.some((set) => set.type === 'NSEC3')) {
      throw new Stop(
        'indeterminate',
        `denial for ${subject} uses NSEC3, which this validator does not check`,
      );
    }
    const proofs: ValidatedNsec[] = [];
    for (const set of response.authorities) {
      if (set.type !== 'NSEC') continue;
      if (!isSubdomain(set.name, zone)) {
        throw new Stop('bogus', `NSEC ${set.name} in the denial for ${subject} is outside ${zone}`);
      }
      requireSigned(set, keys, zone, `NSEC ${set.name}`, now, keySet);
      for (const data of set.records as NsecData[]) proofs.push({ owner: set.name, data });
    }
    return proofs;
  };
  /** An NSEC at a delegation point or DNAME proves nothing about names below it. */
  const provesBelow = (proof: ValidatedNsec, target: string): boolean =>
    !(
      isSubdomain(target, proof.owner) &&
      !namesEqual(target, proof.owner) &&
      ((proof.data.types.includes('NS') && !proof.data.types.includes('SOA')) ||
        proof.data.types.includes('DNAME'))
    );
  const covering = (proofs: ValidatedNsec[], target: string) =>
    proofs.find(
      (proof) => nsecCovers(proof.owner, proof.data.nextName, target) && provesBelow(proof, target),
    );
  const closestEncloser = (proof: ValidatedNsec, target: string): string => {
    const a = commonAncestor(target, proof.owner);
    const b = commonAncestor(target, proof.data.nextName);
    return labelsOf(a) >= labelsOf(b) ? a : b;
  };

  // Signed SOA (and anything else) in the authority section must validate too.
  const validateAuthority = () => {
    for (const set of response.authorities) {
      if (set.type === 'NSEC' || set.type === 'NS') continue;
      if (!isSubdomain(set.name, zone)) continue;
      requireSigned(set, keys, zone, `authority ${set.name} ${set.type}`, now, keySet);
    }
  };

  const answer = findRrset(response.answers, name, type);
  const cname = type === 'CNAME' ? undefined : findRrset(response.answers, name, 'CNAME');
  if (response.rcode === 'NOERROR' && (answer ?? cname)) {
    const links: string[] = [];
    for (const set of response.answers) {
      if (!isSubdomain(set.name, zone)) {
        links.push(`${set.name} ${set.type} is outside ${zone}, not validated`);
        continue;
      }
      const what = `answer ${set.name} ${set.type}`;
      const { signature } = requireSigned(set, keys, zone, what, now, keySet);
      if (signature.labels < rrsigLabelCount(set.name)) {
        // Wildcard expansion: the next closer name must be proven not to exist.
        const encloser = ancestorWithLabels(set.name, signature.labels);
        const nextCloser = ancestorWithLabels(set.name, signature.labels + 1);
        const proof = covering(nsecProofs(), nextCloser);
        if (!proof) {
          throw new Stop(
            'bogus',
            `${what} was expanded from wildcard *.${encloser === '.' ? '' : encloser} but no NSEC proves ${nextCloser} does not exist`,
          );
        }
        links.push(
          `${what} from wildcard *.${encloser} signed by key ${signature.keyTag}; NSEC ${proof.owner} proves no closer match`,
        );
      } else {
        links.push(`${what} signed by key ${signature.keyTag}`);
      }
    }
    return links.join('; ');
  }

  const proofs = nsecProofs();
  validateAuthority();
  if (response.rcode === 'NXDOMAIN') {
    const exact = proofs.find((proof) => namesEqual(proof.owner, name));
    if (exact)
      throw new Stop('bogus', `NXDOMAIN for ${name} but NSEC ${exact.owner} shows the name exists`);
    const proof = covering(proofs, name);
    if (!proof) {
      throw new Stop(
        'bogus',
        `NXDOMAIN for ${name} without an NSEC covering it (NSECs: ${proofs.map((p) => `${p.owner} → ${p.data.nextName}`).join(', ') || 'none'})`,
      );
    }
    const encloser = closestEncloser(proof, name);
    const wildcard = `*.${encloser === '.' ? '' : encloser}`;
    const wildcardProof = covering(proofs, wildcard);
    if (!wildcardProof) {
      throw new Stop(
        'bogus',
        `NXDOMAIN for ${name}: no NSEC proves wildcard ${wildcard} does not exist`,
      );
    }
    return `NXDOMAIN ${name}: NSEC ${proof.owner} → ${proof.data.nextName} covers it, NSEC ${wildcardProof.owner} covers ${wildcard}`;
  }

  // NOERROR without the answer: NODATA.
  const typeAbsent = (data: NsecData) =>
    !data.types.includes(type) && (type === 'CNAME' || !data.types.includes('CNAME'));
  const exact = proofs.find((proof) => namesEqual(proof.owner, name));
  if (exact) {
    if (!typeAbsent(exact.data)) {
      throw new Stop(
        'bogus',
        `NODATA for ${subject} but the NSEC at ${exact.owner} lists ${type} or CNAME`,
      );
    }
    return `NODATA ${subject}: NSEC ${exact.owner} does not list ${type}`;
  }
  const proof = covering(proofs, name);
  if (proof && isSubdomain(proof.data.nextName, name)) {
    return `NODATA ${subject}: empty non-terminal, NSEC ${proof.owner} → ${proof.data.nextName}`;
  }
  if (proof) {
    const encloser = closestEncloser(proof, name);
    const wildcard = `*.${encloser === '.' ? '' : encloser}`;
    const atWildcard = proofs.find((entry) => namesEqual(entry.owner, wildcard));
    if (atWildcard && typeAbsent(atWildcard.data)) {
      return `wildcard NODATA ${subject}: NSEC ${proof.owner} covers the name, NSEC ${wildcard} does not list ${type}`;
    }
  }
  throw new Stop(
    'bogus',
    `NODATA for ${subject} without an NSEC proving it (NSECs: ${proofs.map((p) => `${p.owner} → ${p.data.nextName}`).join(', ') || 'none'})`,
  );
}

function labelsOf(name: string): number {
  return nameToLabels(normalizeName(name)).length;
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
