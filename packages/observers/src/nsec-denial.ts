/**
 * NSEC denial of existence (RFC 4035 §5.4): NXDOMAIN, NODATA, empty non-terminals, wildcard
 * NODATA and the proof behind a wildcard expansion.
 */
import type { NsecData, RecordType } from '@chorus/core';
import { canonicalName, isSubdomain, namesEqual, nameToLabels, normalizeName } from '@chorus/dns';
import {
  labelsOf,
  requireSigned,
  Stop,
  wildcardAt,
  ZONE_KEY_SET,
  type DenialContext,
  type DenialProver,
} from './validator-checks.js';

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

interface ValidatedNsec {
  owner: string;
  data: NsecData;
}

/** The signed NSEC records of the authority section; throws a bogus Stop for a bad one. */
function collectNsec(context: DenialContext): ValidatedNsec[] {
  const proofs: ValidatedNsec[] = [];
  for (const set of context.authorities) {
    if (set.type !== 'NSEC') continue;
    if (!isSubdomain(set.name, context.zone)) {
      throw new Stop(
        'bogus',
        `NSEC ${set.name} in the denial for ${context.subject} is outside ${context.zone}`,
      );
    }
    requireSigned(set, context.keys, context.zone, `NSEC ${set.name}`, context.now, ZONE_KEY_SET);
    for (const data of set.records as NsecData[]) proofs.push({ owner: set.name, data });
  }
  return proofs;
}

/** An NSEC at a delegation point or DNAME proves nothing about names below it. */
function provesBelow(proof: ValidatedNsec, target: string): boolean {
  return !(
    isSubdomain(target, proof.owner) &&
    !namesEqual(target, proof.owner) &&
    ((proof.data.types.includes('NS') && !proof.data.types.includes('SOA')) ||
      proof.data.types.includes('DNAME'))
  );
}

function covering(proofs: readonly ValidatedNsec[], target: string) {
  return proofs.find(
    (proof) => nsecCovers(proof.owner, proof.data.nextName, target) && provesBelow(proof, target),
  );
}

function closestEncloser(proof: ValidatedNsec, target: string): string {
  const a = commonAncestor(target, proof.owner);
  const b = commonAncestor(target, proof.data.nextName);
  return labelsOf(a) >= labelsOf(b) ? a : b;
}

function listProofs(proofs: readonly ValidatedNsec[]): string {
  return proofs.map((p) => `${p.owner} → ${p.data.nextName}`).join(', ') || 'none';
}

/** True when the bitmap proves `type` (and a CNAME instead of it) absent. */
function typeAbsent(data: NsecData, type: RecordType): boolean {
  return !data.types.includes(type) && (type === 'CNAME' || !data.types.includes('CNAME'));
}

function proveNxdomain(proofs: readonly ValidatedNsec[], name: string): string {
  const exact = proofs.find((proof) => namesEqual(proof.owner, name));
  if (exact)
    throw new Stop('bogus', `NXDOMAIN for ${name} but NSEC ${exact.owner} shows the name exists`);
  const proof = covering(proofs, name);
  if (!proof) {
    throw new Stop(
      'bogus',
      `NXDOMAIN for ${name} without an NSEC covering it (NSECs: ${listProofs(proofs)})`,
    );
  }
  const wildcard = wildcardAt(closestEncloser(proof, name));
  const wildcardProof = covering(proofs, wildcard);
  if (!wildcardProof) {
    throw new Stop(
      'bogus',
      `NXDOMAIN for ${name}: no NSEC proves wildcard ${wildcard} does not exist`,
    );
  }
  return `NXDOMAIN ${name}: NSEC ${proof.owner} → ${proof.data.nextName} covers it, NSEC ${wildcardProof.owner} covers ${wildcard}`;
}

function proveNodata(proofs: readonly ValidatedNsec[], name: string, type: RecordType): string {
  const subject = `${name} ${type}`;
  const exact = proofs.find((proof) => namesEqual(proof.owner, name));
  if (exact) {
    if (!typeAbsent(exact.data, type)) {
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
    const wildcard = wildcardAt(closestEncloser(proof, name));
    const atWildcard = proofs.find((entry) => namesEqual(entry.owner, wildcard));
    if (atWildcard && typeAbsent(atWildcard.data, type)) {
      return `wildcard NODATA ${subject}: NSEC ${proof.owner} covers the name, NSEC ${wildcard} does not list ${type}`;
    }
  }
  throw new Stop(
    'bogus',
    `NODATA for ${subject} without an NSEC proving it (NSECs: ${listProofs(proofs)})`,
  );
}

/** The NSEC prover over one response; the NSEC records are checked on first use. */
export function createNsecProver(context: DenialContext): DenialProver {
  let proofs: ValidatedNsec[] | undefined;
  const validated = () => (proofs ??= collectNsec(context));
  return {
    recordType: 'NSEC',
    nxdomain: (name) => proveNxdomain(validated(), name),
    nodata: (name, type) => proveNodata(validated(), name, type),
    wildcardAnswer: (what, encloser, nextCloser) => {
      const proof = covering(validated(), nextCloser);
      if (!proof) {
        throw new Stop(
          'bogus',
          `${what} was expanded from wildcard ${wildcardAt(encloser)} but no NSEC proves ${nextCloser} does not exist`,
        );
      }
      return `NSEC ${proof.owner} proves no closer match`;
    },
  };
}
