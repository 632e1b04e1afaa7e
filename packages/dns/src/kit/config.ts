/**
 * Declarative validation of plain-JSON plugin and sidecar configuration. A schema is a tree of
 * fields; each field checks one value and throws ConfigError naming the key (`server.port`,
 * `nameServers[1].address`) and the source (`bind plugin configuration`). Objects refuse
 * unknown keys, so a typo or an inline secret never passes silently.
 *
 * @example
 * const schema = object({ id: signerId(), server: endpoint({ defaultPort: 53 }), tsigKeyFile: filePath({ mustExist: true }) });
 * const config = validateConfig(schema, raw, { source: 'nsd plugin configuration', checkFiles: true });
 */
import { accessSync, constants } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { ConfigError } from '@chorus/core';
import { parseZoneName } from '../names.js';

/** Where a value sits: the configuration's source, its key path, and whether files are checked. */
export interface ConfigScope {
  readonly source: string;
  readonly key: string;
  /** Check that files marked `mustExist` are readable (at start-up, not in pure parsing). */
  readonly checkFiles: boolean;
}

/** Validates one value. An optional field carries `optional: true` and may return undefined. */
export interface Field<T> {
  (value: unknown, scope: ConfigScope): T;
  readonly optional?: boolean;
}

export interface OptionalField<T> extends Field<T | undefined> {
  readonly optional: true;
}

type Shape = Record<string, Field<unknown>>;
type ValueOf<F> = F extends Field<infer T> ? T : never;
type OptionalKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends OptionalField<unknown> ? K : never;
}[keyof S];

/** The parsed form of an object schema: optional fields become optional properties. */
export type ConfigOf<S extends Shape> = {
  [K in Exclude<keyof S, OptionalKeys<S>>]: ValueOf<S[K]>;
} & { [K in OptionalKeys<S>]?: Exclude<ValueOf<S[K]>, undefined> };

export function failConfig(scope: Pick<ConfigScope, 'source' | 'key'>, problem: string): never {
  throw new ConfigError({ key: scope.key || '(root)', problem, source: scope.source });
}

/** A short description of a bad value, never more than its type and (for strings) its text. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `the string ${JSON.stringify(value)}` : `a ${typeof value}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function child(scope: ConfigScope, key: string): ConfigScope {
  return { ...scope, key: scope.key ? `${scope.key}.${key}` : key };
}

/** Runs a schema on raw input. Throws ConfigError naming the key and `source`. */
export function validateConfig<T>(
  schema: Field<T>,
  raw: unknown,
  options: { source: string; checkFiles?: boolean },
): T {
  return schema(raw, { source: options.source, key: '', checkFiles: options.checkFiles ?? false });
}

/** Parses a plugin's raw configuration; `checkFiles` at start-up, not in pure parsing. */
export type ConfigParser<T> = (raw: unknown, options?: { checkFiles?: boolean }) => T;

/**
 * A plugin's `parseConfig`: the schema, the source named in every error, and an optional last
 * step (defaults that depend on other keys, checks across keys).
 */
export function configParser<S, T = S>(
  schema: Field<S>,
  source: string,
  finish: (parsed: S) => T = (parsed) => parsed as unknown as T,
): ConfigParser<T> {
  return (raw, options = {}) => finish(validateConfig(schema, raw, { source, ...options }));
}

/** Makes a field optional: absent (undefined) stays absent. */
export function optional<T>(field: Field<T>): OptionalField<T> {
  const wrapped = (value: unknown, scope: ConfigScope) =>
    value === undefined ? undefined : field(value, scope);
  return Object.assign(wrapped, { optional: true as const });
}

/** Fills in `fallback` when the value is absent. */
export function withDefault<T>(field: Field<T>, fallback: T): Field<T> {
  return (value, scope) => (value === undefined ? fallback : field(value, scope));
}

export interface ObjectOptions {
  /** Said when an unknown key looks like a secret, e.g. `secrets are configured only as file paths: tsigKeyFile`. */
  secretHint?: string;
}

/**
 * An object with exactly these keys. Unknown keys are refused, naming the known ones (or the
 * secret hint when the key looks like a secret). Absent optional keys are left out.
 */
