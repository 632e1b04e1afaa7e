import { ChorusError } from '@chorus/core';

/** The report cannot be made: unknown process, a zone without events. Not retryable. */
export class ReportError extends ChorusError {
  constructor(message: string, cause?: unknown) {
    super('Chorus_ReportError', { message, ...(cause === undefined ? {} : { cause }) });
  }
}
