import { ChorusError } from '@chorus/core';

const LAB_ERROR_MARKER = 'chorus.error.Chorus_LabError';
const labErrorSymbol = Symbol.for(LAB_ERROR_MARKER);

/**
 * The lab could not do what was asked: a missing Debian package, a busy address, a running lab,
 * a server that did not start. Never retryable as is: the message says what to fix.
 */
export class LabError extends ChorusError {
  readonly [labErrorSymbol] = true;
  /** The Debian package to install, when the problem is a missing binary or file. */
  readonly debianPackage: string | undefined;

  constructor(message: string, options: { cause?: unknown; debianPackage?: string } = {}) {
    super('Chorus_LabError', { message, cause: options.cause, isRetryable: false });
    this.debianPackage = options.debianPackage;
  }

  static override isInstance(error: unknown): error is LabError {
    return ChorusError.hasMarker(error, LAB_ERROR_MARKER);
  }
}
