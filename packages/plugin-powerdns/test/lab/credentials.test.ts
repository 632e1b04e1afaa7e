/**
 * A wrong API key fails at start-up, the way the sidecar starts a signer (parseConfig, create,
 * checkZone), with a typed, non-retryable error (HTTP 401) that does not contain the key.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChorusError } from '@chorus/core';
import { ApiCallError, ConfigError } from '@chorus/core';
import { pino } from 'pino';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { CONFORMANCE_ZONE } from '@chorus/lab/testing';
import { powerdnsPlugin } from '../../src/index.js';
import { labConfig } from './helpers.js';

const lab = inject('lab');
const zone = CONFORMANCE_ZONE;
const logger = pino({ level: 'silent' });
const config = labConfig(lab);
const scratch = mkdtemp(path.join(tmpdir(), 'chorus-pdns-credentials-'));

afterAll(async () => {
  await rm(await scratch, { recursive: true, force: true });
});

/** What the sidecar does with a plugin at start-up. */
async function startUp(raw: unknown): Promise<unknown> {
  const signer = powerdnsPlugin.create(powerdnsPlugin.parseConfig(raw), { logger });
  return signer.checkZone(zone, {}).then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('PowerDNS credentials at start-up', () => {
  test('a wrong API key is a non-retryable ApiCallError (401) that does not contain the key', async () => {
    const secret = 'wrong-api-key-0123456789';
    const apiKeyFile = path.join(await scratch, 'wrong-api.key');
    await writeFile(apiKeyFile, `${secret}\n`, { mode: 0o600 });
    const error = await startUp({ ...config, api: { ...config.api, apiKeyFile } });
    expect(ApiCallError.isInstance(error)).toBe(true);
    expect((error as ApiCallError).statusCode).toBe(401);
    expect((error as ChorusError).isRetryable).toBe(false);
    expect((error as ApiCallError).url).toBe(`${config.api.url}/config`);
    expect(`${(error as Error).message}\n${(error as Error).stack}`).not.toContain(secret);
  });

  test('the right key passes', async () => {
    expect(await startUp(config)).toBeUndefined();
  });

  test('a missing key file is a ConfigError naming api.apiKeyFile before anything is sent', async () => {
    const error = await Promise.resolve()
      .then(() =>
        startUp({ ...config, api: { ...config.api, apiKeyFile: '/nonexistent/pdns.key' } }),
      )
      .catch((caught: unknown) => caught);
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as ConfigError).key).toBe('api.apiKeyFile');
  });
});
