/**
 * The NS1 REST API (v1), on the kit's HTTP client. The only file of this plugin that talks HTTP:
 * every failure leaves it as a typed error (AbortError, ApiCallError, ConfigError).
 *
 * The API key is read from the configured file at every call and sent as `X-NSONE-Key`; it never
 * appears in a log line, an error message or a URL. Requests are paced by the rate-limit headers
 * (rate-limit.ts).
 */
import { readFile } from 'node:fs/promises';
import {
  ApiCallError,
  ConfigError,
  type DnskeyData,
  type SignedDnskeySnapshot,
} from '@chorus/core';
import { HttpClient, type HttpRequest, type HttpResponse } from '@chorus/dns';
import type { Logger } from 'pino';
import { answerFields, type ApexRecord, type RecordType } from './answers.js';
import { CONFIG_SOURCE } from './config.js';
import { RatePacer, rateClassOf } from './rate-limit.js';
import {
  errorText,
  nextLink,
  parseDnssecKeys,
  parseExternalKeySets,
  parseRecord,
  parseSigningKeys,
  parseZone,
  parseZoneRecords,
  type ExternalKeySet,
  type Ns1Record,
  type Ns1Zone,
  type Ns1ZoneRecord,
} from './responses.js';

export interface RequestOptions {
  signal?: AbortSignal | undefined;
}

export interface Ns1ApiOptions {
  /** e.g. `https://api.nsone.net/v1/`. */
  url: string;
  apiKeyFile: string;
  timeoutMs: number;
  logger: Logger;
}

/**
 * The body of `PUT|POST /zones/{zone}/dnssec/external_keys/{name}`. The envelope is inferred
 * from NS1's documentation ("include this dnskey object in the request body"): if NS1 wants
 * another one, this is the only place to change.
 */
export function externalKeySetBody(ttl: number, keys: readonly DnskeyData[]): unknown {
  return {
    dnskey: {
      ttl,
      data: keys.map((key) => ({
        flags: key.flags,
        protocol: key.protocol,
        algorithm: key.algorithm,
        public_key: key.publicKey,
      })),
    },
  };
}

/**
 * The body of `PUT /zones/{zone}/dnssec/presigned_dnskey` [inferred: NS1 describes the call but
 * documents no shape]: the whole DNSKEY RRset like an external key set, and the owner's RRSIGs
 * over it field by field, times in seconds since the epoch.
 */
export function presignedDnskeyBody(snapshot: SignedDnskeySnapshot): unknown {
  const { dnskey } = externalKeySetBody(snapshot.ttl, snapshot.dnskeys) as { dnskey: unknown };
  return {
    dnskey,
    rrsig: snapshot.rrsigs.map((rrsig) => ({
      type_covered: rrsig.typeCovered,
      algorithm: rrsig.algorithm,
      labels: rrsig.labels,
      original_ttl: rrsig.originalTtl,
      expiration: rrsig.expiration,
      inception: rrsig.inception,
      key_tag: rrsig.keyTag,
      signer_name: rrsig.signerName,
      signature: rrsig.signature,
    })),
  };
}

/** The body of `PUT|POST /zones/{zone}/{domain}/{type}`. `filters: []` is required by NS1. */
export function recordBody(
  zone: string,
  type: RecordType,
  ttl: number,
  records: readonly ApexRecord[],
): unknown {
  const name = apexDomain(zone);
  return {
    zone: name,
    domain: name,
    type,
    ttl,
    answers: records.map((record) => ({ answer: answerFields(record) })),
    filters: [],
    meta: {},
  };
}

/** The zone as NS1 names it: lower case, without the trailing dot. */
export function apexDomain(zone: string): string {
  return zone.replace(/\.$/, '').toLowerCase();
}

/** True when `error` is an ApiCallError with this status whose message matches. */
export function isApiError(
  error: unknown,
  status: number,
  message?: RegExp,
): error is ApiCallError {
  return (
    ApiCallError.isInstance(error) &&
    error.statusCode === status &&
    (message === undefined || message.test(error.responseBody))
  );
}

/** A client of the NS1 API for one account (one API key). */
export class Ns1Api {
  readonly url: string;
  readonly #apiKeyFile: string;
  readonly #http: HttpClient;
  readonly #pacer: RatePacer;

  constructor(options: Ns1ApiOptions) {
    this.url = options.url;
    this.#apiKeyFile = options.apiKeyFile;
    this.#pacer = new RatePacer(options.logger);
    this.#http = new HttpClient({
      baseUrl: options.url,
      timeoutMs: options.timeoutMs,
      headers: async () => ({ 'X-NSONE-Key': await this.#apiKey() }),
      errorText,
      logger: options.logger,
    });
  }

