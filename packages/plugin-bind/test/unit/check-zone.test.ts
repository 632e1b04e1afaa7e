import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, SignerConfigurationError } from '@chorus/core';
import type { BindSigner } from '../../src/index.js';
import { signerWithStandInRndc } from './stand-in-rndc.js';

// checkZone's decisions on real rndc answers (BIND 9.18.49, test/unit/fixtures), replayed by a
// stand-in rndc: each refusal happens before any DNS message is sent.
let directory: string;
let signer: BindSigner;
const fixture = (name: string) => new URL(`fixtures/${name}`, import.meta.url).pathname;

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-bind-checkzone-'));
  signer = await signerWithStandInRndc(directory, [
    'for last; do :; done',
    'case "$*" in',
    `  *zonestatus*inline.test) cat '${fixture('zonestatus-inline-signing.txt')}' ;;`,
    `  *zonestatus*static.test) cat '${fixture('zonestatus-not-dynamic.txt')}' ;;`,
    `  *zonestatus*nopolicy.test) cat '${fixture('zonestatus-no-policy.txt')}' ;;`,
    `  *zonestatus*) cat '${fixture('zonestatus-no-such-zone.txt')}' >&2; exit 1 ;;`,
    `  *-status*nopolicy.test) cat '${fixture('dnssec-status-no-policy.txt')}' ;;`,
    `  *-status*inline.test|*-status*static.test) cat '${fixture('dnssec-status-csk.txt')}' ;;`,
    `  *-status*) cat '${fixture('zonestatus-no-such-zone.txt')}' >&2; exit 1 ;;`,
    'esac',
  ]);
});

afterAll(() => rm(directory, { recursive: true, force: true }));

async function refusal(zone: string): Promise<SignerConfigurationError> {
  const error = await signer.checkZone(zone, {}).catch((caught: unknown) => caught);
  expect(SignerConfigurationError.isInstance(error)).toBe(true);
  return error as SignerConfigurationError;
}

describe('checkZone refusals', () => {
  it('refuses inline-signing with the fix that names dynamic zones and BIND 9.20', async () => {
    const error = await refusal('inline.test.');
    expect(error.setting).toBe('inline-signing');
    expect(error.fix).toBe(
      'set inline-signing no on a dynamic zone (allow-update/update-policy), or use BIND ≥ 9.20',
    );
    expect(error.message).toMatch(/bind-unit \(zone inline\.test\.\)/);
  });

  it('refuses a non-dynamic zone (on 9.18 it is inline-signed: dnssec-policy needs one of the two)', async () => {
    const error = await refusal('static.test.');
    expect(error.setting).toBe('inline-signing');
    expect(error.fix).toMatch(/allow-update\/update-policy/);
  });

  it('refuses a zone without dnssec-policy', async () => {
    const error = await refusal('nopolicy.test.');
    expect(error.setting).toBe('dnssec-policy');
    expect(error.fix).toMatch(/dnssec-policy <policy>/);
  });

  it('refuses a zone BIND does not have', async () => {
    expect((await refusal('other.test.')).setting).toBe('zone');
  });

  it('rejects an aborted call before running anything', async () => {
    await expect(
      signer.checkZone('inline.test.', { signal: AbortSignal.abort() }),
    ).rejects.toSatisfy((error: unknown) => AbortError.isInstance(error));
  });
});

describe('applyChanges', () => {
  it('checks capabilities and the signer id before touching the server', async () => {
    const key = { flags: 256, protocol: 3, algorithm: 13, publicKey: 'AAAA' };
    await expect(
      signer.applyChanges(
        {
          zone: 'inline.test.',
          signerId: 'someone-else',
          changes: [{ action: 'add', type: 'DNSKEY', data: key, ttl: 30 }],
        },
        {},
      ),
    ).rejects.toMatchObject({ name: 'Chorus_UnsafePlanError' });
    await expect(
      signer.applyChanges({ zone: 'inline.test.', signerId: 'bind-unit', changes: [] }, {}),
    ).resolves.toEqual({
      applied: 0,
      warnings: [],
    });
  });
});
