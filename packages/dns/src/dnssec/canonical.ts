import {
  classNumber,
  DnsWireError,
  recordTypeNumber,
  type DnsClass,
  type DnsRecord,
  type RecordType,
  type RrsigData,
} from '@chorus/core';
import { labelsToName, nameToLabels, nameToWire } from '../names.js';
import { encodeRdata } from '../rdata.js';

/** The rdata of any record: a typed shape for the known types, raw hex otherwise. */
export type RecordData = DnsRecord['data'];

/** An RRset as the signer saw it: one owner, type and class, and the rdata of each record. */
export interface SignedRrset {
  name: string;
  type: RecordType;
  class: DnsClass;
  records: readonly RecordData[];
}

function typeNumberOf(type: RecordType): number {
  const value = recordTypeNumber(type);
  if (value === undefined) throw new DnsWireError(`unknown RR type ${JSON.stringify(type)}`);
  return value;
}

/**
 * The labels an RRSIG at `owner` would carry when not synthesised from a wildcard: the owner's
 * label count without the root and without a leading `*` label (RFC 4034 §3.1.3).
 */
export function rrsigLabelCount(owner: string): number {
  const labels = nameToLabels(owner);
  return labels[0]?.toString('latin1') === '*' ? labels.length - 1 : labels.length;
}

/**
 * The owner name the signature was made over (RFC 4035 §5.3.2): when the RRSIG has fewer labels
 * than the owner, the RRset was synthesised from a wildcard, so the signed owner is `*.` followed
 * by the rightmost `labels` labels. Throws DnsWireError when `labels` exceeds the owner's labels.
 */
export function signedOwnerName(owner: string, labels: number): string {
  const ownerLabels = nameToLabels(owner);
  const counted = rrsigLabelCount(owner);
  if (labels > counted) {
    throw new DnsWireError(`RRSIG labels ${labels} exceed the ${counted} labels of ${owner}`);
  }
  if (labels === counted) return owner;
  return labelsToName([Buffer.from('*'), ...ownerLabels.slice(ownerLabels.length - labels)]);
}

/** RRSIG rdata without the signature field, signer name lower-cased (RFC 4034 §3.1.8.1). */
export function rrsigRdataWithoutSignature(rrsig: RrsigData): Buffer {
  return encodeRdata(
    { type: 'RRSIG', data: { ...rrsig, signature: '' } },
    { lowercaseNames: true },
  );
}

/**
 * The octets an RRSIG signs (RFC 4034 §3.1.8.1, §6): the RRSIG rdata without its signature,
 * then every record of the RRset in canonical form — lower-case owner (wildcard-expanded when
 * the RRSIG has fewer labels), type, class, the RRSIG's original TTL, RDLENGTH and canonical
 * rdata — sorted by rdata octets, duplicates removed. Throws DnsWireError for an unknown type,
 * malformed rdata or a labels field above the owner's label count.
 */
export function canonicalRrsetSigningData(rrsig: RrsigData, rrset: SignedRrset): Buffer {
  const owner = nameToWire(signedOwnerName(rrset.name, rrsig.labels), { lowercase: true });
  const header = Buffer.alloc(8);
  header.writeUInt16BE(typeNumberOf(rrset.type), 0);
  header.writeUInt16BE(classNumber(rrset.class), 2);
  header.writeUInt32BE(rrsig.originalTtl >>> 0, 4);

  const rdatas = rrset.records.map((data) =>
    encodeRdata({ type: rrset.type, data }, { lowercaseNames: true }),
  );
  rdatas.sort((left, right) => Buffer.compare(left, right));
  const parts: Buffer[] = [rrsigRdataWithoutSignature(rrsig)];
  let previous: Buffer | undefined;
  for (const rdata of rdatas) {
    if (previous !== undefined && previous.equals(rdata)) continue;
    if (rdata.length > 0xffff)
      throw new DnsWireError(`rdata of ${rrset.name} is longer than 65535 octets`);
    const length = Buffer.alloc(2);
    length.writeUInt16BE(rdata.length);
    parts.push(owner, header, length, rdata);
    previous = rdata;
  }
  return Buffer.concat(parts);
}
