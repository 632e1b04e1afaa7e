/**
 * From a SignerPlan to NS1 writes. Pure: no I/O, so the unit tests run it on recorded answers.
 *
 * Foreign DNSKEYs live in one external key set (PUT to create, POST to modify, DELETE when it
 * becomes empty). CDS, CDNSKEY, NS and CSYNC are ordinary apex records, rewritten whole: PUT
 * when absent, POST when their answers change, DELETE when they end empty. Unchanged types are
 * not written, so a repeated plan sends no write at all.
 */
import {
  UnsafePlanError,
  UnsupportedCapabilityError,
  type DnskeyData,
  type SignerChange,
  type SignerPlan,
  type Warning,
} from '@chorus/core';
import { dnskeyIdentity, keyTag, managedRecordIdentity } from '@chorus/dns';
import type { ApexRecord, RecordType } from './answers.js';
import type { ExternalKeySet, Ns1Record } from './responses.js';

/** The only DNSSEC algorithm NS1 signs with and accepts in external key sets. */
export const NS1_ALGORITHM = 13;

export type KeySetWrite =
  { method: 'PUT' | 'POST'; ttl: number; keys: DnskeyData[] } | { method: 'DELETE' };

export type RecordWrite =
  { method: 'PUT' | 'POST'; ttl: number; records: ApexRecord[] } | { method: 'DELETE' };

export interface Planned<W> {
  /** Undefined when nothing has to be written. */
  write: W | undefined;
  /** Changes that were already true (an add of a present record, a delete of an absent one). */
  alreadyApplied: number;
  warnings: Warning[];
}

/**
 * Refuses, before any call, a foreign DNSKEY of an algorithm NS1 does not accept: it would be
 * stored, and resolvers could fail to validate (NS1: "other algorithm values can produce
 * validation failures").
 */
export function refuseUnsupportedAlgorithms(signerId: string, plan: SignerPlan): void {
  for (const change of plan.changes) {
    if (change.type !== 'DNSKEY' || change.action !== 'add') continue;
    if (change.data.algorithm === NS1_ALGORITHM) continue;
    throw new UnsupportedCapabilityError({
      capability: 'dnskey-import-foreign',
      signerId,
      reason: `NS1 accepts only algorithm ${NS1_ALGORITHM} (ECDSAP256SHA256) in external key sets; the plan adds DNSKEY ${keyTag(change.data)} of algorithm ${change.data.algorithm}`,
    });
  }
}

type DnskeyChange = Extract<SignerChange, { data: DnskeyData }>;

function dnskeyChangesOf(changes: readonly SignerChange[]): DnskeyChange[] {
  return changes.filter((change): change is DnskeyChange => change.type === 'DNSKEY');
}

/** A test of whether a set of identities equals `initial` (the order does not matter). */
function sameSet(initial: readonly string[]): (identities: Iterable<string>) => boolean {
  const start = new Set(initial);
  return (identities) => {
    const now = new Set(identities);
    return now.size === start.size && [...now].every((identity) => start.has(identity));
  };
}

/** The TTL of the first add, if any. */
function addTtl(changes: readonly SignerChange[]): number | undefined {
  return changes.find((change) => change.action === 'add')?.ttl;
}

/**
 * The write of the external key set `name` for the plan's DNSKEY changes. A key that another
 * key set already holds counts as present; deleting one is not Chorus's to do (a warning).
 */
export function planKeySet(
  name: string,
  sets: readonly ExternalKeySet[],
  changes: readonly SignerChange[],
): Planned<KeySetWrite> {
  const dnskeyChanges = dnskeyChangesOf(changes);
  const own = sets.find((set) => set.name === name);
  const elsewhere = new Map(
    sets
      .filter((set) => set.name !== name)
      .flatMap((set) => set.keys.map((key) => [dnskeyIdentity(key), set.name] as const)),
  );
  const keys = new Map((own?.keys ?? []).map((key) => [dnskeyIdentity(key), key]));
  const before = sameSet([...keys.keys()]);
  const warnings: Warning[] = [];
  let alreadyApplied = 0;
  for (const change of dnskeyChanges) {
    const identity = dnskeyIdentity(change.data);
    const present = keys.has(identity) || elsewhere.has(identity);
    if (change.action === 'add' ? present : !keys.has(identity)) {
      alreadyApplied += 1;
      if (change.action === 'delete' && elsewhere.has(identity))
        warnings.push({
          type: 'other',
          message: `DNSKEY ${keyTag(change.data)} is in the external key set "${elsewhere.get(identity)}", which Chorus does not manage; left in place`,
        });
      continue;
    }
    if (change.action === 'add') keys.set(identity, change.data);
    else keys.delete(identity);
  }
  if (before(keys.keys())) return { write: undefined, alreadyApplied, warnings };
  if (keys.size === 0) return { write: { method: 'DELETE' }, alreadyApplied, warnings };
  const ttl = addTtl(dnskeyChanges) ?? own?.ttl ?? dnskeyChanges[0]!.ttl;
  return {
    write: { method: own ? 'POST' : 'PUT', ttl, keys: [...keys.values()] },
    alreadyApplied,
    warnings,
  };
}

/**
 * The write of one apex record for the plan's changes of its type. `required` (the CDS/CDNSKEY of
 * NS1's own KSK) is always kept, and added when missing. `fallbackTtl` is used for a record that
 * the plan does not add to and that does not exist yet.
 *
 * Throws UnsafePlanError when the apex NS record would end empty.
 */
export function planRecord(
  zone: string,
  type: RecordType,
  current: Ns1Record | undefined,
  changes: readonly SignerChange[],
  required: readonly ApexRecord[],
  fallbackTtl: number,
): Planned<RecordWrite> {
  const forType = changes.filter((change) => change.type === type);
  const records = new Map(
    (current?.records ?? []).map((record) => [managedRecordIdentity(record), record]),
  );
  const before = sameSet([...records.keys()]);
  let alreadyApplied = 0;
  for (const change of forType) {
    const record = { type: change.type, data: change.data } as ApexRecord;
    const identity = managedRecordIdentity(record);
    if (change.action === 'add' ? records.has(identity) : !records.has(identity)) {
      alreadyApplied += 1;
      continue;
    }
    if (change.action === 'add') records.set(identity, record);
    else records.delete(identity);
  }
  for (const record of required) records.set(managedRecordIdentity(record), record);
  const none = { write: undefined, alreadyApplied, warnings: [] };
  if (before(records.keys())) return none;
  if (records.size === 0) {
    if (type === 'NS') throw new UnsafePlanError(`the apex NS set of ${zone} would be empty`);
    return current ? { ...none, write: { method: 'DELETE' } } : none;
  }
  const ttl = addTtl(forType) ?? current?.ttl ?? fallbackTtl;
  return {
    ...none,
    write: { method: current ? 'POST' : 'PUT', ttl, records: [...records.values()] },
  };
}
