/**
 * NSEC3 denial of existence, validator side (RFC 5155 §8, background in RFC 7129): the closest
 * encloser proof, NXDOMAIN, NODATA (with the DS opt-out case), wildcard NODATA and the proof
 * behind a wildcard expansion. A proof that holds only through an opt-out span is insecure
 * (RFC 5155 §9.2: no AD bit), which this validator reports as indeterminate, as it does for an
 * insecure delegation.
 */
import type { Nsec3Data, RecordType } from '@chorus/core';
import {
  isOptOut,
  isSubdomain,
  namesEqual,
  NSEC3_FLAG_OPT_OUT,
  NSEC3_HASH_SHA1,
  nsec3Hash,
  nsec3HashBytes,
  nameToLabels,
} from '@chorus/dns';
import {
  ancestorWithLabels,
  labelsOf,
  requireSigned,
  Stop,
  wildcardAt,
  ZONE_KEY_SET,
  type DenialContext,
  type DenialProver,
} from './validator-checks.js';

/**
 * The most NSEC3 iterations this validator hashes. Above it a denial is treated as insecure,
 * as BIND 9.18 and unbound do (RFC 9276 §3.2 lets validators set such a limit).
 */
export const MAX_NSEC3_ITERATIONS = 150;

/** SHA-1 digests are 20 octets. */
const SHA1_LENGTH = 20;

interface OwnedNsec3 {
  owner: string;
  data: Nsec3Data;
}

interface HashedNsec3 extends OwnedNsec3 {
  /** The owner's hash label, lower-case, for reasons. */
  label: string;
  hash: Buffer;
  next: Buffer;
}

/** The signed NSEC3 records of one response, hashed with their shared parameters. */
class Nsec3Set {
  private readonly labels = new Map<string, string>();

  constructor(
    readonly records: readonly HashedNsec3[],
    private readonly parameters: Nsec3Data,
  ) {}

  /** The hash of `name` as an owner label spells it, lower-case. */
  labelOf(name: string): string {
    const key = name.toLowerCase();
    let label = this.labels.get(key);
    if (label === undefined) {
      label = nsec3Hash(name, this.parameters).toLowerCase();
      this.labels.set(key, label);
    }
    return label;
  }

  matching(name: string): HashedNsec3 | undefined {
    const hash = nsec3HashBytes(this.labelOf(name));
    return this.records.find((record) => record.hash.equals(hash));
  }

  covering(name: string): HashedNsec3 | undefined {
    const hash = nsec3HashBytes(this.labelOf(name));
    return this.records.find((record) => covers(record, hash));
  }
}

/** True when `hash` lies strictly between the record's owner hash and next hash (wrapping). */
function covers(record: HashedNsec3, hash: Buffer): boolean {
  const afterOwner = Buffer.compare(record.hash, hash) < 0;
  const beforeNext = Buffer.compare(hash, record.next) < 0;
  // The last NSEC3 of the chain points back to the first: it covers both ends.
  const wraps = Buffer.compare(record.next, record.hash) <= 0;
  return wraps ? afterOwner || beforeNext : afterOwner && beforeNext;
}

function span(record: HashedNsec3): string {
  return `NSEC3 ${record.label} → ${record.data.nextHashedOwner.toLowerCase()}`;
}

function ownerLabel(owner: string): string {
  return (nameToLabels(owner)[0]?.toString('latin1') ?? '').toLowerCase();
}

function parametersText(data: Nsec3Data): string {
  return `${data.hashAlgorithm} ${data.iterations} ${data.salt.toLowerCase() || '-'}`;
}

function parentOf(name: string): string {
  return ancestorWithLabels(name, labelsOf(name) - 1);
}

