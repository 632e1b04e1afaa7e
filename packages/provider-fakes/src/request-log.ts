/**
 * The request record: one JSON line per API request in `requestLogFile` (never headers, bodies
 * or tokens), also kept in memory for `GET /_fake/requests`.
 */
import { appendFile } from 'node:fs/promises';

export interface RequestRecord {
  /** ISO 8601, the instant the request was admitted (or refused) by the rate limiter. */
  time: string;
  method: string;
  /** The URL path, without the query. */
  path: string;
  status: number;
  /**
   * deSEC: read | perDomainWrite | user; NS1: read | write; the registrar: api;
   * `unauthenticated` counts nowhere.
   */
  rateClass: string;
  /** deSEC per-domain writes, registrar requests: the domain counted. */
  domain?: string;
  /** The registrar: the answer was replayed for an `Idempotency-Key` (the request did not run). */
  replayed?: true;
}

export class RequestLog {
  readonly file: string;
  readonly records: RequestRecord[] = [];
  #writing: Promise<void> = Promise.resolve();
  /** Called when a line cannot be written (the record stays in memory). */
  onError: ((error: unknown) => void) | undefined;

  constructor(file: string) {
    this.file = file;
  }

  /** Appends the record; lines are written in order. */
  append(record: RequestRecord): void {
    this.records.push(record);
    const line = `${JSON.stringify(record)}\n`;
    this.#writing = this.#writing
      .then(() => appendFile(this.file, line, { mode: 0o600 }))
      .catch((error: unknown) => this.onError?.(error));
  }

  /** Resolves when every appended line is in the file. */
  async flush(): Promise<void> {
    await this.#writing;
  }
}
