import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, SignerCommandError } from '@chorus/core';
import { runCommand } from '@chorus/dns';

// A stand-in tool: prints, fails, hangs or echoes stdin depending on its first argument.
let directory: string;
let tool: string;

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-kit-command-'));
  tool = path.join(directory, 'tool');
  await writeFile(
    tool,
    [
      '#!/bin/sh',
      'case "$1" in',
      '  ok) echo "fine $LC_ALL" ;;',
      '  fail) echo "refused with $2" >&2; exit 3 ;;',
      '  quiet-error) echo "error: no such zone"; exit 0 ;;',
      '  down) echo "connection refused" >&2; exit 1 ;;',
      '  stdin) cat ;;',
      '  hang) exec sleep 5 ;;',
      'esac',
      '',
    ].join('\n'),
  );
  await chmod(tool, 0o755);
});
afterAll(() => rm(directory, { recursive: true, force: true }));

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('runCommand', () => {
  it('returns the output of a successful run in the C locale', async () => {
    const result = await runCommand(tool, ['ok'], { timeoutMs: 5000 });
    expect(result.stdout.trim()).toBe('fine C');
    expect(result.exitCode).toBe(0);
    expect(result.command).toEqual([tool, 'ok']);
  });

  it('writes stdin', async () => {
    const result = await runCommand(tool, ['stdin'], { timeoutMs: 5000, stdin: 'zone data' });
    expect(result.stdout).toBe('zone data');
  });

  it('fails with the exit code and stderr, secrets redacted from argv and output', async () => {
    const error = await rejection(
      runCommand(tool, ['fail', 'hunter2'], { timeoutMs: 5000, secrets: ['hunter2'] }),
    );
    expect(SignerCommandError.isInstance(error)).toBe(true);
    const failure = error as SignerCommandError;
    expect(failure.exitCode).toBe(3);
    expect(failure.command).toEqual([tool, 'fail', '***']);
    expect(failure.stderr).toBe('refused with ***');
    expect(failure.message).not.toContain('hunter2');
    expect(failure.cause).toBeUndefined();
    expect(failure.isRetryable).toBe(false);
  });

  it('asks isRetryable about the output, and reports errors printed with exit 0', async () => {
    const down = await rejection(
      runCommand(tool, ['down'], {
        timeoutMs: 5000,
        isRetryable: (output) => /connection refused/.test(output),
      }),
    );
    expect((down as SignerCommandError).isRetryable).toBe(true);
    const quiet = await rejection(
      runCommand(tool, ['quiet-error'], {
        timeoutMs: 5000,
        outputError: (stdout) => (/^error:/m.test(stdout) ? stdout.trim() : undefined),
      }),
    );
    expect((quiet as SignerCommandError).exitCode).toBe(0);
    expect((quiet as SignerCommandError).stderr).toBe('error: no such zone');
  });

  it('returns a failed run with allowFailure', async () => {
    const result = await runCommand(tool, ['fail', 'x'], { timeoutMs: 5000, allowFailure: true });
    expect(result.exitCode).toBe(3);
    expect(result.stderr.trim()).toBe('refused with x');
  });

  it('times out retryably, and stops with AbortError when the signal fires', async () => {
    const slow = await rejection(runCommand(tool, ['hang'], { timeoutMs: 200 }));
    expect((slow as SignerCommandError).timedOut).toBe(true);
    expect((slow as SignerCommandError).isRetryable).toBe(true);
    const controller = new AbortController();
    const aborted = runCommand(tool, ['hang'], { timeoutMs: 5000, signal: controller.signal });
    controller.abort();
    expect(AbortError.isInstance(await rejection(aborted))).toBe(true);
    const before = await rejection(
      runCommand(tool, ['ok'], { timeoutMs: 5000, signal: AbortSignal.abort() }),
    );
    expect(AbortError.isInstance(before)).toBe(true);
  });

  it('names a missing program with the hint', async () => {
    const error = await rejection(
      runCommand(path.join(directory, 'nope'), [], { timeoutMs: 5000, missingHint: 'install it' }),
    );
    expect((error as Error).message).toMatch(/nope was not found \(install it\)/);
    expect((error as SignerCommandError).isRetryable).toBe(false);
  });
});
