import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { query } from '@chorus/dns';
import { checkPrograms, isRunning, LabError, labDown, labStatus, labUp } from '@chorus/lab';
import { endpoint, labResolver, LIFECYCLE_LAB_PREFIX } from '@chorus/lab/testing';

function loopbackAddresses(): string[] {
  return (os.networkInterfaces().lo ?? []).map((entry) => entry.address);
}

async function commandLine(pid: number): Promise<string> {
  try {
    return await readFile(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

describe.each([
  { traps: false, processCount: 10 },
  { traps: true, processCount: 14 },
])('a second lab (traps: $traps), up and down', ({ traps, processCount }) => {
  it('starts, serves validated answers, and leaves no process, address or answer behind', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-lifecycle-lab-'));
    try {
      const started = performance.now();
      const status = await labUp({
        directory,
        addressPrefix: LIFECYCLE_LAB_PREFIX,
        zones: ['example.test', 'shop.test'],
        traps,
      });
      const upMs = performance.now() - started;
      process.stderr.write(
        `[lab-lifecycle] lab up (traps: ${traps}) took ${(upMs / 1000).toFixed(2)} s (recorded startupMs ${status.startupMs})\n`,
      );
      expect(status.traps).toBe(traps);

      const processes = [...status.servers, ...status.resolvers];
      expect(processes).toHaveLength(processCount);
      // named listens only on configured addresses: every BIND server's (traps too) is on lo.
      const bindAddresses = status.servers
        .filter((server) => server.software === 'bind')
        .map((server) => server.address);
      expect(bindAddresses).toHaveLength(traps ? 3 : 2);
      for (const address of bindAddresses) expect(loopbackAddresses()).toContain(address);
      for (const entry of processes)
        expect(await isRunning(entry.pid, entry.binary), entry.id).toBe(true);
      const validated = await query(
        endpoint(labResolver(status, 'resolver-delegation')),
        'www.shop.test.',
        'A',
        {
          recursionDesired: true,
        },
      );
      expect(validated.flags.ad).toBe(true);
      for (const alias of status.loopbackAliases) expect(loopbackAddresses()).toContain(alias);

      const report = await labDown({ directory });
      expect(report.found).toBe(true);
      expect(report.stopped.map((entry) => entry.outcome)).toEqual(processes.map(() => 'stopped'));

      for (const entry of processes) {
        expect(await isRunning(entry.pid, entry.binary), entry.id).toBe(false);
        // Gone, or at most a zombie waiting to be reaped (empty command line).
        expect(await commandLine(entry.pid), entry.id).toBe('');
      }
      for (const entry of processes) {
        await expect(
          query(endpoint(entry), 'test.', 'SOA', { timeoutMs: 300, retries: 0 }),
          `${entry.id} at ${entry.address}`,
        ).rejects.toThrow();
      }
      for (const alias of status.loopbackAliases) expect(loopbackAddresses()).not.toContain(alias);
      expect(await labStatus({ directory })).toBeUndefined();
      // down again: nothing to do, not an error
      expect((await labDown({ directory })).found).toBe(false);
    } finally {
      await labDown({ directory });
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe('missing programs', () => {
  it('names the Debian package of each missing program', async () => {
    const attempt = checkPrograms(['named', 'pdnsutil', 'knotd', 'unbound'], { searchPath: '' });
    await expect(attempt).rejects.toSatisfy((error) => LabError.isInstance(error));
    await expect(attempt).rejects.toThrow(
      /named \(Debian package bind9\).*pdnsutil \(Debian package pdns-server\).*knotd \(Debian package knot\).*unbound \(Debian package unbound\)/,
    );
    await expect(attempt).rejects.toThrow('apt-get install bind9 knot pdns-server unbound');
  });

  it('stops lab up before it touches anything', async () => {
    const directory = path.join(os.tmpdir(), `chorus-never-created-${process.pid}`);
    const attempt = labUp({ directory, addressPrefix: LIFECYCLE_LAB_PREFIX, searchPath: '' });
    await expect(attempt).rejects.toThrow(/dnssec-keygen \(Debian package bind9-utils\)/);
    await expect(readFile(path.join(directory, 'lab.json'))).rejects.toThrow();
  });

  it('names the package of a missing data file', async () => {
    const attempt = checkPrograms([], {
      files: [
        {
          path: '/nonexistent/schema.sql',
          what: 'the PowerDNS gsqlite3 backend',
          debianPackage: 'pdns-backend-sqlite3',
        },
      ],
    });
    await expect(attempt).rejects.toThrow(/gsqlite3 backend.*Debian package pdns-backend-sqlite3/);
  });
});
