/**
 * Turns NATS client failures into `EventLogError`s: unreachable or silent servers become
 * `unavailable` (retryable, "event log unavailable: …", naming the servers), refused credentials
 * or subjects `permission`, anything else `storage`. Messages never carry credentials.
 *
 * @module
 */
import { JetStreamApiError } from '@nats-io/jetstream';
import { errors as natsErrors } from '@nats-io/transport-node';
import { ChorusError, EventLogError } from '@chorus/core';

/** JetStream API error codes the log reacts to. */
export const JS_CODES = {
  streamNotFound: 10059,
  noMessageFound: 10037,
  wrongLastSequence: 10071,
} as const;

/** The JetStream API error code of `error`, if it is one. */
export function apiCode(error: unknown): number | undefined {
  return error instanceof JetStreamApiError ? error.code : undefined;
}

/** The `unavailable` error: the servers cannot be reached or did not answer in time. */
export function unavailable(servers: string, detail: string, cause?: unknown): EventLogError {
  return new EventLogError(
    'unavailable',
    `event log unavailable: NATS at ${servers} ${detail}`,
    cause === undefined ? {} : { cause },
  );
}

/** True when `error` means the server was unreachable, gone or too slow. */
export function isOutage(error: unknown): boolean {
  // JetStream not answering (no responders) while the server restarts.
  if (error instanceof Error && error.name === 'JetStreamNotEnabled') return true;
  // JetStream temporarily unable to serve (a cluster without a leader, say).
  if (error instanceof JetStreamApiError) return error.status === 503;
  // A consumer whose server stopped sending (a partition the connection has not noticed yet).
  if (error instanceof Error && /heartbeats missed/i.test(error.message)) return true;
  if (
    error instanceof natsErrors.TimeoutError ||
    error instanceof natsErrors.ConnectionError ||
    error instanceof natsErrors.ClosedConnectionError
  )
    return true;
  if (error instanceof natsErrors.RequestError)
    return error.isNoResponders() || isOutage(error.cause) || /connection/i.test(error.message);
  const code = (error as { code?: unknown } | null)?.code;
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND'].includes(
    String(code),
  );
}

/** True when the server refused the credentials or the subject. */
export function isPermission(error: unknown): boolean {
  return (
    error instanceof natsErrors.AuthorizationError ||
    error instanceof natsErrors.PermissionViolationError ||
    error instanceof natsErrors.UserAuthenticationExpiredError ||
    (error instanceof natsErrors.RequestError && isPermission(error.cause))
  );
}

/** A short description of a client error, with `secret` (the password) masked just in case. */
export function describe(error: unknown, secret: string | undefined): string {
  const text = error instanceof Error ? error.message : String(error);
  return secret === undefined || secret === '' ? text : text.split(secret).join('***');
}

/** Maps any failure of `what` to an EventLogError; Chorus errors pass through unchanged. */
export function toEventLogError(
  what: string,
  error: unknown,
  context: { servers: string; secret: string | undefined },
): ChorusError {
  if (ChorusError.isInstance(error)) return error;
  const detail = describe(error, context.secret);
  if (isOutage(error))
    return unavailable(context.servers, `did not answer (${what}: ${detail})`, error);
  if (isPermission(error))
    return new EventLogError(
      'permission',
      `${what}: NATS at ${context.servers} refused it (${detail})`,
      { cause: error },
    );
  return new EventLogError('storage', `${what} (NATS at ${context.servers}): ${detail}`, {
    cause: error,
  });
}
