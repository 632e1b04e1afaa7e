/** Typed errors of the audit (core's ChorusError: `isRetryable` says whether to try again). */
import { ChorusError } from '@chorus/core';

const ANSWER_MARKER = 'chorus.error.Chorus_AuditAnswerError';
const answerSymbol = Symbol.for(ANSWER_MARKER);

/**
 * A child server answered an audit question with an error rcode or without AA. Retryable: a
 * server still loading the zone answers SERVFAIL for a while.
 */
export class AuditAnswerError extends ChorusError {
  readonly [answerSymbol] = true;
  readonly server: string;

  constructor(options: { server: string; detail: string }) {
    super('Chorus_AuditAnswerError', {
      message: `${options.server} answered ${options.detail}`,
      isRetryable: true,
    });
    this.server = options.server;
  }

  static override isInstance(error: unknown): error is AuditAnswerError {
    return ChorusError.hasMarker(error, ANSWER_MARKER);
  }
}

const USAGE_MARKER = 'chorus.error.Chorus_AuditInputError';
const usageSymbol = Symbol.for(USAGE_MARKER);

/** The audit cannot start: no parent server, or a zone that is the parent zone itself. */
export class AuditInputError extends ChorusError {
  readonly [usageSymbol] = true;

  constructor(message: string) {
    super('Chorus_AuditInputError', { message, isRetryable: false });
  }

  static override isInstance(error: unknown): error is AuditInputError {
    return ChorusError.hasMarker(error, USAGE_MARKER);
  }
}