export function object<S extends Shape>(shape: S, options: ObjectOptions = {}): Field<ConfigOf<S>> {
  const known = Object.keys(shape);
  return (value, scope) => {
    if (value === undefined) failConfig(scope, 'is required and must be an object, got nothing');
    if (!isPlainObject(value)) failConfig(scope, `must be an object, got ${describeValue(value)}`);
    rejectUnknownKeys(value, known, scope, options.secretHint);
    const result: Record<string, unknown> = {};
    for (const key of known) {
      const parsed = shape[key]!(value[key], child(scope, key));
      if (parsed !== undefined) result[key] = parsed;
    }
    return result as ConfigOf<S>;
  };
}

function rejectUnknownKeys(
  value: Record<string, unknown>,
  known: readonly string[],
  scope: ConfigScope,
  secretHint: string | undefined,
): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const hint =
      secretHint && /secret|password|token|apikey$/i.test(key)
        ? secretHint
        : `known keys: ${known.join(', ')}`;
    failConfig(child(scope, key), `is not a known setting (${hint})`);
  }
}

/** A non-empty list of items, each validated by `item` under `key[index]`. */
export function list<T>(item: Field<T>, options: { hint?: string } = {}): Field<T[]> {
  return (value, scope) => {
    if (!Array.isArray(value) || value.length === 0)
      failConfig(
        scope,
        `must be a non-empty list${options.hint ? ` of ${options.hint}` : ''}, got ${describeValue(value)}`,
      );
    return value.map((entry, index) => item(entry, { ...scope, key: `${scope.key}[${index}]` }));
  };
}

/** A non-empty string, optionally matching `pattern` (described by `hint`). */
export function text(options: { pattern?: RegExp; hint?: string } = {}): Field<string> {
  return (value, scope) => {
    if (typeof value !== 'string' || value.trim() === '')
      failConfig(
        scope,
        `must be a non-empty string${options.hint ? ` of ${options.hint}` : ''}, got ${describeValue(value)}`,
      );
    if (options.pattern && !options.pattern.test(value))
      failConfig(
        scope,
        `must be ${options.hint ?? `like ${String(options.pattern)}`}, got ${JSON.stringify(value)}`,
      );
    return value;
  };
}

/** One of a few literal strings. */
export function oneOf<const T extends string>(values: readonly T[]): Field<T> {
  return (value, scope) => {
    if (typeof value !== 'string' || !values.includes(value as T))
      failConfig(
        scope,
        `must be ${values.map((entry) => JSON.stringify(entry)).join(' or ')}, got ${describeValue(value)}`,
      );
    return value as T;
  };
}

/** An integer from `min` to `max`; `unit` (e.g. `milliseconds`) goes into the message. */
export function integer(options: { min: number; max: number; unit?: string }): Field<number> {
  return (value, scope) => {
    if (
      typeof value !== 'number' ||
      !Number.isInteger(value) ||
      value < options.min ||
      value > options.max
    )
      failConfig(
        scope,
        `must be an integer${options.unit ? ` of ${options.unit}` : ''} from ${options.min} to ${options.max}, got ${describeValue(value)}`,
      );
    return value;
  };
}

/** A TCP/UDP port, 1 to 65535. */
export function port(): Field<number> {
  return (value, scope) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535)
      failConfig(scope, `must be an integer port from 1 to 65535, got ${describeValue(value)}`);
    return value;
  };
}

/** An IPv4 or IPv6 address literal (no host names: nothing is resolved at start-up). */
export function ipAddress(): Field<string> {
  return (value, scope) => {
    if (typeof value !== 'string' || isIP(value) === 0)
      failConfig(scope, `must be an IPv4 or IPv6 address literal, got ${describeValue(value)}`);
    return value;
  };
}

