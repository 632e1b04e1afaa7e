/**
 * The NS1 API fake (provider-apis.md §2) in front of a PowerDNS backend. Records are backend
 * rrsets; meta and filters live in the state file. DNSSEC off = the backend's keys inactive and
 * unpublished, so the zone is served unsigned; external key sets are the backend's apex DNSKEY
 * rrset while DNSSEC is on.
 */
import { createHash } from 'node:crypto';
import { ApiCallError } from '@chorus/core';
import { NS1_RATE_LIMITS, type Ns1RateLimits, type ProviderFakeConfig } from '../config.js';
import { HttpError } from '../errors.js';
import type {
  BackendChange,
  BackendRrset,
  BackendZone,
  PowerDnsBackend,
} from '../powerdns-backend.js';
import type { Admission, ApiRequest, ApiResponse, ProviderApi } from '../provider-api.js';
import { TokenBucket } from '../rate-limit.js';
import type { FakeState, Ns1ZoneState, TokenState } from '../state.js';
import { contentToAnswer, invalidInput, readAnswers } from './answers.js';
import { keySetObject, parseKeySet, unionOfKeys } from './external-keys.js';
import { Ns1Model1 } from './model1.js';
import { SIGNATURE_TYPES } from './zone-signer.js';
import { PowerDnsDatabase, type ReplacedRrset } from '../powerdns-database.js';
import { RECORD_PAGE_SIZE, recordPage } from './pagination.js';

export interface Ns1ApiOptions {
  config: ProviderFakeConfig;
  backend: PowerDnsBackend;
  state: FakeState;
  /** Tests only: records per page of a zone (default RECORD_PAGE_SIZE). */
  recordPageSize?: number;
  /** Tests only: the clock of model 1's signatures, in seconds since the epoch. */
  now?: () => number;
}

/** Record types only NS1 itself writes. */
const DNSSEC_TYPES = new Set(['DNSKEY', 'RRSIG', 'NSEC', 'NSEC3', 'NSEC3PARAM']);

const ZONE_NOT_FOUND = { message: 'zone not found' };
const RECORD_NOT_FOUND = { message: 'record not found' };

type Ns1Route =
  | { kind: 'zone'; zone: string }
  | { kind: 'dnssec'; zone: string }
  | { kind: 'signingKeys'; zone: string }
  | { kind: 'presigned'; zone: string }
  | { kind: 'keySets'; zone: string }
  | { kind: 'keySet'; zone: string; name: string }
  | { kind: 'record'; zone: string; domain: string; type: string };

function matchRoute(pathname: string): Ns1Route | undefined {
  const match = /^\/v1\/zones\/(.+?)\/?$/.exec(pathname);
  if (!match) return undefined;
  const parts = (match[1] ?? '').split('/').map(decodeURIComponent);
  const [zone = '', second, third, fourth] = parts;
  const lower = zone.toLowerCase().replace(/\.$/, '');
  if (parts.length === 1) return { kind: 'zone', zone: lower };
  if (second === 'dnssec' && parts.length === 2) return { kind: 'dnssec', zone: lower };
  if (second === 'dnssec' && parts.length === 3 && third === 'signing_keys')
    return { kind: 'signingKeys', zone: lower };
  if (second === 'dnssec' && parts.length === 3 && third === 'presigned_dnskey')
    return { kind: 'presigned', zone: lower };
  if (second === 'dnssec' && third === 'external_keys') {
    if (parts.length === 3) return { kind: 'keySets', zone: lower };
    if (parts.length === 4 && fourth) return { kind: 'keySet', zone: lower, name: fourth };
  }
  if (parts.length === 3 && second && third)
    return {
      kind: 'record',
      zone: lower,
      domain: second.toLowerCase().replace(/\.$/, ''),
      type: third.toUpperCase(),
    };
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectId(text: string): string {
  return createHash('sha1').update(text).digest('hex').slice(0, 24);
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text === '' ? '{}' : text) as unknown;
  } catch {
    throw invalidInput('the body is not JSON');
  }
}

function withoutDot(name: string): string {
  return name.replace(/\.$/, '');
}

