import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, SignerCommandError } from '@chorus/core';
import { keyTag } from '@chorus/dns';
import { KeyDirectories, zoneKeyDirectory } from '../../src/key-directory.js';
import { parseKeyFileName, parseStateFile, readZoneKeyFiles } from '../../src/key-files.js';

// Real key files written by dnssec-keygen/dnssec-settime and named (BIND 9.18.49); the private
// halves are not stored: the test writes empty placeholders where the server had a `.private`.
const fixtures = new URL('fixtures/keys/', import.meta.url);
let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-bind-keys-'));
  for (const name of await readdir(fixtures)) {
    await copyFile(new URL(name, fixtures), path.join(directory, name));
  }
  // Own keys of conformance.test. have a .private; the CSK of updpol.test. is another zone's.
  for (const base of ['Kconformance.test.+013+58940', 'Kconformance.test.+013+38957'])
    await writeFile(path.join(directory, `${base}.private`), '');
  // Foreign keys: only the public half (dnssec-keygen elsewhere), and a broken one.
  await writeFile(
    path.join(directory, 'Kconformance.test.+013+42632.key'),
    'conformance.test. IN DNSKEY 256 3 13 9ZuCXEzywK4s8OkzzUe2T0kaooUmy2hdWeVCPulKtk2nbNtK68DRVfYx /oTu6RQ3fQq1Cov1yQn75Bzb3Q8YFw==\n',
  );
  await writeFile(
    path.join(directory, 'Kconformance.test.+013+12345.key'),
    '; not a key\nconformance.test. IN DNSKEY 256 3 13 AAAA\n',
  );
});

afterAll(() => rm(directory, { recursive: true, force: true }));

describe('key file names', () => {
  it('splits K<zone>+<alg>+<tag>.key', () => {
    expect(parseKeyFileName('Kconformance.test.+013+58940.key')).toEqual({
      zone: 'conformance.test.',
      algorithm: 13,
      keyTag: 58940,
      baseName: 'Kconformance.test.+013+58940',
    });
    expect(parseKeyFileName('K.+008+00042.key')).toMatchObject({ zone: '.', keyTag: 42 });
    expect(parseKeyFileName('Kconformance.test.+013+58940.private')).toBeUndefined();
    expect(parseKeyFileName('named.conf')).toBeUndefined();
  });
});

describe('.state files', () => {
  it('reads the role and the key states', async () => {
    const state = parseStateFile(
      await readFile(new URL('Kconformance.test.+013+58940.state', fixtures), 'utf8'),
    );
    expect(state).toMatchObject({
      KSK: 'yes',
      ZSK: 'no',
      DNSKEYState: 'omnipresent',
      KRRSIGState: 'omnipresent',
      DSState: 'rumoured',
      GoalState: 'omnipresent',
    });
  });
});

describe('readZoneKeyFiles', () => {
  it("lists the zone's keys with their DNSKEY, and which have a .private", async () => {
    const files = await readZoneKeyFiles(directory, 'conformance.test.');
    // The broken public-only file (12345) is skipped; the foreign 42632 is listed without .private.
    expect(files.map((file) => [file.keyTag, file.hasPrivate])).toEqual([
      [38957, true],
      [42632, false],
      [58940, true],
    ]);
    const ksk = files.find((file) => file.keyTag === 58940)!;
    expect(ksk.dnskey.flags).toBe(257);
    expect(keyTag(ksk.dnskey)).toBe(58940);
    expect(ksk.dnskey.publicKey).not.toContain(' ');
    expect(ksk.state?.KSK).toBe('yes');
  });

  it('is case-insensitive about the zone and ignores other zones', async () => {
    const files = await readZoneKeyFiles(directory, 'UPDPOL.test');
    expect(files.map((file) => [file.keyTag, file.hasPrivate, file.dnskey.flags])).toEqual([
      [22998, false, 257],
    ]);
  });

  it('refuses an own key file (with .private) whose DNSKEY does not match its name', async () => {
    const other = await mkdtemp(path.join(os.tmpdir(), 'chorus-bind-keys-'));
    try {
      await copyFile(
        new URL('Kconformance.test.+013+58940.key', fixtures),
        path.join(other, 'Kconformance.test.+013+00001.key'),
      );
      await writeFile(path.join(other, 'Kconformance.test.+013+00001.private'), '');
      await expect(readZoneKeyFiles(other, 'conformance.test.')).rejects.toSatisfy(
        (error: unknown) =>
          SignerCommandError.isInstance(error) && /has tag 58940/.test(error.message),
      );
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('reports a missing directory as a SignerCommandError and honours an aborted signal', async () => {
    await expect(readZoneKeyFiles('/nonexistent/keys', 'conformance.test.')).rejects.toSatisfy(
      (error: unknown) => SignerCommandError.isInstance(error) && /ENOENT/.test(error.message),
    );
    await expect(
      readZoneKeyFiles(directory, 'conformance.test.', { signal: AbortSignal.abort() }),
    ).rejects.toSatisfy((error: unknown) => AbortError.isInstance(error));
  });
});

describe('a key-directory per zone ({zone})', () => {
  it('reads each zone from its own directory, and only there', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'chorus-bind-zone-keys-'));
    try {
      await mkdir(path.join(root, 'conformance.test'));
      for (const name of await readdir(directory))
        if (name.startsWith('Kconformance.test.'))
          await copyFile(path.join(directory, name), path.join(root, 'conformance.test', name));
      const setting = path.join(root, '{zone}');
      expect(zoneKeyDirectory(setting, 'Conformance.TEST.')).toBe(
        path.join(root, 'conformance.test'),
      );
      const keys = new KeyDirectories(setting);
      const files = (await keys.zoneFiles('conformance.test.')).files;
      expect(files.map((file) => file.keyTag)).toEqual([38957, 42632, 58940]);
      expect((await readZoneKeyFiles(setting, 'conformance.test')).length).toBe(3);
      // Another zone's directory does not exist: its keys are not the shared directory's.
      const error = await keys.zoneFiles('updpol.test.').catch((caught: unknown) => caught);
      expect(SignerCommandError.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain(path.join(root, 'updpol.test'));
      // Without {zone}, every zone shares the setting.
      expect(zoneKeyDirectory(directory, 'updpol.test.')).toBe(directory);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
