/**
 * deSEC's write semantics (provider-apis.md §1.3 "Bulk semantics"), as a pure plan: validate
 * every item, then turn the request into backend changes for ONE PATCH (deletions first) and the
 * RRsets to return. Any error → the aligned error list, and nothing is written.
 */
import type { BackendChange } from '../powerdns-backend.js';
import { rrsetKey, type DesecRrset, type FieldErrors } from './types.js';
import { validateRrset, type RrsetWrite, type WriteMode } from './validation.js';

export interface PlanContext {
  mode: WriteMode;
  bulk: boolean;
  zone: string;
  minimumTtl: number;
  /** The domain's RRsets now, by `rrsetKey`. */
  existing: ReadonlyMap<string, DesecRrset>;
  fixedKey?: { subname: string; type: string };
}

export interface WritePlan {
  /** Deletions first, then replacements. */
  changes: BackendChange[];
  /** The created or updated RRsets, in request order. */
  results: DesecRrset[];
  /** Keys of deleted RRsets. */
  deleted: string[];
}

export type PlanResult = { plan: WritePlan } | { errors: FieldErrors[] };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const CONFLICT =
  'Another RRset with the same subdomain and type exists for this domain. (Try modifying it.)';

/** Positions of every other item with the same (subname, type). */
function duplicateErrors(items: readonly unknown[], errors: FieldErrors[]): void {
  const positions = new Map<string, number[]>();
  items.forEach((item, index) => {
    if (!isObject(item) || typeof item.subname !== 'string' || typeof item.type !== 'string')
      return;
    const key = rrsetKey(item.subname, item.type);
    positions.set(key, [...(positions.get(key) ?? []), index]);
  });
  for (const indices of positions.values()) {
    if (indices.length < 2) continue;
    for (const index of indices) {
      const others = indices.filter((other) => other !== index).join(', ');
      const entry = (errors[index] ??= {});
      entry.non_field_errors = [
        ...(entry.non_field_errors ?? []),
        `Same subname and type as in position(s) ${others}, but must be unique.`,
      ];
    }
  }
}

function ownerName(subname: string, zone: string): string {
  return subname ? `${subname}.${zone}.` : `${zone}.`;
}

/** The RRset after `write`, or undefined when it deletes or does nothing. */
function resulting(write: RrsetWrite, current: DesecRrset | undefined): DesecRrset | undefined {
  const records = write.records ?? current?.records ?? [];
  if (records.length === 0) return undefined;
  const ttl = write.ttl ?? current?.ttl;
  if (ttl === undefined) return undefined;
  return { subname: write.subname, type: write.type, ttl, records };
}

/** Plans a write request: `items` is the list (bulk) or a one-item list (single object). */
export function planWrites(items: readonly unknown[], context: PlanContext): PlanResult {
  const exists = (subname: string, type: string) => context.existing.has(rrsetKey(subname, type));
  const errors: FieldErrors[] = items.map(() => ({}));
  const writes: (RrsetWrite | undefined)[] = items.map((item, index) => {
    const result = validateRrset(item, { ...context, exists });
    if ('errors' in result) {
      errors[index] = result.errors;
      return undefined;
    }
    if (context.mode === 'POST' && exists(result.write.subname, result.write.type)) {
      errors[index] = { non_field_errors: [CONFLICT] };
      return undefined;
    }
    return result.write;
  });
  if (context.bulk) duplicateErrors(items, errors);
  if (errors.some((entry) => Object.keys(entry).length > 0)) return { errors };
  const plan: WritePlan = { changes: [], results: [], deleted: [] };
  const replacements: BackendChange[] = [];
  for (const write of writes) {
    if (write === undefined) continue;
    const key = rrsetKey(write.subname, write.type);
    const current = context.existing.get(key);
    const after = resulting(write, current);
    const name = ownerName(write.subname, context.zone);
    if (after === undefined) {
      if (current === undefined) continue; // unknown and empty: nothing to do
      plan.deleted.push(key);
      plan.changes.push({ name, type: write.type, changetype: 'DELETE' });
      continue;
    }
    plan.results.push(after);
    replacements.push({
      name,
      type: write.type,
      changetype: 'REPLACE',
      ttl: after.ttl,
      records: after.records.map((content) => ({ content, disabled: false })),
    });
  }
  plan.changes.push(...replacements);
  return { plan };
}
