/**
 * `dnskey-consistent`: a resolver may hold the DNSKEY RRset of any address and fetch data from
 * any other (RFC 8901 §3), so every RRset served anywhere must verify under every DNSKEY RRset
 * (standards §8.2 I3). RRsets that differ only in keys no RRset needs are a warning: model 2
 * lets each provider keep its own KSKs (RFC 8901 §2.1.2). So is CDS/CDNSKEY signed by a KSK
 * alone (see dnskey-cross.ts).
 */
import { dnskeyIdentity } from '@chorus/dns';
import { zoneSignatures } from '../signatures.js';
import { crossValidation, keysOf } from './dnskey-cross.js';
import type { AnsweredChild, AuditObservations, AuditRule, Finding } from '../types.js';
import {
  answeredChildren,
  dataRrsets,
  describeKey,
  dnskeyText,
  isSigned,
  setIdentity,
} from '../views.js';

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
