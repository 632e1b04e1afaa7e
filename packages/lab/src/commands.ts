/**
 * The only module that runs programs: short-lived tools (dnssec-keygen, pdnsutil, ip…) and the
 * long-running daemons.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { LabError } from './errors.js';

/** A data file the lab needs, and the Debian package that ships it. */
export interface RequiredFile {
  path: string;
  what: string;
  debianPackage: string;
}

/** The default search path: PATH plus the sbin directories, where Debian puts the daemons. */
export function defaultSearchPath(): string {
  return [process.env.PATH ?? '', '/usr/local/sbin', '/usr/sbin', '/sbin'].join(path.delimiter);
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The absolute path of `program` in `searchPath`, or undefined. */
export async function findProgram(
  program: string,
  searchPath: string,
): Promise<string | undefined> {
  for (const directory of searchPath.split(path.delimiter)) {
    if (directory === '') continue;
    const candidate = path.join(directory, program);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export interface ToolResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Runs a short-lived tool and returns its output. A non-zero exit throws a LabError with the
 * tail of stderr, unless `allowFailure` is set. Never pass secrets as arguments.
 */
export async function runTool(
  program: string,
  args: readonly string[],
  options: {
    cwd?: string;
    timeoutMs?: number;
    allowFailure?: boolean;
    /** Added to the environment of the program. */
    env?: Record<string, string>;
    /** Arguments that must not appear in an error message (a PIN). */
    secrets?: readonly string[];
  } = {},
): Promise<ToolResult> {
  const result = await execa(program, args, {
    cwd: options.cwd,
    timeout: options.timeoutMs ?? 30_000,
    reject: false,
    stdin: 'ignore',
    ...(options.env ? { env: options.env } : {}),
  });
  const redact = (text: string) =>
    (options.secrets ?? []).reduce((shown, secret) => shown.split(secret).join('***'), text);
  if (result.failed && result.exitCode === undefined) {
    throw new LabError(`could not run ${program}: ${redact(result.shortMessage ?? '')}`, {
      cause: options.secrets ? undefined : result.cause,
    });
  }
  const exitCode = result.exitCode ?? -1;
  if (exitCode !== 0 && !options.allowFailure) {
    const output = (result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n');
    throw new LabError(
      redact(
        `${path.basename(program)} ${args.join(' ')} failed with exit code ${exitCode}: ${output}`,
      ),
    );
  }
  return { stdout: result.stdout, stderr: result.stderr, exitCode };
}

/** The version a program reports (`named -v`, `knotd -V`…): the first match of `pattern`, or 'unknown'. */
export async function reportedVersion(
  program: string,
  args: readonly string[],
  pattern: RegExp,
): Promise<string> {
  const result = await runTool(program, args, { allowFailure: true });
  return pattern.exec(result.stdout + result.stderr)?.[1] ?? 'unknown';
}

/** `ip`, wherever Debian put it. */
export function ipProgram(): string {
  const found = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find(existsSync);
  if (!found) throw new LabError('ip (iproute2) is not installed: apt-get install iproute2');
  return found;
}

/**
 * Starts a long-running program in its own process group, stdout and stderr appended to
 * `logFile`, not tied to this process: it keeps running after we exit. Returns its PID.
 * (node:child_process here rather than execa: the daemon writes straight into the log file
 * descriptor, and nothing in this process waits for it.)
 */
export async function spawnDaemon(
  program: string,
  args: readonly string[],
  options: { cwd: string; logFile: string; namespace?: string | undefined },
): Promise<number> {
  const logDescriptor = openSync(options.logFile, 'a', 0o644);
  // `ip netns exec` execs the program itself: the PID stays the program's.
  const [command, argv] =
    options.namespace === undefined
      ? [program, args]
      : [ipProgram(), ['netns', 'exec', options.namespace, program, ...args]];
  try {
    const child = spawn(command, argv, {
      cwd: options.cwd,
      detached: true,
      stdio: ['ignore', logDescriptor, logDescriptor],
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid ?? 0));
      child.once('error', reject);
    }).catch((error: unknown) => {
      throw new LabError(`could not start ${program}: ${String(error)}`, { cause: error });
    });
    child.unref();
    return pid;
  } finally {
    closeSync(logDescriptor);
  }
}
