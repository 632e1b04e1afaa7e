import { createHash } from 'node:crypto';
import {
  classNumber,
  DnsWireError,
  recordTypeNumber,
  type DnsRecord,
  type ZoneContentDigest,
} from '@chorus/core';
import { canonicalName, isSubdomain, nameToWire } from './names.js';
import { canonicalOpaqueRdata } from './opaque-types.js';
import { encodeRdata } from './rdata.js';
import { isRecordOfType } from './records.js';

/**
 * Record types that are not zone content for comparison between signers: each signer makes its
 * own DNSSEC records (and keeps its signing state in private type 65534), and CSYNC is Chorus's.
 */
export const NON_CONTENT_TYPES: ReadonlySet<string> = new Set([
  'RRSIG',
  'NSEC',
  'NSEC3',
  'NSEC3PARAM',
  'DNSKEY',
  'CDS',
  'CDNSKEY',
  'CSYNC',
  'TYPE65534',
]);

/** True for the records two signers of one zone must serve identically. */
export function isComparableContent(
  zone: string,
  record: Pick<DnsRecord, 'name' | 'type'>,
): boolean {
  if (NON_CONTENT_TYPES.has(record.type) || record.type === 'SOA') return false;
  const owner = canonicalName(record.name);
  if (!isSubdomain(owner, zone)) return false;
  return !(record.type === 'NS' && owner === canonicalName(zone));
}

/** One record in canonical form without its TTL: owner, type, class, RDLENGTH, rdata. */
function canonicalRecord(record: DnsRecord): Buffer {
  const type = recordTypeNumber(record.type);
  if (type === undefined) throw new DnsWireError(`unknown RR type ${JSON.stringify(record.type)}`);
  const owner = nameToWire(record.name, { lowercase: true });
  const encoded = encodeRdata(record, { lowercaseNames: true });
  // Opaque rdata (NAPTR and other types without a typed shape) gets its canonical case here.
  const opaque = typeof record.data === 'object' && record.data !== null && 'rdata' in record.data;
  const rdata = opaque ? canonicalOpaqueRdata(type, encoded) : encoded;
  const header = Buffer.alloc(6);
  header.writeUInt16BE(type, 0);
  header.writeUInt16BE(classNumber(record.class), 2);
  header.writeUInt16BE(rdata.length, 4);
  return Buffer.concat([owner, header, rdata]);
}

/**
 * A digest of a zone's content, ZONEMD-like but TTL-blind: SHA-384 over the comparable records
 * (see `isComparableContent`) in canonical form, sorted by octets, duplicates removed. The same
 * content gives the same digest whatever the record order, name case or denial method.
 * Throws DnsWireError when the records hold no SOA for `zone` or a record cannot be encoded.
 */
export function zoneContentDigest(
  zone: string,
  records: readonly DnsRecord[],
): Omit<ZoneContentDigest, 'source'> {
  const apex = canonicalName(zone);
  const soa = records.find(
    (record) => isRecordOfType(record, 'SOA') && canonicalName(record.name) === apex,
  );
  if (!soa || !isRecordOfType(soa, 'SOA'))
    throw new DnsWireError(`the content of ${apex} holds no SOA record at the apex`);
  const comparable = records.filter((record) => isComparableContent(apex, record));
  const encoded = [
    ...new Map(
      comparable.map((record) => {
        const octets = canonicalRecord(record);
        return [octets.toString('hex'), octets] as const;
      }),
    ).values(),
  ].sort((left, right) => Buffer.compare(left, right));
  const hash = createHash('sha384');
  for (const octets of encoded) hash.update(octets);
  const rrsets = new Set(
    comparable.map((record) => `${canonicalName(record.name)} ${record.type}`),
  );
  return {
    algorithm: 'sha384',
    digest: hash.digest('hex'),
    rrsets: rrsets.size,
    records: encoded.length,
    serial: soa.data.serial,
  };
}
