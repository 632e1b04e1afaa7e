/** What the generic server needs from each provider fake. */
import type { IncomingHttpHeaders } from 'node:http';
import type { FakeKind } from './config.js';
import type { TokenState } from './state.js';

/** Set on an answer replayed for an `Idempotency-Key` (the registrar fake). */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

export interface ApiRequest {
  method: string;
  /** Absolute, built from the Host header (for deSEC's Link URLs). */
  url: URL;
  headers: IncomingHttpHeaders;
  /** The raw body; each provider parses it with its own error texts. */
  bodyText: string;
}

export interface ApiResponse {
  status: number;
  /** JSON body; absent = no body (204). */
  body?: unknown;
  headers?: Record<string, string>;
}

/** The rate limiter's decision on an authenticated request. */
export interface Admission {
  rateClass: string;
  domain?: string;
  /** Set when throttled: the 429 to send. */
  rejected?: ApiResponse;
  /** Headers for the response, whatever it is (NS1's X-Ratelimit-*). */
  headers: Record<string, string>;
}

export interface ProviderApi {
  readonly provider: FakeKind;
  /** Throws HttpError(401) unless the request carries `token` and the token is valid. */
  authenticate(request: ApiRequest, token: string, state: TokenState): void;
  admit(request: ApiRequest, now: number): Admission;
  /** Headers for a request refused before admission (401). */
  refusedHeaders(request: ApiRequest, now: number): Record<string, string>;
  handle(request: ApiRequest): Promise<ApiResponse>;
  /** The provider's error body for `status` (injected faults, internal errors). */
  errorBody(status: number): unknown;
  /** Forgets every admitted request (admin `POST /_fake/rate-limits`), with new limits if given. */
  resetRateLimits(limits: unknown): Record<string, unknown>;
}