/** Location and signature of each NSEC3 RRset; throws a bogus Stop naming the bad one. */
function collectRecords(context: DenialContext): OwnedNsec3[] {
  const records: OwnedNsec3[] = [];
  for (const set of context.authorities) {
    if (set.type !== 'NSEC3') continue;
    if (!namesEqual(parentOf(set.name), context.zone)) {
      throw new Stop(
        'bogus',
        `NSEC3 ${set.name} in the denial for ${context.subject} is not a hashed owner name directly below ${context.zone}`,
      );
    }
    requireSigned(set, context.keys, context.zone, `NSEC3 ${set.name}`, context.now, ZONE_KEY_SET);
    for (const data of set.records as Nsec3Data[]) {
      // RFC 5155 §8.2: NSEC3 records with flags other than Opt-Out are ignored.
      if ((data.flags & ~NSEC3_FLAG_OPT_OUT) === 0) records.push({ owner: set.name, data });
    }
  }
  return records;
}

/** One set of parameters for all records, a known hash and a bounded iteration count. */
function requireUsableParameters(records: readonly OwnedNsec3[], subject: string): Nsec3Data {
  const first = records[0];
  if (!first) throw new Stop('bogus', `the denial for ${subject} has no usable NSEC3 record`);
  const differing = records.find(
    (record) => parametersText(record.data) !== parametersText(first.data),
  );
  if (differing) {
    throw new Stop(
      'bogus',
      `NSEC3 parameters differ within the denial for ${subject}: NSEC3 ${ownerLabel(first.owner)} uses ${parametersText(first.data)}, NSEC3 ${ownerLabel(differing.owner)} uses ${parametersText(differing.data)}`,
    );
  }
  if (first.data.hashAlgorithm !== NSEC3_HASH_SHA1) {
    throw new Stop(
      'indeterminate',
      `the denial for ${subject} uses NSEC3 hash algorithm ${first.data.hashAlgorithm}, which this validator does not know (RFC 5155 §8.1): insecure, not validated further`,
    );
  }
  if (first.data.iterations > MAX_NSEC3_ITERATIONS) {
    throw new Stop(
      'indeterminate',
      `the denial for ${subject} uses ${first.data.iterations} NSEC3 iterations, above this validator's cap of ${MAX_NSEC3_ITERATIONS} (RFC 9276 §3.2): insecure, not validated further`,
    );
  }
  return first.data;
}

/** Reads owner label and next hashed owner as SHA-1 hashes; throws a bogus Stop when malformed. */
function hashed(record: OwnedNsec3): HashedNsec3 {
  const label = ownerLabel(record.owner);
  const malformed = () =>
    new Stop('bogus', `NSEC3 ${record.owner} does not carry SHA-1 hashes in base32hex`);
  let hash: Buffer;
  let next: Buffer;
  try {
    hash = nsec3HashBytes(label);
    next = nsec3HashBytes(record.data.nextHashedOwner);
  } catch {
    throw malformed();
  }
  if (hash.length !== SHA1_LENGTH || next.length !== SHA1_LENGTH) throw malformed();
  return { ...record, label, hash, next };
}

function collectNsec3(context: DenialContext): Nsec3Set {
  const records = collectRecords(context);
  const parameters = requireUsableParameters(records, context.subject);
  return new Nsec3Set(records.map(hashed), parameters);
}

const hasType = (record: HashedNsec3, type: RecordType) => record.data.types.includes(type);

/** True when the bitmap proves `type` (and a CNAME instead of it) absent. */
function typeAbsent(record: HashedNsec3, type: RecordType): boolean {
  return !hasType(record, type) && (type === 'CNAME' || !hasType(record, 'CNAME'));
}

/** NS without SOA: the owner is a delegation point of this zone. */
function isDelegation(record: HashedNsec3): boolean {
  return hasType(record, 'NS') && !hasType(record, 'SOA');
}

interface ClosestEncloser {
  encloser: string;
  match: HashedNsec3;
  nextCloser: string;
  cover: HashedNsec3;
}

function describeProof(proof: ClosestEncloser): string {
  return `NSEC3 ${proof.match.label} matches closest encloser ${proof.encloser}, ${span(proof.cover)} covers next closer ${proof.nextCloser}`;
}

