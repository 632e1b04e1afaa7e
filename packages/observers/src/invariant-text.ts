/** Small total helpers the invariant checks share: digests, key tags and times as text. */
import { createHash } from 'node:crypto';
import type { DnskeyData } from '@chorus/core';
import { keyTag } from '@chorus/dns';

/** A short digest of `parts`, for violation keys that must stay stable while a fault lasts. */
export function digestOf(parts: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 12);
}

/** The key tag, or -1 for junk a server served. */
export function safeTag(key: DnskeyData): number {
  try {
    return keyTag(key);
  } catch {
    return -1;
  }
}

export function unique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

/** Key tags as `1,2,3`, or `none`. */
export function tagsText(tags: Iterable<number>): string {
  const sorted = [...new Set(tags)].sort((a, b) => a - b);
  return sorted.length === 0 ? 'none' : sorted.join(',');
}

/** RFC 1982 serial time `value` (an RRSIG's inception or expiration) as an absolute time near `t`. */
export function absoluteTime(value: number, t: number): number {
  const now = Math.floor(t) >>> 0;
  const difference = ((value >>> 0) - now + 2 ** 32) % 2 ** 32;
  return Math.floor(t) + (difference >= 2 ** 31 ? difference - 2 ** 32 : difference);
}

export function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}
