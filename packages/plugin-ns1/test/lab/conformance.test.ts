/** The conformance suite against the lab's NS1 fake, which fronts a real PowerDNS. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { signerConformance } from '@chorus/conformance';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { CONFORMANCE_ZONE } from '@chorus/lab/testing';
import { createNs1Signer, ns1Capabilities } from '../../src/index.js';
import { ns1LabConfig } from './helpers.js';

const lab = inject('lab');
const target = ns1LabConfig(lab);
const unreachable = `${lab.addressPrefix}.99`;
const scratch = mkdtemp(path.join(tmpdir(), 'chorus-ns1-conformance-'));

afterAll(async () => {
  await rm(await scratch, { recursive: true, force: true });
});

if (target.skip !== undefined) {
  describe.skip(`NS1 conformance against the lab fake (skipped: ${target.skip})`, () => {
    test('runs the signer conformance suite', () => undefined);
  });
} else {
  const { config } = target;
  signerConformance({
    describe,
    test,
    expect,
    capabilities: ns1Capabilities,
    zone: CONFORMANCE_ZONE,
    // NS1 does not roll keys on request: no rollZone, the key-roll group is skipped.
    create: () => createNs1Signer(config),
    createWithBadCredentials: async () => {
      const apiKeyFile = path.join(await scratch, 'wrong-ns1.key');
      await writeFile(apiKeyFile, 'not-the-lab-ns1-key\n', { mode: 0o600 });
      return createNs1Signer({ ...config, api: { ...config.api, apiKeyFile } });
    },
    createUnreachable: () =>
      createNs1Signer({
        ...config,
        server: { address: unreachable, port: config.server.port ?? 53 },
        api: { ...config.api, url: `http://${unreachable}:8000/v1/` },
        requestTimeoutMs: 2000,
      }),
    extraNameServer: 'ns.bind.test.',
  });
}
