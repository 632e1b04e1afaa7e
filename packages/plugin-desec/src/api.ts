/**
 * The deSEC REST API (https://desec.io/api/v1/), on the kit's HTTP client. The only file of
 * this plugin that talks HTTP: every failure leaves it as a typed error (AbortError,
 * ApiCallError, ConfigError).
 *
 * The token is read from the configured file at every call and sent as `Authorization: Token …`;
 * it never appears in a log line, an error message or a URL.
 */
import { readFile } from 'node:fs/promises';
import { ApiCallError, ConfigError, type ChangeRecordType, type DnskeyData } from '@chorus/core';
import {
  HttpClient,
  canonicalName,
  isPlainObject,
  normalizeName,
  parseRdata,
  type HttpResponse,
} from '@chorus/dns';
import type { Logger } from 'pino';
import { CONFIG_SOURCE } from './config.js';
import { isManagedType, parseRecord, type ManagedRecord } from './records.js';

/** One entry of a domain's `keys`. */
export interface DesecKey {
  dnskey: DnskeyData;
  /** `csk`, `ksk` or `zsk` for deSEC's own keys (deprecated field); null for user-added keys. */
  keytype: string | null;
  /** True for deSEC's own keys, false for the user DNSKEY RRset's keys. */
  managed: boolean;
}

/** The fields of `GET /domains/{name}/` this plugin reads. */
export interface DesecDomain {
  name: string;
  /** No RRset of the domain may have a lower TTL. */
  minimumTtl: number;
  keys: DesecKey[];
}

/** A user RRset at the apex, of a type Chorus manages. */
export interface ApexRrset {
  type: ChangeRecordType;
  ttl: number;
  records: ManagedRecord[];
}

/** The user RRsets at the apex, by type; a type without an RRset is absent. */
export type UserApex = Partial<Record<ChangeRecordType, ApexRrset>>;

/** One RRset as the RRset list shows it; records in presentation format. */
export interface DesecRrset {
  subname: string;
  type: string;
  ttl: number;
  records: string[];
}

/** One item of a bulk write: the RRset's whole new record list; `records: []` deletes it. */
export interface RrsetWrite {
  subname: '';
  type: ChangeRecordType;
  ttl: number;
  records: string[];
}

export interface RequestOptions {
  signal?: AbortSignal | undefined;
}

export interface DesecApiOptions {
  /** e.g. `https://desec.io/api/v1`, without a trailing slash. */
  url: string;
  tokenFile: string;
  timeoutMs: number;
  logger: Logger;
}

// ---------------------------------------------------------------------------------------------
// Response parsers. Pure; exported for the unit tests. They throw TypeError naming what was
// expected, which the HTTP client reports as a non-retryable "unexpected response".

function parseKey(entry: unknown): DesecKey {
  if (!isPlainObject(entry) || typeof entry.dnskey !== 'string')
    throw new TypeError('keys of { dnskey, managed, … }');
  if (typeof entry.managed !== 'boolean') throw new TypeError('keys[].managed as a boolean');
  if (entry.keytype !== undefined && entry.keytype !== null && typeof entry.keytype !== 'string')
    throw new TypeError('keys[].keytype as a string or null');
  let dnskey: DnskeyData;
  try {
    dnskey = parseRdata('DNSKEY', entry.dnskey) as DnskeyData;
  } catch {
    throw new TypeError(
      `keys[].dnskey in presentation format, got ${JSON.stringify(entry.dnskey)}`,
    );
  }
  return { dnskey, keytype: entry.keytype ?? null, managed: entry.managed };
}

/** Parses `GET /domains/{name}/`. */
export function parseDomainResponse(body: unknown): DesecDomain {
  if (!isPlainObject(body) || typeof body.name !== 'string')
    throw new TypeError('a domain object with a name');
  if (typeof body.minimum_ttl !== 'number' || !Number.isInteger(body.minimum_ttl))
    throw new TypeError('minimum_ttl as an integer');
  if (!Array.isArray(body.keys)) throw new TypeError('keys as an array');
  return {
    name: body.name,
    minimumTtl: body.minimum_ttl,
    keys: (body.keys as unknown[]).map(parseKey),
  };
}

/** Parses a list of RRsets (`GET /domains/{name}/rrsets/`, one page). Types in upper case. */
export function parseRrsetList(body: unknown): DesecRrset[] {
  if (!Array.isArray(body)) throw new TypeError('an array of RRsets');
  return (body as unknown[]).map((entry) => {
    if (
      !isPlainObject(entry) ||
      typeof entry.subname !== 'string' ||
      typeof entry.type !== 'string' ||
      typeof entry.ttl !== 'number' ||
      !Array.isArray(entry.records) ||
      !(entry.records as unknown[]).every((record) => typeof record === 'string')
    )
      throw new TypeError('RRsets of { subname, type, ttl, records: string[] }');
    return {
      subname: entry.subname,
      type: entry.type.toUpperCase(),
      ttl: entry.ttl,
      records: entry.records as string[],
    };
  });
}

