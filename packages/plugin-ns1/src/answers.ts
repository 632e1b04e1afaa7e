/**
 * Apex records as NS1 stores them: each answer is an array of rdata fields (CDS
 * `[tag, alg, digestType, digest]`, CDNSKEY `[flags, protocol, alg, key]`, NS `[name]`, CSYNC
 * `[serial, flags, "A NS AAAA"]`). Pure: the unit tests run it on recorded answers.
 */
import type { CsyncData, DnskeyData, DsData } from '@chorus/core';
import { normalizeName, parseRdata } from '@chorus/dns';

/** The record types the plugin writes as ordinary NS1 records. */
export const RECORD_TYPES = ['CDS', 'CDNSKEY', 'NS', 'CSYNC'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

/** The typed rdata of one answer. */
export type ApexRecord =
  | { type: 'CDS'; data: DsData }
  | { type: 'CDNSKEY'; data: DnskeyData }
  | { type: 'CSYNC'; data: CsyncData }
  | { type: 'NS'; data: string };

/** The answer fields to send. Names go without their trailing dot, as NS1 shows them. */
export function answerFields(record: ApexRecord): string[] {
  switch (record.type) {
    case 'CDS': {
      const ds = record.data;
      return [
        String(ds.keyTag),
        String(ds.algorithm),
        String(ds.digestType),
        ds.digest.toLowerCase(),
      ];
    }
    case 'CDNSKEY': {
      const key = record.data;
      return [String(key.flags), String(key.protocol), String(key.algorithm), key.publicKey];
    }
    case 'CSYNC':
      return [String(record.data.serial), String(record.data.flags), record.data.types.join(' ')];
    case 'NS':
      return [normalizeName(record.data).replace(/\.$/, '')];
  }
}

/** Reads one answer's fields (strings, or numbers the API returned as JSON numbers). */
export function recordFromFields(type: RecordType, fields: readonly string[]): ApexRecord {
  if (type === 'NS') {
    if (fields.length !== 1) throw new TypeError('NS answers of one field [name]');
    return { type, data: normalizeName(fields[0]!) };
  }
  // Every field is a token; absolute names do not occur in these types.
  const data = parseRdata(type, fields.join(' '));
  switch (type) {
    case 'CDS': {
      const ds = data as DsData;
      return { type, data: { ...ds, digest: ds.digest.toUpperCase() } };
    }
    case 'CDNSKEY':
      return { type, data: data as DnskeyData };
    case 'CSYNC':
      return { type, data: data as CsyncData };
  }
}
