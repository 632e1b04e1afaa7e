/** The JSON error body and the HTTP status each typed reason maps to. */
import { ChorusError } from '@chorus/core';

/** One reason a process was refused, as its pre-flight gave it. */
export interface Reason {
  code: string;
  message: string;
}

export interface ErrorBody {
  error: { code: string; message: string; retryable: boolean; reasons?: Reason[] };
}

const STATUS_BY_CODE: Record<string, number> = {
  Chorus_BadRequestError: 400,
  Chorus_InvalidZoneNameError: 400,
  UsageError: 400,
  Chorus_UnauthorizedError: 401,
  Chorus_ForbiddenError: 403,
  Chorus_NotFoundError: 404,
  Chorus_UnknownZoneError: 404,
  Chorus_UnknownGroupError: 404,
  Chorus_UnknownProcessError: 404,
  Chorus_MethodNotAllowedError: 405,
  Chorus_ZoneUndefinedError: 409,
  Chorus_NotInFlightError: 409,
  Chorus_NothingToUndoError: 409,
  Chorus_NotUndoableError: 409,
  Chorus_UntrustedOperatorError: 500,
};

/** An error the API answers with a given status. */
export function apiError(code: string, message: string): ChorusError {
  return new ChorusError(code, { message });
}

/** The status for an error: from its typed reason; 503 when retryable; else 500. */
export function statusOf(error: unknown): number {
  const name = error instanceof Error ? error.name : '';
  const known = STATUS_BY_CODE[name];
  if (known) return known;
  return ChorusError.isInstance(error) && error.isRetryable ? 503 : 500;
}

/** The body for an error; the message of an unexpected error is not shown. */
export function errorBody(error: unknown): ErrorBody {
  const typed =
    error instanceof Error && (ChorusError.isInstance(error) || error.name in STATUS_BY_CODE);
  if (!typed)
    return { error: { code: 'Chorus_InternalError', message: 'internal error', retryable: false } };
  return {
    error: {
      code: error.name,
      message: error.message,
      retryable: ChorusError.isInstance(error) && error.isRetryable,
    },
  };
}
