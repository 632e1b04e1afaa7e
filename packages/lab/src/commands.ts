/**
 * The only module that runs programs: short-lived tools (dnssec-keygen, pdnsutil, ip…) and the
 * long-running daemons. It also maps every program to the Debian package that ships it.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { LabError } from './errors.js';

/** Which Debian package ships each program the lab uses (checked with `dpkg -S` on Debian 12). */
export const DEBIAN_PACKAGE_OF: Readonly<Record<string, string>> = {
  named: 'bind9',
  'tsig-keygen': 'bind9',
  rndc: 'bind9-utils',
  'dnssec-keygen': 'bind9-utils',
  'dnssec-settime': 'bind9-utils',
  'dnssec-dsfromkey': 'bind9-utils',
  dig: 'bind9-dnsutils',
  delv: 'bind9-dnsutils',
  pdns_server: 'pdns-server',
  pdnsutil: 'pdns-server',
  knotd: 'knot',
  knotc: 'knot',
  keymgr: 'knot',
  kdig: 'knot-dnsutils',
  unbound: 'unbound',
  'unbound-control': 'unbound',
  ip: 'iproute2',
};

/** Data files the lab needs, with their Debian package. */
export const REQUIRED_FILES: readonly { path: string; what: string; debianPackage: string }[] = [
  {
    path: '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql',
    what: 'the PowerDNS gsqlite3 backend',
    debianPackage: 'pdns-backend-sqlite3',
  },
];

/** The programs `chorus lab up` runs, plus the control tools its status points to. */
export const LAB_PROGRAMS = [
  'named',
  'rndc',
  'dnssec-keygen',
  'dnssec-settime',
  'dnssec-dsfromkey',
  'pdns_server',
  'pdnsutil',
  'knotd',
  'knotc',
  'keymgr',
  'unbound',
  'unbound-control',
  'ip',
] as const;

export type LabProgram = (typeof LAB_PROGRAMS)[number];

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

async function isReadable(file: string): Promise<boolean> {
  try {
    await access(file, constants.R_OK);
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

/**
 * Finds every program and required file, or throws one LabError that names each missing
 * program and the Debian package to install.
 */
export async function checkPrograms<P extends string>(
  programs: readonly P[],
  options: { searchPath?: string; files?: typeof REQUIRED_FILES } = {},
): Promise<Record<P, string>> {
  const searchPath = options.searchPath ?? defaultSearchPath();
  const found = {} as Record<P, string>;
  const missing: { what: string; debianPackage: string }[] = [];
  const locations = await Promise.all(programs.map((program) => findProgram(program, searchPath)));
  programs.forEach((program, index) => {
    const location = locations[index];
    if (location) found[program] = location;
    else missing.push({ what: program, debianPackage: DEBIAN_PACKAGE_OF[program] ?? 'unknown' });
  });
  for (const file of options.files ?? REQUIRED_FILES) {
    if (!(await isReadable(file.path))) {
      missing.push({ what: `${file.what} (${file.path})`, debianPackage: file.debianPackage });
    }
  }
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((entry) => entry.debianPackage))].sort();
    const list = missing
      .map((entry) => `${entry.what} (Debian package ${entry.debianPackage})`)
      .join(', ');
    throw new LabError(`missing ${list}; install with: apt-get install ${packages.join(' ')}`, {
      debianPackage: packages.join(' '),
    });
  }
  return found;
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
  options: { cwd?: string; timeoutMs?: number; allowFailure?: boolean } = {},
): Promise<ToolResult> {
  const result = await execa(program, args, {
    cwd: options.cwd,
    timeout: options.timeoutMs ?? 30_000,
    reject: false,
    stdin: 'ignore',
  });
  if (result.failed && result.exitCode === undefined) {
    throw new LabError(`could not run ${program}: ${result.shortMessage}`, { cause: result.cause });
  }
  const exitCode = result.exitCode ?? -1;
  if (exitCode !== 0 && !options.allowFailure) {
    const output = (result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n');
    throw new LabError(
      `${path.basename(program)} ${args.join(' ')} failed with exit code ${exitCode}: ${output}`,
    );
  }
  return { stdout: result.stdout, stderr: result.stderr, exitCode };
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
  options: { cwd: string; logFile: string },
): Promise<number> {
  const logDescriptor = openSync(options.logFile, 'a', 0o644);
  try {
    const child = spawn(program, args, {
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