/**
 * Parses `GET /domains/{name}/rrsets/?subname=`: keeps the apex RRsets of the managed types,
 * with their records parsed.
 */
export function parseApexResponse(body: unknown, zone: string): UserApex {
  const apex: UserApex = {};
  for (const rrset of parseRrsetList(body)) {
    const type = rrset.type;
    if (rrset.subname !== '' || !isManagedType(type)) continue;
    const records = rrset.records.map((record) => parseRecord(type, record, zone));
    if (records.length > 0) apex[type] = { type, ttl: rrset.ttl, records };
  }
  return apex;
}

/**
 * The `cursor` of the `rel="next"` link of a `Link` header (deSEC's cursor pagination), or
 * undefined on the last page. Only the cursor is taken: the token never goes to a linked host.
 */
export function nextCursor(link: string | null): string | undefined {
  for (const part of (link ?? '').split(',')) {
    const match = /<([^>]*)>\s*;\s*rel="?next"?/i.exec(part);
    if (!match) continue;
    const cursor = URL.canParse(match[1]!) ? new URL(match[1]!).searchParams.get('cursor') : null;
    if (cursor === null) throw new TypeError('a next link with a cursor');
    return cursor;
  }
  return undefined;
}

/** A DRF error value (`["msg"]`, `{"field": ["msg"]}`, nested) as one line. */
function flattenErrors(value: unknown, prefix = ''): string[] {
  const label = (text: string) => (prefix === '' ? text : `${prefix}: ${text}`);
  if (typeof value === 'string') return [label(value)];
  if (Array.isArray(value)) return value.flatMap((item) => flattenErrors(item, prefix));
  if (isPlainObject(value))
    return Object.entries(value).flatMap(([key, item]) =>
      flattenErrors(
        item,
        key === 'non_field_errors' || key === 'detail' ? prefix : prefix ? `${prefix}.${key}` : key,
      ),
    );
  return value === null || value === undefined ? [] : [label(JSON.stringify(value))];
}

/**
 * The readable text of a deSEC error body: `{"detail": "…"}` gives the detail, a field dict
 * gives `field: message`, and a bulk error (a list aligned with the request, `{}` for items
 * that passed) gives `item N: field: message` for the items that failed (N from 1).
 */
export function errorText(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body;
  }
  if (Array.isArray(parsed)) {
    const items = parsed.flatMap((item, index) =>
      flattenErrors(item).map((text) => `item ${index + 1}: ${text}`),
    );
    return items.length > 0 ? items.join('; ') : body;
  }
  const lines = flattenErrors(parsed);
  return lines.length > 0 ? lines.join('; ') : body;
}

/** The API path of a domain: its name without the trailing dot, lower-case. */
export function domainPath(zone: string): string {
  const name = canonicalName(normalizeName(zone)).replace(/\.$/, '');
  return `/domains/${encodeURIComponent(name)}/`;
}

/** A client of the deSEC API for one account (one token). */
export class DesecApi {
  readonly url: string;
  readonly #tokenFile: string;
  readonly #http: HttpClient;

