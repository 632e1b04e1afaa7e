/**
 * The registrar channel: a ParentChannel that submits DS and NS changes through a registrar's
 * REST API (docs/parent-channels.md, "The registrar channel") and observes the result at the
 * parent's servers, like the observe-only channel: the wire is the source of truth, not the API.
 *
 * Each request is a full-set replacement (`PUT /v1/domains/{domain}/ds` or `…/nameservers`) with
 * an `Idempotency-Key` derived from the zone and the set, so a retried request is the same
 * request. Retryable failures (network, 429 with its `Retry-After`, 5xx) are retried with back-off
 * a bounded number of times; then the typed ApiCallError goes to the caller. The API token is read
 * from its file at each call, sent in a header only, and never appears in a log or an error.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  ApiCallError,
  can,
  cannot,
  ConfigError,
  UnsafePlanError,
  type CallOptions,
  type Delegation,
  type DsData,
  type NameServer,
  type ParentChannel,
  type ParentRequest,
  type ZoneName,
} from '@chorus/core';
import {
  canonicalName,
  dsIdentity,
  HttpClient,
  isSubdomain,
  normalizeName,
  type CommandLogger,
  type HttpResponse,
} from '@chorus/dns';
import { createObserveOnlyParentChannel } from './observe-only.js';
import { DEFAULT_RETRY_POLICY, withRetries, type RetryPolicy } from './registrar-retry.js';
import type { GlueAddresses } from './types.js';

/** What the registrar API takes, for planning: DS (not keys), which digests, whether NS changes. */
export interface RegistrarAccepts {
  /** `ds`: the API takes DS records, not DNSKEYs. */
  takes: 'ds';
  acceptedDigestTypes: readonly number[];
  acceptedAlgorithms: readonly number[];
  maxDs: number;
  /** Whether the API changes the delegation's NS set (and glue for names inside the domain). */
  nsChanges: boolean;
  maxNameservers: number;
}

/** The registrar API of docs/parent-channels.md (and the lab's fake registrar). */
export const REGISTRAR_API_ACCEPTS: RegistrarAccepts = Object.freeze({
  takes: 'ds',
  acceptedDigestTypes: Object.freeze([2, 4]),
  acceptedAlgorithms: Object.freeze([8, 13, 14, 15, 16]),
  maxDs: 8,
  nsChanges: true,
  maxNameservers: 13,
});

export interface RegistrarParentChannelOptions {
  /** Instance id from configuration, e.g. `registrar-lab`. */
  id: string;
  /** The API's base URL, e.g. `http://127.53.0.61:8000/v1/`. */
  url: string;
  /** 0600 file holding the API token alone; read at each call, so it can rotate. Never logged. */
  tokenFile: string;
  /** The parent zone, e.g. `test.`. */
  parentZone: string;
  /** Every address of every parent nameserver: getDelegation asks each one. */
  parentServers: NameServer[];
  /** Time limit of one HTTP request; a PUT answers once the parent serves it. Default 30 000 ms. */
  timeoutMs?: number;
  /** Time limit of one DNS query of getDelegation. Default 2000 ms. */
  dnsTimeoutMs?: number;
  /** Attempts and back-off (DEFAULT_RETRY_POLICY for what is not given). */
  retry?: Partial<RetryPolicy>;
  logger?: CommandLogger;
}

/** Options of `requestNsUpdate`: the addresses of nameserver names inside the zone. */
export interface RegistrarNsUpdateOptions extends CallOptions {
  /**
   * Glue for names inside the zone. A name without an entry here keeps the addresses the parent
   * serves for it now; a new name inside the zone without either is refused (UnsafePlanError).
   */
  glue?: readonly GlueAddresses[];
}

/** A ParentChannel of kind `registrar-api`, with what its API accepts. */
export interface RegistrarParentChannel extends ParentChannel {
  readonly kind: 'registrar-api';
  readonly accepts: RegistrarAccepts;
  requestDsUpdate(zone: ZoneName, desired: DsData[], options: CallOptions): Promise<ParentRequest>;
  requestNsUpdate(
    zone: ZoneName,
    desired: string[],
    options: RegistrarNsUpdateOptions,
  ): Promise<ParentRequest>;
}

const REPLAYED_HEADER = 'idempotent-replayed';

/** The API token from its file (one line, no spaces); an error names the file, not the content. */
async function readToken(file: string): Promise<string> {
  let token: string;
  try {
    token = (await readFile(file, 'utf8')).trim();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new ConfigError({
      key: 'tokenFile',
      problem: `cannot read ${file}${typeof code === 'string' ? ` (${code})` : ''}`,
    });
  }
  if (token === '' || /\s/.test(token))
    throw new ConfigError({ key: 'tokenFile', problem: `${file} must hold the API token alone` });
  return token;
}

