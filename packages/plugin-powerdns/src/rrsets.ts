/**
 * From a SignerPlan to the PATCH of the backend rrsets. Pure: no I/O, so the unit tests run it
 * on recorded API responses.
 *
 * PowerDNS shows in `GET /zones/{zone}` only what is stored in the backend: the foreign DNSKEYs,
 * the foreign CDS/CDNSKEY, CSYNC and NS. Its own keys live in `/cryptokeys` and its own
 * CDS/CDNSKEY are generated from metadata, so replacing a backend rrset can never remove them.
 */
import {
  canonicalName,
  formatRdata,
  managedRecordIdentity,
  normalizeName,
  parseRdata,
} from '@chorus/dns';
import {
  UnsafePlanError,
  type ChangeRecordType,
  type CsyncData,
  type DnskeyData,
  type DsData,
  type SignerChange,
} from '@chorus/core';
import type { PdnsRecord, PdnsRrset, PdnsRrsetChange } from './api.js';

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

/** One backend record, parsed and normalised. */
export type BackendRecord = ManagedRecord & { disabled: boolean };

export interface BackendRrset {
  type: ChangeRecordType;
  ttl: number;
  records: BackendRecord[];
}

/** The backend's apex rrsets of the managed types; a type without records is absent. */
export type BackendApex = Partial<Record<ChangeRecordType, BackendRrset>>;

function isManaged(type: string): type is ChangeRecordType {
  return (MANAGED_TYPES as readonly string[]).includes(type);
}

/** Parses one `content` string as PowerDNS shows it (CDS hex lower-case, names as stored). */
export function parseContent(type: ChangeRecordType, content: string, zone: string): BackendRecord {
  const data = parseRdata(type, content, zone);
  switch (type) {
    case 'DNSKEY':
    case 'CDNSKEY':
      return { type, data: data as DnskeyData, disabled: false };
    case 'CDS': {
      const ds = data as DsData;
      return { type, data: { ...ds, digest: ds.digest.toUpperCase() }, disabled: false };
    }
    case 'CSYNC':
      return { type, data: data as CsyncData, disabled: false };
    case 'NS':
      return { type, data: normalizeName(data as string), disabled: false };
  }
}

/** The content string to send: canonical presentation, base64 and hex without spaces (the API answers 422 otherwise). */
export function formatContent(record: ManagedRecord): string {
  return formatRdata(record);
}

/** Picks the apex rrsets of the managed types out of a zone's backend rrsets. */
export function backendApex(rrsets: readonly PdnsRrset[], zone: string): BackendApex {
  const apex = canonicalName(normalizeName(zone));
  const result: BackendApex = {};
  for (const rrset of rrsets) {
    if (!isManaged(rrset.type) || canonicalName(normalizeName(rrset.name)) !== apex) continue;
    const records = rrset.records.map((record) => ({
      ...parseContent(rrset.type as ChangeRecordType, record.content, zone),
      disabled: record.disabled,
    }));
    if (records.length > 0) result[rrset.type] = { type: rrset.type, ttl: rrset.ttl, records };
  }
  return result;
}

/** What applying a plan to the backend means: the PATCH, and a summary for the log. */
export interface BackendPatch {
  rrsets: PdnsRrsetChange[];
  /** Changes that were already true of the backend (an add of a present record, a delete of an absent one). */
  alreadyApplied: number;
}

function changeRecord(change: SignerChange): BackendRecord {
  return { type: change.type, data: change.data, disabled: false } as BackendRecord;
}

/**
 * Applies the plan's adds and deletes to the current backend rrsets and returns the PATCH: a
 * REPLACE per changed type, or a DELETE when a type ends with no records. Types the plan does
 * not touch, and types whose records do not change, are not sent, so a repeated plan sends
 * nothing. Disabled records are kept unless the plan adds (enables) or deletes them.
 *
 * TTL: the TTL of the plan's adds for that type, else the rrset's current TTL. PowerDNS serves
 * DNSKEY (own and foreign) with the SOA minimum whatever is stored.
 *
 * Throws UnsafePlanError when the apex NS rrset would end up without an enabled record.
 */
export function buildPatch(
  zone: string,
  current: BackendApex,
  changes: readonly SignerChange[],
): BackendPatch {
  const name = normalizeName(zone);
  const rrsets: PdnsRrsetChange[] = [];
  let alreadyApplied = 0;
  for (const type of MANAGED_TYPES) {
    const forType = changes.filter((change) => change.type === type);
    if (forType.length === 0) continue;
    const existing = current[type];
    const records = new Map<string, BackendRecord>(
      (existing?.records ?? []).map((record) => [managedRecordIdentity(record), record]),
    );
    let changed = false;
    let ttl: number | undefined;
    for (const change of forType) {
      const record = changeRecord(change);
      const identity = managedRecordIdentity(record);
      const present = records.get(identity);
      if (change.action === 'add') {
        ttl ??= change.ttl;
        if (present && !present.disabled) {
          alreadyApplied += 1;
          continue;
        }
        records.set(identity, record);
        changed = true;
      } else {
        if (!present) {
          alreadyApplied += 1;
          continue;
        }
        records.delete(identity);
        changed = true;
      }
    }
    if (!changed) continue;
    const remaining = [...records.values()];
    if (type === 'NS' && !remaining.some((record) => !record.disabled))
      throw new UnsafePlanError(`the apex NS set of ${name} would be empty`);
    if (remaining.length === 0) {
      rrsets.push({ name, type, changetype: 'DELETE' });
      continue;
    }
    const payload: PdnsRecord[] = remaining.map((record) => ({
      content: formatContent(record),
      disabled: record.disabled,
    }));
    rrsets.push({
      name,
      type,
      changetype: 'REPLACE',
      ttl: ttl ?? existing?.ttl ?? forType[0]!.ttl,
      records: payload,
    });
  }
  return { rrsets, alreadyApplied };
}
