/**
 * The HTTP server shared by every fake (deSEC, NS1, the registrar): admin endpoints under
 * `/_fake/`, then for API requests authentication, rate limiting, injected faults, the fake's
 * handler (one at a time), and one request record per request.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import type { ProviderFakeConfig } from './config.js';
import { HttpError } from './errors.js';
import { dropFields, FaultSet, parseFault, type FaultSpec } from './faults.js';
import {
  REPLAYED_HEADER,
  type ApiRequest,
  type ApiResponse,
  type ProviderApi,
} from './provider-api.js';
import { RequestLog, type RequestRecord } from './request-log.js';
import type { FakeState, TokenState } from './state.js';

/** One JSON line per event; never tokens, headers or the backend API key. */
export type EventLogger = (event: string, fields?: Record<string, unknown>) => void;

/** Bodies above this many bytes are not read at all (413). */
const MAX_BODY_BYTES = 1_000_000;

/** What the server itself needs from a fake's config: where to listen, the secrets, the log. */
export type FakeServerConfig = Pick<
  ProviderFakeConfig,
  'listen' | 'tokenFile' | 'adminTokenFile' | 'requestLogFile'
>;

export interface FakeServerOptions {
  config: FakeServerConfig;
  api: ProviderApi;
  state: FakeState;
  log: EventLogger;
}

export interface RunningFake {
  url: string;
  close(): Promise<void>;
}

class BodyTooLarge extends Error {}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, answer: ApiResponse): void {
  const headers: Record<string, string> = { ...answer.headers };
  if (answer.body === undefined) {
    response.writeHead(answer.status, headers);
    response.end();
    return;
  }
  const text = JSON.stringify(answer.body);
  headers['Content-Type'] = 'application/json';
  headers['Content-Length'] = String(Buffer.byteLength(text));
  response.writeHead(answer.status, headers);
  response.end(text);
}

/** Waits `ms`; resolves false when `signal` fired first. */
function delay(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve(false);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function readSecret(file: string): Promise<string> {
  return (await readFile(file, 'utf8')).trim();
}

function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text === '' ? '{}' : text) as unknown;
  } catch {
    throw new HttpError(400, { error: 'the body is not JSON' });
  }
}

const TOKEN_STATES: readonly TokenState[] = ['valid', 'expired', 'revoked'];

