/**
 * A wrong TSIG secret fails at start-up, the way the sidecar starts a signer (parseConfig,
 * create, checkZone), with a typed, non-retryable error that does not contain the secret. The
 * same check with the right key changes nothing on the server.
 */
import { readFileSync } from 'node:fs';
import type { ChorusError } from '@chorus/core';
import { ConfigError, TsigError } from '@chorus/core';
import { readApexFromServer } from '@chorus/dns';
import { pino } from 'pino';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { CONFORMANCE_ZONE, endpoint, labServer } from '@chorus/lab/testing';
import { knotPlugin } from '../../src/index.js';
import { knotConfigFor, removeTemporaryFiles, wrongTsigKeyFile } from './helpers.js';

const lab = inject('lab');
const zone = CONFORMANCE_ZONE;
const logger = pino({ level: 'silent' });
afterAll(removeTemporaryFiles);

/** What the sidecar does with a plugin at start-up. */
async function startUp(raw: unknown): Promise<unknown> {
  const signer = knotPlugin.create(knotPlugin.parseConfig(raw), { logger });
  return signer.checkZone(zone, {}).then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('Knot credentials at start-up', () => {
  test('a wrong TSIG secret is a non-retryable TsigError that does not contain the secret', async () => {
    const keyFile = wrongTsigKeyFile(labServer(lab, 'knot').tsig.keyFile);
    const secret = /secret\s+"([^"]+)"/.exec(readFileSync(keyFile, 'utf8'))![1]!;
    const error = await startUp(knotConfigFor(lab, 'knot', { tsigKeyFile: keyFile }));
    expect(TsigError.isInstance(error)).toBe(true);
    expect((error as TsigError).failure).toBe('BADSIG');
    expect((error as ChorusError).isRetryable).toBe(false);
    expect(`${(error as Error).message}\n${(error as Error).stack}`).not.toContain(secret);
  });

  test('the right key passes, and the probe does not change the zone', async () => {
    const server = endpoint(labServer(lab, 'knot'));
    const before = await readApexFromServer(server, zone);
    expect(await startUp(knotConfigFor(lab, 'knot'))).toBeUndefined();
    expect((await readApexFromServer(server, zone)).soa!.records).toEqual(before.soa!.records);
  });

  test('a missing key file is a ConfigError naming tsigKeyFile before anything is sent', async () => {
    const error = await Promise.resolve()
      .then(() => startUp(knotConfigFor(lab, 'knot', { tsigKeyFile: '/nonexistent/chorus.key' })))
      .catch((caught: unknown) => caught);
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as ConfigError).key).toBe('tsigKeyFile');
  });
});
