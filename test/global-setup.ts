/**
 * Vitest globalSetup of the integration project: one lab for every integration test file, on
 * 127.54.0.x (or $CHORUS_TEST_LAB_PREFIX; port 53) in a fresh temporary directory, with the trap
 * servers, provided as `inject('lab')`. Tests may restart servers (`labRestart`): PIDs in the
 * injected status can then be stale, so read them with `labStatus`.
 */
import type { TestProject } from 'vitest/node';
import type { LabStatus } from '@chorus/lab';
import { startTestLab } from '@chorus/lab/testing';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The status of the lab started for this test run. */
    lab: LabStatus;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const lab = await startTestLab({ log: (line) => process.stderr.write(`[test lab] ${line}\n`) });
  project.provide('lab', lab.status);
  return () => lab.stop();
}
