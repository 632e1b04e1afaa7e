/**
 * `signature-lifetimes`: every RRSIG the audit fetched (apex RRsets, in-zone NS addresses, the
 * denial) is valid now and outlives its RRset's TTL, so a cache never holds an RRset longer than
 * its signature (standards §8.2 I5).
 */
import type { RRset, RrsigData } from '@chorus/core';
import { zoneSignatures } from '../signatures.js';
import type { AnsweredChild, AuditObservations, AuditRule, Finding } from '../types.js';
import { answeredChildren, describeTime, serialDifference, signedRrsets } from '../views.js';

/** What is wrong with one signature's times, or null. */
function timeProblem(signature: RrsigData, ttl: number, now: number): string | null {
  const tag = `RRSIG by ${signature.keyTag}`;
  const expires = describeTime(signature.expiration, now);
  if (serialDifference(now, signature.inception) < 0) {
    return `${tag} is not valid before ${describeTime(signature.inception, now)}`;
  }
  const left = serialDifference(signature.expiration, now);
  if (left < 0) return `${tag} expired at ${expires}`;
  if (left <= ttl)
    return `${tag} expires at ${expires}, ${left} s from now, within the TTL of ${ttl} s`;
  return null;
}

function rrsetFindings(child: AnsweredChild, rrset: RRset, zone: string, now: number): Finding[] {
  const problems = zoneSignatures(zone, rrset).flatMap((signature) => {
    const problem = timeProblem(signature, rrset.ttl, now);
    return problem ? [problem] : [];
  });
  if (problems.length === 0) return [];
  return [
    {
      severity: 'fail',
      message: `${rrset.name} ${rrset.type} at ${child.server}: ${problems.join('; ')}`,
      servers: [child.server],
    },
  ];
}

function check(observations: AuditObservations): Finding[] {
  const { zone, now } = observations;
  return answeredChildren(observations).flatMap((child) =>
    signedRrsets(child).flatMap((rrset) => rrsetFindings(child, rrset, zone, now)),
  );
}

export const lifetimesRule: AuditRule = {
  id: 'signature-lifetimes',
  title: 'every RRSIG is valid now and outlives the TTL of its RRset',
  check,
};
