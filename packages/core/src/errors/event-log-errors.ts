import { ChorusError } from './chorus-error.js';

function define<const N extends string>(name: N) {
  const marker = `chorus.error.${name}`;
  return { name, marker, symbol: Symbol.for(marker) };
}

const wrongVersion = define('Chorus_WrongExpectedVersionError');

/**
 * An append stated a stream version that is no longer (or not yet) the stream's version: another
 * writer got there first. Nothing was written. Retryable: re-read the stream, re-decide, append
 * again at the new version.
 */
export class WrongExpectedVersionError extends ChorusError {
  readonly [wrongVersion.symbol] = true;
  /** The stream the append targeted. */
  readonly stream: string;
  /** The version the caller expected (0 = the stream must not exist). */
  readonly expected: number;
  /** The stream's version when the append was refused. */
  readonly actual: number;

  constructor(options: { stream: string; expected: number; actual: number }) {
    super(wrongVersion.name, {
      message: `stream ${JSON.stringify(options.stream)} is at version ${options.actual}, not the expected ${options.expected}; re-read and retry`,
      isRetryable: true,
    });
    this.stream = options.stream;
    this.expected = options.expected;
    this.actual = options.actual;
  }

  static override isInstance(error: unknown): error is WrongExpectedVersionError {
    return ChorusError.hasMarker(error, wrongVersion.marker);
  }
}

/**
 * What went wrong in an {@link EventLogError}:
 * - `closed`: the log (or the subscription) was closed;
 * - `busy`: another process held the write lock for longer than the busy timeout (retryable);
 * - `storage`: the storage failed (cannot open, I/O error, disk full);
 * - `corrupt`: a stored row cannot be decoded;
 * - `schema`: the database was written by a newer (or unknown) schema;
 * - `invalid-argument`: the caller passed something the log refuses (empty stream name,
 *   non-integer version, a value that is not plain JSON…);
 * - `unavailable`: a remote log (NATS) cannot be reached or did not answer in time (retryable;
 *   the message starts with "event log unavailable: " and names the servers, never credentials).
 *   An append that failed this way may or may not have been written: retry it or re-read;
 * - `permission`: the server refused the credentials or the operation (not retryable).
 */
export type EventLogErrorKind =
  | 'closed'
  | 'busy'
  | 'storage'
  | 'corrupt'
  | 'schema'
  | 'invalid-argument'
  | 'unavailable'
  | 'permission';

const eventLog = define('Chorus_EventLogError');

/**
 * The event log failed or refused a call. Only `busy` and `unavailable` are retryable unless
 * stated otherwise.
 */
export class EventLogError extends ChorusError {
  readonly [eventLog.symbol] = true;
  /** Why the call failed. */
  readonly kind: EventLogErrorKind;

  constructor(
    kind: EventLogErrorKind,
    message: string,
    options: { cause?: unknown; isRetryable?: boolean } = {},
  ) {
    super(eventLog.name, {
      message,
      cause: options.cause,
      isRetryable: options.isRetryable ?? (kind === 'busy' || kind === 'unavailable'),
    });
    this.kind = kind;
  }

  static override isInstance(error: unknown): error is EventLogError {
    return ChorusError.hasMarker(error, eventLog.marker);
  }
}

const secret = define('Chorus_SecretInEventError');

/**
 * An event carries an object key that looks like a secret (design decision 1: credentials never
 * leave the sidecar that owns them). The message names the JSON path, never the value. Not
 * retryable: the event itself must change.
 */
export class SecretInEventError extends ChorusError {
  readonly [secret.symbol] = true;
  /** JSON path of the offending key, e.g. `events[0].signer.tsigSecret`. */
  readonly path: string;

  constructor(path: string) {
    super(secret.name, {
      message: `refusing to log a secret-looking key at ${path}: secrets never enter the event log`,
    });
    this.path = path;
  }

  static override isInstance(error: unknown): error is SecretInEventError {
    return ChorusError.hasMarker(error, secret.marker);
  }
}
