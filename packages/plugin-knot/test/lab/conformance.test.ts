import { signerConformance } from '@chorus/conformance';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { CONFORMANCE_ZONE, ROLL_ZONE, TEST_LAB_PREFIX, labServer } from '@chorus/lab/testing';
import { knotCapabilities } from '../../src/capabilities.js';
import { createKnotSigner } from '../../src/index.js';
import { knotConfigFor, removeTemporaryFiles, wrongTsigKeyFile } from './helpers.js';

const lab = inject('lab');
const config = knotConfigFor(lab, 'knot');
afterAll(removeTemporaryFiles);

for (const updateMethod of ['dns-update', 'knotc'] as const) {
  describe(`Knot 3.2 with updateMethod ${updateMethod}`, () => {
    signerConformance({
      describe,
      test,
      expect,
      capabilities: knotCapabilities,
      zone: CONFORMANCE_ZONE,
      rollZone: ROLL_ZONE,
      create: () => createKnotSigner({ ...config, updateMethod }),
      createWithBadCredentials: () =>
        createKnotSigner({
          ...config,
          updateMethod: 'dns-update',
          tsigKeyFile: wrongTsigKeyFile(labServer(lab, 'knot').tsig.keyFile),
        }),
      createUnreachable: () =>
        createKnotSigner({ ...config, server: { address: `${TEST_LAB_PREFIX}.99`, port: 53 } }),
      extraNameServer: labServer(lab, 'bind').nameserverName,
    });
  });
}