export interface ApiUrlOptions {
  /** The path, trailing slashes removed, must match this, e.g. `/\/api\/v1$/`. */
  path: RegExp;
  /** What the path should look like, for the error, e.g. `/api/v1/ (e.g. https://desec.io/api/v1/)`. */
  pathHint: string;
  /** Where the secret goes instead of the URL, for the error. */
  secretHint: string;
  /** Plain http only on a loopback address: a token sent to a SaaS must not travel in clear. */
  httpsUnlessLoopback?: boolean;
  /** Normalise to a trailing slash (`…/v1/`) instead of none. */
  trailingSlash?: boolean;
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * An HTTP API's base URL: http or https (`httpsUnlessLoopback`: https, or http on loopback), no
 * credentials, no query or fragment, a path that matches `path`. Returned normalised.
 */
export function apiUrl(options: ApiUrlOptions): Field<string> {
  return (value, scope) => {
    const raw = text()(value, scope);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      failConfig(scope, `is not a URL: ${JSON.stringify(raw)}`);
    }
    const plainAllowed = !options.httpsUnlessLoopback || isLoopbackHost(url.hostname);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && plainAllowed))
      failConfig(
        scope,
        options.httpsUnlessLoopback
          ? `must use https (http only on a loopback address): the secret would travel in clear, got ${url.protocol}//${url.host}`
          : `must use http or https, got ${url.protocol}`,
      );
    if (url.username !== '' || url.password !== '')
      failConfig(scope, `must not contain credentials; ${options.secretHint}`);
    if (url.search !== '' || url.hash !== '')
      failConfig(scope, 'must not have a query string or a fragment');
    const path = url.pathname.replace(/\/+$/, '');
    if (!options.path.test(path))
      failConfig(
        scope,
        `must end with ${options.pathHint}, got path ${JSON.stringify(url.pathname)}`,
      );
    return `${url.origin}${path}${options.trailingSlash ? '/' : ''}`;
  };
}

/** A request time limit in milliseconds, from 100 ms to 10 minutes, with the plugin's default. */
export function timeoutMs(defaultMs: number): Field<number> {
  return withDefault(integer({ min: 100, max: 600_000, unit: 'milliseconds' }), defaultMs);
}

/**
 * The finishing step of a plugin whose config has `server` and optional `nameServers`: the
 * servers the post-conditions ask are `nameServers`, or the one `server`.
 */
export function withNameServers<
  T extends { server: { address: string; port?: number }; nameServers?: unknown[] | undefined },
>(
  parsed: T,
): Omit<T, 'nameServers'> & { nameServers: NonNullable<T['nameServers']> | T['server'][] } {
  return { ...parsed, nameServers: parsed.nameServers ?? [parsed.server] };
}

/** `{ address, port? }`; with `defaultPort` the port is filled in. */
export function endpoint(options: {
  defaultPort: number;
}): Field<{ address: string; port: number }>;
export function endpoint(): Field<{ address: string; port?: number }>;
export function endpoint(
  options: { defaultPort?: number } = {},
): Field<{ address: string; port?: number }> {
  const schema = object({ address: ipAddress(), port: optional(port()) });
  return (value, scope) => {
    const parsed = schema(value, scope);
    const chosen = parsed.port ?? options.defaultPort;
    return chosen === undefined
      ? { address: parsed.address }
      : { address: parsed.address, port: chosen };
  };
}

/**
 * An absolute domain name in normal form (`example.test.`). Refuses spaces, `;` and anything
 * else a zone file would read as more than one name.
 */
export function dnsName(): Field<string> {
  return (value, scope) => {
    const name = text()(value, scope);
    try {
      return parseZoneName(name);
    } catch (error) {
      return failConfig(scope, (error as Error).message);
    }
  };
}

/** The instance id of a signer: letters, digits, dots, dashes, underscores. */
export function signerId(options: { lowerCaseOnly?: boolean } = {}): Field<string> {
  return options.lowerCaseOnly
    ? text({ pattern: /^[a-z0-9][a-z0-9-]*$/, hint: 'lower-case letters, digits and dashes' })
    : text({
        pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
        hint: 'letters, digits, dots, dashes or underscores',
      });
}

/**
 * An absolute file path. With `mustExist`, and when the scope checks files (at start-up), the
 * file must be readable: a missing key or secret file is a ConfigError naming the key.
 */
export function filePath(options: { mustExist?: boolean } = {}): Field<string> {
  return (value, scope) => {
    const file = text()(value, scope);
    if (!path.isAbsolute(file))
      failConfig(scope, `must be an absolute file path, got ${JSON.stringify(file)}`);
    if (options.mustExist && scope.checkFiles) assertReadable(file, scope);
    return file;
  };
}

function assertReadable(file: string, scope: ConfigScope): void {
  try {
    accessSync(file, constants.R_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    failConfig(scope, `cannot read ${file} (${code})`);
  }
}