/** The configured limits over the documented defaults. */
export function ns1Limits(overrides: unknown): Ns1RateLimits {
  return { ...NS1_RATE_LIMITS, ...(overrides as Partial<Ns1RateLimits> | undefined) };
}

function rateClassOf(method: string): 'read' | 'write' {
  return method === 'GET' ? 'read' : 'write';
}

export class Ns1Api implements ProviderApi {
  readonly provider = 'ns1' as const;
  readonly #options: Ns1ApiOptions;
  #limits: Ns1RateLimits;
  #buckets: { read: TokenBucket; write: TokenBucket };
  readonly #model1: Ns1Model1;

  constructor(options: Ns1ApiOptions) {
    this.#options = options;
    const database = options.config.backend.database;
    this.#model1 = new Ns1Model1({
      backend: options.backend,
      database: database === undefined ? undefined : new PowerDnsDatabase(database),
      state: options.state,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    this.#limits = ns1Limits(options.config.rateLimits);
    this.#buckets = this.#makeBuckets();
  }

  #makeBuckets() {
    return { read: new TokenBucket(this.#limits.read), write: new TokenBucket(this.#limits.write) };
  }

  authenticate(request: ApiRequest, token: string, state: TokenState): void {
    const key = request.headers['x-nsone-key'];
    if (typeof key !== 'string' || key.trim() !== token || state !== 'valid')
      throw new HttpError(401, { message: 'Authentication failed' });
  }

  #headers(rateClass: 'read' | 'write', remaining: number): Record<string, string> {
    const rate = this.#limits[rateClass];
    return {
      'X-Ratelimit-Limit': String(rate.limit),
      'X-Ratelimit-Remaining': String(remaining),
      'X-Ratelimit-Period': String(rate.periodSeconds),
    };
  }

  refusedHeaders(request: ApiRequest, now: number): Record<string, string> {
    const rateClass = rateClassOf(request.method);
    return this.#headers(rateClass, this.#buckets[rateClass].peek(now));
  }

  /** One token bucket per route class: GET = read, every other method = write. */
  admit(request: ApiRequest, now: number): Admission {
    const rateClass = rateClassOf(request.method);
    const answer = this.#buckets[rateClass].take(now);
    const headers = this.#headers(rateClass, answer.remaining);
    return {
      rateClass,
      headers,
      ...(answer.admitted
        ? {}
        : { rejected: { status: 429, body: { message: 'rate limit exceeded' } } }),
    };
  }

