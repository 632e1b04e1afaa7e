/**
 * Data that thousands of zones hold identically (a process's step definitions, a signer's
 * registration, the zone timing): each zone's event parses its own copy, and a follower keeping
 * 10,000 zones would keep 10,000 copies. The fold keeps one, frozen, because it replaces such
 * data and never changes it in place.
 */
import type { SignerReference } from '@chorus/core';

/** Distinct values kept at most; the oldest goes first. */
const LIMIT = 512;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** One frozen copy per distinct JSON value. */
export class Interner {
  readonly #byJson = new Map<string, unknown>();

  constructor(readonly limit = LIMIT) {}

  of<T>(value: T): T {
    if (value === undefined || value === null || typeof value !== 'object') return value;
    const key = JSON.stringify(value);
    const known = this.#byJson.get(key);
    if (known !== undefined) return known as T;
    if (this.#byJson.size >= this.limit) this.#byJson.delete(this.#byJson.keys().next().value!);
    const kept = deepFreeze(structuredClone(value));
    this.#byJson.set(key, kept);
    return kept;
  }

  get size(): number {
    return this.#byJson.size;
  }
}

const shared = new Interner();

/** The one kept copy of `value` (plain JSON data), frozen. */
export function interned<T>(value: T): T {
  return shared.of(value);
}

/** A signer's registration with its zone-independent parts shared. */
export function internedRegistration<T extends Partial<SignerReference>>(signer: T): T {
  const copy = { ...signer };
  for (const field of ['nameServerNames', 'endpoints', 'rollover', 'limits'] as const)
    if (copy[field] !== undefined) (copy as Record<string, unknown>)[field] = interned(copy[field]);
  return copy;
}
