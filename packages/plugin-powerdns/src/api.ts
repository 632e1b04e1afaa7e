/**
 * The PowerDNS Authoritative HTTP API (4.7), on the kit's HTTP client. The only file of this
 * plugin that talks HTTP: every failure leaves it as a typed error (AbortError, ApiCallError,
 * ConfigError).
 *
 * The API key is read from the configured file at every call and sent as `X-API-Key`; it never
 * appears in a log line, an error message or a URL.
 */
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '@chorus/core';
import { HttpClient, type HttpRequest } from '@chorus/dns';
import type { Logger } from 'pino';

/** One record of an rrset, as the API shows and takes it. */
export interface PdnsRecord {
  content: string;
  disabled: boolean;
}

/** An rrset of a zone as the API shows it: only records stored in the backend. */
export interface PdnsRrset {
  name: string;
  type: string;
  ttl: number;
  records: PdnsRecord[];
}

/** The fields of a zone this plugin reads. */
export interface PdnsZone {
  id: string;
  name: string;
  /** `Native`, `Master`, `Slave` (4.7 names; later versions also say Primary/Secondary). */
  kind: string;
  dnssec: boolean;
  serial: number;
  /** The SOA serial PowerDNS serves (after SOA-EDIT), when the API reports it. */
  editedSerial?: number;
  soaEditApi: string;
  /** Present unless the zone was fetched with `rrsets=false`. */
  rrsets: PdnsRrset[];
}

/** A key from `/zones/{zone}/cryptokeys`. Never holds the private key. */
export interface PdnsCryptokey {
  /** PowerDNS's id of the key; 4.7 may reuse the id of a deleted key. */
  id: number;
  keytype: 'ksk' | 'zsk' | 'csk';
  active: boolean;
  published: boolean;
  /** `flags protocol algorithm base64`. */
  dnskey: string;
  /** The key size as PowerDNS reports it (256 for ECDSA P-256), when reported. */
  bits?: number;
}

/**
 * The body of `POST /zones/{zone}/cryptokeys` that makes PowerDNS generate a key (4.7 field
 * names). PowerDNS stores `csk` as a flags-257 key: it is listed as `csk` only while the zone has
 * no active ZSK of its algorithm.
 */
export interface PdnsNewCryptokey {
  keytype: 'ksk' | 'zsk' | 'csk';
  active: boolean;
  published: boolean;
  /** The DNSSEC algorithm number (4.7 also takes `ECDSAP256SHA256` or `ecdsa256`). */
  algorithm: number;
  bits?: number;
}

/** The body of `PUT /zones/{zone}/cryptokeys/{id}`. 4.7 publishes a key when `published` is left out. */
export interface PdnsCryptokeyState {
  active: boolean;
  published: boolean;
}

/** A change in a PATCH of `/zones/{zone}`. */
export type PdnsRrsetChange =
  | { name: string; type: string; changetype: 'REPLACE'; ttl: number; records: PdnsRecord[] }
  | { name: string; type: string; changetype: 'DELETE' };

export interface RequestOptions {
  signal?: AbortSignal | undefined;
}

