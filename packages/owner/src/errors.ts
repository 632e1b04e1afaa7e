import { ChorusError } from '@chorus/core';

/**
 * The owner's key cannot be used: a file that is missing, readable by others or not a private
 * key; an algorithm Chorus cannot sign with; an HSM that refuses the PIN or has no such key. The
 * message names the file or token, never the key or the PIN. Not retryable, except an HSM tool
 * that timed out.
 */
export class OwnerKeyError extends ChorusError {
  constructor(message: string, options: { cause?: unknown; isRetryable?: boolean } = {}) {
    super('Chorus_OwnerKeyError', { message, ...options });
  }
}
