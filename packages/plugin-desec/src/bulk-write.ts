/**
 * From a SignerPlan to one bulk write of the apex user RRsets. Pure: no I/O, so the unit tests
 * run it on recorded API responses.
 *
 * deSEC shows in the RRset API only what users wrote: the foreign DNSKEYs, the foreign
 * CDS/CDNSKEY, CSYNC and NS. Its own key and its own CDS/CDNSKEY are not user RRsets, so
 * replacing a user RRset can never remove them.
 */
import { UnsafePlanError, type SignerChange } from '@chorus/core';
import { managedRecordIdentity, normalizeName } from '@chorus/dns';
import type { RrsetWrite, UserApex } from './api.js';
import { MANAGED_TYPES, changeRecord, formatRecord, type ManagedRecord } from './records.js';

/** deSEC's largest TTL (`MAXIMUM_TTL`). */
export const MAXIMUM_TTL = 86_400;

/** A TTL deSEC accepts: raised to the domain's minimum, capped at one day. */
export function acceptedTtl(ttl: number, minimumTtl: number): number {
  return Math.min(MAXIMUM_TTL, Math.max(ttl, minimumTtl));
}

/** What applying a plan to the user RRsets means: the bulk write, and a summary for the log. */
export interface BulkWrite {
  /** One item per RRset whose records change; empty when the plan is already applied. */
  rrsets: RrsetWrite[];
  /** Changes that were already true (an add of a present record, a delete of an absent one). */
  alreadyApplied: number;
}

/** The records of one type after the plan's adds and deletes, and whether anything changed. */
function applyToType(
  existing: readonly ManagedRecord[],
  changes: readonly SignerChange[],
): { records: ManagedRecord[]; changed: boolean; alreadyApplied: number } {
  const records = new Map(existing.map((record) => [managedRecordIdentity(record), record]));
  let changed = false;
  let alreadyApplied = 0;
  for (const change of changes) {
    const record = changeRecord(change);
    const identity = managedRecordIdentity(record);
    const present = records.has(identity);
    if (change.action === 'add' ? present : !present) {
      alreadyApplied += 1;
      continue;
    }
    if (change.action === 'add') records.set(identity, record);
    else records.delete(identity);
    changed = true;
  }
  return { records: [...records.values()], changed, alreadyApplied };
}

/**
 * Applies the plan's adds and deletes to the current user RRsets and returns the bulk write:
 * for each changed type its whole new record list (`[]` deletes the RRset). Types the plan does
 * not touch, and types whose records do not change, are left out, so a repeated plan writes
 * nothing.
 *
 * TTL: the plan's TTL for that type's adds, else the RRset's current TTL, raised to the
 * domain's `minimum_ttl` and capped at 86400. (deSEC serves extra DNSKEY/CDS/CDNSKEY with the
 * TTL of its own, whatever is stored.)
 *
 * Throws UnsafePlanError when the apex NS RRset would end up empty.
 */
export function buildBulkWrite(
  zone: string,
  current: UserApex,
  changes: readonly SignerChange[],
  minimumTtl: number,
): BulkWrite {
  const rrsets: RrsetWrite[] = [];
  let alreadyApplied = 0;
  for (const type of MANAGED_TYPES) {
    const forType = changes.filter((change) => change.type === type);
    if (forType.length === 0) continue;
    const existing = current[type];
    const outcome = applyToType(existing?.records ?? [], forType);
    alreadyApplied += outcome.alreadyApplied;
    if (!outcome.changed) continue;
    if (type === 'NS' && outcome.records.length === 0)
      throw new UnsafePlanError(`the apex NS set of ${normalizeName(zone)} would be empty`);
    const ttl =
      forType.find((change) => change.action === 'add')?.ttl ?? existing?.ttl ?? forType[0]!.ttl;
    rrsets.push({
      subname: '',
      type,
      ttl: acceptedTtl(ttl, minimumTtl),
      records: outcome.records.map(formatRecord),
    });
  }
  return { rrsets, alreadyApplied };
}
