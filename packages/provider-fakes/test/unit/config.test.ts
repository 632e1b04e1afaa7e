import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { FakeConfigError, parseProviderFakeConfig } from '../../src/index.js';

const VALID = {
  provider: 'desec',
  listen: { address: '127.0.0.1', port: 8000 },
  tokenFile: '/x/token',
  adminTokenFile: '/x/admin',
  backend: { url: 'http://127.0.0.1:8081/api/v1/servers/localhost', apiKeyFile: '/x/api.key' },
  stateFile: '/x/state.json',
  requestLogFile: '/x/requests.jsonl',
};

function fieldOf(value: unknown): string {
  try {
    parseProviderFakeConfig(value);
  } catch (error) {
    if (error instanceof FakeConfigError) return error.field;
    throw error;
  }
  return '(valid)';
}

describe('config validation', () => {
  test('a valid config passes, with its rate limits', () => {
    const config = parseProviderFakeConfig({
      ...VALID,
      minimumTtl: 300,
      rateLimits: { perDomainWrite: [{ limit: 3, periodSeconds: 60 }] },
    });
    expect(config.minimumTtl).toBe(300);
    expect(config.rateLimits).toEqual({ perDomainWrite: [{ limit: 3, periodSeconds: 60 }] });
  });

  test.each([
    [{ ...VALID, provider: 'route53' }, 'provider'],
    [{ ...VALID, listen: { address: '0.0.0.0', port: 8000 } }, 'listen.address'],
    [{ ...VALID, listen: { address: '127.0.0.1', port: 70000 } }, 'listen.port'],
    [{ ...VALID, tokenFile: '' }, 'tokenFile'],
    [{ ...VALID, backend: { url: 'ftp://x', apiKeyFile: '/k' } }, 'backend.url'],
    [{ ...VALID, backend: { url: 'http://x' } }, 'backend.apiKeyFile'],
    [{ ...VALID, minimumTtl: 0 }, 'minimumTtl'],
    [{ ...VALID, rateLimits: { write: { limit: 1, periodSeconds: 1 } } }, 'rateLimits.write'],
    [
      { ...VALID, rateLimits: { read: [{ limit: 0, periodSeconds: 1 }] } },
      'rateLimits.read[0].limit',
    ],
    [
      { ...VALID, provider: 'ns1', rateLimits: { read: [{ limit: 1, periodSeconds: 1 }] } },
      'rateLimits.read',
    ],
  ])('case %# names its field', (config, field) => {
    expect(fieldOf(config)).toBe(field);
  });

  test('main.js exits 2 naming the field (needs `pnpm build`)', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'chorus-fake-config-'));
    const file = path.join(directory, 'fake.json');
    await writeFile(file, JSON.stringify({ ...VALID, stateFile: 42 }));
    const main = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
    const run = promisify(execFile)(process.execPath, [main, '--config', file]);
    await expect(run).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('stateFile'),
    });
    await rm(directory, { recursive: true, force: true });
  });
});
