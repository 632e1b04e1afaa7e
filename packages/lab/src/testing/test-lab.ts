/**
 * The lab of an integration-test run: its address prefix, zones, and start/stop with clean-up of
 * a lab that a crashed run left behind. A Vitest `globalSetup` calls `startTestLab` and provides
 * the status to the test files.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { labDown, labUp } from '../lab.js';
import type { LabStatus } from '../types.js';

/** Address prefix of the test lab (an operator's lab uses 127.53.0). */
// CHORUS_TEST_LAB_PREFIX lets several test runs share one machine without colliding.
export const TEST_LAB_PREFIX = process.env.CHORUS_TEST_LAB_PREFIX ?? '127.54.0';
/** The zones of the test lab: the demo zone, a throwaway zone the conformance suite wipes, the crash zone and the stuck-step zone. */
export const TEST_LAB_ZONES: readonly string[] = [
  'example.test.',
  'conformance.test.',
  'crash.test.',
  'stuck.test.',
  'roll.test.',
  'rollover.test.',
];
/** The zone the crash-safety test migrates (its group changes for good). */
export const CRASH_ZONE = 'crash.test.';
/** The zone test/stuck-step.test.ts leaves with a process held half-way. */
export const STUCK_ZONE = 'stuck.test.';
/** The zone whose keys each plugin's own roll tests roll (at its own server only). */
export const ROLL_ZONE = 'roll.test.';
/** The zone the end-to-end roll processes run in (a group of all three signers). */
export const ROLLOVER_ZONE = 'rollover.test.';
/** The zone the signer conformance suite may wipe. */
export const CONFORMANCE_ZONE = 'conformance.test.';
/** Address prefix of a second, short-lived lab (lifecycle tests); CHORUS_TEST_LIFECYCLE_PREFIX overrides it. */
export const LIFECYCLE_LAB_PREFIX = process.env.CHORUS_TEST_LIFECYCLE_PREFIX ?? '127.55.0';

export interface TestLab {
  status: LabStatus;
  /** Stops the lab and deletes its directory. */
  stop(): Promise<void>;
}

/** Remembers the lab's directory, so that a run that crashed is cleaned up by the next one. */
function pointerFile(prefix: string): string {
  return path.join(os.tmpdir(), `chorus-integration-lab-${prefix}.path`);
}

async function stopLeftoverLab(pointer: string, log: (line: string) => void): Promise<void> {
  let directory: string;
  try {
    directory = (await readFile(pointer, 'utf8')).trim();
  } catch {
    return;
  }
  const report = await labDown({ directory });
  if (report.found) log(`stopped a lab left over by an earlier run in ${directory}`);
  await rm(directory, { recursive: true, force: true });
  await rm(pointer, { force: true });
}

/**
 * Starts the test lab (traps and the provider fakes on, no registry agent: it would act on other
 * tests' CDS/CSYNC) in a
 * fresh temporary directory, after stopping one a crashed run left on the same prefix.
 */
export async function startTestLab(
  options: { addressPrefix?: string; zones?: readonly string[]; log?: (line: string) => void } = {},
): Promise<TestLab> {
  const prefix = options.addressPrefix ?? TEST_LAB_PREFIX;
  const log = options.log ?? (() => undefined);
  const pointer = pointerFile(prefix);
  await stopLeftoverLab(pointer, log);
  const directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-test-lab-'));
  await writeFile(pointer, `${directory}\n`);
  let status: LabStatus;
  try {
    status = await labUp({
      directory,
      addressPrefix: prefix,
      zones: options.zones ?? TEST_LAB_ZONES,
      traps: true,
      providers: ['desec', 'ns1'],
      registryAgent: false,
      owner: true,
      onProgress: log,
    });
  } catch (error) {
    // The LabError message carries the failing server's log tail; the directory stays for a look.
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`the integration lab did not start (directory ${directory}):\n${message}`, {
      cause: error,
    });
  }
  return {
    status,
    stop: async () => {
      await labDown({ directory });
      await rm(directory, { recursive: true, force: true });
      await rm(pointer, { force: true });
    },
  };
}
