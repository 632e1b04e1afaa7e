import { signerConformance } from '@chorus/conformance';
import { describe, expect, inject, test } from 'vitest';
import { CONFORMANCE_ZONE, ROLL_ZONE, TEST_LAB_PREFIX, labServer } from '@chorus/lab/testing';
import { bindCapabilities } from '../../src/capabilities.js';
import { createBindSigner } from '../../src/index.js';
import { bindConfigFor, rndcKeyFile, wrongKeyFile } from './helpers.js';

// The conformance suite against the lab's BIND 9.18 signer (dynamic zone, dnssec-policy,
// inline-signing no). Every group the capabilities allow must pass.
const lab = inject('lab');
const config = bindConfigFor(lab, 'bind');

signerConformance({
  describe,
  test,
  expect,
  capabilities: bindCapabilities,
  zone: CONFORMANCE_ZONE,
  rollZone: ROLL_ZONE,
  create: () => createBindSigner(config),
  // A TSIG key with the right name and a wrong secret: UPDATE fails with BADSIG (not retryable).
  createWithBadCredentials: () =>
    createBindSigner({ ...config, tsigKeyFile: wrongKeyFile(config.tsigKeyFile) }),
  // Nothing listens on .99 of the prefix: DNS and rndc fail with retryable errors.
  createUnreachable: () =>
    createBindSigner({
      ...config,
      server: { address: `${TEST_LAB_PREFIX}.99`, port: 53 },
      rndc: { address: `${TEST_LAB_PREFIX}.99`, port: 953, keyFile: rndcKeyFile(lab, 'bind') },
    }),
  extraNameServer: labServer(lab, 'knot').nameserverName,
});