  /** `GET /zones/{zone}?records=false`. */
  async getZone(zone: string, options: RequestOptions): Promise<Ns1Zone> {
    return this.#json(
      { method: 'GET', path: zonePath(zone), query: { records: 'false' }, signal: options.signal },
      parseZone,
    );
  }

  /**
   * `GET /zones/{zone}`: the zone's `records` list, following `Link: <…>; rel="next"` pages (each
   * a zone object whose records continue the list). Every page is paced like any read.
   */
  async listZoneRecords(zone: string, options: RequestOptions): Promise<Ns1ZoneRecord[]> {
    const records: Ns1ZoneRecord[] = [];
    const seen = new Set<string>();
    let request: HttpRequest | undefined = {
      method: 'GET',
      path: zonePath(zone),
      signal: options.signal,
    };
    while (request) {
      const page: { records: Ns1ZoneRecord[]; next: HttpRequest | undefined } = await this.#json(
        request,
        (body, headers) => ({
          records: parseZoneRecords(body),
          next: this.#nextPage(nextLink(headers.get('link')), seen, options.signal),
        }),
      );
      records.push(...page.records);
      request = page.next;
    }
    return records;
  }

  /**
   * The request for a next link. Only links under the API URL are followed (the key goes with
   * them), each once. Throws TypeError, which #json reports as an unexpected response.
   */
  #nextPage(
    link: string | undefined,
    seen: Set<string>,
    signal: AbortSignal | undefined,
  ): HttpRequest | undefined {
    if (link === undefined) return undefined;
    const base = new URL(`${this.#http.baseUrl}/`);
    const url = URL.canParse(link, base.href) ? new URL(link, base) : undefined;
    if (!url || url.origin !== base.origin || !url.pathname.startsWith(base.pathname))
      throw new TypeError('next links under the API URL');
    if (seen.has(url.href)) throw new TypeError('a next link not seen before');
    seen.add(url.href);
    return {
      method: 'GET',
      path: `/${url.pathname.slice(base.pathname.length)}`,
      query: Object.fromEntries(url.searchParams),
      signal,
    };
  }

  /** `GET /zones/{zone}/dnssec`: the DNSKEYs NS1 serves. */
  async getDnssecKeys(zone: string, options: RequestOptions): Promise<DnskeyData[]> {
    return this.#json(
      { method: 'GET', path: `${zonePath(zone)}/dnssec`, signal: options.signal },
      parseDnssecKeys,
    );
  }

  /** `GET /zones/{zone}/dnssec/signing_keys` [inferred]: the ZSKs NS1 signs the zone with. */
  async getSigningKeys(zone: string, options: RequestOptions): Promise<DnskeyData[]> {
    return this.#json(
      { method: 'GET', path: `${zonePath(zone)}/dnssec/signing_keys`, signal: options.signal },
      parseSigningKeys,
    );
  }

  /** `GET /zones/{zone}/dnssec/presigned_dnskey` [inferred]: the owner's keys NS1 serves, if any. */
  async getPresignedDnskey(
    zone: string,
    options: RequestOptions,
  ): Promise<DnskeyData[] | undefined> {
    try {
      return await this.#json(
        {
          method: 'GET',
          path: `${zonePath(zone)}/dnssec/presigned_dnskey`,
          signal: options.signal,
        },
        parseSigningKeys,
      );
    } catch (error) {
      if (isApiError(error, 404) && !/zone not found/i.test(error.responseBody)) return undefined;
      throw error;
    }
  }

  /** `PUT /zones/{zone}/dnssec/presigned_dnskey` [inferred]: serve this owner-signed DNSKEY RRset. */
  async putPresignedDnskey(
    zone: string,
    snapshot: SignedDnskeySnapshot,
    options: RequestOptions,
  ): Promise<void> {
    await this.#send({
      method: 'PUT',
      path: `${zonePath(zone)}/dnssec/presigned_dnskey`,
      body: presignedDnskeyBody(snapshot),
      signal: options.signal,
    });
  }

  /** `GET /zones/{zone}/dnssec/external_keys`; none when NS1 answers 404 for a zone it has. */
  async listExternalKeySets(zone: string, options: RequestOptions): Promise<ExternalKeySet[]> {
    try {
      return await this.#json(
        { method: 'GET', path: externalKeysPath(zone), signal: options.signal },
        parseExternalKeySets,
      );
    } catch (error) {
      if (isApiError(error, 404) && !/zone not found/i.test(error.responseBody)) return [];
      throw error;
    }
  }

  /** `PUT` (create), `POST` (modify) or `DELETE` one external key set. */
  async writeExternalKeySet(
    zone: string,
    name: string,
    write:
      { method: 'PUT' | 'POST'; ttl: number; keys: readonly DnskeyData[] } | { method: 'DELETE' },
    options: RequestOptions,
  ): Promise<void> {
    await this.#send({
      method: write.method,
      path: `${externalKeysPath(zone)}/${encodeURIComponent(name)}`,
      ...(write.method === 'DELETE' ? {} : { body: externalKeySetBody(write.ttl, write.keys) }),
      signal: options.signal,
    });
  }

  /** `GET /zones/{zone}/{zone}/{type}`: undefined when NS1 answers "record not found". */
  async getApexRecord(
    zone: string,
    type: RecordType,
    options: RequestOptions,
  ): Promise<Ns1Record | undefined> {
    try {
      return await this.#json(
        { method: 'GET', path: recordPath(zone, type), signal: options.signal },
        (body) => parseRecord(type, body),
      );
    } catch (error) {
      if (isApiError(error, 404, /record not found/i)) return undefined;
      throw error;
    }
  }

  /** `PUT` (create), `POST` (replace the answers) or `DELETE` (the whole record). */
  async writeApexRecord(
    zone: string,
    type: RecordType,
    write:
      | { method: 'PUT' | 'POST'; ttl: number; records: readonly ApexRecord[] }
      | { method: 'DELETE' },
    options: RequestOptions,
  ): Promise<void> {
    await this.#send({
      method: write.method,
      path: recordPath(zone, type),
      ...(write.method === 'DELETE'
        ? {}
        : { body: recordBody(zone, type, write.ttl, write.records) }),
      signal: options.signal,
    });
  }

  async #apiKey(): Promise<string> {
    let key: string;
    try {
      key = (await readFile(this.#apiKeyFile, 'utf8')).trim();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new ConfigError({
        key: 'api.apiKeyFile',
        problem: `cannot read ${this.#apiKeyFile}${typeof code === 'string' ? ` (${code})` : ''}`,
        source: CONFIG_SOURCE,
      });
    }
    if (key === '' || /[\r\n]/.test(key))
      throw new ConfigError({
        key: 'api.apiKeyFile',
        problem: `${this.#apiKeyFile} must hold the API key on one line`,
        source: CONFIG_SOURCE,
      });
    return key;
  }

  /**
   * One request, paced: waits when the bucket is nearly empty, records the rate-limit headers of
   * the answer, and rewrites 401/403 (naming the key file) and 429 (with a retry delay).
   */
  async #send(request: HttpRequest): Promise<HttpResponse> {
    const rateClass = rateClassOf(request.method);
    await this.#pacer.beforeRequest(rateClass, request.signal, `${request.method} ${request.path}`);
    let response: HttpResponse;
    try {
      response = await this.#http.request(request);
    } catch (error) {
      if (ApiCallError.isInstance(error) && error.statusCode !== undefined)
        this.#pacer.observe(rateClass, undefined);
      throw this.#rewrite(request.method, error);
    }
    this.#pacer.observe(rateClass, response.headers);
    return response;
  }

  /**
   * Like HttpClient.json, on #send so that the rate-limit headers of the answer are seen: a body
   * that is not JSON, or that `parse` rejects, is a non-retryable "unexpected response".
   */
  async #json<T>(request: HttpRequest, parse: (body: unknown, headers: Headers) => T): Promise<T> {
    const response = await this.#send(request);
    const unexpected = (what: string) =>
      new ApiCallError({
        url: response.url,
        method: request.method,
        statusCode: response.status,
        responseBody: `unexpected response: ${what}`,
      });
    let body: unknown;
    try {
      body = JSON.parse(response.text);
    } catch {
      throw unexpected('not JSON');
    }
    try {
      return parse(body, response.headers);
    } catch (error) {
      throw unexpected(`expected ${error instanceof TypeError ? error.message : 'another shape'}`);
    }
  }

  #rewrite(method: string, error: unknown): unknown {
    if (!ApiCallError.isInstance(error)) return error;
    const again = (responseBody: string, retryAfterSeconds?: number) =>
      new ApiCallError({
        url: error.url,
        method,
        statusCode: error.statusCode!,
        responseBody,
        ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
        cause: error,
      });
    const status = error.statusCode;
    if (status === 401)
      return again(
        `${error.responseBody || 'Unauthorized'} (NS1 refused the API key read from ${this.#apiKeyFile})`,
      );
    if (status === 403)
      return again(
        `${error.responseBody || 'Forbidden'} (the API key read from ${this.#apiKeyFile} lacks a permission: it needs DNS zone view and manage rights)`,
      );
    if (status === 429) {
      const seconds = this.#pacer.exhausted(rateClassOf(method));
      return error.retryAfterSeconds === undefined ? again(error.responseBody, seconds) : error;
    }
    return error;
  }
}

function zonePath(zone: string): string {
  return `/zones/${encodeURIComponent(apexDomain(zone))}`;
}

function externalKeysPath(zone: string): string {
  return `${zonePath(zone)}/dnssec/external_keys`;
}

function recordPath(zone: string, type: RecordType): string {
  const name = encodeURIComponent(apexDomain(zone));
  return `/zones/${name}/${name}/${type}`;
}
