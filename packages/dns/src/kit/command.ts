/**
 * The one command runner for plugins (rndc, knotc, keymgr, pdnsutil…), and the only file of the
 * kit that imports execa. Every failure is a SignerCommandError (argv with secrets redacted,
 * exit code, trimmed output, timedOut, isRetryable), or AbortError when the caller's signal fired.
 */
import { execa, ExecaError } from 'execa';
import path from 'node:path';
import { AbortError, SignerCommandError } from '@chorus/core';
import { countCall } from './tally.js';

/** The one logger method the runner uses (pino's `debug` fits). */
export interface CommandLogger {
  debug(fields: object, message: string): void;
}

export interface CommandOptions {
  /** Time limit in milliseconds; a run past it is killed and fails with `timedOut`. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Written to the command's standard input; otherwise stdin is closed. */
  stdin?: string;
  /** Extra environment; `LC_ALL=C` is always set so output parsers see English text. */
  env?: Record<string, string>;
  /** Values replaced by `***` in the argv and the output kept in errors and logs. */
  secrets?: readonly string[];
  /** Whether a failure with this output may succeed later (server restarting, lock busy). */
  isRetryable?: (output: string) => boolean;
  /**
   * Error text found in the output of a run that exited 0 (tools such as knotc print `error:`
   * lines and exit 0). Return undefined when the output is fine.
   */
  outputError?: (stdout: string, stderr: string) => string | undefined;
  /** Return the output of a non-zero exit instead of throwing (the caller interprets it). */
  allowFailure?: boolean;
  /** Said when the program is not installed, e.g. `install bind9-utils or set rndc.binary`. */
  missingHint?: string;
  logger?: CommandLogger;
}

export interface CommandResult {
  /** The argv as run, with secrets redacted. */
  command: string[];
  stdout: string;
  stderr: string;
  exitCode: number | undefined;
  elapsedMs: number;
}

function redactor(secrets: readonly string[] = []): (text: string) => string {
  const present = secrets.filter((secret) => secret.length > 0);
  return (text) => present.reduce((result, secret) => result.split(secret).join('***'), text);
}

function joinOutput(stderr: string, stdout: string): string {
  return [stderr.trim(), stdout.trim()].filter((part) => part !== '').join('\n');
}

/**
 * Runs `binary args…` and returns its output. Rejects with SignerCommandError on a non-zero
 * exit (unless `allowFailure`), a timeout, a missing program or an `outputError`; with
 * AbortError when `signal` fired.
 *
 * @example
 * const { stdout } = await runCommand('rndc', ['-c', '/etc/bind/rndc.conf', 'status'], { timeoutMs: 10_000 });
 */
export async function runCommand(
  binary: string,
  args: readonly string[],
  options: CommandOptions,
): Promise<CommandResult> {
  const redact = redactor(options.secrets);
  const command = [binary, ...args].map(redact);
  const what = command.join(' ');
  if (options.signal?.aborted) throw new AbortError(what, options.signal.reason);
  const program = path.basename(binary);
  countCall(`command ${program}`);
  const started = performance.now();
  const result = await execa(binary, [...args], {
    reject: false,
    timeout: options.timeoutMs,
    ...(options.signal ? { cancelSignal: options.signal } : {}),
    ...(options.stdin === undefined ? { stdin: 'ignore' as const } : { input: options.stdin }),
    env: { ...options.env, LC_ALL: 'C' },
    extendEnv: true,
  });
  const outcome: CommandResult = {
    command,
    stdout: redact(String(result.stdout ?? '')),
    stderr: redact(String(result.stderr ?? '')),
    exitCode: result.exitCode,
    elapsedMs: Math.round(performance.now() - started),
  };
  options.logger?.debug(
    { command, exitCode: outcome.exitCode, elapsedMs: outcome.elapsedMs },
    binary,
  );
  if (result.isCanceled || options.signal?.aborted)
    throw new AbortError(what, options.signal?.reason);
  const failure = failureOf(result, outcome, options);
  if (failure) {
    countCall(`command ${program} failed`);
    throw failure;
  }
  return outcome;
}

function failureOf(
  result: Awaited<ReturnType<typeof execa>>,
  outcome: CommandResult,
  options: CommandOptions,
): SignerCommandError | undefined {
  const { command } = outcome;
  const output = joinOutput(outcome.stderr, outcome.stdout);
  // execa's error holds the raw argv and output: kept as the cause only when nothing is secret.
  const cause = result instanceof ExecaError && !options.secrets?.length ? result : undefined;
  if (result.timedOut)
    return new SignerCommandError({ command, stderr: output, timedOut: true, cause });
  if ((result as { code?: unknown }).code === 'ENOENT')
    return new SignerCommandError({
      command,
      stderr: `${command[0]} was not found${options.missingHint ? ` (${options.missingHint})` : ''}`,
      cause,
    });
  const reported = options.outputError?.(outcome.stdout, outcome.stderr);
  const exitedBadly = result.failed && !options.allowFailure;
  if (!exitedBadly && reported === undefined) return undefined;
  const stderr = reported ?? (output || redactor(options.secrets)(result.shortMessage ?? ''));
  return new SignerCommandError({
    command,
    ...(outcome.exitCode === undefined ? {} : { exitCode: outcome.exitCode }),
    stderr,
    retryable: options.isRetryable?.(stderr) ?? false,
    cause,
  });
}
