import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { isRunning, processGone, programCommandLine, stopProcess } from '../src/processes.js';

const children: number[] = [];
afterEach(() => {
  for (const pid of children.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** A real process whose command line names `file`, as a lab server names its config. */
function startNaming(file: string): number {
  const child = spawn('/bin/sh', ['-c', 'sleep 30', file], { stdio: 'ignore' });
  children.push(child.pid!);
  return child.pid!;
}

describe('process identity by program and directory', () => {
  it('recognises a process only inside the directory its command line names', async () => {
    const pid = startNaming('/tmp/chorus-lab-a/nats/nats-2/nats.conf');
    await expect(isRunning(pid, '/bin/sh')).resolves.toBe(true);
    await expect(isRunning(pid, '/bin/sh', '/tmp/chorus-lab-a/nats/nats-2')).resolves.toBe(true);
    await expect(isRunning(pid, '/bin/sh', '/tmp/chorus-lab-a')).resolves.toBe(true);
    // A reused PID running the same program for another lab, or another node of this one.
    await expect(isRunning(pid, '/bin/sh', '/tmp/chorus-lab-b')).resolves.toBe(false);
    await expect(isRunning(pid, '/bin/sh', '/tmp/chorus-lab-a/nats/nats-3')).resolves.toBe(false);
    await expect(isRunning(pid, '/bin/sh', '/tmp/chorus-lab-a/nats/nats')).resolves.toBe(false);
    await expect(isRunning(pid, '/usr/sbin/nats-server')).resolves.toBe(false);
  });

  it('reads a --flag=PATH argument as a path', async () => {
    const pid = startNaming('--config-dir=/tmp/chorus-lab-a/powerdns');
    await expect(isRunning(pid, '/bin/sh', '/tmp/chorus-lab-a/powerdns')).resolves.toBe(true);
    await expect(isRunning(pid, '/bin/sh', '/tmp/chorus-lab-b/powerdns')).resolves.toBe(false);
  });

  it('never signals a process of another directory, and stops its own', async () => {
    const pid = startNaming('/tmp/chorus-lab-a/knot/knot.conf');
    await expect(stopProcess(pid, '/bin/sh', { within: '/tmp/chorus-lab-b/knot' })).resolves.toBe(
      'not-running',
    );
    await expect(isRunning(pid, '/bin/sh')).resolves.toBe(true);
    await expect(stopProcess(pid, '/bin/sh', { within: '/tmp/chorus-lab-a/knot' })).resolves.toBe(
      'stopped',
    );
    await expect(isRunning(pid, '/bin/sh')).resolves.toBe(false);
  });
});

describe('when a stopped process counts as gone', () => {
  it('not while it runs; once it is a zombie (its sockets closed) or no longer exists', async () => {
    // The shell's background sleep exits first and stays a zombie: the exec'd sleep never reaps it.
    const child = spawn('/bin/sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 30'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    children.push(child.pid!);
    const zombie = Number(
      await new Promise<string>((resolve) =>
        child.stdout.once('data', (data) => resolve(String(data))),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 400));
    await expect(processGone(child.pid!, 'sleep')).resolves.toBe(false);
    await expect(processGone(zombie, '/usr/bin/sleep')).resolves.toBe(true);
    await expect(stopProcess(child.pid!, 'sleep')).resolves.toBe('stopped');
    await expect(processGone(child.pid!, 'sleep')).resolves.toBe(true);
  });
});

describe('a daemon started in a network namespace', () => {
  const program = ['/usr/sbin/nats-server', '-c', '/tmp/chorus-lab-a/nats/nats-3/nats.conf'];

  it("is the program already while `ip netns exec` has not exec'd it yet", () => {
    expect(
      programCommandLine(['/usr/sbin/ip', 'netns', 'exec', 'chorus-nats-3', ...program]),
    ).toEqual(program);
    expect(programCommandLine(['ip', 'netns', 'exec', 'chorus-nats-3', ...program])).toEqual(
      program,
    );
    expect(programCommandLine(program)).toEqual(program);
  });

  it('is not any other use of ip', () => {
    const other = ['/usr/sbin/ip', 'netns', 'add', 'chorus-nats-3'];
    expect(programCommandLine(other)).toEqual(other);
    expect(programCommandLine(['/usr/sbin/ip', 'netns', 'exec'])).toEqual([
      '/usr/sbin/ip',
      'netns',
      'exec',
    ]);
  });
});
