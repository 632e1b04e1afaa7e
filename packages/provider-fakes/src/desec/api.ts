/**
 * The deSEC API fake (provider-apis.md §1) in front of a PowerDNS backend: domains are the
 * backend's zones, RRsets its rrsets; every write request is ONE backend PATCH.
 */
import { ApiCallError } from '@chorus/core';
import { DESEC_RATE_LIMITS, type DesecRateLimits, type ProviderFakeConfig } from '../config.js';
import { HttpError } from '../errors.js';
import type { PowerDnsBackend } from '../powerdns-backend.js';
import type { Admission, ApiRequest, ApiResponse, ProviderApi } from '../provider-api.js';
import { admitAll, SlidingWindowLimiter, type LimiterCheck } from '../rate-limit.js';
import type { FakeState, TokenState } from '../state.js';
import { paginate } from './pagination.js';
import { planWrites, type WritePlan } from './plan.js';
import { matchDesecRoute, type DesecRoute } from './routes.js';
import { desecRrsets, domainKeys, rrsetMap } from './rrsets.js';
import {
  AUTOMATIC_TYPES,
  DEFAULT_MINIMUM_TTL,
  MAX_BODY_CHARS,
  NOT_FOUND,
  PAGE_SIZE,
  rrsetKey,
  SERVER_ERROR,
  type DesecRrset,
} from './types.js';
import type { WriteMode } from './validation.js';

export interface DesecApiOptions {
  config: ProviderFakeConfig;
  backend: PowerDnsBackend;
  state: FakeState;
  /** Tests only: a smaller page size. */
  pageSize?: number;
}

interface Limiters {
  read: SlidingWindowLimiter;
  perDomainWrite: SlidingWindowLimiter;
  user: SlidingWindowLimiter;
  limits: DesecRateLimits;
}

/** The configured limits over the documented defaults. */
export function desecLimits(overrides: unknown): DesecRateLimits {
  return { ...DESEC_RATE_LIMITS, ...(overrides as Partial<DesecRateLimits> | undefined) };
}

function makeLimiters(limits: DesecRateLimits): Limiters {
  return {
    read: new SlidingWindowLimiter(limits.read),
    perDomainWrite: new SlidingWindowLimiter(limits.perDomainWrite),
    user: new SlidingWindowLimiter(limits.user),
    limits,
  };
}

function throttled(waitMs: number): ApiResponse {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return {
    status: 429,
    headers: { 'Retry-After': String(seconds) },
    body: {
      detail: `Request was throttled. Expected available in ${seconds} second${seconds === 1 ? '' : 's'}.`,
    },
  };
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function methodNotAllowed(method: string): HttpError {
  return new HttpError(405, { detail: `Method "${method}" not allowed.` });
}

function forbiddenType(type: string): HttpError {
  return new HttpError(403, { detail: `You cannot tinker with the ${type} RRset.` });
}

/** The body of a write request as JSON, with DRF's parse error. */
function parseBody(text: string): unknown {
  if (text.length > MAX_BODY_CHARS) throw new HttpError(413, { detail: 'Payload too large.' });
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, { detail: `JSON parse error - ${(error as Error).message}` });
  }
}

export class DesecApi implements ProviderApi {
  readonly provider = 'desec' as const;
  readonly #options: DesecApiOptions;
  #limiters: Limiters;

  constructor(options: DesecApiOptions) {
    this.#options = options;
    this.#limiters = makeLimiters(desecLimits(options.config.rateLimits));
  }

