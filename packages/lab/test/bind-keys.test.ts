import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keyFileTime, markKeyStates, type BindKey } from '../src/bind-keys.js';

// The lab writes the key states that `dnssec-settime -s` would: proven by running the real
// dnssec-keygen and dnssec-settime (bind9-utils) on copies of the same keys and comparing files.

const directories: string[] = [];
afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true })));
});

const POLICY = `dnssec-policy "chorus" {
  keys { ksk lifetime unlimited algorithm 13; zsk lifetime unlimited algorithm 13; };
};
`;

async function freshKeys(): Promise<{ directory: string; keys: BindKey[] }> {
  const directory = await mkdtemp(path.join(tmpdir(), 'chorus-bind-keys-'));
  directories.push(directory);
  await writeFile(path.join(directory, 'named.conf'), POLICY);
  const names = execFileSync(
    'dnssec-keygen',
    ['-q', '-K', directory, '-k', 'chorus', '-l', path.join(directory, 'named.conf'), 'zz.test'],
    { encoding: 'utf8' },
  )
    .split('\n')
    .filter(Boolean);
  const keys = await Promise.all(
    names.map(async (baseName) => ({
      baseName,
      keyTag: Number(baseName.split('+').at(-1)),
      isKeySigningKey: /^KSK: yes/m.test(
        await readFile(path.join(directory, `${baseName}.state`), 'utf8'),
      ),
    })),
  );
  return { directory, keys };
}

async function filesOf(directory: string): Promise<Record<string, string>> {
  const names = (await readdir(directory)).filter((name) => name.startsWith('K')).sort();
  return Object.fromEntries(
    await Promise.all(
      names.map(async (name): Promise<[string, string]> => [
        name,
        await readFile(path.join(directory, name), 'utf8'),
      ]),
    ),
  );
}

describe('BIND key states written by the lab', () => {
  it('prints times as BIND does', () => {
    expect(keyFileTime(new Date('2026-12-02T23:22:55Z'))).toBe(
      '20261202232255 (Wed Dec  2 23:22:55 2026)',
    );
    expect(keyFileTime(new Date('2026-11-12T01:02:03Z'))).toBe(
      '20261112010203 (Thu Nov 12 01:02:03 2026)',
    );
  });

  for (const publishCds of [true, false]) {
    it(`are the lines dnssec-settime -s writes (publishCds ${publishCds})`, async () => {
      const { directory, keys } = await freshKeys();
      const bySettime = `${directory}-settime`;
      directories.push(bySettime);
      await cp(directory, bySettime, { recursive: true });
      const since = new Date(Math.floor(Date.now() / 1000 - 86_400) * 1000);
      const at = keyFileTime(since).slice(0, 14);
      for (const key of keys) {
        await markKeyStates(directory, key, {
          publishCds: key.isKeySigningKey && publishCds,
          since,
        });
        const states = key.isKeySigningKey
          ? ['-g', 'OMNIPRESENT', '-k', 'OMNIPRESENT', at, '-r', 'OMNIPRESENT', at]
          : ['-g', 'OMNIPRESENT', '-k', 'OMNIPRESENT', at, '-z', 'OMNIPRESENT', at];
        const cds =
          key.isKeySigningKey && publishCds ? ['-d', 'RUMOURED', at, '-P', 'sync', at] : [];
        execFileSync('dnssec-settime', ['-s', ...states, ...cds, '-K', bySettime, key.baseName], {
          stdio: 'ignore',
        });
      }
      const ours = await filesOf(directory);
      const theirs = await filesOf(bySettime);
      expect(Object.keys(ours)).toHaveLength(6);
      expect(ours).toEqual(theirs);
    });
  }
});
