/**
 * `chorus demo --json` in-process on a lab of its own (a fresh directory and address prefix), as
 * the scenario tests run it. The lab is brought down afterwards (unless `keepLab`); the
 * directory stays for the caller's clean-up (and inspection).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import type { Observer, ZoneEvent } from '@chorus/core';
import { demoCommand, type CliIo } from '@chorus/cli';
import { labDown } from '@chorus/lab';

export interface DemoRun<Result> {
  code: number;
  /** The JSON summary the demo printed on stdout. */
  result: Result;
  stderr: string;
  directory: string;
}

export async function runDemoOnOwnLab<Result>(options: {
  /** Names the temporary directory, e.g. `saas`. */
  name: string;
  prefix: string;
  ttl: number;
  args?: readonly string[];
  /** More observers for the demo's pipeline, made once the lab directory is known. */
  extraObservers?: Observer<ZoneEvent>[] | ((directory: string) => Observer<ZoneEvent>[]);
  /** Every directory made is pushed here, for the file's afterAll to remove. */
  directories: string[];
  /** Leave the lab running (the caller reads it afterwards and brings it down itself). */
  keepLab?: boolean;
}): Promise<DemoRun<Result>> {
  const directory = await mkdtemp(path.join(tmpdir(), `chorus-${options.name}-`));
  options.directories.push(directory);
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
  };
  const args = [
    '--dir',
    directory,
    '--address-prefix',
    options.prefix,
    '--ttl',
    String(options.ttl),
  ];
  try {
    const extra = options.extraObservers;
    const extraObservers = typeof extra === 'function' ? extra(directory) : extra;
    const code = await demoCommand([...args, '--json', ...(options.args ?? [])], io, {
      ...(extraObservers ? { extraObservers } : {}),
    });
    return { code, result: JSON.parse(stdout) as Result, stderr, directory };
  } finally {
    if (!options.keepLab) await labDown({ directory }).catch(() => undefined);
  }
}

/** What every demo test reads from `chorus demo --json`. */
export interface DemoJson {
  ok: boolean;
  processes: { kind: string; signerId: string }[];
  traffic: { queries: number; insecure: number; failures: unknown[] };
  observers: { violations: unknown[]; validationFailures: unknown[]; disagreements: unknown[] };
  parent: { asExpected: boolean; ds: string[] };
}

/**
 * The lab directories a test file makes: pushed by `runDemoOnOwnLab` (or the test), brought
 * down and removed after the file (kept with CHORUS_TEST_KEEP=1).
 */
export function labDirectoriesRemovedAfterAll(): string[] {
  const directories: string[] = [];
  afterAll(async () => {
    for (const directory of directories) {
      await labDown({ directory }).catch(() => undefined);
      if (process.env.CHORUS_TEST_KEEP !== '1')
        await rm(directory, { recursive: true, force: true });
    }
  });
  return directories;
}
