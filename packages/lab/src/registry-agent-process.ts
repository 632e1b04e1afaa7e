/**
 * The registry agent as a lab process: the entry point that `chorus lab registry-agent` (or
 * `node dist/registry-agent-main.js`) runs, and the lab's side of its lifecycle (start by
 * spawning, liveness by exact command line, stop by PID).
 */
import { readFileSync, realpathSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnDaemon } from './commands.js';
import { stopProcess, type StopOutcome } from './processes.js';
import {
  readRegistryAgentConfig,
  registryAgentConfigFromStatus,
  runRegistryAgent,
  type RegistryAgentConfig,
} from './registry-agent.js';
import type { LabRegistryAgent, LabStatus } from './types.js';

export const REGISTRY_AGENT_ID = 'registry-agent';

/** `<lab>/registry-agent/agent.json`: where `--dir` finds the agent's configuration. */
export function registryAgentConfigFile(labDirectory: string): string {
  return path.join(labDirectory, REGISTRY_AGENT_ID, 'agent.json');
}

/**
 * The command that runs the agent when the caller names none: this Node binary with the lab
 * package's own entry point (built into `dist/`, also when the lab runs from its sources).
 */
export function defaultRegistryAgentCommand(): string[] {
  const here = fileURLToPath(import.meta.url);
  const distDirectory = here.endsWith('.ts')
    ? path.join(path.dirname(here), '..', 'dist')
    : path.dirname(here);
  return [process.execPath, path.join(distDirectory, 'registry-agent-main.js')];
}

/** The `chorus` CLI's own command for the agent, when the CLI is the running program. */
export function cliRegistryAgentCommand(cliEntry: string): string[] {
  return [process.execPath, realpathSync(cliEntry), 'lab', REGISTRY_AGENT_ID];
}

export interface RegistryAgentProcessOptions {
  /** The configuration file (see `registryAgentConfigFile`). */
  configFile: string;
  /** Receives each JSON log line, newline included. Default: stdout. */
  write?: (line: string) => void;
  /** Replaces the configured scan interval. */
  intervalMs?: number;
}

/**
 * Runs the agent in this process until SIGTERM or SIGINT: writes the PID file, logs one JSON
 * line per event, removes the PID file on the way out. Returns the exit code.
 */
export async function runRegistryAgentProcess(
  options: RegistryAgentProcessOptions,
): Promise<number> {
  const config = await readRegistryAgentConfig(options.configFile);
  if (options.intervalMs !== undefined) config.intervalMs = options.intervalMs;
  const write = options.write ?? ((line: string) => void process.stdout.write(line));
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => controller.abort(new Error(`received ${signal}`));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  if (config.pidFile) await writeFile(config.pidFile, `${process.pid}\n`);
  try {
    await runRegistryAgent(config, {
      signal: controller.signal,
      log: (entry) => write(`${JSON.stringify(entry)}\n`),
    });
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    if (config.pidFile) {
      const recorded = await readFile(config.pidFile, 'utf8').catch(() => '');
      if (recorded.trim() === String(process.pid)) await rm(config.pidFile, { force: true });
    }
  }
  return 0;
}

/** Writes the agent's configuration file for a planned lab. */
export async function writeRegistryAgentConfig(
  status: LabStatus,
): Promise<RegistryAgentConfig | null> {
  const agent = status.registryAgent;
  if (!agent) return null;
  await mkdir(agent.directory, { recursive: true });
  const config = registryAgentConfigFromStatus(status);
  await writeFile(agent.configFile, `${JSON.stringify(config, null, 2)}\n`);
  return config;
}

function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((part) => part !== '');
  } catch {
    return undefined;
  }
}

/**
 * True when `agent.pid` runs exactly the recorded command line (the same binary name and the
 * same arguments). Every Node process has the same binary, so the arguments decide.
 */
export function isRegistryAgentRunning(
  agent: Pick<LabRegistryAgent, 'pid' | 'binary' | 'arguments'>,
): boolean {
  return runsCommandLine(agent);
}

/** True when `entry.pid` runs exactly `binary` (by name) with `arguments`: for Node lab processes. */
export function runsCommandLine(
  agent: Pick<LabRegistryAgent, 'pid' | 'binary' | 'arguments'>,
): boolean {
  if (!Number.isInteger(agent.pid) || agent.pid <= 1) return false;
  const argv = commandLine(agent.pid);
  if (!argv || argv.length === 0) return false;
  return (
    path.basename(argv[0]!) === path.basename(agent.binary) &&
    argv.length === agent.arguments.length + 1 &&
    agent.arguments.every((argument, index) => argv[index + 1] === argument)
  );
}

/** Starts the agent detached, stdout and stderr appended to its log; returns the PID. */
export function startRegistryAgent(
  agent: Pick<LabRegistryAgent, 'binary' | 'arguments' | 'directory' | 'logFile' | 'namespace'>,
): Promise<number> {
  return spawnDaemon(agent.binary, agent.arguments, {
    cwd: agent.directory,
    logFile: agent.logFile,
    namespace: agent.namespace,
  });
}

/** Stops the agent by PID (SIGTERM, then SIGKILL), only if the PID still runs it. */
export async function stopRegistryAgent(
  agent: Pick<LabRegistryAgent, 'pid' | 'binary' | 'arguments'>,
): Promise<StopOutcome> {
  if (!isRegistryAgentRunning(agent)) return 'not-running';
  return stopProcess(agent.pid, agent.binary);
}
