import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, SignerCommandError } from '@chorus/core';
import { Rndc } from '../../src/rndc.js';

// The wrapper around execa, with a stand-in `rndc` script that replays real rndc output
// (test/unit/fixtures) and exit codes: no server is needed to prove the error mapping.
let directory: string;
let binary: string;
const logger = pino({ level: 'silent' });
const fixtures = new URL('fixtures/', import.meta.url);

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-fake-rndc-'));
  binary = path.join(directory, 'rndc');
  const refused = await readFile(new URL('rndc-connection-refused.txt', fixtures), 'utf8');
  const wrongKey = await readFile(new URL('rndc-wrong-key.txt', fixtures), 'utf8');
  const noZone = await readFile(new URL('zonestatus-no-such-zone.txt', fixtures), 'utf8');
  await writeFile(path.join(directory, 'refused.txt'), refused);
  await writeFile(path.join(directory, 'wrong-key.txt'), wrongKey);
  await writeFile(path.join(directory, 'no-zone.txt'), noZone);
  await writeFile(
    binary,
    [
      '#!/bin/sh',
      `d='${directory}'`,
      'for last; do :; done',
      'printf "%s\\n" "$*" > "$d/argv.txt"',
      'case "$last" in',
      `  ok.test) cat '${new URL('zonestatus.txt', fixtures).pathname}' ;;`,
      `  nokey.test) cat '${new URL('checkds-zsk-no-matching-key.txt', fixtures).pathname}' ;;`,
      '  refused.test) cat "$d/refused.txt" >&2; exit 1 ;;',
      '  wrongkey.test) cat "$d/wrong-key.txt" >&2; exit 1 ;;',
      '  nozone.test) cat "$d/no-zone.txt" >&2; exit 1 ;;',
      '  slow.test) exec sleep 5 ;;',
      'esac',
      '',
    ].join('\n'),
  );
  await chmod(binary, 0o755);
});

afterAll(() => rm(directory, { recursive: true, force: true }));

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('Rndc (execa wrapper)', () => {
  it('passes only paths and the command, and parses the answer', async () => {
    const rndc = new Rndc(
      { address: '127.0.0.1', port: 9953, keyFile: '/etc/rndc.key', binary },
      logger,
    );
    const status = await rndc.zoneStatus('ok.test.');
    expect(status.dynamic).toBe(true);
    expect((await readFile(path.join(directory, 'argv.txt'), 'utf8')).trim()).toBe(
      '-s 127.0.0.1 -p 9953 -k /etc/rndc.key zonestatus ok.test',
    );
    const viaConf = new Rndc({ configFile: '/etc/bind/rndc.conf', binary }, logger);
    await viaConf.zoneStatus('ok.test.');
    expect((await readFile(path.join(directory, 'argv.txt'), 'utf8')).trim()).toBe(
      '-c /etc/bind/rndc.conf zonestatus ok.test',
    );
  });

  it('turns an error printed with exit status 0 into a SignerCommandError', async () => {
    const rndc = new Rndc({ configFile: '/etc/bind/rndc.conf', binary }, logger);
    const error = await failure(rndc.checkDs('nokey.test.', { keyTag: 38957, state: 'published' }));
    expect(SignerCommandError.isInstance(error)).toBe(true);
    expect((error as SignerCommandError).exitCode).toBe(0);
    expect((error as SignerCommandError).message).toMatch(/no matching key found/);
    expect((error as SignerCommandError).command).toEqual([
      binary,
      '-c',
      '/etc/bind/rndc.conf',
      'dnssec',
      '-checkds',
      '-key',
      '38957',
      'published',
      'nokey.test',
    ]);
  });

  it('marks an unreachable control channel retryable, a rejected key not', async () => {
    const rndc = new Rndc({ configFile: '/etc/bind/rndc.conf', binary }, logger);
    const refused = await failure(rndc.zoneStatus('refused.test.'));
    expect(SignerCommandError.isInstance(refused)).toBe(true);
    expect((refused as SignerCommandError).isRetryable).toBe(true);
    expect((refused as SignerCommandError).exitCode).toBe(1);
    expect((refused as Error).message).toMatch(/connection refused/);
    const wrongKey = await failure(rndc.zoneStatus('wrongkey.test.'));
    expect(SignerCommandError.isInstance(wrongKey)).toBe(true);
    expect((wrongKey as SignerCommandError).isRetryable).toBe(false);
    const noZone = await failure(rndc.zoneStatus('nozone.test.'));
    expect((noZone as SignerCommandError).stderr).toMatch(/no matching zone 'nosuch.test'/);
    expect((noZone as SignerCommandError).isRetryable).toBe(false);
  });

  it('times out retryably', async () => {
    const rndc = new Rndc({ configFile: '/etc/bind/rndc.conf', binary, timeoutMs: 200 }, logger);
    const error = await failure(rndc.zoneStatus('slow.test.'));
    expect(SignerCommandError.isInstance(error)).toBe(true);
    expect((error as SignerCommandError).timedOut).toBe(true);
    expect((error as SignerCommandError).isRetryable).toBe(true);
  });

  it('stops the command and rejects with AbortError when the signal fires', async () => {
    const rndc = new Rndc({ configFile: '/etc/bind/rndc.conf', binary }, logger);
    const started = Date.now();
    const error = await failure(
      rndc.zoneStatus('slow.test.', { signal: AbortSignal.timeout(100) }),
    );
    expect(AbortError.isInstance(error)).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(
      AbortError.isInstance(
        await failure(rndc.zoneStatus('ok.test.', { signal: AbortSignal.abort() })),
      ),
    ).toBe(true);
  });

  it('names a missing rndc binary', async () => {
    const rndc = new Rndc(
      { configFile: '/etc/bind/rndc.conf', binary: path.join(directory, 'nope') },
      logger,
    );
    const error = await failure(rndc.zoneStatus('ok.test.'));
    expect(SignerCommandError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/was not found/);
    expect((error as SignerCommandError).isRetryable).toBe(false);
  });
});
