import { AbortError, ChorusError, type ApplyError } from '@chorus/core';

/** Longest message recorded in the log. */
const MAX_MESSAGE = 500;
/** A failure that repeats unchanged is recorded again every this many attempts. */
export const RECORD_EVERY_ATTEMPTS = 10;

const SECRET_ASSIGNMENT =
  /\b(secret|password|passphrase|token|api[-_]?key|authorization)(\s*[:=]\s*|\s+)("[^"]*"|'[^']*'|\S+)/gi;
/** Long base64 runs with both cases, as TSIG secrets and API keys are; hex digests stay. */
const BASE64_RUN = /[A-Za-z0-9+/]{20,}={0,2}/g;

function scrub(message: string): string {
  const scrubbed = message
    .replace(
      SECRET_ASSIGNMENT,
      (_match, key: string, separator: string) => `${key}${separator}[redacted]`,
    )
    .replace(BASE64_RUN, (run) => (/[a-z]/.test(run) && /[A-Z]/.test(run) ? '[redacted]' : run));
  return scrubbed.length > MAX_MESSAGE ? `${scrubbed.slice(0, MAX_MESSAGE - 1)}…` : scrubbed;
}

/**
 * What the log records of an error: its class, a message without secrets, and whether trying
 * again may help. Errors that are not Chorus's own are assumed retryable: only a typed error
 * can say that the operator must act.
 */
export function describeApplyError(error: unknown, now = new Date()): ApplyError {
  if (!(error instanceof Error))
    return { name: 'Error', message: scrub(String(error)), retryable: true };
  const retryAfter = retryAfterMs(error);
  return {
    name: error.name,
    message: scrub(error.message),
    retryable: ChorusError.isInstance(error) ? error.isRetryable : true,
    ...(retryAfter === undefined
      ? {}
      : { retryAt: new Date(now.getTime() + retryAfter).toISOString() }),
  };
}

/**
 * How long the server asked us to wait before the next attempt (an API's `Retry-After` on a rate
 * limit or quota), in milliseconds; undefined when it did not say.
 */
export function retryAfterMs(error: unknown): number | undefined {
  if (!ChorusError.isInstance(error) || !error.isRetryable) return undefined;
  const seconds = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0
    ? Math.ceil(seconds * 1000)
    : undefined;
}

export interface ApplyFailureVerdict {
  /** Attempts at this step so far, the log's count included. */
  attempt: number;
  error: ApplyError;
  /** Append a `signer-apply-failed` now (first failure, a new message, or every N attempts). */
  record: boolean;
  /** Not retryable: stop trying until the sidecar restarts. */
  giveUp: boolean;
}

interface StepFailures {
  attempts: number;
  recorded?: { error: ApplyError; attempt: number };
  gaveUp: boolean;
}

/**
 * Failures of this sidecar's signer to apply a step, per `process/step`, and when to record
 * them: the log gets the first failure, each change of error, and every N-th repeat, so a
 * stuck step is visible without one event per retry. Lives in memory: a restarted sidecar
 * tries again once, even after giving up.
 */
export class ApplyFailures {
  private readonly steps = new Map<string, StepFailures>();

  private static key(processId: string, stepIndex: number): string {
    return `${processId}/${stepIndex}`;
  }

  /** True when a non-retryable failure stopped the attempts at this step. */
  gaveUp(processId: string, stepIndex: number): boolean {
    return this.steps.get(ApplyFailures.key(processId, stepIndex))?.gaveUp ?? false;
  }

  /**
   * Notes one failed attempt. `attemptsInLog` is what the fold already counts for this step
   * (attempts of an earlier run of the sidecar); AbortError is never counted.
   */
  failed(
    processId: string,
    stepIndex: number,
    error: unknown,
    attemptsInLog = 0,
  ): ApplyFailureVerdict | undefined {
    if (AbortError.isInstance(error)) return undefined;
    const key = ApplyFailures.key(processId, stepIndex);
    const step = this.steps.get(key) ?? { attempts: attemptsInLog, gaveUp: false };
    this.steps.set(key, step);
    step.attempts += 1;
    const described = describeApplyError(error);
    const previous = step.recorded;
    const record =
      !previous ||
      previous.error.name !== described.name ||
      previous.error.message !== described.message ||
      previous.error.retryable !== described.retryable ||
      step.attempts - previous.attempt >= RECORD_EVERY_ATTEMPTS;
    step.gaveUp = !described.retryable;
    return { attempt: step.attempts, error: described, record, giveUp: step.gaveUp };
  }

  /** The failure made it into the log. */
  recorded(processId: string, stepIndex: number, verdict: ApplyFailureVerdict): void {
    const step = this.steps.get(ApplyFailures.key(processId, stepIndex));
    if (step) step.recorded = { error: verdict.error, attempt: verdict.attempt };
  }

  /** The signer applied the step: forget its failures. */
  succeeded(processId: string, stepIndex: number): void {
    this.steps.delete(ApplyFailures.key(processId, stepIndex));
  }
}
