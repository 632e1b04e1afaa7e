/**
 * `lab up --signalling --insecure-zone boot.test` for real: a lab of its own on 127.85.0 (or
 * $CHORUS_TEST_SIGNALLING_PREFIX). Each signer's signalling zone validates from the parent's
 * trust anchor, the insecure zone is delegated to the three signers without DS, and a TSIG
 * UPDATE writes an RFC 9615 signal name that the delegation resolver then authenticates.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query, readTsigKeyFile, sendUpdate, UpdateBuilder } from '@chorus/dns';
import { labDown, labUp } from '../../src/lab.js';
import { serverById } from '../../src/plan.js';
import { waitUntil } from '../../src/testing/wait-until.js';
import type { LabResolver, LabStatus } from '../../src/types.js';
import { flushResolverZone } from '../../src/unbound.js';

const PREFIX = process.env.CHORUS_TEST_SIGNALLING_PREFIX ?? '127.85.0';
const INSECURE_ZONE = 'boot.test.';
const SIGNERS = ['bind', 'powerdns', 'knot'] as const;
const SIGNAL_NAME = '_dsboot.x.test._signal.ns.bind.test.';

let directory: string;
let status: LabStatus;

/** The delegation resolver: it follows NS and DS from the parent, as on the Internet. */
function resolver(): LabResolver {
  return status.resolvers.find((entry) => entry.id === 'resolver-delegation')!;
}

/** A recursive query at the delegation resolver. */
function resolve(name: string, type: 'A' | 'SOA' | 'TXT') {
  return query(resolver(), name, type, { recursionDesired: true, timeoutMs: 2000 });
}

/** An authoritative query at one lab server. */
function ask(id: 'parent' | (typeof SIGNERS)[number], name: string, type: 'DS' | 'NS') {
  return query(serverById(status, id), name, type, { timeoutMs: 2000 });
}

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-signalling-lab-'));
  status = await labUp({
    directory,
    addressPrefix: PREFIX,
    signalling: true,
    insecureZones: ['boot.test'],
  });
}, 60_000);

afterAll(async () => {
  await labDown({ directory });
  await rm(directory, { recursive: true, force: true });
});

describe('lab up --signalling --insecure-zone boot.test', () => {
  it('records the signalling zones and the insecure zone in the status', () => {
    expect(status.signalling).toEqual(
      SIGNERS.map((id) => ({ server: id, zone: `${id}.test.`, nameserver: `ns.${id}.test.` })),
    );
    expect(status.insecureZones).toEqual([INSECURE_ZONE]);
    expect(status.registryAgent?.zones).toEqual(['example.test.', INSECURE_ZONE]);
  });

  it('authenticates each signer’s NS name through the delegation resolver (AD=1)', async () => {
    for (const id of SIGNERS) {
      const response = await resolve(`ns.${id}.test.`, 'A');
      expect(response.rcode).toBe('NOERROR');
      expect(response.flags.ad).toBe(true);
      expect(response.answers.find((rrset) => rrset.type === 'A')?.records[0]).toBe(
        serverById(status, id).address,
      );
    }
  });

  it('resolves the insecure zone without authenticating it (AD=0)', async () => {
    const response = await resolve(INSECURE_ZONE, 'SOA');
    expect(response.rcode).toBe('NOERROR');
    expect(response.answers.some((rrset) => rrset.type === 'SOA')).toBe(true);
    expect(response.flags.ad).toBe(false);
  });

  it('has the parent serve a DS for bind.test. and none for boot.test.', async () => {
    const signalling = await ask('parent', 'bind.test.', 'DS');
    expect(signalling.answers.find((rrset) => rrset.type === 'DS')?.records).toHaveLength(1);
    const insecure = await ask('parent', INSECURE_ZONE, 'DS');
    expect(insecure.rcode).toBe('NOERROR');
    expect(insecure.flags.aa).toBe(true);
    expect(insecure.answers.filter((rrset) => rrset.type === 'DS')).toEqual([]);
  });

  it('has each signer serve boot.test. with the three NS names at the apex', async () => {
    for (const id of SIGNERS) {
      const response = await ask(id, INSECURE_ZONE, 'NS');
      expect(response.flags.aa).toBe(true);
      const names = response.answers.find((rrset) => rrset.type === 'NS')?.records;
      expect([...(names ?? [])].sort()).toEqual(
        SIGNERS.map((signer) => `ns.${signer}.test.`).sort(),
      );
    }
  });

  it('takes a TSIG UPDATE in bind.test. that the resolver then authenticates', async () => {
    const bind = serverById(status, 'bind');
    const update = new UpdateBuilder('bind.test.').add({
      name: SIGNAL_NAME,
      type: 'TXT',
      class: 'IN',
      ttl: 30,
      data: ['chorus signalling test'],
    });
    await sendUpdate(bind, update, { tsig: await readTsigKeyFile(bind.tsig.keyFile) });
    // The registry agent's signal look-ups may have left a cached NXDOMAIN there.
    await flushResolverZone(resolver(), 'bind.test.');
    const response = await waitUntil('the signal at the resolver', async () => {
      const answer = await resolve(SIGNAL_NAME, 'TXT');
      return answer.answers.some((rrset) => rrset.type === 'TXT') ? answer : undefined;
    });
    expect(response.flags.ad).toBe(true);
    expect(response.answers.find((rrset) => rrset.type === 'TXT')?.records[0]).toEqual([
      'chorus signalling test',
    ]);
  });
});
