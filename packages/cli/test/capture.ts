import type { CliIo } from '@chorus/cli';

/** A CliIo that keeps what a command prints, for assertions. */
export function capture(): { io: CliIo; out: () => string; err: () => string } {
  let stdout = '';
  let stderr = '';
  return {
    io: { stdout: (text) => void (stdout += text), stderr: (text) => void (stderr += text) },
    out: () => stdout,
    err: () => stderr,
  };
}
