/**
 * The lab's Knot policy (packages/lab/src/knot.ts) as the lab writes it, checked by knotd 3.2's
 * own parser (`knotc conf-check` needs no running server; conf-read would). The lab tests read
 * the same values back from the running servers. Skipped where knotc is not installed.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  LabError,
  SERVER_KINDS,
  resolveLabConfig,
  type LabConfig,
  type LabServer,
  type ServerId,
} from '@chorus/lab';
import { afterAll, describe, expect, test } from 'vitest';

const run = promisify(execFile);
const knotc = ['/usr/sbin/knotc', '/usr/bin/knotc'].find((file) => existsSync(file));

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

/** A lab Knot server entry in a fresh directory (only what prepare uses). */
function labKnot(id: ServerId, home: string): LabServer {
  const layout = SERVER_KINDS.knot.layout(home, '127.66.0.4', { knotd: 'knotd' });
  return {
    ...layout,
    id,
    role: id === 'knot' ? 'signer' : 'trap',
    version: '3.2.6',
    nameserverName: `ns.${id}.test.`,
    address: '127.66.0.4',
    port: 53,
    zones: ['roll.test.'],
    tsig: { name: `${id}-update`, algorithm: 'hmac-sha256', keyFile: path.join(home, 'tsig.key') },
    pid: 0,
    alive: false,
    directory: home,
  };
}

/** Writes the server's files as `lab up` does and returns its knot.conf. */
async function prepare(id: ServerId, keyLifetimes?: LabConfig['keyLifetimes']): Promise<string> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'chorus-knot-policy-'));
  directories.push(home);
  const config = {
    ...resolveLabConfig({ directory: home, addressPrefix: '127.66.0', zones: ['roll.test'] }),
    ...(keyLifetimes ? { keyLifetimes } : {}),
  };
  const server = labKnot(id, home);
  await SERVER_KINDS.knot.prepare(server, { config, programs: {}, tsigSecret: 'c2VjcmV0' });
  return server.configFile;
}

/** The items of the `chorus` policy in the written knot.conf (one `key: value` per line). */
function policyItems(configFile: string): Record<string, string> {
  const text = readFileSync(configFile, 'utf8');
  const block = /\n {2}- id: chorus\n((?: {4}[a-z-]+: .*\n)+)/.exec(text)?.[1] ?? '';
  return Object.fromEntries(
    block
      .trim()
      .split('\n')
      .map((line) => line.trim().split(': ') as [string, string]),
  );
}

describe.skipIf(knotc === undefined)('the lab Knot policy (knotc conf-check)', () => {
  test('the signer waits propagation-delay 10 s, the traps 0; knotd accepts both', async () => {
    // Lab group's DNSKEY wait: key watch 2 s + child propagation 2 s + DNSKEY TTL 30 + margin 2 s
    // = 36 s ≤ dnskey-ttl 30 + propagation-delay 10; a trap's 30 + 0 is shorter.
    for (const [id, delay] of [
      ['knot', '10'],
      ['knot-full-management', '0'],
      ['knot-zonefile-revert', '0'],
    ] as const) {
      const configFile = await prepare(id);
      await run(knotc!, ['-c', configFile, 'conf-check']);
      const items = policyItems(configFile);
      expect(items, id).toMatchObject({
        'propagation-delay': delay,
        'dnskey-ttl': '30',
        'zone-max-ttl': '30',
        'zsk-lifetime': '0',
        'ksk-lifetime': '0',
      });
    }
  });

  test('keyLifetimes become zsk-lifetime and ksk-lifetime, in seconds', async () => {
    const configFile = await prepare('knot', { zskSeconds: 80, kskSeconds: 3600 });
    await run(knotc!, ['-c', configFile, 'conf-check']);
    expect(policyItems(configFile)).toMatchObject({
      'zsk-lifetime': '80',
      'ksk-lifetime': '3600',
    });
  });

  test('a lifetime below knotd’s minimum is refused by the lab, as knotd would refuse it', async () => {
    // 2 × propagation-delay 10 + dnskey-ttl 30 + zone-max-ttl 30 = 80 s.
    const error = await prepare('knot', { zskSeconds: 79 }).catch((caught: unknown) => caught);
    expect(LabError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/zsk-lifetime .*= 80 s/);
    // The traps (propagation-delay 0) accept down to 60 s.
    await prepare('knot-full-management', { zskSeconds: 60 });
    // knotd's own check, for the record: 79 s is what it refuses.
    const configFile = await prepare('knot', { zskSeconds: 80 });
    const text = readFileSync(configFile, 'utf8').replace('zsk-lifetime: 80', 'zsk-lifetime: 79');
    const copy = path.join(path.dirname(configFile), 'too-short.conf');
    writeFileSync(copy, text);
    const refused = await run(knotc!, ['-c', copy, 'conf-check']).catch(
      (caught: { stdout: string; stderr: string }) => caught,
    );
    expect(`${refused.stdout}${refused.stderr}`).toMatch(/ZSK lifetime too low/);
  });
});
