/** Typed errors of the provider fakes. */

/** The config file is unreadable or a field is wrong; `field` names it (e.g. `backend.url`). */
export class FakeConfigError extends Error {
  readonly field: string;

  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.name = 'FakeConfigError';
    this.field = field;
  }
}

/**
 * An HTTP answer decided before the normal response: a 4xx/5xx with the provider's error body.
 * Route handlers throw it; the server turns it into the response.
 */
export class HttpError extends Error {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Record<string, string>;

  constructor(status: number, body: unknown, headers: Record<string, string> = {}) {
    super(`HTTP ${status}`);
    this.name = 'HttpError';
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}
