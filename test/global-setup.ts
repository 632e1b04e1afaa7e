/**
 * Vitest globalSetup of the integration project: one lab for every integration test file, on
 * 127.54.0.x (or $CHORUS_TEST_LAB_PREFIX; port 53) in a fresh temporary directory, with the trap
 * servers, provided as `inject('lab')`. Tests may restart servers (`labRestart`): PIDs in the
 * injected status can then be stale, so read them with `labStatus`.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { labDown, labUp, type LabStatus } from '@chorus/lab';
import { TEST_LAB_PREFIX, TEST_LAB_ZONES } from './helpers/lab.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The status of the lab started for this test run. */
    lab: LabStatus;
  }
}

/** Remembers the test lab's directory, so a run that crashed is cleaned up by the next one. */
const POINTER_FILE = path.join(os.tmpdir(), `chorus-integration-lab-${TEST_LAB_PREFIX}.path`);

function log(line: string): void {
  process.stderr.write(`[test lab] ${line}\n`);
}

async function stopLeftoverLab(): Promise<void> {
  let directory: string;
  try {
    directory = (await readFile(POINTER_FILE, 'utf8')).trim();
  } catch {
    return;
  }
  const report = await labDown({ directory });
  if (report.found) log(`stopped a lab left over by an earlier run in ${directory}`);
  await rm(directory, { recursive: true, force: true });
  await rm(POINTER_FILE, { force: true });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await stopLeftoverLab();
  const directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-test-lab-'));
  await writeFile(POINTER_FILE, `${directory}\n`);
  let status: LabStatus;
  try {
    status = await labUp({
      directory,
      addressPrefix: TEST_LAB_PREFIX,
      zones: TEST_LAB_ZONES,
      traps: true,
      registryAgent: false, // it would act on other tests' CDS/CSYNC; tests scan explicitly
      onProgress: log,
    });
  } catch (error) {
    // The LabError message carries the failing server's log tail; the directory stays for a look.
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`the integration lab did not start (directory ${directory}):\n${message}`, {
      cause: error,
    });
  }
  project.provide('lab', status);
  return async () => {
    await labDown({ directory });
    await rm(directory, { recursive: true, force: true });
    await rm(POINTER_FILE, { force: true });
  };
}