  get #minimumTtl(): number {
    return this.#options.config.minimumTtl ?? DEFAULT_MINIMUM_TTL;
  }

  authenticate(request: ApiRequest, token: string, state: TokenState): void {
    const header = request.headers.authorization;
    const [keyword, secret, ...rest] = (header ?? '').trim().split(/\s+/);
    if (keyword?.toLowerCase() !== 'token')
      throw new HttpError(
        401,
        { detail: 'Authentication credentials were not provided.' },
        { 'WWW-Authenticate': 'Token' },
      );
    if (secret === undefined || rest.length > 0 || secret !== token || state !== 'valid')
      throw new HttpError(401, { detail: 'Invalid token.' }, { 'WWW-Authenticate': 'Token' });
  }

  refusedHeaders(): Record<string, string> {
    return {};
  }

  /**
   * GETs count as `read`, RRset writes as `perDomainWrite` of their domain, everything as
   * `user`; only authenticated requests are counted (a 401 counts nowhere).
   */
  admit(request: ApiRequest, now: number): Admission {
    const route = matchDesecRoute(request.url.pathname);
    const checks: LimiterCheck[] = [{ limiter: this.#limiters.user, key: 'account' }];
    let rateClass = 'user';
    let domain: string | undefined;
    const isRrsetWrite =
      (route?.kind === 'rrsets' || route?.kind === 'rrset') && WRITE_METHODS.has(request.method);
    if (isRrsetWrite) {
      rateClass = 'perDomainWrite';
      domain = route.domain;
      checks.push({ limiter: this.#limiters.perDomainWrite, key: domain });
    } else if (request.method === 'GET' && route !== undefined) {
      rateClass = 'read';
      checks.push({ limiter: this.#limiters.read, key: 'account' });
    }
    const wait = admitAll(checks, now);
    return {
      rateClass,
      ...(domain === undefined ? {} : { domain }),
      ...(wait > 0 ? { rejected: throttled(wait) } : {}),
      headers: {},
    };
  }

  resetRateLimits(limits: unknown): Record<string, unknown> {
    const merged = desecLimits({
      ...this.#options.config.rateLimits,
      ...(limits as Record<string, unknown> | undefined),
    });
    this.#limiters = makeLimiters(merged);
    return { ...merged };
  }

  errorBody(status: number): unknown {
    if (status === 404) return NOT_FOUND;
    if (status === 413) return { detail: 'Payload too large.' };
    if (status >= 500) return SERVER_ERROR;
    return { detail: `HTTP ${status}` };
  }

  async handle(request: ApiRequest): Promise<ApiResponse> {
    const route = matchDesecRoute(request.url.pathname);
    if (route === undefined) throw new HttpError(404, NOT_FOUND);
    try {
      return await this.#route(route, request);
    } catch (error) {
      if (ApiCallError.isInstance(error)) throw new HttpError(500, SERVER_ERROR);
      throw error;
    }
  }

  async #route(route: DesecRoute, request: ApiRequest): Promise<ApiResponse> {
    const { method } = request;
    switch (route.kind) {
      case 'domains':
        if (method !== 'GET') throw methodNotAllowed(method);
        return this.#listDomains(request.url);
      case 'domain':
        if (method !== 'GET') throw methodNotAllowed(method);
        return { status: 200, body: await this.#domainWithKeys(route.domain) };
      case 'rrsets':
        return this.#rrsetList(route.domain, request);
      case 'rrset':
        return this.#rrsetDetail(route, request);
    }
  }

  // -- domains --------------------------------------------------------------------------------

  async #domainNames(): Promise<string[]> {
    const names = (await this.#options.backend.listZones()).map((zone) => zone.replace(/\.$/, ''));
    let added = false;
    const now = new Date().toISOString();
    for (const name of names) {
      if (this.#options.state.data.desec.domains[name]) continue;
      this.#options.state.data.desec.domains[name] = { created: now, published: now, touched: now };
      added = true;
    }
    if (added) await this.#options.state.save();
    return names;
  }

  #domainObject(name: string) {
    const times = this.#options.state.data.desec.domains[name];
    return {
      created: times?.created ?? null,
      minimum_ttl: this.#minimumTtl,
      name,
      published: times?.published ?? null,
      touched: times?.touched ?? null,
    };
  }

  async #listDomains(url: URL): Promise<ApiResponse> {
    const names = await this.#domainNames();
    const qname = url.searchParams.get('owns_qname');
    if (qname !== null) {
      const wanted = qname.toLowerCase().replace(/\.$/, '');
      const owner = names
        .filter((name) => wanted === name || wanted.endsWith(`.${name}`))
        .sort((a, b) => b.length - a.length)[0];
      return { status: 200, body: owner === undefined ? [] : [this.#domainObject(owner)] };
    }
    const domains = names
      .map((name) => this.#domainObject(name))
      .sort(
        (a, b) =>
          String(b.created).localeCompare(String(a.created)) || a.name.localeCompare(b.name),
      );
    return paginate(domains, url, this.#options.pageSize ?? PAGE_SIZE);
  }

  /** Throws 404 unless the backend serves `domain`. */
  async #requireDomain(domain: string): Promise<void> {
    if (!(await this.#domainNames()).includes(domain)) throw new HttpError(404, NOT_FOUND);
  }

  async #domainWithKeys(domain: string) {
    await this.#requireDomain(domain);
    const [zone, cryptokeys] = await Promise.all([
      this.#options.backend.getZone(domain),
      this.#options.backend.listCryptokeys(domain),
    ]);
    const keys = domainKeys(domain, cryptokeys, desecRrsets(domain, zone.rrsets));
    return { ...this.#domainObject(domain), keys };
  }

  // -- RRsets ---------------------------------------------------------------------------------

  async #rrsets(domain: string): Promise<DesecRrset[]> {
    await this.#requireDomain(domain);
    const zone = await this.#options.backend.getZone(domain);
    return desecRrsets(domain, zone.rrsets);
  }

  #rrsetObject(domain: string, rrset: DesecRrset) {
    const times =
      this.#options.state.data.desec.rrsets[`${domain}|${rrsetKey(rrset.subname, rrset.type)}`];
    const domainTimes = this.#options.state.data.desec.domains[domain];
    return {
      created: times?.created ?? domainTimes?.created ?? null,
      domain,
      subname: rrset.subname,
      name: rrset.subname ? `${rrset.subname}.${domain}.` : `${domain}.`,
      records: rrset.records,
      ttl: rrset.ttl,
      type: rrset.type,
      touched: times?.touched ?? domainTimes?.touched ?? null,
    };
  }

  async #rrsetList(domain: string, request: ApiRequest): Promise<ApiResponse> {
    if (request.method === 'GET') return this.#listRrsets(domain, request.url);
    if (request.method === 'DELETE') throw methodNotAllowed(request.method);
    const body = parseBody(request.bodyText);
    const mode = request.method as WriteMode;
    const bulk = mode !== 'POST' || Array.isArray(body);
    if (bulk && !Array.isArray(body))
      throw new HttpError(400, {
        non_field_errors: [
          `Expected a list of items but got ${body === null ? 'NoneType' : typeof body === 'object' ? 'dict' : typeof body}.`,
        ],
      });
    const items = bulk ? (body as unknown[]) : [body];
    const plan = await this.#plan(domain, items, { mode, bulk });
    await this.#apply(domain, plan);
    const objects = plan.results.map((rrset) => this.#rrsetObject(domain, rrset));
    const status = mode === 'POST' ? 201 : 200;
    return { status, body: bulk ? objects : objects[0] };
  }

  async #listRrsets(domain: string, url: URL): Promise<ApiResponse> {
    const type = url.searchParams.get('type');
    if (type !== null && AUTOMATIC_TYPES.has(type)) throw forbiddenType(type);
    const subname = url.searchParams.get('subname');
    const rrsets = (await this.#rrsets(domain))
      .filter(
        (rrset) =>
          (type === null || rrset.type === type) && (subname === null || rrset.subname === subname),
      )
      .map((rrset) => this.#rrsetObject(domain, rrset))
      .sort(
        (a, b) =>
          String(b.created).localeCompare(String(a.created)) ||
          a.subname.localeCompare(b.subname) ||
          a.type.localeCompare(b.type),
      );
    return paginate(rrsets, url, this.#options.pageSize ?? PAGE_SIZE);
  }

  async #rrsetDetail(
    route: Extract<DesecRoute, { kind: 'rrset' }>,
    request: ApiRequest,
  ): Promise<ApiResponse> {
    const { domain, subname, type } = route;
    if (AUTOMATIC_TYPES.has(type)) throw forbiddenType(type);
    const rrsets = rrsetMap(await this.#rrsets(domain));
    const current = rrsets.get(rrsetKey(subname, type));
    switch (request.method) {
      case 'GET':
        if (current === undefined) throw new HttpError(404, NOT_FOUND);
        return { status: 200, body: this.#rrsetObject(domain, current) };
      case 'DELETE':
        await this.#apply(domain, {
          changes: current
            ? [
                {
                  name: current.subname ? `${subname}.${domain}.` : `${domain}.`,
                  type,
                  changetype: 'DELETE',
                },
              ]
            : [],
          results: [],
          deleted: current ? [rrsetKey(subname, type)] : [],
        });
        return { status: 204 };
      case 'PUT':
      case 'PATCH': {
        if (current === undefined) throw new HttpError(404, NOT_FOUND);
        const body = parseBody(request.bodyText);
        const plan = await this.#plan(domain, [body], {
          mode: request.method,
          bulk: false,
          fixedKey: { subname, type },
        });
        await this.#apply(domain, plan);
        const result = plan.results[0];
        return result === undefined
          ? { status: 204 }
          : { status: 200, body: this.#rrsetObject(domain, result) };
      }
      default:
        throw methodNotAllowed(request.method);
    }
  }

  /** Validates and plans; throws the 400 (a list for bulk, a dict otherwise). */
  async #plan(
    domain: string,
    items: readonly unknown[],
    options: { mode: WriteMode; bulk: boolean; fixedKey?: { subname: string; type: string } },
  ): Promise<WritePlan> {
    const existing = rrsetMap(await this.#rrsets(domain));
    const result = planWrites(items, {
      ...options,
      zone: domain,
      minimumTtl: this.#minimumTtl,
      existing,
    });
    if ('errors' in result)
      throw new HttpError(400, options.bulk ? result.errors : (result.errors[0] ?? {}));
    return result.plan;
  }

  /** ONE backend PATCH, then the timestamps. */
  async #apply(domain: string, plan: WritePlan): Promise<void> {
    if (plan.changes.length === 0) return;
    await this.#options.backend.patchRrsets(domain, plan.changes);
    const now = new Date().toISOString();
    const data = this.#options.state.data.desec;
    for (const key of plan.deleted) delete data.rrsets[`${domain}|${key}`];
    for (const rrset of plan.results) {
      const key = `${domain}|${rrsetKey(rrset.subname, rrset.type)}`;
      data.rrsets[key] = { created: data.rrsets[key]?.created ?? now, touched: now };
    }
    const domainTimes = data.domains[domain];
    if (domainTimes) data.domains[domain] = { ...domainTimes, published: now, touched: now };
    await this.#options.state.save();
  }
}
