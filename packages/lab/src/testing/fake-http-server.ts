/**
 * A fake REST API on loopback for plugin tests (deSEC, NS1 and the like): routes by method and
 * path pattern, JSON bodies, an auth-header check (401), rate limits (429 with `Retry-After`)
 * and a record of every request. Pair it with a real lab nameserver that serves the zone.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
  method: string;
  /** The path without the query string, e.g. `/api/v1/domains/example.test/`. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or undefined when there was none. */
  body: unknown;
  /** Values of the route's `:name` segments, URL-decoded. */
  params: Record<string, string>;
}

export interface FakeResponse {
  /** Default 200, or 204 without a body. */
  status?: number;
  /** Sent as JSON; a string is sent as is (set `content-type` in `headers`). */
  body?: unknown;
  headers?: Record<string, string>;
}

export type FakeHandler = (request: FakeRequest) => FakeResponse | Promise<FakeResponse>;

/** At most `limit` requests per fixed window of `windowMs`; the next ones get 429. */
export interface FakeRateLimit {
  limit: number;
  windowMs: number;
  /** Sent as `Retry-After`; default: the seconds left in the window, rounded up. */
  retryAfterSeconds?: number;
  /** Extra headers on each 429, e.g. `{ 'x-ratelimit-remaining': '0' }`. */
  headers?: Record<string, string>;
  body?: unknown;
}

export interface FakeRoute {
  method: string;
  /** Segments starting with `:` match one path segment, e.g. `/domains/:name/rrsets/`. */
  path: string;
  handler: FakeHandler;
  /** Counted for this route alone, after the global limit. */
  rateLimit?: FakeRateLimit;
}

export interface FakeAuth {
  /** Default `authorization`. */
  header?: string;
  /** Accepted header values, e.g. `Token s3cr3t`. */
  accept: readonly string[];
  /** Body of the 401 answer. Default `{ "detail": "Invalid token." }`. */
  body?: unknown;
}

export interface FakeHttpServerOptions {
  routes: readonly FakeRoute[];
  /** Checked before routing; without it every request is allowed. */
  auth?: FakeAuth;
  /** Counted over every request that passes the auth check. */
  rateLimit?: FakeRateLimit;
  /** Default 127.0.0.1. */
  address?: string;
  /** Default 0: any free port. */
  port?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  /** The status the fake answered with. */
  status: number;
}

