import { ChorusError } from './chorus-error.js';

function define<const N extends string>(name: N) {
  const marker = `chorus.error.${name}`;
  return { name, marker, symbol: Symbol.for(marker) };
}

const unreachable = define('Chorus_ParentServerUnreachableError');

/**
 * A parent nameserver did not answer (timeout, connection refused or reset). Retryable: the
 * delegation cannot be reported until every parent server has been heard.
 */
export class ParentServerUnreachableError extends ChorusError {
  readonly [unreachable.symbol] = true;
  readonly server: string;
  readonly zone: string;

  constructor(options: { server: string; zone: string; cause?: unknown }) {
    const detail = options.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(unreachable.name, {
      message: `parent server ${options.server} is unreachable while observing the delegation of ${options.zone}${detail}`,
      isRetryable: true,
      cause: options.cause,
    });
    this.server = options.server;
    this.zone = options.zone;
  }

  static override isInstance(error: unknown): error is ParentServerUnreachableError {
    return ChorusError.hasMarker(error, unreachable.marker);
  }
}

/** What was wrong with a parent server's answer. */
export type ParentAnswerProblem =
  /** Undecodable bytes, or an answer to another question. */
  | 'malformed'
  /** An error rcode (SERVFAIL is retryable, the rest are not). */
  | 'rcode'
  /** No AA bit on the DS answer: the server is not authoritative for the parent zone. */
  | 'not-authoritative'
  /** NXDOMAIN, or no NS RRset for the zone in the referral: the parent does not delegate it. */
  | 'not-delegated';

const answer = define('Chorus_ParentAnswerError');

/**
 * A parent nameserver answered, but not with a usable view of the delegation: garbage, an error
 * rcode, a non-authoritative DS answer, or no delegation at all. Retryable only for SERVFAIL.
 */
export class ParentAnswerError extends ChorusError {
  readonly [answer.symbol] = true;
  readonly server: string;
  readonly zone: string;
  readonly problem: ParentAnswerProblem;

  constructor(options: {
    server: string;
    zone: string;
    problem: ParentAnswerProblem;
    detail: string;
    retryable?: boolean;
    cause?: unknown;
  }) {
    super(answer.name, {
      message: `parent server ${options.server} gave no usable delegation for ${options.zone} (${options.problem}): ${options.detail}`,
      isRetryable: options.retryable ?? false,
      cause: options.cause,
    });
    this.server = options.server;
    this.zone = options.zone;
    this.problem = options.problem;
  }

  static override isInstance(error: unknown): error is ParentAnswerError {
    return ChorusError.hasMarker(error, answer.marker);
  }
}
