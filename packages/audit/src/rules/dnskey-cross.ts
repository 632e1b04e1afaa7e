/**
 * Cross-validation (standards §8.2 I3): what every address serves against every DNSKEY RRset.
 * A gap fails, except CDS/CDNSKEY that their own server's keys validate through KSKs alone:
 * RFC 7344 §4.1 asks for a key with a DS there, and parental agents validate each server's CDS
 * with that server's keys, so only a resolver that mixes providers is hurt (a warning).
 */
import { DNSKEY_FLAG_SEP, type DnskeyData, type RRset } from '@chorus/core';
import { dnskeyIdentity } from '@chorus/dns';
import { signatureTags, verifyingKeys, zoneSignatures } from '../signatures.js';
import type { AnsweredChild, Finding, Severity } from '../types.js';
import { dataRrsets, describeKey, dnskeyText } from '../views.js';

export const keysOf = (child: AnsweredChild): DnskeyData[] => child.data.dnskey?.records ?? [];

const PARENT_SIGNALS: ReadonlySet<string> = new Set(['CDS', 'CDNSKEY']);

/** What `holder`'s DNSKEY RRset cannot validate of what one source serves. */
interface Gap {
  severity: Severity;
  holder: string;
  source: string;
  /** The finding's text before and after its sources: sources alike merge into one finding. */
  head: string;
  tail: string;
  missing: DnskeyData[];
}

/** The keys of `source`'s own DNSKEY RRset that sign `rrsets` and are absent from `holder`'s. */
function keysToImport(
  zone: string,
  rrsets: readonly RRset[],
  source: AnsweredChild,
  holder: AnsweredChild,
): DnskeyData[] {
  const held = new Set(keysOf(holder).map(dnskeyIdentity));
  const signers = rrsets.flatMap((rrset) => verifyingKeys(zone, rrset, keysOf(source)));
  const missing = new Map(signers.map((key) => [dnskeyIdentity(key), key]));
  return [...missing.values()].filter((key) => !held.has(dnskeyIdentity(key)));
}

/** CDS or CDNSKEY that its own server's keys validate, through KSKs only. */
function signedForTheParent(zone: string, rrset: RRset, source: AnsweredChild): boolean {
  if (!PARENT_SIGNALS.has(rrset.type)) return false;
  const own = verifyingKeys(zone, rrset, keysOf(source));
  return own.length > 0 && own.every((key) => (key.flags & DNSKEY_FLAG_SEP) !== 0);
}

const SIGNAL_NOTE =
  " with a KSK alone: parental agents validate them with their own server's keys (RFC 7344 §4.1), but a validating resolver holding the other DNSKEY RRset cannot; publishing every KSK everywhere closes this";

function gap(
  zone: string,
  failing: readonly RRset[],
  source: AnsweredChild,
  holder: AnsweredChild,
  severity: Severity,
): Gap[] {
  if (failing.length === 0) return [];
  const types = failing.map((rrset) => `${rrset.name} ${rrset.type}`).join(', ');
  const missing = keysToImport(zone, failing, source, holder);
  const tags = [...new Set(failing.flatMap((rrset) => signatureTags(zone, rrset)))].join(', ');
  const head =
    missing.length > 0
      ? `the DNSKEY RRset at ${holder.server} lacks ${missing.map(describeKey).join(', ')}, which signs ${types}`
      : `the DNSKEY RRset at ${holder.server} verifies no RRSIG (key tags ${tags}) over ${types}`;
  const tail = severity === 'warn' ? SIGNAL_NOTE : '';
  return [{ severity, holder: holder.server, source: source.server, head, tail, missing }];
}

function gapsOf(zone: string, source: AnsweredChild, holder: AnsweredChild): Gap[] {
  const failing = dataRrsets(source).filter(
    (rrset) =>
      zoneSignatures(zone, rrset).length > 0 &&
      verifyingKeys(zone, rrset, keysOf(holder)).length === 0,
  );
  const signals = failing.filter((rrset) => signedForTheParent(zone, rrset, source));
  const data = failing.filter((rrset) => !signals.includes(rrset));
  return [
    ...gap(zone, data, source, holder, 'fail'),
    ...gap(zone, signals, source, holder, 'warn'),
  ];
}

/** Every gap, sources with the same gap at the same holder merged into one finding. */
export function crossValidation(zone: string, signed: readonly AnsweredChild[]): Finding[] {
  const holders = signed.filter((child) => keysOf(child).length > 0);
  const gaps = signed.flatMap((source) =>
    holders.flatMap((holder) => gapsOf(zone, source, holder)),
  );
  const merged = new Map<string, Gap[]>();
  for (const entry of gaps) {
    const key = `${entry.head}|${entry.tail}`;
    merged.set(key, [...(merged.get(key) ?? []), entry]);
  }
  return [...merged.values()].map((alike) => {
    const first = alike[0]!;
    const sources = alike.map((entry) => entry.source);
    return {
      severity: first.severity,
      message: `${first.head} at ${sources.join(', ')}${first.tail}`,
      servers: [...new Set([first.holder, ...sources])],
      records: first.missing.map((key) => dnskeyText(zone, key)),
    };
  });
}
