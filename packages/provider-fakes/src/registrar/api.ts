/**
 * The registrar fake's REST API (docs/parent-channels.md, "The registrar channel"), in front of
 * the lab parent: `GET /v1/domains[/{domain}]`, `PUT /v1/domains/{domain}/ds` and
 * `PUT /v1/domains/{domain}/nameservers`. Bearer token per account, a token bucket per token,
 * `Idempotency-Key` on the PUTs, and a PUT answers 200 only once every parent server serves the
 * new set.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { ChorusError, DnsResponseError, ParentAnswerError, TsigError } from '@chorus/core';
import { HttpError } from '../errors.js';
import {
  REPLAYED_HEADER,
  type Admission,
  type ApiRequest,
  type ApiResponse,
  type ProviderApi,
} from '../provider-api.js';
import { TokenBucket } from '../rate-limit.js';
import type { TokenState } from '../state.js';
import {
  REGISTRAR_RATE_LIMITS,
  type RegistrarFakeConfig,
  type RegistrarRateLimits,
} from './config.js';
import {
  IdempotencyStore,
  idempotencyKeyOf,
  requestFingerprint,
  type StoredAnswer,
} from './idempotency.js';
import {
  NotYetServedError,
  RegistrarParent,
  type DomainView,
  type ParentAccess,
} from './parent.js';
import {
  FieldError,
  hostName,
  isInDomain,
  parseDsBody,
  parseNameserversBody,
  shownName,
} from './validation.js';

type Route =
  | { kind: 'list' }
  | { kind: 'domain'; domain: string }
  | { kind: 'ds'; domain: string }
  | { kind: 'nameservers'; domain: string };

const ALLOWED: Readonly<Record<Route['kind'], string>> = {
  list: 'GET',
  domain: 'GET',
  ds: 'PUT',
  nameservers: 'PUT',
};

/** The API's error body: a code, a message, and for 422 the field. */
function problem(code: string, message: string, field?: string) {
  return { error: { code, message, ...(field === undefined ? {} : { field }) } };
}

/** The route of `pathname`; a domain that is no host name is undefined (404). */
function matchRoute(pathname: string): Route | undefined {
  const path = pathname.replace(/\/+$/, '');
  if (path === '/v1/domains') return { kind: 'list' };
  const match = /^\/v1\/domains\/([^/]+)(?:\/(ds|nameservers))?$/.exec(path);
  if (!match) return undefined;
  let domain: string | undefined;
  try {
    domain = hostName(decodeURIComponent(match[1] ?? ''));
  } catch {
    return undefined;
  }
  if (domain === undefined) return undefined;
  const sub = match[2] as 'ds' | 'nameservers' | undefined;
  return { kind: sub ?? 'domain', domain };
}

function bearerToken(request: ApiRequest): string | undefined {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The account a token stands for, in keys and logs: a hash, never the token. */
function accountOf(token: string): string {
  return digest(token).toString('hex').slice(0, 16);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text === '' ? 'null' : text) as unknown;
  } catch {
    throw new HttpError(400, problem('bad-request', 'the body is not JSON'));
  }
}

const RETRY_SOON = { 'Retry-After': '1' };

/** The HTTP answer for a failure to read or write the parent. */
function parentFailure(error: unknown, domain: string): HttpError {
  const name = shownName(domain);
  if (error instanceof NotYetServedError)
    return new HttpError(503, problem('parent-not-serving-yet', error.message), RETRY_SOON);
  if (ParentAnswerError.isInstance(error) && error.problem === 'not-delegated')
    return new HttpError(404, problem('not-found', `no domain ${name}`));
  if (DnsResponseError.isInstance(error) && ['YXRRSET', 'NXRRSET'].includes(error.rcode))
    return new HttpError(
      503,
      problem('parent-changed', `the delegation of ${name} changed meanwhile; send it again`),
      RETRY_SOON,
    );
  if (TsigError.isInstance(error) || (ChorusError.isInstance(error) && !error.isRetryable))
    return new HttpError(
      502,
      problem('parent-refused', `the parent refused the change: ${error.message}`),
    );
  if (ChorusError.isInstance(error))
    return new HttpError(
      503,
      problem('parent-unavailable', `the parent does not answer: ${error.message}`),
      RETRY_SOON,
    );
  throw error;
}

