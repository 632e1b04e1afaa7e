import { ChorusError } from './chorus-error.js';
import type { Rcode } from '../dns/types.js';

function define<const N extends string>(name: N) {
  const marker = `chorus.error.${name}`;
  return { name, marker, symbol: Symbol.for(marker) };
}

const timeout = define('Chorus_DnsTimeoutError');

/** No answer arrived within the timeout, after all retries. Retryable. */
export class DnsTimeoutError extends ChorusError {
  readonly [timeout.symbol] = true;
  readonly server: string;
  readonly timeoutMs: number;
  readonly attempts: number;

  constructor(options: { server: string; timeoutMs: number; attempts: number; what: string }) {
    super(timeout.name, {
      message: `no answer from ${options.server} to ${options.what} after ${options.attempts} attempt(s) of ${options.timeoutMs} ms`,
      isRetryable: true,
    });
    this.server = options.server;
    this.timeoutMs = options.timeoutMs;
    this.attempts = options.attempts;
  }

  static override isInstance(error: unknown): error is DnsTimeoutError {
    return ChorusError.hasMarker(error, timeout.marker);
  }
}

const network = define('Chorus_DnsNetworkError');

/** The server could not be reached (connection refused, reset, unreachable). Retryable. */
export class DnsNetworkError extends ChorusError {
  readonly [network.symbol] = true;
  readonly server: string;
  readonly code: string | undefined;

  constructor(options: { server: string; code?: string; cause?: unknown; what: string }) {
    super(network.name, {
      message: `cannot reach ${options.server} for ${options.what}${options.code ? ` (${options.code})` : ''}`,
      isRetryable: true,
      cause: options.cause,
    });
    this.server = options.server;
    this.code = options.code;
  }

  static override isInstance(error: unknown): error is DnsNetworkError {
    return ChorusError.hasMarker(error, network.marker);
  }
}

const wire = define('Chorus_DnsWireError');

/** A message could not be encoded or decoded: malformed input, or a server answering garbage. */
export class DnsWireError extends ChorusError {
  readonly [wire.symbol] = true;

  constructor(message: string, options: { cause?: unknown; isRetryable?: boolean } = {}) {
    super(wire.name, { message, ...options });
  }

  static override isInstance(error: unknown): error is DnsWireError {
    return ChorusError.hasMarker(error, wire.marker);
  }
}

const response = define('Chorus_DnsResponseError');

/** Rcodes after which the same request may succeed later. */
const RETRYABLE_RCODES: ReadonlySet<Rcode> = new Set(['SERVFAIL']);

/**
 * A server answered with an error rcode to a request that needs success (UPDATE, NOTIFY).
 * SERVFAIL is retryable; REFUSED, NOTAUTH, NOTZONE, prerequisite failures and the rest are not.
 */
export class DnsResponseError extends ChorusError {
  readonly [response.symbol] = true;
  readonly rcode: Rcode;
  readonly server: string;

  constructor(options: { server: string; rcode: Rcode; what: string }) {
    super(response.name, {
      message: `${options.server} answered ${options.rcode} to ${options.what}`,
      isRetryable: RETRYABLE_RCODES.has(options.rcode),
    });
    this.rcode = options.rcode;
    this.server = options.server;
  }

  static override isInstance(error: unknown): error is DnsResponseError {
    return ChorusError.hasMarker(error, response.marker);
  }
}

const tsig = define('Chorus_TsigError');

export type TsigFailure = 'BADKEY' | 'BADSIG' | 'BADTIME' | 'BADTRUNC' | 'UNSIGNED' | 'FORMERR';

/**
 * TSIG (RFC 8945) failed: the server rejected our signature (BADKEY, BADSIG, BADTIME), or its
 * response carried no TSIG or one that does not verify. Never retryable, BADTIME included: clock
 * skew does not clear by retrying, so the operator must be told. The message never contains the
 * secret.
 */
export class TsigError extends ChorusError {
  readonly [tsig.symbol] = true;
  readonly failure: TsigFailure;
  readonly keyName: string;
  readonly side: 'server-rejected-request' | 'response-verification';

  constructor(options: {
    failure: TsigFailure;
    keyName: string;
    side: 'server-rejected-request' | 'response-verification';
    server: string;
    detail?: string;
  }) {
    const who =
      options.side === 'server-rejected-request'
        ? `${options.server} rejected the TSIG signature of key ${options.keyName}`
        : `the TSIG of the response from ${options.server} (key ${options.keyName}) is not valid`;
    super(tsig.name, {
      message: `TSIG ${options.failure}: ${who}${options.detail ? ` (${options.detail})` : ''}`,
      isRetryable: false,
    });
    this.failure = options.failure;
    this.keyName = options.keyName;
    this.side = options.side;
  }

  static override isInstance(error: unknown): error is TsigError {
    return ChorusError.hasMarker(error, tsig.marker);
  }
}

const abort = define('Chorus_AbortError');

/** The caller's AbortSignal fired. Not retryable: the caller asked to stop. */
export class AbortError extends ChorusError {
  readonly [abort.symbol] = true;

  constructor(what: string, cause?: unknown) {
    super(abort.name, { message: `aborted: ${what}`, cause });
  }

  static override isInstance(error: unknown): error is AbortError {
    return ChorusError.hasMarker(error, abort.marker);
  }
}

const parse = define('Chorus_PresentationParseError');

/** A zone-file (presentation format) line could not be parsed. */
export class PresentationParseError extends ChorusError {
  readonly [parse.symbol] = true;
  readonly input: string;

  constructor(message: string, input: string) {
    super(parse.name, {
      message: `${message}: ${input.length > 200 ? `${input.slice(0, 200)}…` : input}`,
    });
    this.input = input;
  }

  static override isInstance(error: unknown): error is PresentationParseError {
    return ChorusError.hasMarker(error, parse.marker);
  }
}

const name = define('Chorus_InvalidNameError');

/** A domain name is malformed (empty label, label over 63 octets, name over 255 octets…). */
export class InvalidNameError extends ChorusError {
  readonly [name.symbol] = true;
  readonly input: string;

  constructor(input: string, reason: string) {
    super(name.name, { message: `invalid domain name ${JSON.stringify(input)}: ${reason}` });
    this.input = input;
  }

  static override isInstance(error: unknown): error is InvalidNameError {
    return ChorusError.hasMarker(error, name.marker);
  }
}
