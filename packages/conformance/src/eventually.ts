import { ConvergenceError, type Signer } from '@chorus/core';

/**
 * Asks `check` until it finds nothing wrong, for at most `timeoutMs`: the wire may show a change
 * a little after the call that made it. `check` returns what is still wrong, or an empty list.
 */
export async function eventually(
  signer: Signer,
  zone: string,
  timeoutMs: number,
  check: () => Promise<string[]>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await check();
    if (left.length === 0) return;
    if (Date.now() > deadline)
      throw new ConvergenceError({
        zone,
        signerId: signer.id,
        remaining: left.length,
        detail: `after ${timeoutMs} ms: ${left.join('; ')}`,
      });
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