/** Runs one fake's HTTP server until `close`. */
export class FakeServer {
  readonly #options: FakeServerOptions;
  readonly #faults = new FaultSet();
  readonly #requestLog: RequestLog;
  readonly #server = createServer((request, response) => {
    void this.#serve(request, response);
  });
  /** API requests run one at a time: each reads and writes the backend consistently. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: FakeServerOptions) {
    this.#options = options;
    this.#requestLog = new RequestLog(options.config.requestLogFile);
    this.#requestLog.onError = (error) =>
      options.log('request-log-error', { message: (error as Error).message });
  }

  async start(): Promise<RunningFake> {
    const { address, port } = this.#options.config.listen;
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, address, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const bound = this.#server.address() as AddressInfo;
    const url = `http://${bound.address}:${bound.port}`;
    this.#options.log('listening', { provider: this.#options.api.provider, url });
    return { url, close: () => this.close() };
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await this.#queue.catch(() => undefined);
    await this.#requestLog.flush();
    this.#options.log('stopped', { provider: this.#options.api.provider });
  }

  async #serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', `http://${request.headers.host ?? 'localhost'}`);
    const method = (request.method ?? 'GET').toUpperCase();
    let bodyText: string;
    try {
      bodyText = await readBody(request);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        send(response, { status: 413, body: this.#options.api.errorBody(413) });
        return;
      }
      throw error;
    }
    const apiRequest: ApiRequest = { method, url, headers: request.headers, bodyText };
    try {
      if (url.pathname.startsWith('/_fake/')) send(response, await this.#admin(apiRequest));
      else await this.#api(apiRequest, response);
    } catch (error) {
      this.#options.log('internal-error', { message: (error as Error).message });
      if (!response.headersSent)
        send(response, { status: 500, body: this.#options.api.errorBody(500) });
    }
  }

  async #api(request: ApiRequest, response: ServerResponse): Promise<void> {
    const { api, config, state } = this.#options;
    const now = Date.now();
    const record: RequestRecord = {
      time: new Date(now).toISOString(),
      method: request.method,
      path: request.url.pathname,
      status: 0,
      rateClass: 'unauthenticated',
    };
    const closed = new AbortController();
    response.on('close', () => {
      if (!response.writableEnded) closed.abort();
    });
    let headers: Record<string, string> = {};
    let answer: ApiResponse;
    try {
      try {
        api.authenticate(request, await readSecret(config.tokenFile), state.data.token);
      } catch (error) {
        headers = api.refusedHeaders(request, now);
        throw error;
      }
      const admission = api.admit(request, now);
      headers = admission.headers;
      record.rateClass = admission.rateClass;
      if (admission.domain !== undefined) record.domain = admission.domain;
      answer = admission.rejected ?? (await this.#admitted(request, closed.signal));
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      answer = { status: error.status, body: error.body, headers: error.headers };
    }
    if (closed.signal.aborted) {
      record.status = 499; // the client left before the answer (nginx's convention)
    } else {
      send(response, { ...answer, headers: { ...headers, ...answer.headers } });
      record.status = answer.status;
      if (answer.headers?.[REPLAYED_HEADER] === 'true') record.replayed = true;
    }
    this.#requestLog.append(record);
    this.#options.log('request', {
      method: record.method,
      path: record.path,
      status: record.status,
    });
  }

  /** Faults, then the provider's handler in the queue. */
  async #admitted(request: ApiRequest, closed: AbortSignal): Promise<ApiResponse> {
    const fault = this.#faults.take(request.method, request.url.pathname);
    if (fault?.delayMs !== undefined && !(await delay(fault.delayMs, closed)))
      return { status: 499 };
    if (fault?.status !== undefined)
      return {
        status: fault.status,
        body: fault.body ?? this.#options.api.errorBody(fault.status),
      };
    const answer = await this.#inQueue(() => this.#options.api.handle(request));
    return this.#withDroppedFields(answer, fault);
  }

  #withDroppedFields(answer: ApiResponse, fault: FaultSpec | undefined): ApiResponse {
    if (fault?.dropFields === undefined || answer.body === undefined) return answer;
    return { ...answer, body: dropFields(answer.body, fault.dropFields) };
  }

  #inQueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #admin(request: ApiRequest): Promise<ApiResponse> {
    const path = request.url.pathname;
    if (path === '/_fake/health' && request.method === 'GET')
      return { status: 200, body: { ok: true, provider: this.#options.api.provider } };
    const given = request.headers['x-fake-admin'];
    const expected = await readSecret(this.#options.config.adminTokenFile);
    if (typeof given !== 'string' || given.trim() !== expected || expected === '')
      return { status: 401, body: { error: 'X-Fake-Admin header missing or wrong' } };
    try {
      return await this.#adminRoute(request, path);
    } catch (error) {
      if (error instanceof HttpError) return { status: error.status, body: error.body };
      throw error;
    }
  }

  async #adminRoute(request: ApiRequest, path: string): Promise<ApiResponse> {
    const route = `${request.method} ${path.replace(/\/+$/, '')}`;
    switch (route) {
      case 'GET /_fake/faults':
        return { status: 200, body: this.#faults.list() };
      case 'POST /_fake/faults': {
        const fault = parseFault(parseJsonBody(request.bodyText));
        this.#faults.add(fault);
        this.#options.log('fault-added', { fault: { ...fault, body: undefined } });
        return { status: 201, body: fault };
      }
      case 'DELETE /_fake/faults':
        return { status: 200, body: { cleared: this.#faults.clear() } };
      case 'POST /_fake/token':
        return this.#setToken(parseJsonBody(request.bodyText));
      case 'GET /_fake/requests':
        await this.#requestLog.flush();
        return { status: 200, body: this.#requestLog.records };
      case 'POST /_fake/rate-limits': {
        const limits = parseJsonBody(request.bodyText);
        const effective = this.#options.api.resetRateLimits(limits);
        this.#options.log('rate-limits-reset', { limits: effective });
        return { status: 200, body: effective };
      }
      default:
        return { status: 404, body: { error: `no admin endpoint ${route}` } };
    }
  }

  async #setToken(body: unknown): Promise<ApiResponse> {
    const stateValue = (body as { state?: unknown } | null)?.state;
    if (!TOKEN_STATES.includes(stateValue as TokenState))
      throw new HttpError(400, { error: 'state must be valid, expired or revoked' });
    this.#options.state.data.token = stateValue as TokenState;
    await this.#options.state.save();
    this.#options.log('token-state', { state: stateValue });
    return { status: 200, body: { state: stateValue } };
  }
}
