import { cp, mkdtemp, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BindSigner } from '../../src/index.js';
import { signerWithStandInRndc } from './stand-in-rndc.js';

// The signer reuses a zone's `rndc dnssec -status` while none of the zone's key files moved
// (BIND writes every key state change to the .state files). A stand-in rndc counts the calls;
// the key files are real BIND 9.18 files (fixtures/keys-roll) with .private files added.
const fixtures = new URL('fixtures/', import.meta.url).pathname;
const zone = 'roll.test.';
const LONG_AGO = new Date(Date.now() - 60_000);
let directory: string;
let keys: string;
let calls: string;
let signer: BindSigner;

async function rndcCalls(pattern: RegExp): Promise<number> {
  const text = await readFile(calls, 'utf8').catch(() => '');
  return text.split('\n').filter((line) => pattern.test(line)).length;
}

/** Rewrites a file the way BIND does (a new file renamed over the old one), dated `when`. */
async function rewrite(file: string, text: string, when: Date): Promise<void> {
  await writeFile(`${file}.tmp`, text);
  await utimes(`${file}.tmp`, when, when);
  await rename(`${file}.tmp`, file);
  await utimes(keys, when, when);
}

beforeEach(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-bind-reuse-'));
  keys = path.join(directory, 'keys');
  calls = path.join(directory, 'calls');
  await cp(path.join(fixtures, 'keys-roll'), keys, { recursive: true });
  for (const tag of ['20118', '24036', '43790'])
    await writeFile(path.join(keys, `K${zone}+013+${tag}.private`), 'Private-key-format: v1.3\n');
  for (const name of [
    ...['20118', '24036', '43790'].flatMap((tag) =>
      ['key', 'state', 'private'].map((kind) => `K${zone}+013+${tag}.${kind}`),
    ),
  ])
    await utimes(path.join(keys, name), LONG_AGO, LONG_AGO);
  await utimes(keys, LONG_AGO, LONG_AGO);
  signer = await signerWithStandInRndc(
    directory,
    [
      `echo "$*" >> '${calls}'`,
      'case "$*" in',
      `  *-checkds*) cat '${fixtures}checkds-key-published.txt' ;;`,
      `  *-status*) cat '${fixtures}dnssec-status-zsk-prepublished.txt' ;;`,
      'esac',
    ],
    keys,
  );
});

afterEach(() => rm(directory, { recursive: true, force: true }));

describe("reusing a zone's rndc dnssec -status", () => {
  it('asks rndc once while the key files stand still', async () => {
    const first = await signer.listOwnKeys(zone, {});
    const second = await signer.listOwnKeys(zone, {});
    expect(second).toEqual(first);
    expect(first.map((key) => key.keyTag).sort()).toEqual([20118, 24036, 43790]);
    expect(await rndcCalls(/ dnssec -status /)).toBe(1);
  });

  it('asks again when BIND rewrites a .state file', async () => {
    await signer.listOwnKeys(zone, {});
    const state = path.join(keys, `K${zone}+013+20118.state`);
    await rewrite(
      state,
      (await readFile(state, 'utf8')).replace(/DNSKEYState: \w+/, 'DNSKEYState: unretentive'),
      new Date(Date.now() - 30_000),
    );
    await signer.listOwnKeys(zone, {});
    expect(await rndcCalls(/ dnssec -status /)).toBe(2);
  });

  it('asks again after its own checkds, which changes the key states', async () => {
    await signer.listOwnKeys(zone, {});
    await signer.checkDs(zone, { keyTag: 24036, state: 'published' });
    await signer.listOwnKeys(zone, {});
    expect(await rndcCalls(/ dnssec -status /)).toBe(2);
  });

  it('does not reuse anything on a file written too recently to vouch for it', async () => {
    const state = path.join(keys, `K${zone}+013+43790.state`);
    await rewrite(state, await readFile(state, 'utf8'), new Date());
    await signer.listOwnKeys(zone, {});
    await signer.listOwnKeys(zone, {});
    expect(await rndcCalls(/ dnssec -status /)).toBe(2);
  });
});
