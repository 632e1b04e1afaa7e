/**
 * `dnskey-consistent`: a resolver may hold the DNSKEY RRset of any address and fetch data from
 * any other (RFC 8901 §3), so every RRset served anywhere must verify under every DNSKEY RRset
 * (standards §8.2 I3). RRsets that differ only in keys no RRset needs are a warning: model 2
 * lets each provider keep its own KSKs (RFC 8901 §2.1.2).
 */
import type { DnskeyData, RRset } from '@chorus/core';
import { dnskeyIdentity } from '@chorus/dns';
import { signatureTags, verifyingKeys, zoneSignatures } from '../signatures.js';
import type { AnsweredChild, AuditObservations, AuditRule, Finding } from '../types.js';
import {
  answeredChildren,
  dataRrsets,
  describeKey,
  dnskeyText,
  isSigned,
  setIdentity,
} from '../views.js';

const keysOf = (child: AnsweredChild): DnskeyData[] => child.data.dnskey?.records ?? [];

function missingDnskey(signed: readonly AnsweredChild[]): Finding[] {
  return signed
    .filter((child) => keysOf(child).length === 0)
    .map((child) => ({
      severity: 'fail',
      message: `${child.server} serves no DNSKEY RRset, while the zone is signed`,
      servers: [child.server],
    }));
}

function unsignedData(zone: string, child: AnsweredChild): Finding[] {
  return dataRrsets(child)
    .filter((rrset) => zoneSignatures(zone, rrset).length === 0)
    .map((rrset) => ({
      severity: 'fail',
      message: `${rrset.name} ${rrset.type} at ${child.server} has no RRSIG`,
      servers: [child.server],
    }));
}

/** The keys of `source`'s own DNSKEY RRset that sign `rrsets` and are absent from `holder`'s. */
function keysToImport(
  zone: string,
  rrsets: readonly RRset[],
  source: AnsweredChild,
  holder: AnsweredChild,
) {
  const held = new Set(keysOf(holder).map(dnskeyIdentity));
  const signers = rrsets.flatMap((rrset) => verifyingKeys(zone, rrset, keysOf(source)));
  const missing = new Map(signers.map((key) => [dnskeyIdentity(key), key]));
  return [...missing.values()].filter((key) => !held.has(dnskeyIdentity(key)));
}

/** What `holder`'s DNSKEY RRset cannot validate of what one source serves. */
interface Gap {
  holder: string;
  source: string;
  /** The finding's text without the source, so that sources alike merge into one finding. */
  text: string;
  missing: DnskeyData[];
}

function gapOf(zone: string, source: AnsweredChild, holder: AnsweredChild): Gap[] {
  const failing = dataRrsets(source).filter(
    (rrset) =>
      zoneSignatures(zone, rrset).length > 0 &&
      verifyingKeys(zone, rrset, keysOf(holder)).length === 0,
  );
  if (failing.length === 0) return [];
  const types = failing.map((rrset) => `${rrset.name} ${rrset.type}`).join(', ');
  const missing = keysToImport(zone, failing, source, holder);
  const tags = [...new Set(failing.flatMap((rrset) => signatureTags(zone, rrset)))].join(', ');
  const text =
    missing.length > 0
      ? `the DNSKEY RRset at ${holder.server} lacks ${missing.map(describeKey).join(', ')}, which signs ${types}`
      : `the DNSKEY RRset at ${holder.server} verifies no RRSIG (key tags ${tags}) over ${types}`;
  return [{ holder: holder.server, source: source.server, text, missing }];
}

/** Every gap, sources with the same gap at the same holder merged into one finding. */
function crossValidation(zone: string, signed: readonly AnsweredChild[]): Finding[] {
  const holders = signed.filter((child) => keysOf(child).length > 0);
  const gaps = signed.flatMap((source) => holders.flatMap((holder) => gapOf(zone, source, holder)));
  const merged = new Map<string, Gap[]>();
  for (const gap of gaps) merged.set(gap.text, [...(merged.get(gap.text) ?? []), gap]);
  return [...merged.values()].map((alike) => {
    const sources = alike.map((gap) => gap.source);
    return {
      severity: 'fail',
      message: `${alike[0]!.text} at ${sources.join(', ')}`,
      servers: [...new Set([alike[0]!.holder, ...sources])],
      records: alike[0]!.missing.map((key) => dnskeyText(zone, key)),
    };
  });
}

/** One warning per key that some DNSKEY RRsets lack, unless a failure already names it. */
function differences(
  zone: string,
  signed: readonly AnsweredChild[],
  reported: ReadonlySet<string>,
): Finding[] {
  const holders = signed.filter((child) => keysOf(child).length > 0);
  const identities = new Set(
    holders.map((child) => setIdentity(keysOf(child).map(dnskeyIdentity))),
  );
  if (identities.size <= 1) return [];
  const union = new Map(
    holders.flatMap((child) => keysOf(child).map((key) => [dnskeyIdentity(key), key] as const)),
  );
  return [...union.entries()].flatMap(([identity, key]): Finding[] => {
    const lacking = holders.filter(
      (child) => !keysOf(child).some((held) => dnskeyIdentity(held) === identity),
    );
    if (lacking.length === 0 || reported.has(dnskeyText(zone, key))) return [];
    return [
      {
        severity: 'warn',
        message: `the DNSKEY RRsets differ: ${describeKey(key)} is not in the one at ${lacking.map((child) => child.server).join(', ')}; nothing served needs it there (model 2 lets each provider keep its own KSKs, RFC 8901 §2.1.2)`,
        servers: lacking.map((child) => child.server),
        records: [dnskeyText(zone, key)],
      },
    ];
  });
}

function check(observations: AuditObservations): Finding[] {
  if (!isSigned(observations)) return [];
  const signed = answeredChildren(observations);
  const { zone } = observations;
  const cross = crossValidation(zone, signed);
  const reported = new Set(cross.flatMap((finding) => finding.records ?? []));
  return [
    ...missingDnskey(signed),
    ...signed.flatMap((child) => unsignedData(zone, child)),
    ...cross,
    ...differences(zone, signed, reported),
  ];
}

export const dnskeyRule: AuditRule = {
  id: 'dnskey-consistent',
  title: 'every DNSKEY RRset holds the keys that sign what any address serves',
  check,
};
