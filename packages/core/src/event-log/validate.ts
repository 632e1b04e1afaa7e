import { EventLogError, SecretInEventError } from '../errors/event-log-errors.js';

/**
 * Fragments that make an object key look like a secret. Keys are compared lower-cased with `_`,
 * `-` and `.` removed, and a key matches if it contains a fragment anywhere (`tsigSecret`,
 * `api_key`, `X-Auth-Token`, `privateKeyPem`…). It errs on the side of refusing.
 */
const SECRET_FRAGMENTS = [
  'secret',
  'password',
  'passphrase',
  'token',
  'apikey',
  'privatekey',
  'authorization',
] as const;

/** True when an object key looks like it names a secret. */
export function isSecretKey(key: string): boolean {
  const normalized = key.toLowerCase().replace(/[-_.]/g, '');
  return SECRET_FRAGMENTS.some((fragment) => normalized.includes(fragment));
}

/** Appends `key` to a JSON path: `.name` for identifiers, `["odd key"]` otherwise. */
function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/**
 * Throws {@link SecretInEventError} if `value` contains, at any depth, an object key that looks
 * like a secret (case-insensitive: secret, password, passphrase, token, apikey/api_key,
 * privatekey/private_key, tsigsecret, authorization). The error names the JSON path of the key,
 * never its value. `path` is the name of the root in that path (default `$`).
 */
export function assertNoSecrets(value: unknown, path = '$'): void {
  const seen = new WeakSet<object>();
  const walk = (node: unknown, at: string): void => {
    if (node === null || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    if (Array.isArray(node)) {
      node.forEach((item, index) => walk(item, childPath(at, index)));
      return;
    }
    for (const [key, child] of Object.entries(node)) {
      const keyPath = childPath(at, key);
      if (isSecretKey(key)) throw new SecretInEventError(keyPath);
      walk(child, keyPath);
    }
  };
  walk(value, path);
}

function invalid(message: string): EventLogError {
  return new EventLogError('invalid-argument', message);
}

/**
 * Throws EventLogError (`invalid-argument`) unless `value` is plain JSON that survives a
 * `JSON.stringify`/`JSON.parse` round trip unchanged: no undefined, functions, symbols, BigInt,
 * NaN or Infinity, sparse arrays, class instances (Date, Map, Buffer…) or cycles.
 */
export function assertPlainJson(value: unknown, path = '$'): void {
  const ancestors = new Set<object>();
  const walk = (node: unknown, at: string): void => {
    switch (typeof node) {
      case 'string':
      case 'boolean':
        return;
      case 'number':
        if (!Number.isFinite(node)) throw invalid(`${at} is ${node}, which JSON cannot represent`);
        return;
      case 'undefined':
      case 'function':
      case 'symbol':
      case 'bigint':
        throw invalid(`${at} is a ${typeof node}, which is not JSON`);
      case 'object':
        break;
    }
    if (node === null) return;
    if (ancestors.has(node)) throw invalid(`${at} is a circular reference`);
    ancestors.add(node);
    if (Array.isArray(node)) {
      for (let index = 0; index < node.length; index++) {
        if (!(index in node)) throw invalid(`${childPath(at, index)} is a hole in a sparse array`);
        walk(node[index], childPath(at, index));
      }
    } else {
      const prototype: unknown = Object.getPrototypeOf(node);
      if (prototype !== Object.prototype && prototype !== null) {
        const name = (node as { constructor?: { name?: unknown } }).constructor?.name;
        throw invalid(
          `${at} is a ${typeof name === 'string' ? name : 'class instance'}, not a plain object`,
        );
      }
      for (const [key, child] of Object.entries(node)) walk(child, childPath(at, key));
    }
    ancestors.delete(node);
  };
  walk(value, path);
}

/**
 * Most events one `append` may carry. Every backend refuses more the same way: the NATS backend
 * stores an append as one message and numbers its events inside it (see docs/event-log.md).
 */
export const MAX_EVENTS_PER_APPEND = 1024;

/** Checks every event of an append and returns their JSON bodies. */
export function serializeEvents(events: readonly unknown[]): string[] {
  if (!Array.isArray(events)) throw invalid('events must be an array');
  if (events.length === 0) throw invalid('events must not be empty');
  if (events.length > MAX_EVENTS_PER_APPEND)
    throw invalid(
      `an append carries at most ${MAX_EVENTS_PER_APPEND} events, got ${events.length}: split it`,
    );
  return events.map((event: unknown, index) => {
    const path = `events[${index}]`;
    assertNoSecrets(event, path);
    assertPlainJson(event, path);
    return JSON.stringify(event);
  });
}

/** Longest accepted stream or consumer name, in UTF-16 code units. */
export const MAX_NAME_LENGTH = 1024;

/** Throws unless `name` is a non-empty string without control characters. */
export function assertName(name: unknown, what: 'stream' | 'consumer' | 'streamPrefix'): string {
  if (typeof name !== 'string') throw invalid(`${what} must be a string, got ${typeof name}`);
  if (name.length === 0 && what !== 'streamPrefix') throw invalid(`${what} must not be empty`);
  if (name.length > MAX_NAME_LENGTH)
    throw invalid(`${what} is longer than ${MAX_NAME_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name))
    throw invalid(`${what} ${JSON.stringify(name)} contains a control character`);
  return name;
}

/** Throws unless `value` is an integer ≥ `min` (a safe integer). */
export function assertInteger(value: unknown, what: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    const shown = typeof value === 'number' ? String(value) : typeof value;
    throw invalid(`${what} must be an integer ≥ ${min}, got ${shown}`);
  }
  return value;
}

/** Validated options of readAll and subscriptions. */
export interface NormalizedReadAll {
  afterPosition: number;
  limit: number | undefined;
  streamPrefix: string | undefined;
}

/** Validates the options of `readAll`. */
export function normalizeReadAll(
  options: { afterPosition?: number; limit?: number; streamPrefix?: string } = {},
): NormalizedReadAll {
  const afterPosition =
    options.afterPosition === undefined
      ? 0
      : assertInteger(options.afterPosition, 'afterPosition', 0);
  const limit = options.limit === undefined ? undefined : assertInteger(options.limit, 'limit', 1);
  const prefix =
    options.streamPrefix === undefined
      ? undefined
      : assertName(options.streamPrefix, 'streamPrefix');
  return { afterPosition, limit, streamPrefix: prefix === '' ? undefined : prefix };
}

/** Validates the options of `readStream` and returns the first version to return. */
export function normalizeFromVersion(options: { fromVersion?: number } = {}): number {
  return options.fromVersion === undefined
    ? 1
    : Math.max(1, assertInteger(options.fromVersion, 'fromVersion', 0));
}

/**
 * Hands the error that stopped a subscription to its `onError`; without one, or when `onError`
 * itself throws, to `unhandled` (the backend's logger). Every backend reports the same way.
 */
export function reportSubscriptionError(
  onError: ((error: unknown) => void) | undefined,
  error: unknown,
  unhandled: (error: unknown) => void,
): void {
  if (onError === undefined) return unhandled(error);
  try {
    onError(error);
  } catch (thrown) {
    unhandled(thrown);
  }
}
