/**
 * I8 (standards §8.2), the model 1 invariant (RFC 8901 §2.1.1): the zone owner's KSK signs one
 * DNSKEY RRset that every provider serves byte for byte, and the owner re-signs it before its
 * signatures run out (standards §7.5, PUSH). Three checks over the DNSKEY answers that reachable
 * providers serve at t: the RRsets and RRSIGs are identical everywhere; each is signed by an owner
 * KSK; and no owner signature served has less left than the owner's refresh lead.
 */
import type { DnskeyData, RRset, RrsigData } from '@chorus/core';
import { formatRdata, namesEqual, verifyRrsig } from '@chorus/dns';
import type { InvariantViolation } from './invariants.js';
import { absoluteTime, digestOf, isoTime, safeTag, tagsText, unique } from './invariant-text.js';
import { serverLabel, type ObservedVersion } from './wire-history.js';

/** What the observers know of the zone owner in model 1 (`ZoneState.owner`). */
export interface OwnerFacts {
  /** The owner's KSKs: every provider's DNSKEY RRset must carry an RRSIG by one of them. */
  dnskeys: readonly DnskeyData[];
  /** The owner re-signs when a signature has less than this left (seconds). */
  refreshLeadSeconds: number;
}

/** One DNSKEY answer (NOERROR) that a server of a reachable provider serves at t. */
export interface ServedDnskey {
  provider: string;
  version: ObservedVersion;
}

export interface Model1Input {
  zone: string;
  /** Evaluation time, seconds since the epoch. */
  t: number;
  /** Without it only the byte-identity is checked (the owner's keys are unknown). */
  owner?: OwnerFacts;
  served: readonly ServedDnskey[];
  /**
   * How long providers may differ after one of them changed its set: a new owner set reaches each
   * provider in turn (its sidecar's next key-watch round, then DprpC), never at once. Default 0.
   */
  transitGraceSeconds?: number;
  report: (violation: InvariantViolation) => void;
}

/** Runs the I8 checks of model 1. */
export function checkModel1(input: Model1Input): void {
  checkIdenticalDnskey(input);
  if (!input.owner) return;
  checkOwnerSigns(input, input.owner);
  checkOwnerRefresh(input, input.owner);
}

// ---------------------------------------------------------------------------------------------
// Byte identity

function rdataText(type: 'DNSKEY' | 'RRSIG', data: unknown): string {
  try {
    return formatRdata({ type, data } as Parameters<typeof formatRdata>[0]);
  } catch {
    return JSON.stringify(data);
  }
}

const dnskeysOf = (rrset: RRset | null): DnskeyData[] =>
  rrset?.type === 'DNSKEY' ? (rrset.records as DnskeyData[]) : [];

/** The served RRset and its RRSIGs as comparable text; the TTL left aside, as for every other set. */
function fingerprint(rrset: RRset | null): string {
  const keys = dnskeysOf(rrset);
  if (!rrset || keys.length === 0) return 'NODATA';
  const records = unique(keys.map((key) => rdataText('DNSKEY', key)));
  const signatures = unique(rrset.signatures.map((sig) => rdataText('RRSIG', sig)));
  return `${records.join(' | ')} sigs ${digestOf(signatures)}`;
}

interface Variant {
  rrset: RRset | null;
  servers: string[];
  providers: string[];
}

function variantsOf(served: readonly ServedDnskey[]): Map<string, Variant> {
  const variants = new Map<string, Variant>();
  for (const { provider, version } of served) {
    const rrset = version.answer.rrset;
    const content = fingerprint(rrset);
    const variant = variants.get(content) ?? { rrset, servers: [], providers: [] };
    variant.servers.push(`${provider} ${serverLabel(version.server)}`);
    variant.providers.push(provider);
    variants.set(content, variant);
  }
  return variants;
}

