import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createToken,
  findToken,
  hashToken,
  readTokens,
  revokeToken,
  roleAllows,
} from '@chorus/serve';

let directory: string;
let file: string;
beforeEach(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-tokens-'));
  file = path.join(directory, 'tokens.json');
});
afterEach(() => rm(directory, { recursive: true, force: true }));

describe('tokens', () => {
  it('stores only the SHA-256 of a new token, in a 0600 file', async () => {
    const token = await createToken(file, 'alice', 'operator', new Date('2026-01-01T00:00:00Z'));
    expect(token).toMatch(/^chorus_[A-Za-z0-9_-]{43}$/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain(token);
    expect(await readTokens(file)).toEqual([
      {
        name: 'alice',
        role: 'operator',
        sha256: hashToken(token),
        created: '2026-01-01T00:00:00.000Z',
      },
    ]);
  });

  it('makes a different token each time and finds each by its hash', async () => {
    const first = await createToken(file, 'a', 'viewer');
    const second = await createToken(file, 'b', 'admin');
    expect(first).not.toBe(second);
    const tokens = await readTokens(file);
    expect(findToken(tokens, second)?.name).toBe('b');
    expect(findToken(tokens, 'chorus_wrong')).toBeUndefined();
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('refuses a second token of the same name and revokes by name', async () => {
    const token = await createToken(file, 'alice', 'viewer');
    await expect(createToken(file, 'alice', 'admin')).rejects.toThrow(/exists/);
    await revokeToken(file, 'alice');
    expect(findToken(await readTokens(file), token)).toBeUndefined();
    await expect(revokeToken(file, 'alice')).rejects.toThrow(/no token named alice/);
  });

  it('orders roles viewer < operator < admin', () => {
    expect(roleAllows('viewer', 'operator')).toBe(false);
    expect(roleAllows('operator', 'operator')).toBe(true);
    expect(roleAllows('admin', 'viewer')).toBe(true);
  });
});
