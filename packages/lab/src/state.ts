/**
 * The lab state file (`<lab>/lab.json`): the LabStatus as `up` recorded it. Liveness is
 * recomputed from /proc whenever it is read.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { demoEventLogPath } from './config.js';
import { LabError } from './errors.js';
import { natsNodes } from './nats.js';
import { isRunning } from './processes.js';
import { isProviderApiRunning } from './provider-apis.js';
import { isRegistryAgentRunning } from './registry-agent-process.js';
import type { LabStatus } from './types.js';

/** A server or NATS node as the state records it. */
interface RecordedProcess {
  id: string;
  pid: number;
  alive: boolean;
  restartedAt?: string;
}

export const STATE_FILE_NAME = 'lab.json';

export function stateFilePath(directory: string): string {
  return path.join(directory, STATE_FILE_NAME);
}

/** Writes the state whole: a temporary file renamed over it, so no reader sees half of it. */
export async function writeState(status: LabStatus): Promise<void> {
  const temporary = `${status.stateFile}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(status, null, 2)}\n`);
  await rename(temporary, status.stateFile);
}

/**
 * Records the PIDs and liveness of `entries` (servers or NATS nodes, by id) into the state as it
 * is on disk now, with `also` for anything else: a `stop` or `restart` of other servers running
 * at the same time keeps what it recorded.
 */
export async function recordProcesses(
  status: LabStatus,
  entries: readonly RecordedProcess[],
  also: (current: LabStatus) => void = () => undefined,
): Promise<void> {
  const current = (await readState(status.directory)) ?? status;
  const recorded: RecordedProcess[] = [...current.servers, ...natsNodes(current)];
  for (const entry of entries) {
    const target = recorded.find((candidate) => candidate.id === entry.id);
    if (!target || target === entry) continue;
    target.pid = entry.pid;
    target.alive = entry.alive;
    if (entry.restartedAt !== undefined) target.restartedAt = entry.restartedAt;
  }
  also(current);
  await writeState(current);
}

/** The recorded state, or undefined when the directory holds no lab. */
export async function readState(directory: string): Promise<LabStatus | undefined> {
  const file = stateFilePath(directory);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LabError(`cannot read the lab state ${file}`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new LabError(`the lab state ${file} is not valid JSON; remove it or the directory`, {
      cause: error,
    });
  }
  const status = parsed as Partial<LabStatus> | null;
  if (
    status?.schemaVersion !== 1 ||
    !Array.isArray(status.servers) ||
    !Array.isArray(status.resolvers)
  ) {
    throw new LabError(
      `the lab state ${file} has an unknown format (schemaVersion ${String(status?.schemaVersion)})`,
    );
  }
  // Written before traps existed: no traps. Before the registry agent: no agent.
  status.traps ??= false;
  status.registryAgent ??= null;
  status.providers ??= [];
  // Before `--algorithm` and `--denial`: ECDSA P-256 and NSEC.
  status.algorithm ??= 13;
  status.algorithmName ??= 'ECDSAP256SHA256';
  status.denial ??= 'nsec';
  // Before `--signalling` and `--insecure-zone`: none.
  status.signalling ??= [];
  status.insecureZones ??= [];
  // Before `--event-log`: the demo's SQLite file.
  status.eventLog ??= { kind: 'sqlite', path: demoEventLogPath(directory) };
  return status as LabStatus;
}

/**
 * Re-checks every recorded PID (the registry agent's and the NATS nodes' too) against /proc; sets
 * `alive` and `running`.
 */
export async function refreshLiveness(status: LabStatus): Promise<LabStatus> {
  const processes = [...status.servers, ...status.resolvers, ...natsNodes(status)];
  await Promise.all(
    processes.map(async (entry) => {
      entry.alive = await isRunning(entry.pid, entry.binary, entry.directory);
    }),
  );
  if (status.registryAgent) {
    status.registryAgent.alive = isRegistryAgentRunning(status.registryAgent);
  }
  for (const api of status.providers) api.alive = isProviderApiRunning(api);
  status.running =
    processes.length > 0 &&
    processes.every((entry) => entry.alive) &&
    (status.registryAgent?.alive ?? true) &&
    status.providers.every((api) => api.alive);
  return status;
}

export async function removeState(directory: string): Promise<void> {
  await rm(stateFilePath(directory), { force: true });
}