/** A closest encloser at a delegation point or DNAME proves nothing: the names below live elsewhere. */
function requireEnclosing(record: HashedNsec3, encloser: string, what: string): void {
  if (hasType(record, 'DNAME')) {
    throw new Stop(
      'bogus',
      `${what}: closest encloser ${encloser} is a DNAME (NSEC3 ${record.label})`,
    );
  }
  if (!isDelegation(record)) return;
  if (hasType(record, 'DS')) {
    throw new Stop(
      'bogus',
      `${what}: closest encloser ${encloser} is a signed delegation (NSEC3 ${record.label}), whose child answers for names below it`,
    );
  }
  throw new Stop(
    'indeterminate',
    `${what}: closest encloser ${encloser} is an unsigned delegation (NSEC3 ${record.label}): insecure, not validated further`,
  );
}

/**
 * The closest provable encloser of `name` (RFC 5155 §8.3): the nearest ancestor with a matching
 * NSEC3, whose child towards `name` (the next closer name) an NSEC3 covers.
 */
function closestEncloserProof(
  set: Nsec3Set,
  name: string,
  zone: string,
  what: string,
): ClosestEncloser {
  let nextCloser = name;
  while (!namesEqual(nextCloser, zone) && isSubdomain(nextCloser, zone)) {
    const encloser = parentOf(nextCloser);
    const match = set.matching(encloser);
    if (match) {
      requireEnclosing(match, encloser, what);
      const cover = set.covering(nextCloser);
      if (!cover) {
        throw new Stop(
          'bogus',
          `${what}: NSEC3 ${match.label} matches closest encloser ${encloser} but no NSEC3 covers next closer ${nextCloser} (hash ${set.labelOf(nextCloser)})`,
        );
      }
      return { encloser, match, nextCloser, cover };
    }
    nextCloser = encloser;
  }
  throw new Stop(
    'bogus',
    `${what}: no NSEC3 matches an ancestor of ${name} within ${zone}, so nothing proves a closest encloser`,
  );
}

/** Ends the proof as insecure when the next closer name lies in an opt-out span. */
function requireNoOptOut(proof: ClosestEncloser, link: string): void {
  if (!isOptOut(proof.cover.data)) return;
  throw new Stop(
    'indeterminate',
    `${link}; ${span(proof.cover)} has the opt-out flag: insecure (RFC 5155 §9.2), not validated further`,
  );
}

function proveNxdomain(set: Nsec3Set, name: string, zone: string): string {
  const what = `NXDOMAIN for ${name}`;
  const exact = set.matching(name);
  if (exact)
    throw new Stop('bogus', `${what} but NSEC3 ${exact.label} matches it: the name exists`);
  const proof = closestEncloserProof(set, name, zone, what);
  const wildcard = wildcardAt(proof.encloser);
  const wildcardCover = set.covering(wildcard);
  if (!wildcardCover) {
    throw new Stop(
      'bogus',
      `${what}: ${describeProof(proof)}, but no NSEC3 covers wildcard ${wildcard} (hash ${set.labelOf(wildcard)})`,
    );
  }
  const link = `NXDOMAIN ${name}: ${describeProof(proof)}, ${span(wildcardCover)} covers ${wildcard}`;
  requireNoOptOut(proof, link);
  return link;
}

/** NODATA with an NSEC3 at the name itself (RFC 5155 §8.5, §8.6). */
function matchedNodata(record: HashedNsec3, name: string, type: RecordType, zone: string): string {
  const subject = `${name} ${type}`;
  if (!typeAbsent(record, type)) {
    throw new Stop(
      'bogus',
      `NODATA for ${subject} but NSEC3 ${record.label} matching it lists ${type} or CNAME`,
    );
  }
  if (type === 'DS' && hasType(record, 'SOA') && !namesEqual(name, zone)) {
    throw new Stop(
      'bogus',
      `NODATA for ${subject} proven by NSEC3 ${record.label} of a child zone apex`,
    );
  }
  if (type !== 'DS' && isDelegation(record)) {
    throw new Stop(
      'indeterminate',
      `NODATA for ${subject}: NSEC3 ${record.label} shows ${name} is a delegation point, whose child answers for it: not validated further`,
    );
  }
  const delegation = type === 'DS' && isDelegation(record) ? ' (an unsigned delegation)' : '';
  return `NODATA ${subject}: NSEC3 ${record.label} matches ${name} and does not list ${type}${delegation}`;
}

