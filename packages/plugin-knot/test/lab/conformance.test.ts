import { signerConformance, type PresignedDnskeyOptions } from '@chorus/conformance';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { flushResolverZone } from '@chorus/lab';
import {
  CONFORMANCE_ZONE,
  ROLL_ZONE,
  TEST_LAB_PREFIX,
  endpoint,
  labResolver,
  labServer,
} from '@chorus/lab/testing';
import { openPkcs11OwnerKey } from '@chorus/owner';
import { knotCapabilities } from '../../src/capabilities.js';
import { createKnotSigner } from '../../src/index.js';
import { knotConfigFor, removeTemporaryFiles, wrongTsigKeyFile } from './helpers.js';

const lab = inject('lab');
const config = knotConfigFor(lab, 'knot');
afterAll(removeTemporaryFiles);

/** The lab's model-1 zone at Knot, with the owner's KSK in the lab's SoftHSM2 token. */
function presignedDnskey(): PresignedDnskeyOptions {
  const owner = lab.owner;
  if (!owner) throw new Error('the test lab runs without its model-1 zone (owner: true)');
  const resolver = labResolver(lab, 'resolver-delegation');
  return {
    zone: owner.zone,
    ttl: lab.ttl,
    openOwnerKey: () => openPkcs11OwnerKey(owner.hsm),
    resolver: endpoint(resolver),
    flushResolver: () => flushResolverZone(resolver, owner.zone),
  };
}

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
      // Once per file: both update methods share the owner zone.
      ...(updateMethod === 'knotc' ? { presignedDnskey } : {}),
    });
  });
}
