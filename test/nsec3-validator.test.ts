/**
 * Our validator's NSEC3 proofs against real unbound, on a lab of its own signed with NSEC3
 * (`lab up --denial nsec3`, parameters 1 0 0 -): for a positive answer, an NXDOMAIN and a NODATA
 * at BIND (the signer whose KSK has a DS at the parent), our verdict must be secure exactly where
 * unbound pinned to BIND answers with AD, with the same rcode. As a negative control, a trust
 * anchor that matches nothing makes both fail: unbound cannot be asked that, so our verdict must
 * turn bogus. Flipped bits in NSEC3 records are the unit tests' (BIND-signed fixtures).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DsData } from '@chorus/core';
import { query } from '@chorus/dns';
import { labDown, labUp, type LabStatus } from '@chorus/lab';
import { endpoint, labResolver, labServer } from '@chorus/lab/testing';
import { validateViaProvider } from '@chorus/observers';

// CHORUS_TEST_NSEC3_VALIDATOR_PREFIX lets several test runs share one machine without colliding.
const PREFIX = process.env.CHORUS_TEST_NSEC3_VALIDATOR_PREFIX ?? '127.77.0';
const ZONE = 'example.test.';

let directory: string;
let lab: LabStatus;

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-nsec3-validator-'));
  lab = await labUp({ directory, addressPrefix: PREFIX, ttl: 10, denial: 'nsec3' });
}, 120_000);

afterAll(async () => {
  await labDown({ directory }).catch(() => undefined);
  await rm(directory, { recursive: true, force: true });
});

const QUESTIONS = [
  { what: 'a positive answer', name: `www.${ZONE}`, type: 'A', rcode: 'NOERROR' },
  { what: 'an NXDOMAIN', name: `no-such-name.${ZONE}`, type: 'A', rcode: 'NXDOMAIN' },
  { what: 'a NODATA', name: `www.${ZONE}`, type: 'TXT', rcode: 'NOERROR' },
] as const;

function trustAnchor(): DsData[] {
  return lab.trustAnchor.ds.map(({ keyTag, algorithm, digestType, digest }) => ({
    keyTag,
    algorithm,
    digestType,
    digest,
  }));
}

describe('the validator on NSEC3 zones, beside unbound', () => {
  it.each(QUESTIONS)('agrees with unbound on $what', async ({ name, type, rcode }) => {
    const verdict = await validateViaProvider({
      name,
      type,
      zone: ZONE,
      parentZone: lab.parentZone,
      trustAnchorDs: trustAnchor(),
      parentServers: [endpoint(labServer(lab, 'parent'))],
      provider: endpoint(labServer(lab, 'bind')),
    });
    const unbound = await query(endpoint(labResolver(lab, 'resolver-bind')), name, type, {
      recursionDesired: true,
      dnssecOk: true,
    });
    expect(unbound.rcode).toBe(rcode);
    expect(unbound.flags.ad).toBe(true);
    expect(verdict).toMatchObject({ status: 'secure', rcode });
    if (rcode === 'NXDOMAIN' || type === 'TXT') expect(verdict.reason).toMatch(/NSEC3 /);
  });

  it('turns bogus with a trust anchor that matches nothing (negative control)', async () => {
    const verdict = await validateViaProvider({
      name: `no-such-name.${ZONE}`,
      type: 'A',
      zone: ZONE,
      parentZone: lab.parentZone,
      trustAnchorDs: trustAnchor().map((ds) => ({ ...ds, digest: '00'.repeat(32) })),
      parentServers: [endpoint(labServer(lab, 'parent'))],
      provider: endpoint(labServer(lab, 'bind')),
    });
    expect(verdict.status).toBe('bogus');
  });
});