export interface PowerDnsApiOptions {
  /** e.g. `http://127.0.0.1:8081/api/v1/servers/localhost`, without a trailing slash. */
  url: string;
  apiKeyFile: string;
  timeoutMs: number;
  logger: Logger;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Response parsers. Pure; exported for the unit tests, which feed them recorded responses.

/** Parses `GET /zones/{zone}`. */
export function parseZoneResponse(body: unknown): PdnsZone {
  if (!isObject(body) || typeof body.name !== 'string' || typeof body.id !== 'string')
    throw new TypeError('a zone object with id and name');
  const rrsets: PdnsRrset[] = [];
  if (body.rrsets !== undefined) {
    if (!Array.isArray(body.rrsets)) throw new TypeError('rrsets as an array');
    for (const entry of body.rrsets as unknown[]) {
      if (
        !isObject(entry) ||
        typeof entry.name !== 'string' ||
        typeof entry.type !== 'string' ||
        typeof entry.ttl !== 'number' ||
        !Array.isArray(entry.records)
      )
        throw new TypeError('rrsets of { name, type, ttl, records }');
      const records = (entry.records as unknown[]).map((record) => {
        if (!isObject(record) || typeof record.content !== 'string')
          throw new TypeError('records of { content, disabled }');
        return { content: record.content, disabled: record.disabled === true };
      });
      rrsets.push({ name: entry.name, type: entry.type, ttl: entry.ttl, records });
    }
  }
  return {
    id: body.id,
    name: body.name,
    kind: typeof body.kind === 'string' ? body.kind : '',
    dnssec: body.dnssec === true,
    serial: typeof body.serial === 'number' ? body.serial : 0,
    ...(typeof body.edited_serial === 'number' ? { editedSerial: body.edited_serial } : {}),
    soaEditApi: typeof body.soa_edit_api === 'string' ? body.soa_edit_api : '',
    rrsets,
  };
}

/**
 * Parses one cryptokey. Only the public fields are copied: the `privatekey` that `POST` and
 * `GET …/cryptokeys/{id}` return is dropped here and never leaves this function.
 */
export function parseCryptokey(entry: unknown): PdnsCryptokey {
  if (
    !isObject(entry) ||
    typeof entry.id !== 'number' ||
    (entry.keytype !== 'ksk' && entry.keytype !== 'zsk' && entry.keytype !== 'csk') ||
    typeof entry.dnskey !== 'string'
  )
    throw new TypeError('cryptokeys of { id, keytype: ksk|zsk|csk, dnskey }');
  return {
    id: entry.id,
    keytype: entry.keytype,
    active: entry.active === true,
    published: entry.published !== false,
    dnskey: entry.dnskey,
    ...(typeof entry.bits === 'number' ? { bits: entry.bits } : {}),
  };
}

/** Parses `GET /zones/{zone}/cryptokeys`. */
export function parseCryptokeysResponse(body: unknown): PdnsCryptokey[] {
  if (!Array.isArray(body)) throw new TypeError('an array of cryptokeys');
  return (body as unknown[]).map(parseCryptokey);
}

/** Parses `GET /zones/{zone}/metadata` into kind → values (kinds upper-cased). */
export function parseMetadataResponse(body: unknown): Map<string, string[]> {
  if (!Array.isArray(body)) throw new TypeError('an array of metadata');
  const metadata = new Map<string, string[]>();
  for (const entry of body as unknown[]) {
    if (!isObject(entry) || typeof entry.kind !== 'string' || !Array.isArray(entry.metadata))
      throw new TypeError('metadata of { kind, metadata: [] }');
    metadata.set(
      entry.kind.toUpperCase(),
      (entry.metadata as unknown[]).filter((value): value is string => typeof value === 'string'),
    );
  }
  return metadata;
}

/** Parses `GET /servers/{id}/config` into setting → value. Secrets come back as `***`. */
export function parseConfigResponse(body: unknown): Map<string, string> {
  if (!Array.isArray(body)) throw new TypeError('an array of config settings');
  const settings = new Map<string, string>();
  for (const entry of body as unknown[]) {
    if (!isObject(entry) || typeof entry.name !== 'string' || typeof entry.value !== 'string')
      throw new TypeError('config settings of { name, value }');
    settings.set(entry.name, entry.value);
  }
  return settings;
}

/** The `{"error": "…"}` text of an error response, or the raw body. */
export function errorText(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (isObject(parsed) && typeof parsed.error === 'string') return parsed.error;
  } catch {
    // not JSON: PowerDNS answers 401/404 in plain text
  }
  return body;
}

/** A client of one PowerDNS server in the HTTP API. */
export class PowerDnsApi {
  readonly url: string;
  readonly #apiKeyFile: string;
  readonly #http: HttpClient;

  constructor(options: PowerDnsApiOptions) {
    this.url = options.url;
    this.#apiKeyFile = options.apiKeyFile;
    this.#http = new HttpClient({
      baseUrl: options.url,
      timeoutMs: options.timeoutMs,
      headers: async () => ({ 'X-API-Key': await this.#apiKey() }),
      errorText,
      logger: options.logger,
    });
  }

  /** `GET /config`: every setting of the running server. */
  async getConfig(options: RequestOptions): Promise<Map<string, string>> {
    return this.#json('GET', '/config', undefined, options, parseConfigResponse);
  }

