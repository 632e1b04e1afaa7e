/**
 * Daemon lifecycle by PID: start with a PID file and a log file, check that a PID still runs
 * the expected program (PIDs get reused), stop with SIGTERM then SIGKILL.
 */
import { open, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnDaemon } from './commands.js';

export interface DaemonSpec {
  /** Absolute path of the program. */
  program: string;
  args: readonly string[];
  cwd: string;
  logFile: string;
  /** The network namespace to run it in, if any. */
  namespace?: string | undefined;
}

/**
 * Starts the daemon. Each daemon writes its own PID file (set in its config); writing it here
 * first would race with Knot, which refuses to start when its PID file names a live process.
 */
export async function startDaemon(spec: DaemonSpec): Promise<number> {
  return spawnDaemon(spec.program, spec.args, {
    cwd: spec.cwd,
    logFile: spec.logFile,
    namespace: spec.namespace,
  });
}

/** Writes `pid` to `pidFile` unless the daemon already did. */
export async function ensurePidFile(pidFile: string, pid: number): Promise<void> {
  try {
    if ((await readFile(pidFile, 'utf8')).trim() === String(pid)) return;
  } catch {
    // missing: write it
  }
  await writeFile(pidFile, `${pid}\n`);
}

async function commandLine(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((part) => part !== '');
  } catch {
    return undefined;
  }
}

/** True when an argument of `argv` (or a `--flag=` value) is `directory` or a path inside it. */
function namesPathWithin(argv: readonly string[], directory: string): boolean {
  const root = path.resolve(directory);
  return argv.slice(1).some((argument) => {
    const value = argument.startsWith('-') ? argument.slice(argument.indexOf('=') + 1) : argument;
    return value === root || value.startsWith(`${root}/`);
  });
}

/**
 * The program's own command line: in a namespace the lab starts `ip netns exec NS program …`,
 * which becomes `program …` only once `ip` has entered the namespace and exec'd it.
 */
export function programCommandLine(argv: readonly string[]): readonly string[] {
  const [wrapper, netns, exec, namespace] = argv;
  const wrapped =
    wrapper !== undefined &&
    path.basename(wrapper) === 'ip' &&
    netns === 'netns' &&
    exec === 'exec' &&
    namespace !== undefined;
  return wrapped ? argv.slice(4) : argv;
}

/**
 * True when `pid` exists and runs `program` (compared by file name, from /proc/<pid>/cmdline),
 * and, given `within`, names a path inside that directory on its command line: PIDs wrap (32,768
 * of them on a default kernel) and a reused one may run the same program for another lab.
 * A zombie has an empty command line and counts as gone.
 */
export async function isRunning(pid: number, program: string, within?: string): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  const raw = await commandLine(pid);
  const argv = raw && programCommandLine(raw);
  const executable = argv?.[0];
  if (executable === undefined || path.basename(executable) !== path.basename(program))
    return false;
  return within === undefined || namesPathWithin(argv!, within);
}

/** The state letter of `/proc/<pid>/stat` (R, S, D, Z…), or undefined when there is no such process. */
async function processState(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/**
 * Whether a process we signalled is gone: no such process, or a zombie (its files, sockets
 * included, are closed by then). An exiting process reads an empty command line before it
 * closes its sockets, so an empty one is not gone yet: a restart would find the old control
 * socket still answering ("controlsocket is in use").
 */
export async function processGone(pid: number, program: string, within?: string): Promise<boolean> {
  const state = await processState(pid);
  if (state === undefined || state === 'Z' || state === 'X') return true;
  const raw = await commandLine(pid);
  if (!raw || raw.length === 0) return false;
  // Another program under this pid: ours is gone and the pid reused.
  return !(await isRunning(pid, program, within));
}

async function waitForExit(
  pid: number,
  program: string,
  within: string | undefined,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await processGone(pid, program, within)) return true;
    await sleep(25);
  }
  return processGone(pid, program, within);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export type StopOutcome = 'not-running' | 'stopped' | 'killed';

/**
 * Stops `pid` if, and only if, it still runs `program` (inside `within`, when given): SIGTERM,
 * wait up to `graceMs`, then SIGKILL. Never signals a PID that now belongs to something else.
 */
export async function stopProcess(
  pid: number,
  program: string,
  options: { graceMs?: number; within?: string } = {},
): Promise<StopOutcome> {
  const { within } = options;
  if (!(await isRunning(pid, program, within))) return 'not-running';
  signal(pid, 'SIGTERM');
  if (await waitForExit(pid, program, within, options.graceMs ?? 5000)) return 'stopped';
  signal(pid, 'SIGKILL');
  await waitForExit(pid, program, within, 2000);
  return 'killed';
}

/** The last `lines` lines of a text file (reads at most the last 64 KiB); '' if unreadable. */
export async function tailFile(file: string, lines = 15): Promise<string> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, 64 * 1024);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}