/** NODATA through a wildcard (RFC 5155 §8.7). */
function wildcardNodata(
  proof: ClosestEncloser,
  record: HashedNsec3,
  subject: string,
  type: RecordType,
): string {
  const wildcard = wildcardAt(proof.encloser);
  if (!typeAbsent(record, type)) {
    throw new Stop(
      'bogus',
      `wildcard NODATA for ${subject} but NSEC3 ${record.label} matching ${wildcard} lists ${type} or CNAME`,
    );
  }
  const link = `wildcard NODATA ${subject}: ${describeProof(proof)}, NSEC3 ${record.label} matches ${wildcard} and does not list ${type}`;
  requireNoOptOut(proof, link);
  return link;
}

function proveNodata(set: Nsec3Set, name: string, type: RecordType, zone: string): string {
  const subject = `${name} ${type}`;
  const exact = set.matching(name);
  if (exact) return matchedNodata(exact, name, type, zone);
  const proof = closestEncloserProof(set, name, zone, `NODATA for ${subject}`);
  const wildcard = set.matching(wildcardAt(proof.encloser));
  if (wildcard) return wildcardNodata(proof, wildcard, subject, type);
  if (isOptOut(proof.cover.data)) {
    // RFC 5155 §8.6 for DS, and the errata 3441 empty non-terminal case for other types.
    const meaning =
      type === 'DS' ? 'is at most an insecure delegation' : 'may lie below an unsigned delegation';
    throw new Stop(
      'indeterminate',
      `NODATA ${subject}: opt-out, ${describeProof(proof)} with the opt-out flag: ${name} ${meaning}, insecure (RFC 5155 §8.6, §9.2), not validated further`,
    );
  }
  throw new Stop(
    'bogus',
    `NODATA for ${subject}: no NSEC3 matches ${name} or ${wildcardAt(proof.encloser)}, and ${span(proof.cover)} covering next closer ${proof.nextCloser} has no opt-out flag`,
  );
}

/** RFC 5155 §8.8: the next closer name of a wildcard expansion must be covered. */
function proveWildcardAnswer(
  set: Nsec3Set,
  what: string,
  encloser: string,
  nextCloser: string,
): string {
  const cover = set.covering(nextCloser);
  if (!cover) {
    throw new Stop(
      'bogus',
      `${what} was expanded from wildcard ${wildcardAt(encloser)} but no NSEC3 covers next closer ${nextCloser} (hash ${set.labelOf(nextCloser)})`,
    );
  }
  const link = `${span(cover)} covers next closer ${nextCloser}`;
  if (isOptOut(cover.data)) {
    throw new Stop(
      'indeterminate',
      `${what} from wildcard ${wildcardAt(encloser)}: ${link} with the opt-out flag: insecure (RFC 5155 §9.2), not validated further`,
    );
  }
  return link;
}

/** The NSEC3 prover over one response; the NSEC3 records are checked on first use. */
export function createNsec3Prover(context: DenialContext): DenialProver {
  let set: Nsec3Set | undefined;
  const validated = () => (set ??= collectNsec3(context));
  return {
    recordType: 'NSEC3',
    nxdomain: (name) => proveNxdomain(validated(), name, context.zone),
    nodata: (name, type) => proveNodata(validated(), name, type, context.zone),
    wildcardAnswer: (what, encloser, nextCloser) =>
      proveWildcardAnswer(validated(), what, encloser, nextCloser),
  };
}
