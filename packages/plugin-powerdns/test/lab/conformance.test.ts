import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { signerConformance } from '@chorus/conformance';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { CONFORMANCE_ZONE, ROLL_ZONE } from '@chorus/lab/testing';
import { createPowerDnsSigner, powerdnsCapabilities } from '../../src/index.js';
import { labConfig } from './helpers.js';

const lab = inject('lab');
const config = labConfig(lab);
const unreachable = `${lab.addressPrefix}.99`;
const scratch = mkdtemp(path.join(tmpdir(), 'chorus-pdns-conformance-'));

afterAll(async () => {
  await rm(await scratch, { recursive: true, force: true });
});

signerConformance({
  describe,
  test,
  expect,
  capabilities: powerdnsCapabilities,
  zone: CONFORMANCE_ZONE,
  rollZone: ROLL_ZONE,
  create: () => createPowerDnsSigner(config),
  createWithBadCredentials: async () => {
    const apiKeyFile = path.join(await scratch, 'wrong-api.key');
    await writeFile(apiKeyFile, 'not-the-lab-api-key\n', { mode: 0o600 });
    return createPowerDnsSigner({ ...config, api: { ...config.api, apiKeyFile } });
  },
  createUnreachable: () =>
    createPowerDnsSigner({
      ...config,
      server: { address: unreachable, port: config.server.port ?? 53 },
      api: { ...config.api, url: `http://${unreachable}:8081/api/v1/servers/localhost` },
      requestTimeoutMs: 2000,
    }),
  extraNameServer: 'ns.bind.test.',
});