  /**
   * `GET /zones/{zone}`. `rrsetName` limits the rrsets to one owner name (4.7 supports the
   * `rrset_name` filter); `rrsets: false` omits them.
   */
  async getZone(
    zone: string,
    query: { rrsetName?: string; rrsets?: boolean },
    options: RequestOptions,
  ): Promise<PdnsZone> {
    const parameters: Record<string, string> = {};
    if (query.rrsets === false) parameters.rrsets = 'false';
    if (query.rrsetName !== undefined) parameters.rrset_name = query.rrsetName;
    return this.#http.json(
      { method: 'GET', path: zonePath(zone), query: parameters, signal: options.signal },
      parseZoneResponse,
    );
  }

  /** `GET /zones/{zone}/cryptokeys`: the server's own keys. */
  async getCryptokeys(zone: string, options: RequestOptions): Promise<PdnsCryptokey[]> {
    return this.#json(
      'GET',
      `${zonePath(zone)}/cryptokeys`,
      undefined,
      options,
      parseCryptokeysResponse,
    );
  }

  /** `POST /zones/{zone}/cryptokeys`: generates a key (201) and returns it without its private key. */
  async createCryptokey(
    zone: string,
    key: PdnsNewCryptokey,
    options: RequestOptions,
  ): Promise<PdnsCryptokey> {
    return this.#json('POST', `${zonePath(zone)}/cryptokeys`, key, options, parseCryptokey);
  }

  /** `PUT /zones/{zone}/cryptokeys/{id}`: (de)activates and (un)publishes a key (204). */
  async setCryptokeyState(
    zone: string,
    id: number,
    state: PdnsCryptokeyState,
    options: RequestOptions,
  ): Promise<void> {
    await this.#request('PUT', `${zonePath(zone)}/cryptokeys/${id}`, state, options);
  }

  /** `DELETE /zones/{zone}/cryptokeys/{id}` (204; 404 when the key does not exist). */
  async deleteCryptokey(zone: string, id: number, options: RequestOptions): Promise<void> {
    await this.#request('DELETE', `${zonePath(zone)}/cryptokeys/${id}`, undefined, options);
  }

  /**
   * `PUT /cache/flush?domain={name}`: drops the packet and query cache entries of that exact
   * name (4.7 flushes the name only, not the names below it).
   */
  async flushCache(name: string, options: RequestOptions): Promise<void> {
    await this.#http.request({
      method: 'PUT',
      path: '/cache/flush',
      query: { domain: name },
      signal: options.signal,
    });
  }

  /** `GET /zones/{zone}/metadata`. */
  async getMetadata(zone: string, options: RequestOptions): Promise<Map<string, string[]>> {
    return this.#json(
      'GET',
      `${zonePath(zone)}/metadata`,
      undefined,
      options,
      parseMetadataResponse,
    );
  }

  /** `PATCH /zones/{zone}` with rrset changes; PowerDNS applies them in one transaction (204). */
  async patchRrsets(
    zone: string,
    rrsets: PdnsRrsetChange[],
    options: RequestOptions,
  ): Promise<void> {
    await this.#request('PATCH', zonePath(zone), { rrsets }, options);
  }

  /** The key file's content, kept while its inode, mtime and size stand (a rotated key is read again). */
  #apiKeyRead: { signature: string; key: string } | undefined;

  async #apiKey(): Promise<string> {
    let key: string;
    try {
      // Synchronous: every request stats the file, and a local stat costs microseconds.
      const stats = statSync(this.#apiKeyFile);
      const signature = `${stats.ino}:${stats.mtimeMs}:${stats.size}`;
      if (this.#apiKeyRead?.signature === signature) return this.#apiKeyRead.key;
      key = (await readFile(this.#apiKeyFile, 'utf8')).trim();
      if (key !== '' && !/[\r\n]/.test(key)) this.#apiKeyRead = { signature, key };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new ConfigError({
        key: 'api.apiKeyFile',
        problem: `cannot read ${this.#apiKeyFile}${typeof code === 'string' ? ` (${code})` : ''}`,
        source: 'powerdns plugin configuration',
      });
    }
    if (key === '' || /[\r\n]/.test(key))
      throw new ConfigError({
        key: 'api.apiKeyFile',
        problem: `${this.#apiKeyFile} must hold the API key on one line`,
        source: 'powerdns plugin configuration',
      });
    return key;
  }

  async #json<T>(
    method: HttpRequest['method'],
    path: string,
    body: unknown,
    options: RequestOptions,
    parse: (body: unknown) => T,
  ): Promise<T> {
    return this.#http.json({ method, path, body, signal: options.signal }, parse);
  }

  async #request(
    method: HttpRequest['method'],
    path: string,
    body: unknown,
    options: RequestOptions,
  ): Promise<void> {
    await this.#http.request({ method, path, body, signal: options.signal });
  }
}

/** The API path of a zone. Zone ids are the absolute name (`example.test.`). */
function zonePath(zone: string): string {
  const name = zone.endsWith('.') ? zone : `${zone}.`;
  return `/zones/${encodeURIComponent(name)}`;
}