export interface FakeHttpServer {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:40123`. */
  url: string;
  /** Every request in arrival order. */
  requests: RecordedRequest[];
  /** Starts every rate-limit window afresh. */
  resetRateLimits(): void;
  close(): Promise<void>;
}

interface Window {
  startedAt: number;
  count: number;
}

/** A fixed-window counter: undefined when the request may pass, else the 429 answer. */
function limiter(limit: FakeRateLimit) {
  let window: Window = { startedAt: Date.now(), count: 0 };
  return {
    reset: () => {
      window = { startedAt: Date.now(), count: 0 };
    },
    check: (): FakeResponse | undefined => {
      const now = Date.now();
      if (now - window.startedAt >= limit.windowMs) window = { startedAt: now, count: 0 };
      window.count += 1;
      if (window.count <= limit.limit) return undefined;
      const left = Math.max(1, Math.ceil((window.startedAt + limit.windowMs - now) / 1000));
      return {
        status: 429,
        headers: { 'retry-after': String(limit.retryAfterSeconds ?? left), ...limit.headers },
        body: limit.body ?? { detail: 'Request was throttled.' },
      };
    },
  };
}

type Limiter = ReturnType<typeof limiter>;

/** Segments of a path; a trailing slash counts (`/domains/` is not `/domains`). */
function splitPath(value: string): string[] {
  return value.split('/');
}

/** The route's params when `path` matches its pattern, else undefined. */
function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const expected = splitPath(pattern);
  const actual = splitPath(path);
  if (expected.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, segment] of expected.entries()) {
    const value = actual[index] ?? '';
    if (segment.startsWith(':') && value !== '')
      params[segment.slice(1)] = decodeURIComponent(value);
    else if (segment !== value) return undefined;
  }
  return params;
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

function send(response: ServerResponse, answer: FakeResponse): number {
  const hasBody = answer.body !== undefined;
  const status = answer.status ?? (hasBody ? 200 : 204);
  const raw = typeof answer.body === 'string';
  const headers = {
    ...(hasBody && !raw ? { 'content-type': 'application/json' } : {}),
    ...answer.headers,
  };
  response.writeHead(status, headers);
  response.end(hasBody ? (raw ? (answer.body as string) : JSON.stringify(answer.body)) : undefined);
  return status;
}

function isAuthorized(auth: FakeAuth | undefined, headers: IncomingHttpHeaders): boolean {
  if (!auth) return true;
  const value = headers[(auth.header ?? 'authorization').toLowerCase()];
  return typeof value === 'string' && auth.accept.includes(value);
}

interface Dispatch {
  options: FakeHttpServerOptions;
  global: Limiter | undefined;
  perRoute: Map<FakeRoute, Limiter>;
}

/** Auth, global limit, route, route limit, handler: the first that answers wins. */
async function answer(dispatch: Dispatch, request: FakeRequest): Promise<FakeResponse> {
  const { options } = dispatch;
  if (!isAuthorized(options.auth, request.headers)) {
    return { status: 401, body: options.auth?.body ?? { detail: 'Invalid token.' } };
  }
  const throttled = dispatch.global?.check();
  if (throttled) return throttled;
  const onPath = options.routes
    .map((route) => ({ route, params: matchPath(route.path, request.path) }))
    .filter((candidate) => candidate.params !== undefined);
  if (onPath.length === 0) return { status: 404, body: { detail: `no route for ${request.path}` } };
  const match = onPath.find((candidate) => candidate.route.method.toUpperCase() === request.method);
  if (!match) {
    return {
      status: 405,
      body: { detail: `method ${request.method} not allowed on ${request.path}` },
    };
  }
  const routeThrottled = dispatch.perRoute.get(match.route)?.check();
  if (routeThrottled) return routeThrottled;
  return match.route.handler({ ...request, params: match.params ?? {} });
}

async function handle(
  dispatch: Dispatch,
  request: IncomingMessage,
  response: ServerResponse,
  requests: RecordedRequest[],
) {
  const url = new URL(request.url ?? '/', 'http://fake.invalid');
  const method = (request.method ?? 'GET').toUpperCase();
  let body: unknown;
  let reply: FakeResponse;
  try {
    body = await readBody(request);
    reply = await answer(dispatch, {
      method,
      path: url.pathname,
      query: url.searchParams,
      headers: request.headers,
      body,
      params: {},
    });
  } catch (error) {
    const isJson = error instanceof SyntaxError;
    reply = {
      status: isJson ? 400 : 500,
      body: { detail: isJson ? `invalid JSON: ${error.message}` : String(error) },
    };
  }
  const status = send(response, reply);
  requests.push({
    method,
    path: url.pathname,
    query: url.search,
    headers: request.headers,
    body,
    status,
  });
}

/** Starts the fake on loopback; resolves once it listens. */
export async function startFakeHttpServer(options: FakeHttpServerOptions): Promise<FakeHttpServer> {
  const dispatch: Dispatch = {
    options,
    global: options.rateLimit ? limiter(options.rateLimit) : undefined,
    perRoute: new Map(
      options.routes.flatMap((route) =>
        route.rateLimit ? [[route, limiter(route.rateLimit)] as const] : [],
      ),
    ),
  };
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((request, response) => {
    void handle(dispatch, request, response, requests);
  });
  const address = options.address ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, address, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    requests,
    resetRateLimits: () => {
      dispatch.global?.reset();
      for (const entry of dispatch.perRoute.values()) entry.reset();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
