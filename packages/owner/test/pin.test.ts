import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPkcs11OwnerKey } from '@chorus/owner';

let directory: string;
beforeAll(async () => void (directory = await mkdtemp(path.join(tmpdir(), 'chorus-pin-'))));
afterAll(() => rm(directory, { recursive: true, force: true }));

const config = (pin: { pinFile?: string; pinEnv?: string }) => ({
  module: path.join(tmpdir(), 'no-such-module.so'),
  tokenLabel: 'owner',
  keyId: '01',
  ...pin,
});

describe('the PKCS#11 PIN from a file', () => {
  it('refuses a PIN file readable by others, naming the chmod and not the PIN', async () => {
    const file = path.join(directory, 'open-pin');
    await writeFile(file, 'secret-pin-1357\n');
    await chmod(file, 0o644);
    const error = await openPkcs11OwnerKey(config({ pinFile: file })).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/readable by others \(mode 644\); run chmod 600/);
    expect((error as Error).message).not.toContain('secret-pin-1357');
  });

  it('takes a 0600 PIN file (negative control: the failure is then the module, not the PIN)', async () => {
    const file = path.join(directory, 'pin');
    await writeFile(file, 'secret-pin-1357\n', { mode: 0o600 });
    const error = await openPkcs11OwnerKey(config({ pinFile: file })).catch((e: Error) => e);
    expect((error as Error).message).not.toMatch(/PIN file/);
    expect((error as Error).message).not.toContain('secret-pin-1357');
  });

  it('wants exactly one of pinEnv and pinFile', async () => {
    await expect(openPkcs11OwnerKey(config({}))).rejects.toThrow(
      /exactly one of pinEnv and pinFile/,
    );
    await expect(openPkcs11OwnerKey(config({ pinEnv: 'X', pinFile: '/x' }))).rejects.toThrow(
      /exactly one of pinEnv and pinFile/,
    );
  });
});