/** Tags of the keys some variant serves and another lacks. */
function keysNotEverywhere(variants: readonly Variant[]): number[] {
  const sets = variants.map((variant) => new Set(dnskeysOf(variant.rrset).map(safeTag)));
  const all = new Set(sets.flatMap((set) => [...set]));
  return [...all].filter((tag) => sets.some((set) => !set.has(tag)));
}

function describeVariant(variant: Variant): string {
  const keys = tagsText(dnskeysOf(variant.rrset).map(safeTag));
  const signers = tagsText(variant.rrset?.signatures.map((sig) => sig.keyTag) ?? []);
  return `${unique(variant.servers).join(', ')} serve keys ${keys} signed by ${signers}`;
}

/** The DNSKEY RRset and its RRSIGs are byte-identical at every server of every reachable provider. */
function checkIdenticalDnskey(input: Model1Input): void {
  const variants = variantsOf(input.served);
  if (variants.size <= 1) return;
  // A set on its way to every provider: the newest change is within the transit grace.
  const changedAt = Math.max(...input.served.map(({ version }) => version.firstSeen));
  if (input.t - changedAt < (input.transitGraceSeconds ?? 0)) return;
  const list = [...variants.values()];
  const differing = keysNotEverywhere(list);
  const what =
    differing.length === 0
      ? 'the keys agree but the RRSIGs differ'
      : `key${differing.length === 1 ? '' : 's'} ${tagsText(differing)} not served everywhere`;
  input.report({
    invariant: 'I8',
    key: `I8|dnskey|${digestOf([...variants.keys()].sort())}`,
    providers: list.flatMap((variant) => variant.providers),
    records: list.map((variant) => `${input.zone} DNSKEY ${describeVariant(variant)}`),
    detail: `Model 1: the DNSKEY RRset or its RRSIGs differ between servers (${variants.size} variants, ${what}): ${list.map(describeVariant).join('; ')}.`,
  });
}

// ---------------------------------------------------------------------------------------------
// The owner's signatures

/** The owner KSK an RRSIG names by algorithm, key tag and signer, if any. */
function ownerKeyOf(zone: string, owner: OwnerFacts, signature: RrsigData): DnskeyData | undefined {
  let signedByZone: boolean;
  try {
    signedByZone = namesEqual(signature.signerName, zone);
  } catch {
    signedByZone = false;
  }
  if (!signedByZone) return undefined;
  return owner.dnskeys.find(
    (key) => key.algorithm === signature.algorithm && safeTag(key) === signature.keyTag,
  );
}

/** Whether an owner KSK made one of the RRSIGs over `rrset`; time is the refresh check's concern. */
function signedByOwner(zone: string, owner: OwnerFacts, rrset: RRset): boolean {
  const records = {
    name: rrset.name,
    type: rrset.type,
    class: rrset.class,
    records: rrset.records,
  };
  return rrset.signatures.some((signature) => {
    const key = ownerKeyOf(zone, owner, signature);
    return (
      key !== undefined && verifyRrsig({ rrset: records, signature, key, ignoreTime: true }).ok
    );
  });
}

/** Groups served answers by provider. */
function byProvider(served: readonly ServedDnskey[]): Map<string, ObservedVersion[]> {
  const providers = new Map<string, ObservedVersion[]>();
  for (const { provider, version } of served)
    providers.set(provider, [...(providers.get(provider) ?? []), version]);
  return providers;
}

/** Every provider's DNSKEY RRset carries an RRSIG an owner KSK made (not, say, its own KSK's). */
function checkOwnerSigns(input: Model1Input, owner: OwnerFacts): void {
  const ownerTags = tagsText(owner.dnskeys.map(safeTag));
  for (const [provider, versions] of byProvider(input.served)) {
    const unsigned = versions.filter((version) => {
      const rrset = version.answer.rrset;
      return (
        rrset !== null && dnskeysOf(rrset).length > 0 && !signedByOwner(input.zone, owner, rrset)
      );
    });
    if (unsigned.length === 0) continue;
    const signers = tagsText(
      unsigned.flatMap((version) => version.answer.rrset!.signatures.map((sig) => sig.keyTag)),
    );
    const servers = unique(unsigned.map((version) => serverLabel(version.server)));
    input.report({
      invariant: 'I8',
      key: `I8|owner-key|${provider}`,
      providers: [provider],
      records: servers.map(
        (label) => `${input.zone} DNSKEY at ${provider} ${label} signed by ${signers}`,
      ),
      detail: `Model 1: ${provider} (${servers.join(', ')}) serves a DNSKEY RRset signed by key ${signers}, not by the owner's KSK ${ownerTags}: the owner did not sign what ${provider} serves.`,
    });
  }
}

