/**
 * `--hosts netns` after a lab was killed without `lab down`: its namespaces stay behind. Making the
 * hosts again deletes the ones nothing runs in, and refuses the ones a process still runs in.
 * Namespaces only (no servers), on 127.93.0 (or $CHORUS_TEST_HOSTS_RECLAIM_PREFIX).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveLabConfig } from '../../src/config.js';
import { createHosts, removeHosts } from '../../src/hosts.js';
import { waitUntil } from '../../src/testing/wait-until.js';

const PREFIX = process.env.CHORUS_TEST_HOSTS_RECLAIM_PREFIX ?? '127.93.0';
const run = promisify(execFile);
const hosts = resolveLabConfig({
  directory: '/tmp/chorus-hosts-reclaim',
  addressPrefix: PREFIX,
  hosts: 'netns',
}).hosts;
const parentNamespace = hosts.namespaces.find((host) => host.id === 'parent')!.namespace;

async function namespaces(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  return stdout.split('\n').map((line) => line.trim().split(/\s+/)[0]!);
}

async function pidsIn(namespace: string): Promise<string> {
  const { stdout } = await run('ip', ['netns', 'pids', namespace]);
  return stdout.trim();
}

let sleeper: ChildProcess | undefined;

afterEach(async () => {
  if (sleeper?.pid !== undefined && sleeper.exitCode === null) process.kill(sleeper.pid);
  sleeper = undefined;
  await removeHosts(hosts);
});

describe('namespaces a killed lab left behind', () => {
  it('are deleted when nothing runs in them, and every host is made afresh', async () => {
    await run('ip', ['netns', 'add', hosts.switchNamespace!]);
    await run('ip', ['netns', 'add', parentNamespace]);

    const reclaimed = await createHosts(hosts);

    expect(reclaimed.sort()).toEqual([hosts.switchNamespace!, parentNamespace].sort());
    const present = await namespaces();
    for (const host of hosts.namespaces) expect(present).toContain(host.namespace);
    const { stdout } = await run('ip', ['-n', parentNamespace, '-4', 'addr', 'show', 'eth0']);
    expect(stdout).toContain(hosts.namespaces[0]!.address);
  });

  it('are refused, and left alone, while a process runs in one (control)', async () => {
    await run('ip', ['netns', 'add', parentNamespace]);
    sleeper = spawn('ip', ['netns', 'exec', parentNamespace, 'sleep', '60'], { stdio: 'ignore' });
    await waitUntil(
      'the sleeper in the namespace',
      async () => ((await pidsIn(parentNamespace)) !== '' ? true : undefined),
      { timeoutMs: 5000 },
    );

    await expect(createHosts(hosts)).rejects.toThrow(
      new RegExp(`${parentNamespace} exist already with processes in them`),
    );
    expect(await namespaces()).toContain(parentNamespace);
    expect(await namespaces()).not.toContain(hosts.switchNamespace);
  });
});