/** The API's error body `{"error": {"code", "message", "field"?}}` as one line. */
export function registrarErrorText(body: string): string {
  try {
    const error = (
      JSON.parse(body) as { error?: { code?: unknown; message?: unknown; field?: unknown } }
    ).error;
    if (typeof error?.message !== 'string') return body;
    const field = typeof error.field === 'string' ? ` (field ${error.field})` : '';
    return `${typeof error.code === 'string' ? `${error.code}: ` : ''}${error.message}${field}`;
  } catch {
    return body;
  }
}

/** The zone as the API names it: lower-case, no trailing dot. */
function apiName(name: string): string {
  return canonicalName(normalizeName(name)).replace(/\.$/, '');
}

/** `chorus-<kind>-<hash>`: the same zone and set always give the same key. */
export function idempotencyKeyFor(kind: 'ds' | 'ns', zone: string, set: unknown): string {
  const hash = createHash('sha256')
    .update(`${kind} ${apiName(zone)}\n${JSON.stringify(set)}`)
    .digest('hex');
  return `chorus-${kind}-${hash.slice(0, 40)}`;
}

/** The DS set as the API takes it, in a stable order (the key does not depend on the order). */
function dsBody(desired: readonly DsData[]) {
  return [...desired]
    .sort((a, b) => dsIdentity(a).localeCompare(dsIdentity(b)))
    .map(({ keyTag, algorithm, digestType, digest }) => ({
      keyTag,
      algorithm,
      digestType,
      digest: digest.toUpperCase(),
    }));
}

/**
 * The nameservers and in-zone glue to send: glue from `given`, else the parent's current glue
 * for a kept name. A name inside the zone without either is refused.
 */
function nameserversBody(
  zone: string,
  desired: readonly string[],
  given: readonly GlueAddresses[],
  current: Delegation | undefined,
) {
  const names = [...new Set(desired.map(apiName))].sort();
  const glue = names
    .filter((name) => isSubdomain(`${name}.`, zone))
    .map((name) => {
      const known =
        given.find((entry) => apiName(entry.name) === name) ??
        current?.glue.find((entry) => apiName(entry.name) === name);
      if (!known || known.addresses.length === 0)
        throw new UnsafePlanError(
          `${name}. is inside ${zone} and the registrar needs its addresses (glue): pass them in the request's glue option, or delegate to it with glue first`,
        );
      return { name, addresses: [...known.addresses].sort() };
    });
  return glue.length > 0 ? { nameservers: names, glue } : { nameservers: names };
}

/**
 * A ParentChannel that submits DS and NS sets through a registrar's REST API.
 *
 * @example
 * const parent = createRegistrarParentChannel({
 *   id: 'registrar-lab', url: lab.registrar.url, tokenFile: lab.registrar.tokenFile,
 *   parentZone: 'test.', parentServers: [{ address: '127.53.0.1' }],
 * });
 * await parent.requestDsUpdate('example.test.', desiredDs, { signal });
 * const delegation = await parent.getDelegation('example.test.', { signal }); // the proof
 */