  resetRateLimits(limits: unknown): Record<string, unknown> {
    this.#limits = ns1Limits({
      ...this.#options.config.rateLimits,
      ...(limits as Record<string, unknown> | undefined),
    });
    this.#buckets = this.#makeBuckets();
    return { ...this.#limits };
  }

  errorBody(status: number): unknown {
    if (status >= 500) return { message: 'internal server error' };
    return { message: `HTTP ${status}` };
  }

  async handle(request: ApiRequest): Promise<ApiResponse> {
    const route = matchRoute(request.url.pathname);
    if (route === undefined) throw new HttpError(404, { message: 'Not found' });
    try {
      return await this.#route(route, request);
    } catch (error) {
      if (ApiCallError.isInstance(error))
        throw new HttpError(500, { message: 'internal server error' });
      throw error;
    }
  }

  async #route(route: Ns1Route, request: ApiRequest): Promise<ApiResponse> {
    const zone = await this.#zone(route.zone);
    await this.#model1.refreshIfDue(zone);
    const method = request.method;
    switch (route.kind) {
      case 'zone':
        if (method === 'GET') return this.#zoneResponse(zone, request.url);
        if (method === 'POST')
          return this.#modifyZone(zone, parseBody(request.bodyText), request.url);
        break;
      case 'dnssec':
        if (method === 'GET') return this.#dnssec(zone);
        break;
      case 'signingKeys':
        if (method === 'GET') return this.#signingKeys(zone);
        break;
      case 'presigned':
        return this.#presigned(zone, request);
      case 'keySets':
        if (method === 'GET') return this.#listKeySets(route.zone);
        break;
      case 'keySet':
        return this.#keySet(zone, route.name, request);
      case 'record':
        return this.#record(zone, route.domain, route.type, request);
    }
    throw new HttpError(405, { message: 'Method not allowed' });
  }

  /** The backend zone, or 404 "zone not found". */
  async #zone(name: string): Promise<BackendZone> {
    const zones = await this.#options.backend.listZones();
    if (!zones.some((zone) => withoutDot(zone).toLowerCase() === name))
      throw new HttpError(404, ZONE_NOT_FOUND);
    return this.#options.backend.getZone(name);
  }

  #zoneState(zone: BackendZone): Ns1ZoneState {
    return this.#options.state.ns1Zone(withoutDot(zone.name));
  }

  /** The DNSSEC flag: the state's, else whether the backend has an active key. */
  async #dnssecEnabled(zone: BackendZone): Promise<boolean> {
    const flag = this.#zoneState(zone).dnssec;
    if (flag !== undefined) return flag;
    const keys = await this.#options.backend.listCryptokeys(zone.name);
    return keys.some((key) => key.active);
  }

  // -- zones ----------------------------------------------------------------------------------

  async #zoneObject(zone: BackendZone, withRecords: boolean) {
    const name = withoutDot(zone.name);
    const soaRrset = zone.rrsets.find((rrset) => rrset.type === 'SOA');
    const soa = (soaRrset?.records[0]?.content ?? '').split(/\s+/);
    const apexNs = zone.rrsets.find((rrset) => rrset.type === 'NS' && rrset.name === zone.name);
    const rname = withoutDot(soa[1] ?? '');
    const object: Record<string, unknown> = {
      id: objectId(`zone/${name}`),
      zone: name,
      ttl: soaRrset?.ttl ?? 3600,
      nx_ttl: Number(soa[6] ?? 3600),
      retry: Number(soa[4] ?? 7200),
      refresh: Number(soa[3] ?? 43200),
      expiry: Number(soa[5] ?? 1209600),
      serial: Number(soa[2] ?? zone.serial),
      hostmaster: rname.replace(/(?<!\\)\./, '@'),
      primary_master: withoutDot(soa[0] ?? ''),
      dns_servers: (apexNs?.records ?? []).map((record) => withoutDot(record.content)),
      networks: [0],
      network_pools: ['p01'],
      meta: {},
      link: null,
      dnssec: await this.#dnssecEnabled(zone),
      primary: { enabled: false, secondaries: [] },
    };
    if (withRecords) object.records = await this.#summaries(zone);
    return object;
  }

  /** Every record but the SOA; with DNSSEC on, the apex DNSKEY is NS1's own keys and the external ones. */
  async #summaries(zone: BackendZone) {
    const isApexDnskey = (rrset: BackendRrset) =>
      rrset.type === 'DNSKEY' && rrset.name.toLowerCase() === zone.name.toLowerCase();
    const dnskey = await this.#servedDnskey(zone);
    const rrsets = zone.rrsets.filter(
      (rrset) => rrset.type !== 'SOA' && !isApexDnskey(rrset) && !SIGNATURE_TYPES.has(rrset.type),
    );
    return [...(dnskey ? [dnskey] : []), ...rrsets].map((rrset) => this.#summary(zone, rrset));
  }

  /** The apex DNSKEY RRset NS1 serves, or undefined while DNSSEC is off. */
  async #servedDnskey(zone: BackendZone): Promise<BackendRrset | undefined> {
    if (!(await this.#dnssecEnabled(zone))) return undefined;
    if (this.#model1.isPresigned(zone))
      return zone.rrsets.find(
        (rrset) => rrset.type === 'DNSKEY' && rrset.name.toLowerCase() === zone.name.toLowerCase(),
      );
    const own = (await this.#options.backend.listCryptokeys(zone.name))
      .filter((key) => key.active && key.published)
      .map((key) => ({ content: key.dnskey, disabled: false }));
    const external = zone.rrsets.find(
      (rrset) => rrset.type === 'DNSKEY' && rrset.name.toLowerCase() === zone.name.toLowerCase(),
    );
    const soaTtl = zone.rrsets.find((rrset) => rrset.type === 'SOA')?.ttl ?? 3600;
    const records = [...own, ...(external?.records ?? [])];
    if (records.length === 0) return undefined;
    return { name: zone.name, type: 'DNSKEY', ttl: external?.ttl ?? soaTtl, records };
  }

  #summary(zone: BackendZone, rrset: BackendRrset) {
    const domain = withoutDot(rrset.name);
    return {
      domain,
      type: rrset.type,
      ttl: rrset.ttl,
      tier: 1,
      short_answers: rrset.records.map((record) =>
        contentToAnswer(rrset.type, record.content).join(' '),
      ),
      id: objectId(`record/${withoutDot(zone.name)}/${domain}/${rrset.type}`),
      link: null,
    };
  }

  /** The zone object; its records one page at a time (pagination.ts). */
  async #zoneResponse(zone: BackendZone, url: URL): Promise<ApiResponse> {
    const withRecords = url.searchParams.get('records') !== 'false';
    const body = await this.#zoneObject(zone, withRecords);
    if (!withRecords) return { status: 200, body };
    const pageSize = this.#options.recordPageSize ?? RECORD_PAGE_SIZE;
    const page = recordPage(body.records as unknown[], url, pageSize);
    return { status: 200, body: { ...body, records: page.records }, headers: page.headers };
  }

  /** `POST /v1/zones/{zone}`: only `dnssec` changes anything; other fields are ignored. */
  async #modifyZone(zone: BackendZone, body: unknown, url: URL): Promise<ApiResponse> {
    if (!isObject(body)) throw invalidInput('the body must be a JSON object');
    if (body.dnssec !== undefined) {
      if (typeof body.dnssec !== 'boolean')
        throw invalidInput(
          `Value ${JSON.stringify(body.dnssec)} for field 'zone.dnssec' is not of type boolean`,
        );
      await this.#setDnssec(zone, body.dnssec);
    }
    return this.#zoneResponse(await this.#options.backend.getZone(zone.name), url);
  }

  async #setDnssec(zone: BackendZone, enabled: boolean): Promise<void> {
    if (!enabled) await this.#model1.leave(zone, () => Promise.resolve());
    const keys = await this.#options.backend.listCryptokeys(zone.name);
    for (const key of keys)
      if (key.active !== enabled || key.published !== enabled)
        await this.#options.backend.setCryptokeyState(zone.name, key.id, {
          active: enabled,
          published: enabled,
        });
    this.#zoneState(zone).dnssec = enabled;
    await this.#syncExternalKeys(zone);
    await this.#options.state.save();
  }

  // -- DNSSEC ---------------------------------------------------------------------------------

  async #dnssec(zone: BackendZone): Promise<ApiResponse> {
    if (!(await this.#dnssecEnabled(zone)))
      throw new HttpError(400, { message: 'DNSSEC is not enabled on the zone' });
    const keys = (await this.#options.backend.listCryptokeys(zone.name)).filter(
      (key) => key.active && key.published,
    );
    const ttl = zone.rrsets.find((rrset) => rrset.type === 'SOA')?.ttl ?? 3600;
    const split = (text: string) => text.trim().split(/\s+/);
    const ksks = keys.filter((key) => key.keytype !== 'zsk');
    const ds = ksks
      .flatMap((key) => key.ds.map(split))
      .filter((fields) => fields[2] === '2')
      .map((fields) => fields.map((field, index) => (index === 3 ? field.toLowerCase() : field)));
    return {
      status: 200,
      body: {
        zone: zone.name,
        keys: { dnskey: keys.map((key) => split(key.dnskey)), ttl },
        delegation: { dnskey: ksks.map((key) => split(key.dnskey)), ds, ttl },
      },
    };
  }

  // -- model 1: the owner's DNSKEY RRset [inferred routes, presigned.ts] -----------------------

  async #requireDnssec(zone: BackendZone): Promise<void> {
    if (!(await this.#dnssecEnabled(zone)))
      throw new HttpError(400, { message: 'DNSSEC is not enabled on the zone' });
  }

  async #signingKeys(zone: BackendZone): Promise<ApiResponse> {
    await this.#requireDnssec(zone);
    return this.#model1.signingKeysResponse(zone);
  }

  async #presigned(zone: BackendZone, request: ApiRequest): Promise<ApiResponse> {
    switch (request.method) {
      case 'GET':
        return this.#model1.get(zone);
      case 'PUT':
      case 'POST':
        await this.#requireDnssec(zone);
        return this.#model1.put(zone, parseBody(request.bodyText));
      case 'DELETE':
        return this.#model1.delete(zone, () => this.#syncExternalKeys(zone));
      default:
        throw new HttpError(405, { message: 'Method not allowed' });
    }
  }

  #listKeySets(zone: string): ApiResponse {
    const sets = this.#options.state.ns1Zone(zone).externalKeys;
    return {
      status: 200,
      body: Object.keys(sets)
        .sort()
        .map((name) => keySetObject(name, sets[name] ?? { ttl: 3600, data: [] })),
    };
  }

  async #keySet(zone: BackendZone, name: string, request: ApiRequest): Promise<ApiResponse> {
    const sets = this.#zoneState(zone).externalKeys;
    const current = sets[name];
    const notFound = () => new HttpError(404, { message: 'external key set not found' });
    switch (request.method) {
      case 'GET':
        if (current === undefined) throw notFound();
        return { status: 200, body: keySetObject(name, current) };
      case 'PUT':
      case 'POST': {
        if (request.method === 'PUT' && current !== undefined)
          throw new HttpError(409, { message: 'external key set already exists' });
        if (request.method === 'POST' && current === undefined) throw notFound();
        const set = parseKeySet(parseBody(request.bodyText));
        sets[name] = set;
        await this.#syncExternalKeys(zone);
        await this.#options.state.save();
        return { status: 200, body: keySetObject(name, set) };
      }
      case 'DELETE':
        if (current === undefined) throw notFound();
        delete sets[name];
        await this.#syncExternalKeys(zone);
        await this.#options.state.save();
        return { status: 200, body: {} };
      default:
        throw new HttpError(405, { message: 'Method not allowed' });
    }
  }

  /**
   * The apex DNSKEY rrset = the union of the key sets while DNSSEC is on; none while off. A
   * presigned zone keeps the owner's set: its key sets apply once it leaves model 1.
   */
  async #syncExternalKeys(zone: BackendZone): Promise<void> {
    if (this.#model1.isPresigned(zone)) return;
    const union = unionOfKeys(this.#zoneState(zone).externalKeys);
    const enabled = await this.#dnssecEnabled(zone);
    const change: BackendChange =
      enabled && union.records.length > 0
        ? {
            name: zone.name,
            type: 'DNSKEY',
            changetype: 'REPLACE',
            ttl: union.ttl,
            records: union.records.map((content) => ({ content, disabled: false })),
          }
        : { name: zone.name, type: 'DNSKEY', changetype: 'DELETE' };
    await this.#options.backend.patchRrsets(zone.name, [change]);
  }

  // -- records --------------------------------------------------------------------------------

  #recordObject(zone: BackendZone, rrset: BackendRrset) {
    const zoneName = withoutDot(zone.name);
    const domain = withoutDot(rrset.name);
    const id = objectId(`record/${zoneName}/${domain}/${rrset.type}`);
    const stored = this.#zoneState(zone).records[`${domain}/${rrset.type}`];
    return {
      id,
      zone: zoneName,
      domain,
      type: rrset.type,
      ttl: rrset.ttl,
      answers: rrset.records.map((record) => ({
        id: objectId(`${id}/${record.content}`),
        answer: contentToAnswer(rrset.type, record.content),
        meta: {},
      })),
      filters: stored?.filters ?? [],
      meta: stored?.meta ?? {},
      link: null,
      tier: 1,
      networks: [0],
      regions: {},
      use_client_subnet: true,
      override_ttl: false,
    };
  }

  async #record(
    zone: BackendZone,
    domain: string,
    type: string,
    request: ApiRequest,
  ): Promise<ApiResponse> {
    const zoneName = withoutDot(zone.name);
    if (domain !== zoneName && !domain.endsWith(`.${zoneName}`))
      throw new HttpError(400, { message: `invalid: domain ${domain} is not in zone ${zoneName}` });
    const owner = `${domain}.`;
    const current = zone.rrsets.find(
      (rrset) =>
        rrset.name.toLowerCase() === owner && rrset.type === type && rrset.records.length > 0,
    );
    if (request.method !== 'GET' && DNSSEC_TYPES.has(type))
      throw new HttpError(405, { message: 'Operation on DNSSEC record is not allowed' });
    switch (request.method) {
      case 'GET':
        if (current === undefined) throw new HttpError(404, RECORD_NOT_FOUND);
        return { status: 200, body: this.#recordObject(zone, current) };
      case 'DELETE':
        if (current === undefined) throw new HttpError(404, RECORD_NOT_FOUND);
        await this.#replaceRrset(zone, { name: owner, type, ttl: current.ttl, contents: [] });
        delete this.#zoneState(zone).records[`${domain}/${type}`];
        await this.#options.state.save();
        return { status: 200, body: {} };
      case 'PUT':
        if (current !== undefined) throw new HttpError(400, { message: 'record already exists' });
        return this.#writeRecord(zone, owner, type, parseBody(request.bodyText), undefined);
      case 'POST':
        if (current === undefined) throw new HttpError(404, RECORD_NOT_FOUND);
        return this.#writeRecord(zone, owner, type, parseBody(request.bodyText), current);
      default:
        throw new HttpError(405, { message: 'Method not allowed' });
    }
  }

  /**
   * Writes one RRset (no contents: deletes it): in model 1 together with NS1's signatures in one
   * transaction of the backend's database, else through the backend's API (PowerDNS signs).
   */
  async #replaceRrset(zone: BackendZone, rrset: ReplacedRrset): Promise<void> {
    if (this.#model1.isPresigned(zone)) return this.#model1.writeRecords(zone, [rrset]);
    await this.#options.backend.patchRrsets(zone.name, [
      rrset.contents.length === 0
        ? { name: rrset.name, type: rrset.type, changetype: 'DELETE' }
        : {
            name: rrset.name,
            type: rrset.type,
            changetype: 'REPLACE',
            ttl: rrset.ttl,
            records: rrset.contents.map((content) => ({ content, disabled: false })),
          },
    ]);
  }

  /** PUT (create, `current` undefined) or POST (update: only the fields sent change). */
  async #writeRecord(
    zone: BackendZone,
    owner: string,
    type: string,
    body: unknown,
    current: BackendRrset | undefined,
  ): Promise<ApiResponse> {
    if (!isObject(body)) throw invalidInput('the body must be a JSON object');
    if (type === 'SOA') throw new HttpError(400, { message: 'record type SOA cannot be changed' });
    if (body.filters !== undefined && !Array.isArray(body.filters))
      throw invalidInput("Value None for field '<obj>.filters' is not of type array");
    if (body.meta !== undefined && !isObject(body.meta))
      throw invalidInput("Value None for field '<obj>.meta' is not of type object");
    if (
      body.ttl !== undefined &&
      (typeof body.ttl !== 'number' || !Number.isInteger(body.ttl) || body.ttl < 0)
    )
      throw invalidInput(
        `Value ${JSON.stringify(body.ttl)} for field '<obj>.ttl' is not of type integer`,
      );
    const records =
      body.answers === undefined
        ? (current?.records.map((record) => record.content) ?? [])
        : readAnswers(type, body.answers);
    if (records.length === 0) throw invalidInput('a record needs at least one answer');
    if (new Set(records.map((record) => record.toLowerCase())).size !== records.length)
      throw invalidInput('duplicate answers');
    const ttl = typeof body.ttl === 'number' ? body.ttl : (current?.ttl ?? 3600);
    await this.#replaceRrset(zone, { name: owner, type, ttl, contents: records });
    const key = `${withoutDot(owner)}/${type}`;
    const stored = this.#zoneState(zone).records[key];
    this.#zoneState(zone).records[key] = {
      meta: isObject(body.meta) ? body.meta : (stored?.meta ?? {}),
      filters: Array.isArray(body.filters) ? (body.filters as unknown[]) : (stored?.filters ?? []),
    };
    await this.#options.state.save();
    const written: BackendRrset = {
      name: owner,
      type,
      ttl,
      records: records.map((content) => ({ content, disabled: false })),
    };
    return { status: 200, body: this.#recordObject(zone, written) };
  }
}
