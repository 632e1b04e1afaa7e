/**
 * The validator's building blocks, shared by the chain walk (validator.ts) and the denial
 * provers (nsec-denial.ts, nsec3-denial.ts): the Stop that ends a walk with a verdict, the RRSIG
 * checks, name helpers and the interface every denial method implements.
 */
import {
  DNSKEY_FLAG_REVOKE,
  type DnskeyData,
  type DsData,
  type RecordType,
  type RRset,
  type RrsigData,
} from '@chorus/core';
import {
  dsMatchesKey,
  keyTag,
  namesEqual,
  nameToLabels,
  normalizeName,
  verifyRrsig,
} from '@chorus/dns';

/** The statuses a validation can end with (see `Verdict` in validator.ts). */
export type VerdictStatus = 'secure' | 'bogus' | 'indeterminate';

/** Thrown inside the walk to end it with a verdict; never escapes validateViaProvider. */
export class Stop extends Error {
  constructor(
    readonly status: VerdictStatus,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'ValidationStop';
  }
}

/** The keys' set name used in reasons about the zone's own records. */
export const ZONE_KEY_SET = 'the DNSKEY RRset';

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function usableKey(key: DnskeyData): boolean {
  return (key.flags & DNSKEY_FLAG_REVOKE) === 0;
}

export function tagsOf(keys: readonly DnskeyData[]): string {
  return keys.length === 0 ? 'none' : keys.map(keyTag).join(', ');
}

function signedRrset(rrset: RRset) {
  return { name: rrset.name, type: rrset.type, class: rrset.class, records: rrset.records };
}

/**
 * Validates `rrset` with `keys` (all trusted for `signer`); returns the key tag that verified or
 * throws a bogus Stop naming what failed. The RRSIG's time validity is part of the check.
 */
export function requireSigned(
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
export function requireDnskeyRrset(
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

export function findRrset<T extends RecordType>(
  sets: readonly RRset[],
  name: string,
  type: T,
): RRset<T> | undefined {
  return sets.find((set) => set.type === type && namesEqual(set.name, name)) as
    RRset<T> | undefined;
}

export function labelsOf(name: string): number {
  return nameToLabels(normalizeName(name)).length;
}

/** The ancestor of `name` with `labels` labels (not counting the root). */
export function ancestorWithLabels(name: string, labels: number): string {
  const all = nameToLabels(normalizeName(name));
  const kept = all.slice(all.length - labels).map((label) => label.toString('latin1'));
  return kept.length === 0 ? '.' : `${kept.join('.')}.`;
}

/** The wildcard name directly below `encloser`. */
export function wildcardAt(encloser: string): string {
  return `*.${encloser === '.' ? '' : encloser}`;
}

/** What a denial prover reads: the authority section and the zone's validated keys. */
export interface DenialContext {
  authorities: readonly RRset[];
  zone: string;
  keys: readonly DnskeyData[];
  now: number;
  /** `<name> <type>`, for reasons. */
  subject: string;
}

/**
 * Proves the non-existence of names or types with one method (NSEC or NSEC3). Each method
 * returns the text of the chain link, or throws a Stop: bogus when the proof fails,
 * indeterminate when the proof holds but only shows the answer is insecure.
 */
export interface DenialProver {
  readonly recordType: 'NSEC' | 'NSEC3';
  nxdomain(name: string): string;
  nodata(name: string, type: RecordType): string;
  /**
   * The proof that `nextCloser` does not exist, for an answer expanded from `*.encloser`;
   * `what` names the answer in reasons.
   */
  wildcardAnswer(what: string, encloser: string, nextCloser: string): string;
}