export function createRegistrarParentChannel(
  options: RegistrarParentChannelOptions,
): RegistrarParentChannel {
  const parentZone = normalizeName(options.parentZone);
  const observer = createObserveOnlyParentChannel({
    id: options.id,
    parentZone,
    parentServers: options.parentServers,
    ...(options.dnsTimeoutMs === undefined ? {} : { timeoutMs: options.dnsTimeoutMs }),
  });
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  /** A client whose every request carries the token (read now) and `Idempotency-Key: key`. */
  const clientFor = (key: string) =>
    new HttpClient({
      baseUrl: options.url,
      timeoutMs: options.timeoutMs ?? 30_000,
      headers: async () => ({
        Authorization: `Bearer ${await readToken(options.tokenFile)}`,
        'Idempotency-Key': key,
      }),
      errorText: registrarErrorText,
      ...(options.logger ? { logger: options.logger } : {}),
    });

  /** One PUT with retries under one key; a 401/403 names the token file (never the token). */
  const put = async (path: string, body: unknown, key: string, signal?: AbortSignal) => {
    const client = clientFor(key);
    try {
      return await withRetries(() => client.request({ method: 'PUT', path, body, signal }), {
        policy,
        method: 'PUT',
        signal,
        onRetry: ({ attempt, delayMs, error }) =>
          options.logger?.debug(
            { channel: options.id, path, attempt, delayMs, error: (error as Error).message },
            'registrar request retried',
          ),
      });
    } catch (error) {
      throw explained(error, options.tokenFile);
    }
  };

  /**
   * Sends `body` under `key`. A replayed answer is checked at the parent: when the parent no
   * longer serves the set (it changed since the first request), the set is sent once more under a
   * fresh key.
   */
  const submit = async (
    zone: string,
    path: string,
    body: unknown,
    key: string,
    served: (delegation: Delegation) => boolean,
    callOptions: CallOptions,
  ): Promise<ParentRequest> => {
    let sentKey = key;
    let response = await put(path, body, sentKey, callOptions.signal);
    if (response.headers.get(REPLAYED_HEADER) === 'true') {
      const delegation = await observer.getDelegation(zone, callOptions);
      if (!served(delegation)) {
        sentKey = `${key}-${randomUUID().slice(0, 8)}`;
        response = await put(path, body, sentKey, callOptions.signal);
      }
    }
    return { requestId: requestIdOf(response) ?? sentKey };
  };

  return Object.freeze({
    specificationVersion: 'v1' as const,
    kind: 'registrar-api' as const,
    id: options.id,
    accepts: REGISTRAR_API_ACCEPTS,
    capabilities: Object.freeze({
      'cds-scan': cannot('a registrar takes changes through its API; it does not scan'),
      'csync-scan': cannot('a registrar takes changes through its API; it does not scan'),
      'ds-push': can('registrar API: PUT /v1/domains/{d}/ds, digest types 2 and 4'),
      'ns-push': can(
        'registrar API: PUT /v1/domains/{d}/nameservers, with glue for names inside the domain',
      ),
    }),
    getDelegation(zone: ZoneName, callOptions: CallOptions): Promise<Delegation> {
      return observer.getDelegation(zone, callOptions);
    },
    async requestDsUpdate(
      zone: ZoneName,
      desired: DsData[],
      callOptions: CallOptions,
    ): Promise<ParentRequest> {
      const ds = dsBody(desired);
      const wanted = JSON.stringify(ds.map(dsIdentity));
      return submit(
        zone,
        `/domains/${encodeURIComponent(apiName(zone))}/ds`,
        { ds },
        idempotencyKeyFor('ds', zone, ds),
        (delegation) =>
          delegation.servers.every(
            (view) => JSON.stringify(dsBody(view.ds?.records ?? []).map(dsIdentity)) === wanted,
          ),
        callOptions,
      );
    },
    async requestNsUpdate(
      zone: ZoneName,
      desired: string[],
      callOptions: RegistrarNsUpdateOptions,
    ): Promise<ParentRequest> {
      const child = canonicalName(normalizeName(zone));
      const given = callOptions.glue ?? [];
      const needsCurrent = desired.some(
        (name) =>
          isSubdomain(normalizeName(name), child) &&
          !given.some((entry) => apiName(entry.name) === apiName(name)),
      );
      const current = needsCurrent ? await observer.getDelegation(child, callOptions) : undefined;
      const body = nameserversBody(child, desired, given, current);
      const wanted = JSON.stringify(body.nameservers);
      return submit(
        child,
        `/domains/${encodeURIComponent(apiName(child))}/nameservers`,
        body,
        idempotencyKeyFor('ns', child, body),
        (delegation) =>
          delegation.servers.every(
            (view) =>
              JSON.stringify([...new Set((view.ns?.records ?? []).map(apiName))].sort()) === wanted,
          ),
        callOptions,
      );
    },
  });
}

/** The registrar's `requestId` from a PUT's answer, if it sent one. */
function requestIdOf(response: HttpResponse): string | undefined {
  try {
    const id = (JSON.parse(response.text) as { requestId?: unknown }).requestId;
    return typeof id === 'string' && id !== '' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** A 401/403 says which token file was refused (the file, never the token). */
function explained(error: unknown, tokenFile: string): unknown {
  if (!ApiCallError.isInstance(error) || (error.statusCode !== 401 && error.statusCode !== 403))
    return error;
  const hint =
    error.statusCode === 401
      ? `the token in ${tokenFile} was refused: wrong, expired or revoked`
      : `the account of the token in ${tokenFile} does not hold this domain`;
  return new ApiCallError({
    url: error.url,
    method: 'PUT',
    statusCode: error.statusCode,
    responseBody: `${error.responseBody} — ${hint}`,
    cause: error,
  });
}