  constructor(options: DesecApiOptions) {
    this.url = options.url;
    this.#tokenFile = options.tokenFile;
    this.#http = new HttpClient({
      baseUrl: options.url,
      timeoutMs: options.timeoutMs,
      headers: async () => ({ Authorization: `Token ${await this.#token()}` }),
      errorText,
      logger: options.logger,
    });
  }

  /** `GET /domains/{name}/`: the domain with its keys and minimum TTL (404 when not owned). */
  async getDomain(zone: string, options: RequestOptions): Promise<DesecDomain> {
    return this.#explained('GET', () =>
      this.#http.json(
        { method: 'GET', path: domainPath(zone), signal: options.signal },
        parseDomainResponse,
      ),
    );
  }

  /** `GET /domains/{name}/rrsets/?subname=`: every user RRset at the apex, in one request. */
  async getApexRrsets(zone: string, options: RequestOptions): Promise<UserApex> {
    return this.#explained('GET', () =>
      this.#http.json(
        {
          method: 'GET',
          path: `${domainPath(zone)}rrsets/`,
          query: { subname: '' },
          signal: options.signal,
        },
        (body) => parseApexResponse(body, zone),
      ),
    );
  }

  /**
   * `GET /domains/{name}/rrsets/?cursor=…`: every RRset of the domain, page by page (deSEC pages
   * lists of more than 500; `cursor=` asks for the first page, whatever the size).
   */
  async listRrsets(zone: string, options: RequestOptions): Promise<DesecRrset[]> {
    const rrsets: DesecRrset[] = [];
    const seen = new Set<string>();
    for (let cursor: string | undefined = ''; cursor !== undefined;) {
      seen.add(cursor);
      const page = await this.#rrsetPage(zone, cursor, seen, options.signal);
      rrsets.push(...page.rrsets);
      cursor = page.next;
    }
    return rrsets;
  }

  /** One page; `seen` holds the cursors already asked for, so a looping link is refused. */
  async #rrsetPage(
    zone: string,
    cursor: string,
    seen: ReadonlySet<string>,
    signal: AbortSignal | undefined,
  ): Promise<{ rrsets: DesecRrset[]; next: string | undefined }> {
    const request = {
      method: 'GET' as const,
      path: `${domainPath(zone)}rrsets/`,
      query: { cursor },
      signal,
    };
    const response = await this.#explained('GET', () => this.#http.request(request));
    return parsedOrUnexpected(response, () => {
      const next = nextCursor(response.headers.get('link'));
      if (next !== undefined && seen.has(next)) throw new TypeError('a next link not seen before');
      return { rrsets: parseRrsetList(JSON.parse(response.text)), next };
    });
  }

  /**
   * `PATCH /domains/{name}/rrsets/` with a list: one atomic bulk write (all or nothing, one
   * request against the per-domain write quota). A 400 names the refused items by type.
   */
  async patchRrsets(
    zone: string,
    rrsets: readonly RrsetWrite[],
    options: RequestOptions,
  ): Promise<void> {
    try {
      await this.#explained('PATCH', () =>
        this.#http.request({
          method: 'PATCH',
          path: `${domainPath(zone)}rrsets/`,
          body: rrsets,
          signal: options.signal,
        }),
      );
    } catch (error) {
      if (ApiCallError.isInstance(error) && error.statusCode === 400)
        throw withBody(
          error,
          'PATCH',
          `the bulk write was refused: ${itemsByType(error.responseBody, rrsets)}`,
        );
      throw error;
    }
  }

  /** Adds to a 401/403 which token was refused (the file, never the token). */
  async #explained<T>(method: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (ApiCallError.isInstance(error) && (error.statusCode === 401 || error.statusCode === 403))
        throw withBody(
          error,
          method,
          `${error.responseBody} — ${
            error.statusCode === 401
              ? `the token in ${this.#tokenFile} (api.tokenFile) was refused: it may be wrong, expired, or not allowed from this address`
              : `the token in ${this.#tokenFile} (api.tokenFile) may not do this: check its permissions and policies`
          }`,
        );
      throw error;
    }
  }

  async #token(): Promise<string> {
    let token: string;
    try {
      token = (await readFile(this.#tokenFile, 'utf8')).trim();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new ConfigError({
        key: 'api.tokenFile',
        problem: `cannot read ${this.#tokenFile}${typeof code === 'string' ? ` (${code})` : ''}`,
        source: CONFIG_SOURCE,
      });
    }
    if (token === '' || /\s/.test(token))
      throw new ConfigError({
        key: 'api.tokenFile',
        problem: `${this.#tokenFile} must hold the API token alone, on one line`,
        source: CONFIG_SOURCE,
      });
    return token;
  }
}

/** `parse()`, or the HTTP client's non-retryable "unexpected response" when it throws. */
function parsedOrUnexpected<T>(response: HttpResponse, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new ApiCallError({
      url: response.url,
      method: 'GET',
      statusCode: response.status,
      responseBody: `unexpected response: ${error instanceof TypeError ? `expected ${error.message}` : 'not JSON'}`,
    });
  }
}

/** The same ApiCallError (status, retryability, Retry-After) with a clearer body. */
function withBody(error: ApiCallError, method: string, responseBody: string): ApiCallError {
  return new ApiCallError({
    url: error.url,
    method,
    ...(error.statusCode === undefined ? {} : { statusCode: error.statusCode }),
    responseBody,
    ...(error.retryAfterSeconds === undefined
      ? {}
      : { retryAfterSeconds: error.retryAfterSeconds }),
    cause: error,
  });
}

/** `item 2: ttl: …` becomes `item 2 (CDS): ttl: …`, using the request the items are aligned with. */
function itemsByType(text: string, rrsets: readonly RrsetWrite[]): string {
  return text.replace(/\bitem (\d+):/g, (match, index: string) => {
    const rrset = rrsets[Number(index) - 1];
    return rrset ? `item ${index} (${rrset.type}):` : match;
  });
}
