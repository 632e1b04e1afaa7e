/**
 * `Idempotency-Key` for the registrar's PUTs: the first answer to a key is kept (per account) and
 * replayed for the same key with the same request; the same key with another request is refused.
 * Pure: the clock is passed in. Kept in memory, so a restarted fake forgets its keys; the PUTs are
 * full-set replacements, so running one again changes nothing more.
 */
import { createHash } from 'node:crypto';

/** An answer as it is kept and replayed. */
export interface StoredAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type IdempotencyLookup =
  | { kind: 'new' }
  | { kind: 'replay'; answer: StoredAnswer }
  /** The key was used for another request (method, path or body). */
  | { kind: 'conflict' };

interface Entry {
  fingerprint: string;
  answer: StoredAnswer;
  storedAt: number;
}

/** Keys are 1 to 255 visible ASCII characters. */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/**
 * The `Idempotency-Key` header's value: undefined when absent, null when malformed (the API
 * answers 400).
 */
export function idempotencyKeyOf(header: string | string[] | undefined): string | undefined | null {
  if (header === undefined) return undefined;
  if (Array.isArray(header) || !KEY_PATTERN.test(header)) return null;
  return header;
}

/** JSON with object keys sorted at every level, so equal bodies give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const members = entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** What makes two requests the same: method, path and body (JSON compared canonically). */
export function requestFingerprint(method: string, path: string, bodyText: string): string {
  let body: string;
  try {
    body = canonicalJson(JSON.parse(bodyText === '' ? 'null' : bodyText));
  } catch {
    body = `raw:${bodyText}`;
  }
  return createHash('sha256').update(`${method} ${path}\n${body}`).digest('hex');
}

/**
 * Whether an answer is kept for its key: yes for what the request decided (2xx, 4xx), no for a
 * 429 or 5xx, after which a retry with the same key must run the request again.
 */
export function isKeptAnswer(status: number): boolean {
  return status >= 200 && status < 500 && status !== 429;
}

export interface IdempotencyStoreOptions {
  /** How long a key is remembered. */
  ttlMs: number;
  /** The oldest keys are forgotten beyond this many. Default 10 000. */
  maxEntries?: number;
}

/** First answers by account and key. */
export class IdempotencyStore {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  constructor(options: IdempotencyStoreOptions) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  get size(): number {
    return this.#entries.size;
  }

  lookup(account: string, key: string, fingerprint: string, now: number): IdempotencyLookup {
    this.#expire(now);
    const entry = this.#entries.get(`${account} ${key}`);
    if (entry === undefined) return { kind: 'new' };
    if (entry.fingerprint !== fingerprint) return { kind: 'conflict' };
    return { kind: 'replay', answer: entry.answer };
  }

  /** Keeps the first answer to the key (when `isKeptAnswer`); a later one never replaces it. */
  remember(
    account: string,
    key: string,
    fingerprint: string,
    answer: StoredAnswer,
    now: number,
  ): void {
    const id = `${account} ${key}`;
    if (!isKeptAnswer(answer.status) || this.#entries.has(id)) return;
    this.#entries.set(id, { fingerprint, answer, storedAt: now });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  #expire(now: number): void {
    for (const [id, entry] of this.#entries) {
      if (entry.storedAt > now - this.#ttlMs) break; // insertion order = age order
      this.#entries.delete(id);
    }
  }
}
