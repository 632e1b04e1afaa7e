/**
 * The apex record types Chorus manages, in deSEC's presentation format. Pure: no I/O.
 *
 * deSEC returns records canonicalised (lower-case hex, un-chunked base64, normalised integers,
 * sorted CSYNC bitmaps); comparisons go through identities, so any equivalent spelling matches.
 */
import { canonicalName, formatRdata, normalizeName, parseRdata } from '@chorus/dns';
import type { ChangeRecordType, CsyncData, DnskeyData, DsData, SignerChange } from '@chorus/core';

export const MANAGED_TYPES: readonly ChangeRecordType[] = [
  'DNSKEY',
  'CDS',
  'CDNSKEY',
  'CSYNC',
  'NS',
];

/** The typed rdata of one record of a managed type. */
export type ManagedRecord =
  | { type: 'DNSKEY' | 'CDNSKEY'; data: DnskeyData }
  | { type: 'CDS'; data: DsData }
  | { type: 'CSYNC'; data: CsyncData }
  | { type: 'NS'; data: string };

export function isManagedType(type: string): type is ChangeRecordType {
  return (MANAGED_TYPES as readonly string[]).includes(type);
}

/**
 * Parses one record as deSEC shows it. Throws TypeError naming the record when it is not valid
 * presentation format (the HTTP client turns that into "unexpected response").
 */
export function parseRecord(type: ChangeRecordType, content: string, zone: string): ManagedRecord {
  let data: unknown;
  try {
    data = parseRdata(type, content, zone);
  } catch {
    throw new TypeError(`${type} records in presentation format, got ${JSON.stringify(content)}`);
  }
  return type === 'NS'
    ? { type, data: canonicalName(normalizeName(data as string)) }
    : ({ type, data } as ManagedRecord);
}

/** The record as deSEC stores it: canonical presentation, hex in lower case, names lower-cased. */
export function formatRecord(record: ManagedRecord): string {
  if (record.type === 'NS') return canonicalName(normalizeName(record.data));
  if (record.type === 'CDS')
    return formatRdata({
      type: 'CDS',
      data: { ...record.data, digest: record.data.digest.toLowerCase() },
    });
  return formatRdata(record);
}

/** The record a change adds or deletes. */
export function changeRecord(change: SignerChange): ManagedRecord {
  return { type: change.type, data: change.data } as ManagedRecord;
}
