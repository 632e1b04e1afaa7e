/**
 * A wrong TSIG secret fails at start-up, the way the sidecar starts a signer (parseConfig,
 * create, checkZone), with a typed, non-retryable error that does not contain the secret.
 */
import { readFileSync } from 'node:fs';
import type { ChorusError } from '@chorus/core';
import { ConfigError, TsigError } from '@chorus/core';
import { pino } from 'pino';
import { describe, expect, inject, test } from 'vitest';
import { CONFORMANCE_ZONE } from '@chorus/lab/testing';
import { bindPlugin } from '../../src/index.js';
import { bindConfigFor, wrongKeyFile } from './helpers.js';

const lab = inject('lab');
const zone = CONFORMANCE_ZONE;
const logger = pino({ level: 'silent' });
const config = bindConfigFor(lab, 'bind');

/** What the sidecar does with a plugin at start-up. */
async function startUp(raw: unknown): Promise<unknown> {
  const signer = bindPlugin.create(bindPlugin.parseConfig(raw), { logger });
  return signer.checkZone(zone, {}).then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('BIND credentials at start-up', () => {
  test('a wrong TSIG secret is a non-retryable TsigError that does not contain the secret', async () => {
    const keyFile = wrongKeyFile(config.tsigKeyFile);
    const secret = /secret\s+"([^"]+)"/.exec(readFileSync(keyFile, 'utf8'))![1]!;
    const error = await startUp({ ...config, tsigKeyFile: keyFile });
    expect(TsigError.isInstance(error)).toBe(true);
    expect((error as TsigError).failure).toBe('BADSIG');
    expect((error as ChorusError).isRetryable).toBe(false);
    expect(`${(error as Error).message}\n${(error as Error).stack}`).not.toContain(secret);
  });

  test('the right key passes', async () => {
    expect(await startUp(config)).toBeUndefined();
  });

  test('a missing key file is a ConfigError naming tsigKeyFile before anything is sent', async () => {
    const error = await Promise.resolve()
      .then(() => startUp({ ...config, tsigKeyFile: '/nonexistent/chorus.key' }))
      .catch((caught: unknown) => caught);
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as ConfigError).key).toBe('tsigKeyFile');
  });
});
