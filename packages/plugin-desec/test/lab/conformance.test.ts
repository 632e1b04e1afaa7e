/**
 * The conformance suite against the lab's deSEC fake (a real PowerDNS behind a fake of the
 * deSEC API), and, when CHORUS_DESEC_TOKEN, CHORUS_DESEC_ZONE and CHORUS_DESEC_NAMESERVER are
 * set, against the real deSEC (https://desec.io/api/v1/).
 *
 * No key-roll group: deSEC's keys are managed by deSEC (key-roll cannot).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { signerConformance } from '@chorus/conformance';
import { CONFORMANCE_ZONE } from '@chorus/lab/testing';
import { afterAll, beforeAll, describe, expect, inject, test, vi } from 'vitest';
import { createDesecSigner, desecCapabilities, type DesecConfig } from '../../src/index.js';
import { labConfig, retryingThrottled } from './helpers.js';

const lab = inject('lab');
const scratch = mkdtemp(path.join(tmpdir(), 'chorus-desec-conformance-'));

afterAll(async () => {
  await rm(await scratch, { recursive: true, force: true });
});

/** The same configuration with a token the API does not know. */
async function withWrongToken(config: DesecConfig): Promise<DesecConfig> {
  const tokenFile = path.join(await scratch, 'wrong.token');
  await writeFile(tokenFile, 'not-the-desec-token-0000\n', { mode: 0o600 });
  return { ...config, api: { ...config.api, tokenFile } };
}

describe('deSEC plugin against the lab fake', () => {
  const config = labConfig(lab);
  const unreachable = `${lab.addressPrefix}.99`;
  signerConformance({
    describe,
    test,
    expect,
    capabilities: desecCapabilities,
    zone: CONFORMANCE_ZONE,
    create: () => retryingThrottled(createDesecSigner(config)),
    createWithBadCredentials: async () => createDesecSigner(await withWrongToken(config)),
    createUnreachable: () =>
      createDesecSigner({
        ...config,
        server: { address: unreachable, port: config.server.port ?? 53 },
        api: { ...config.api, url: `http://${unreachable}:8000/api/v1/` },
        requestTimeoutMs: 2000,
      }),
    extraNameServer: 'ns.bind.test.',
  });
});

const REAL_SETTINGS = ['CHORUS_DESEC_TOKEN', 'CHORUS_DESEC_ZONE', 'CHORUS_DESEC_NAMESERVER'];
const missing = REAL_SETTINGS.filter((name) => !process.env[name]);
// The real deSEC publishes with a delay and throttles writes (15 a minute per domain): the
// suite's steps need more than the integration project's 60 s there.
if (missing.length === 0) vi.setConfig({ testTimeout: 600_000 });
const skipReason =
  missing.length > 0
    ? ` (skipped: set ${missing.join(', ')} to run it against https://desec.io/api/v1/ with a throwaway domain)`
    : '';

describe.skipIf(missing.length > 0)(`deSEC plugin against the real deSEC${skipReason}`, () => {
  const zone = `${(process.env.CHORUS_DESEC_ZONE ?? '').replace(/\.$/, '')}.`;
  let config: DesecConfig;

  beforeAll(async () => {
    const tokenFile = path.join(await scratch, 'desec.token');
    await writeFile(tokenFile, `${process.env.CHORUS_DESEC_TOKEN}\n`, { mode: 0o600 });
    config = {
      id: 'desec-real',
      api: { url: 'https://desec.io/api/v1/', tokenFile },
      server: { address: process.env.CHORUS_DESEC_NAMESERVER ?? '' },
      requestTimeoutMs: 10_000,
    };
  });

  signerConformance({
    describe,
    test,
    expect,
    capabilities: desecCapabilities,
    zone,
    create: () => retryingThrottled(createDesecSigner(config)),
    createWithBadCredentials: async () => createDesecSigner(await withWrongToken(config)),
    createUnreachable: () =>
      createDesecSigner({ ...config, server: { address: '192.0.2.1' }, requestTimeoutMs: 2000 }),
    // deSEC publishes through its own pipeline and anycast frontends: give the wire time.
    convergenceTimeoutMs: 120_000,
    ...(process.env.CHORUS_DESEC_EXTRA_NS
      ? { extraNameServer: process.env.CHORUS_DESEC_EXTRA_NS }
      : {}),
  });
});
