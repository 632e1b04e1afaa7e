import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LabError } from '../src/errors.js';
import { hasExited, waitUntilReady, type WatchedProcess } from '../src/readiness.js';

// Start-up of a lab server as `labUp` waits for it: the check is repeated until it passes, the
// process dies (said with its log's last lines), or the deadline passes (said as such).

let directory: string;
const children: number[] = [];

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-readiness-'));
});
afterEach(() => {
  for (const pid of children.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** A real shell running `script`, logging to its own file. */
async function watched(label: string, script: string): Promise<WatchedProcess> {
  const logFile = path.join(directory, `${label}.log`);
  await writeFile(logFile, '');
  const child = spawn('/bin/sh', ['-c', `{ ${script}; } >> ${logFile} 2>&1`], { stdio: 'ignore' });
  children.push(child.pid!);
  return { label, pid: child.pid!, program: '/bin/sh', logFile };
}

const notYet = () =>
  Promise.resolve({ ready: false as const, reason: 'no answer on 127.0.0.1:53' });

describe('waiting for a lab server to start', () => {
  it('says a server died during start-up, with its last log lines, long before the deadline', async () => {
    const server = await watched('dying', 'echo "bad option in named.conf"; exit 1');
    const started = Date.now();
    const error = await waitUntilReady(server, notYet, Date.now() + 30_000).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(LabError);
    expect((error as Error).message).toMatch(
      /^dying exited during start-up \(last check: no answer on 127\.0\.0\.1:53\)/,
    );
    expect((error as Error).message).toContain('bad option in named.conf');
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('control: a server that stays up but never answers runs out of time, and is not called dead', async () => {
    const server = await watched('silent', 'sleep 30');
    await expect(hasExited(server)).resolves.toBe(false);
    const error = await waitUntilReady(server, notYet, Date.now() + 400).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(LabError);
    expect((error as Error).message).toMatch(/^silent was not ready in time: no answer/);
  });

  it('returns once the check passes, and takes a check that throws as not ready yet', async () => {
    const server = await watched('starting', 'sleep 30');
    let calls = 0;
    await waitUntilReady(
      server,
      () => {
        calls += 1;
        if (calls === 1) return Promise.reject(new Error('connection refused'));
        return Promise.resolve(calls < 3 ? { ready: false, reason: 'loading' } : { ready: true });
      },
      Date.now() + 10_000,
    );
    expect(calls).toBe(3);
  });

  it('counts a process gone only after it stays gone', async () => {
    const server = await watched('gone', 'exit 0');
    await new Promise((resolve) => setTimeout(resolve, 200));
    await expect(hasExited(server)).resolves.toBe(true);
  });
});
