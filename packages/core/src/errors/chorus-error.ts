const MARKER = 'chorus.error';
const MARKER_SYMBOL = Symbol.for(MARKER);

export interface ChorusErrorOptions {
  message: string;
  cause?: unknown;
  isRetryable?: boolean;
}

/**
 * Base of every error Chorus throws. `isInstance` checks a global symbol marker, so it works
 * across duplicate copies of the package (pattern from the Vercel AI SDK).
 */
export class ChorusError extends Error {
  readonly [MARKER_SYMBOL] = true;
  /** True when the same call may succeed if tried again later. */
  readonly isRetryable: boolean;

  constructor(name: string, options: ChorusErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = name;
    this.isRetryable = options.isRetryable ?? false;
  }

  static isInstance(error: unknown): error is ChorusError {
    return ChorusError.hasMarker(error, MARKER);
  }

  protected static hasMarker(error: unknown, marker: string): boolean {
    const symbol = Symbol.for(marker);
    return (
      error != null &&
      typeof error === 'object' &&
      symbol in error &&
      (error as Record<symbol, unknown>)[symbol] === true
    );
  }
}
