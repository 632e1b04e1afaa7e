/**
 * A small client of the PowerDNS API behind a fake. The API key is read from its file at every
 * call and sent as `X-API-Key`; it never appears in a log line or an error message.
 * Failures are ApiCallError (from the kit's HttpClient).
 */
import { readFile } from 'node:fs/promises';
import { HttpClient } from '@chorus/dns';

export interface BackendRecord {
  content: string;
  disabled: boolean;
}

export interface BackendRrset {
  /** Absolute, with the trailing dot. */
  name: string;
  type: string;
  ttl: number;
  records: BackendRecord[];
}

export interface BackendZone {
  /** The zone name with its trailing dot (also PowerDNS's zone id). */
  name: string;
  serial: number;
  rrsets: BackendRrset[];
}

export interface BackendCryptokey {
  id: number;
  keytype: 'ksk' | 'zsk' | 'csk';
  active: boolean;
  published: boolean;
  /** `flags protocol algorithm base64`. */
  dnskey: string;
  /** DS strings PowerDNS computed (KSK/CSK only), e.g. `12345 13 2 abcd…`. */
  ds: string[];
}

export type BackendChange =
  | { name: string; type: string; changetype: 'REPLACE'; ttl: number; records: BackendRecord[] }
  | { name: string; type: string; changetype: 'DELETE' };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `{"error": "…"}` text of a PowerDNS error response, or the raw body. */
function errorText(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (isObject(parsed) && typeof parsed.error === 'string') return parsed.error;
  } catch {
    // PowerDNS answers some errors in plain text
  }
  return body;
}

function parseRrset(entry: unknown): BackendRrset {
  if (
    !isObject(entry) ||
    typeof entry.name !== 'string' ||
    typeof entry.type !== 'string' ||
    !Array.isArray(entry.records)
  )
    throw new TypeError('rrsets of { name, type, ttl, records }');
  const records = (entry.records as unknown[]).map((record) => {
    if (!isObject(record) || typeof record.content !== 'string')
      throw new TypeError('records of { content }');
    return { content: record.content, disabled: record.disabled === true };
  });
  return {
    name: entry.name,
    type: entry.type,
    ttl: typeof entry.ttl === 'number' ? entry.ttl : 0,
    records,
  };
}

/** Parses `GET /zones/{zone}`. */
export function parseBackendZone(body: unknown): BackendZone {
  if (!isObject(body) || typeof body.name !== 'string') throw new TypeError('a zone with a name');
  const rrsets = Array.isArray(body.rrsets) ? (body.rrsets as unknown[]).map(parseRrset) : [];
  return { name: body.name, serial: typeof body.serial === 'number' ? body.serial : 0, rrsets };
}

/** Parses `GET /zones/{zone}/cryptokeys`; private keys are never copied. */
export function parseBackendCryptokeys(body: unknown): BackendCryptokey[] {
  if (!Array.isArray(body)) throw new TypeError('an array of cryptokeys');
  return (body as unknown[]).map((entry) => {
    if (
      !isObject(entry) ||
      typeof entry.id !== 'number' ||
      (entry.keytype !== 'ksk' && entry.keytype !== 'zsk' && entry.keytype !== 'csk') ||
      typeof entry.dnskey !== 'string'
    )
      throw new TypeError('cryptokeys of { id, keytype, dnskey }');
    const ds = Array.isArray(entry.ds)
      ? (entry.ds as unknown[]).filter((value): value is string => typeof value === 'string')
      : [];
    return {
      id: entry.id,
      keytype: entry.keytype,
      active: entry.active === true,
      published: entry.published !== false,
      dnskey: entry.dnskey,
      ds,
    };
  });
}

/** PowerDNS's zone id: the name with its trailing dot, URL-encoded. */
function zonePath(zone: string): string {
  const absolute = zone.endsWith('.') ? zone : `${zone}.`;
  return `/zones/${encodeURIComponent(absolute)}`;
}

export interface PowerDnsBackendOptions {
  /** e.g. `http://127.53.0.5:8081/api/v1/servers/localhost`. */
  url: string;
  apiKeyFile: string;
  timeoutMs?: number;
}

/** The PowerDNS server that signs and serves a fake's zones. */
export class PowerDnsBackend {
  readonly #http: HttpClient;
  readonly #apiKeyFile: string;

  constructor(options: PowerDnsBackendOptions) {
    this.#apiKeyFile = options.apiKeyFile;
    this.#http = new HttpClient({
      baseUrl: options.url,
      timeoutMs: options.timeoutMs ?? 10_000,
      headers: async () => ({ 'X-API-Key': await this.#apiKey() }),
      errorText,
    });
  }

  /** The names (with trailing dot) of every zone the server has. */
  async listZones(): Promise<string[]> {
    return this.#http.json({ method: 'GET', path: '/zones' }, (body) => {
      if (!Array.isArray(body)) throw new TypeError('an array of zones');
      return (body as unknown[]).map((zone) => {
        if (!isObject(zone) || typeof zone.name !== 'string')
          throw new TypeError('zones with names');
        return zone.name;
      });
    });
  }

  /** The zone with its rrsets (only records stored in the backend, never pdns's own keys). */
  async getZone(zone: string): Promise<BackendZone> {
    return this.#http.json({ method: 'GET', path: zonePath(zone) }, parseBackendZone);
  }

  /** Several rrset changes in ONE PATCH: PowerDNS applies them in one transaction. */
  async patchRrsets(zone: string, changes: readonly BackendChange[]): Promise<void> {
    if (changes.length === 0) return;
    await this.#http.request({ method: 'PATCH', path: zonePath(zone), body: { rrsets: changes } });
  }

  async listCryptokeys(zone: string): Promise<BackendCryptokey[]> {
    return this.#http.json(
      { method: 'GET', path: `${zonePath(zone)}/cryptokeys` },
      parseBackendCryptokeys,
    );
  }

  /** (De)activates and (un)publishes one key. */
  async setCryptokeyState(
    zone: string,
    id: number,
    state: { active: boolean; published: boolean },
  ): Promise<void> {
    await this.#http.request({
      method: 'PUT',
      path: `${zonePath(zone)}/cryptokeys/${id}`,
      body: state,
    });
  }

  /**
   * The private key of one key, in PowerDNS's text form (`PrivateKey: …`). For the NS1 fake's
   * own signing of presigned zones only: never logged, never returned by an API route.
   */
  async cryptokeyPrivateKey(zone: string, id: number): Promise<string> {
    return this.#http.json(
      { method: 'GET', path: `${zonePath(zone)}/cryptokeys/${id}` },
      (body) => {
        if (!isObject(body) || typeof body.privatekey !== 'string')
          throw new TypeError('a cryptokey with its privatekey');
        return body.privatekey;
      },
    );
  }

  /** `PUT /zones/{zone}/rectify`: order names and auth flags (refused for presigned zones). */
  async rectify(zone: string): Promise<void> {
    await this.#http.request({ method: 'PUT', path: `${zonePath(zone)}/rectify` });
  }

  async #apiKey(): Promise<string> {
    return (await readFile(this.#apiKeyFile, 'utf8')).trim();
  }
}
