/**
 * The one HTTP client for REST plugins, on node:http. Every failure is an ApiCallError carrying the
 * URL (never credentials), the status, the trimmed body, `isRetryable` (network errors, 408, 409,
 * 429, 5xx; never 401/403) and `retryAfterSeconds`; or AbortError when the caller's signal fired.
 * Credentials go in headers only, and headers are never logged.
 */
import http from 'node:http';
import https from 'node:https';
import { AbortError, ApiCallError } from '@chorus/core';
import { withTimeout } from './abort.js';
import { countCall } from './tally.js';
import type { CommandLogger } from './command.js';

export interface HttpClientOptions {
  /** e.g. `http://127.0.0.1:8081/api/v1/servers/localhost`; paths are appended to it. */
  baseUrl: string;
  /** Time limit of one request (connect, headers and body), in milliseconds. */
  timeoutMs: number;
  /** Headers sent with every request, e.g. the API key; read at each call so a key file can rotate. */
  headers?: () => Promise<Record<string, string>> | Record<string, string>;
  /** Turns an error body into its message, e.g. `{"error": "…"}` into `…`. Default: the body. */
  errorText?: (body: string) => string;
  logger?: CommandLogger;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Appended to the base URL, e.g. `/zones/example.test.`. */
  path: string;
  query?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  signal?: AbortSignal | undefined;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The URL without credentials. */
  url: string;
}

/**
 * Seconds to wait from a `Retry-After` header: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
 * Undefined when absent or unreadable.
 */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.round((date - now) / 1000));
}

/** The URL as it may appear in errors and logs: no user, no password. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}

/** Why a request got no response, without anything secret: the cause's code and message. */
function failureDetail(error: unknown, timeoutMs: number, timedOut: boolean): string {
  if (timedOut) return `no answer within ${timeoutMs} ms`;
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  if (!(cause instanceof Error)) return String(cause);
  const code = (cause as { code?: unknown }).code;
  return typeof code === 'string' && !cause.message.includes(code)
    ? `${code}: ${cause.message}`
    : cause.message;
}

/** A client of one HTTP API. */
export class HttpClient {
  readonly baseUrl: string;
  readonly #options: HttpClientOptions;

  constructor(options: HttpClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#options = options;
  }

  /** Sends a request; any status but 2xx rejects with ApiCallError. */
  async request(request: HttpRequest): Promise<HttpResponse> {
    const url = this.#url(request);
    const shown = safeUrl(url);
    const what = `${request.method} ${shown}`;
    const parent = request.signal;
    if (parent?.aborted) throw new AbortError(what, parent.reason);
    const headers: Record<string, string> = {
      Accept: 'application/json',
      ...(await this.#options.headers?.()),
    };
    if (request.body !== undefined) headers['Content-Type'] = 'application/json';
    if (parent?.aborted) throw new AbortError(what, parent.reason);
    countCall(`http ${request.method}`);
    const bounded = withTimeout(parent, this.#options.timeoutMs);
    const started = performance.now();
    let response: RawResponse;
    try {
      const body = request.body === undefined ? undefined : JSON.stringify(request.body);
      response = await send(url, request.method, headers, body, bounded.signal);
    } catch (error) {
      if (parent?.aborted) throw new AbortError(what, parent.reason);
      countCall('http failed');
      const detail = failureDetail(error, this.#options.timeoutMs, bounded.timedOut());
      this.#options.logger?.debug(
        { method: request.method, url: shown, detail },
        'HTTP call failed',
      );
      throw new ApiCallError({
        url: shown,
        method: request.method,
        responseBody: detail,
        cause: error,
      });
    }
    const elapsedMs = Math.round(performance.now() - started);
    this.#options.logger?.debug(
      { method: request.method, url: shown, status: response.status, elapsedMs },
      'HTTP call',
    );
    const { status, text } = response;
    if (status < 200 || status > 299) {
      countCall(`http ${status}`);
      throw this.#statusError(request.method, shown, response);
    }
    return { status, headers: response.headers, text, url: shown };
  }

  /**
   * Sends a request and parses its JSON body with `parse`. A body that is not JSON, or that
   * `parse` rejects (throw a TypeError naming what was expected), is a non-retryable ApiCallError.
   */
  async json<T>(request: HttpRequest, parse: (body: unknown) => T): Promise<T> {
    const { status, text, url } = await this.request(request);
    const unexpected = (what: string) =>
      new ApiCallError({
        url,
        method: request.method,
        statusCode: status,
        responseBody: `unexpected response: ${what}`,
      });
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw unexpected('not JSON');
    }
    try {
      return parse(parsed);
    } catch (error) {
      throw unexpected(`expected ${error instanceof TypeError ? error.message : 'another shape'}`);
    }
  }

  #url(request: HttpRequest): string {
    const search = new URLSearchParams(request.query ?? {}).toString();
    return `${this.baseUrl}${request.path}${search ? `?${search}` : ''}`;
  }

  #statusError(method: string, url: string, response: RawResponse): ApiCallError {
    const { text } = response;
    const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'));
    return new ApiCallError({
      url,
      method,
      statusCode: response.status,
      responseBody: this.#options.errorText ? this.#options.errorText(text) : text,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    });
  }
}

interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * One HTTP exchange on node:http (a fraction of fetch's CPU per request, which counts when a
 * sidecar makes thousands). The body is read whole; redirects are not followed.
 */
function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  signal: AbortSignal,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const client = target.protocol === 'https:' ? https : http;
    const lengthHeader =
      body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(body)) };
    const outgoing = client.request(
      target,
      { method, headers: { ...headers, ...lengthHeader }, signal },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', reject);
        incoming.on('end', () =>
          resolve({
            status: incoming.statusCode ?? 0,
            headers: headersOf(incoming.headers),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        // After `end` this settles nothing; before it, the body was cut short.
        incoming.on('close', () =>
          reject(new Error('the connection closed before the whole response came')),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function headersOf(incoming: http.IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return headers;
}