interface LateSignature {
  provider: string;
  keyTag: number;
  algorithm: number;
  expiration: number;
  servers: string[];
}

/** Owner signatures with no more than the refresh lead left, per provider and key (the soonest). */
function lateSignatures(input: Model1Input, owner: OwnerFacts): LateSignature[] {
  const late = new Map<string, LateSignature>();
  for (const { provider, version } of input.served)
    for (const signature of version.answer.rrset?.signatures ?? []) {
      if (!ownerKeyOf(input.zone, owner, signature)) continue;
      const expiration = absoluteTime(signature.expiration, input.t);
      if (expiration - input.t > owner.refreshLeadSeconds) continue;
      const id = `${provider}|${signature.keyTag}`;
      const known = late.get(id);
      const servers = [...(known?.servers ?? []), serverLabel(version.server)];
      const soonest = Math.min(expiration, known?.expiration ?? Infinity);
      late.set(id, {
        provider,
        keyTag: signature.keyTag,
        algorithm: signature.algorithm,
        expiration: soonest,
        servers,
      });
    }
  return [...late.values()];
}

/** How far an expiration is from t, as text. */
function remaining(expiration: number, t: number): string {
  const seconds = Math.round(expiration - t);
  return seconds >= 0
    ? `expires at ${isoTime(expiration)} (in ${seconds} s)`
    : `expired at ${isoTime(expiration)} (${-seconds} s ago)`;
}

/**
 * The refresh is on schedule: every owner RRSIG served has more than the refresh lead left. The
 * owner re-signs once less is left, so a provider serving such a signature never got the refresh.
 */
function checkOwnerRefresh(input: Model1Input, owner: OwnerFacts): void {
  for (const late of lateSignatures(input, owner)) {
    const servers = unique(late.servers);
    input.report({
      invariant: 'I8',
      key: `I8|refresh|${late.provider}|${late.keyTag}`,
      providers: [late.provider],
      records: servers.map(
        (label) =>
          `RRSIG ${input.zone} DNSKEY by ${late.algorithm}/${late.keyTag} expiring ${isoTime(late.expiration)} at ${late.provider} ${label}`,
      ),
      detail: `Model 1: the owner's signature over the DNSKEY RRset at ${late.provider} ${remaining(late.expiration, input.t)}, later than its refresh was due (refresh lead ${owner.refreshLeadSeconds} s): the refresh is late or did not reach ${late.provider}.`,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// For the validation observer

/**
 * When a validator's reason says an owner KSK's RRSIG expired, the reason with what that means
 * in model 1: only the owner re-signs the DNSKEY RRset. Otherwise the reason as it is.
 */
export function explainOwnerSignature(
  reason: string,
  owner: OwnerFacts | undefined,
  provider: string | undefined,
): string {
  if (!owner) return reason;
  const tags = new Set(owner.dnskeys.map(safeTag));
  const expired = [...reason.matchAll(/RRSIG by key (\d+): signature expired/g)]
    .map((match) => Number(match[1]))
    .filter((tag) => tags.has(tag));
  if (expired.length === 0) return reason;
  const where = provider === undefined ? 'the provider that served it' : provider;
  return `${reason} (key ${tagsText(expired)} is the zone owner's KSK: in model 1 only the owner re-signs the DNSKEY RRset, and its refresh is late or did not reach ${where})`;
}