export interface RegistrarApiOptions {
  config: RegistrarFakeConfig;
  /** Default: the lab parent through DNS, per `config.parent` (unit tests pass a stand-in). */
  parent?: ParentAccess;
}

export class RegistrarApi implements ProviderApi {
  readonly provider = 'registrar' as const;
  readonly #config: RegistrarFakeConfig;
  readonly #parent: ParentAccess;
  readonly #domains: ReadonlySet<string>;
  readonly #idempotency: IdempotencyStore;
  #limits: RegistrarRateLimits;
  #buckets = new Map<string, TokenBucket>();

  constructor(options: RegistrarApiOptions) {
    const { config } = options;
    this.#config = config;
    this.#domains = new Set(config.domains);
    this.#limits = { ...REGISTRAR_RATE_LIMITS, ...config.rateLimits };
    this.#idempotency = new IdempotencyStore({
      ttlMs: (config.idempotencyTtlSeconds ?? 86_400) * 1000,
    });
    this.#parent =
      options.parent ??
      new RegistrarParent({
        ...config.parent,
        ttl: config.ttl,
        dnsTimeoutMs: config.dnsTimeoutMs ?? 2000,
        propagationTimeoutMs: config.propagationTimeoutMs ?? 10_000,
      });
  }

  authenticate(request: ApiRequest, token: string, state: TokenState): void {
    const given = bearerToken(request);
    if (given === undefined)
      throw new HttpError(
        401,
        problem('unauthenticated', 'send the API token as Authorization: Bearer <token>'),
        { 'WWW-Authenticate': 'Bearer realm="registrar"' },
      );
    if (!timingSafeEqual(digest(given), digest(token)) || token === '' || state !== 'valid')
      throw new HttpError(401, problem('invalid-token', 'the API token is not valid'), {
        'WWW-Authenticate': 'Bearer realm="registrar", error="invalid_token"',
      });
  }

  refusedHeaders(): Record<string, string> {
    return {};
  }

  /** One token bucket per API token; the request log counts the path's domain. */
  admit(request: ApiRequest, now: number): Admission {
    const account = accountOf(bearerToken(request) ?? '');
    let bucket = this.#buckets.get(account);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.#limits.api);
      this.#buckets.set(account, bucket);
    }
    const route = matchRoute(request.url.pathname);
    const domain = route !== undefined && 'domain' in route ? shownName(route.domain) : undefined;
    const answer = bucket.take(now);
    const headers = {
      'X-RateLimit-Limit': String(this.#limits.api.limit),
      'X-RateLimit-Remaining': String(answer.remaining),
    };
    const base = { rateClass: 'api', headers, ...(domain === undefined ? {} : { domain }) };
    if (answer.admitted) return base;
    const seconds = Math.max(1, Math.ceil(bucket.msUntilToken(now) / 1000));
    return {
      ...base,
      rejected: {
        status: 429,
        body: problem('rate-limited', `too many requests: try again in ${seconds} s`),
        headers: { 'Retry-After': String(seconds) },
      },
    };
  }

  resetRateLimits(limits: unknown): Record<string, unknown> {
    const api = (limits as Partial<RegistrarRateLimits> | undefined)?.api;
    this.#limits = {
      ...REGISTRAR_RATE_LIMITS,
      ...this.#config.rateLimits,
      ...(api ? { api } : {}),
    };
    this.#buckets = new Map();
    return { ...this.#limits };
  }

  errorBody(status: number): unknown {
    return status >= 500
      ? problem('unavailable', 'the registrar is unavailable; try again later')
      : problem('error', `HTTP ${status}`);
  }

  async handle(request: ApiRequest): Promise<ApiResponse> {
    const route = matchRoute(request.url.pathname);
    if (route === undefined) throw new HttpError(404, problem('not-found', 'no such resource'));
    const allowed = ALLOWED[route.kind];
    if (request.method !== allowed)
      throw new HttpError(405, problem('method-not-allowed', `use ${allowed}`), {
        Allow: allowed,
      });
    if (route.kind === 'list')
      return { status: 200, body: { domains: [...this.#domains].map(shownName).sort() } };
    if (route.kind === 'domain') return this.#read(route.domain);
    return this.#idempotent(request, route, () => this.#write(route, request.bodyText));
  }

  /** Runs `run` once per `Idempotency-Key` and request; replays its kept answer after. */
  async #idempotent(
    request: ApiRequest,
    route: Route & { domain: string },
    run: () => Promise<ApiResponse>,
  ): Promise<ApiResponse> {
    const key = idempotencyKeyOf(request.headers['idempotency-key']);
    if (key === null)
      throw new HttpError(
        400,
        problem('bad-idempotency-key', 'Idempotency-Key must be 1 to 255 visible ASCII characters'),
      );
    if (key === undefined) return answerOf(run);
    const account = accountOf(bearerToken(request) ?? '');
    const path = `/v1/domains/${shownName(route.domain)}/${route.kind}`;
    const fingerprint = requestFingerprint(request.method, path, request.bodyText);
    const found = this.#idempotency.lookup(account, key, fingerprint, Date.now());
    if (found.kind === 'conflict')
      throw new HttpError(
        422,
        problem(
          'idempotency-key-reused',
          'this Idempotency-Key was used for another request; use a new key',
          'Idempotency-Key',
        ),
      );
    if (found.kind === 'replay')
      return {
        ...found.answer,
        headers: { ...found.answer.headers, [REPLAYED_HEADER]: 'true' },
      };
    const answer = await answerOf(run);
    this.#idempotency.remember(account, key, fingerprint, answer, Date.now());
    return answer;
  }

  /** Checks the body (422 naming the field), then writes the parent and waits until served. */
  async #write(route: Route & { domain: string }, bodyText: string): Promise<ApiResponse> {
    const { domain } = route;
    await this.#checkAccount(domain);
    const body = parseJson(bodyText);
    const write = validated(() =>
      route.kind === 'ds'
        ? { kind: 'ds' as const, ds: parseDsBody(body) }
        : { kind: 'nameservers' as const, wanted: parseNameserversBody(body, domain) },
    );
    const served = await (
      write.kind === 'ds'
        ? this.#parent.replaceDs(domain, write.ds)
        : this.#parent.replaceNameservers(domain, write.wanted)
    ).catch((error: unknown) => {
      throw parentFailure(error, domain);
    });
    return { status: 200, body: { ...this.#parent.view(served, domain), requestId: randomUUID() } };
  }

  async #read(domain: string): Promise<ApiResponse> {
    await this.#checkAccount(domain);
    const delegation = await this.#parent.observe(domain).catch((error: unknown) => {
      throw parentFailure(error, domain);
    });
    const view: DomainView = this.#parent.view(delegation, domain);
    return { status: 200, body: view };
  }

  /**
   * 404 for a domain the parent does not delegate (or outside the parent zone), 403 for one it
   * delegates to another account.
   */
  async #checkAccount(domain: string): Promise<void> {
    if (this.#domains.has(domain)) return;
    const parentZone = this.#config.parent.zone;
    if (!isInDomain(domain, parentZone) || domain === parentZone)
      throw new HttpError(404, problem('not-found', `no domain ${shownName(domain)}`));
    await this.#parent.observe(domain).catch((error: unknown) => {
      throw parentFailure(error, domain);
    });
    throw new HttpError(403, problem('forbidden', `${shownName(domain)} is not in this account`));
  }
}

/** What `parse` returns; its FieldError as the 422 that names the field. */
function validated<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof FieldError)
      throw new HttpError(422, problem('invalid', error.detail, error.field));
    throw error;
  }
}

/** The answer of `run`, its HttpError included (a kept answer may be a 4xx). */
async function answerOf(run: () => Promise<ApiResponse>): Promise<StoredAnswer> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof HttpError)) throw error;
    return { status: error.status, body: error.body, headers: error.headers };
  }
}
