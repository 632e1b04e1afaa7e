import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  computeDs,
  dnskeyIdentity,
  dsIdentity,
  keyTag,
  query,
  readApexFromServer,
  readTsigKeyFile,
  reconcileSigner,
  sendUpdate,
  UpdateBuilder,
  verifyRrsig,
} from '@chorus/dns';
import { desiredStatesForGroup } from '@chorus/engine';
import type { DnskeyData, NameServer, RRset, Signer, SigningKey } from '@chorus/core';
import { labRestart } from '@chorus/lab';
import { endpoint, labResolver, labServer } from '@chorus/lab/testing';
import { signerForLabServer } from './helpers/signers.js';

// RFC 8901 model 2 across three different servers, done only through the plugins: each signer
// imports the other two's keys and the common CDS/CDNSKEY; then every provider, asked alone,
// validates under a parent DS set holding all three KSKs.
const run = promisify(execFile);
let lab = inject('lab');
const zone = 'example.test.';
const ids = ['bind', 'powerdns', 'knot'] as const;

const signers = new Map<string, Signer>();
const ownKeys = new Map<string, SigningKey[]>();
let originalParentDs: RRset<'DS'> | undefined;

async function setParentDs(records: ReturnType<typeof computeDs>[]): Promise<void> {
  const parent = labServer(lab, 'parent');
  const update = new UpdateBuilder('test.').deleteRRset(zone, 'DS');
  for (const ds of records)
    update.add({ name: zone, type: 'DS', class: 'IN', ttl: lab.ttl, data: ds });
  await sendUpdate(endpoint(parent), update, { tsig: await readTsigKeyFile(parent.tsig.keyFile) });
}

/** Restart the pinned resolvers so nothing cached from before the change is used. */
async function flushResolvers(): Promise<void> {
  for (const resolver of lab.resolvers) {
    await run('unbound-control', ['-c', resolver.control.configFile, 'reload']);
  }
}

function identities(set: RRset | null | undefined, identity: (data: never) => string): string[] {
  return (set?.records ?? []).map((data) => identity(data as never)).sort();
}

function desiredFor(): ReturnType<typeof desiredStatesForGroup> {
  return desiredStatesForGroup(
    ids.map((id) => ({ signerId: id, ownKeys: ownKeys.get(id)! })),
    { zone, ttl: lab.ttl },
  );
}

beforeAll(async () => {
  for (const id of ids) {
    const signer = signerForLabServer(lab, labServer(lab, id));
    await signer.checkZone(zone, {});
    signers.set(id, signer);
    ownKeys.set(id, await signer.listOwnKeys(zone, {}));
  }
  originalParentDs = (await query(endpoint(labServer(lab, 'parent')), zone, 'DS')).answers.find(
    (set) => set.type === 'DS',
  ) as RRset<'DS'> | undefined;
});

afterAll(async () => {
  // Put example.test back as the other tests expect it: own keys only, BIND's DS at the parent.
  for (const id of ids) {
    const empty = {
      foreignDnskeys: [],
      foreignCds: [],
      foreignCdnskeys: [],
      csync: null,
      ttl: lab.ttl,
    };
    await reconcileSigner(signers.get(id)!, zone, empty).catch(() => undefined);
  }
  if (originalParentDs) await setParentDs(originalParentDs.records);
  await flushResolvers();
});

describe('model 2 across BIND, PowerDNS and Knot, through the plugins', () => {
  it('each signer imports the other two signers keys and the common CDS/CDNSKEY', async () => {
    const desired = desiredFor();
    for (const id of ids) {
      const result = await reconcileSigner(signers.get(id)!, zone, desired[id]!);
      expect(result.plan.changes.length).toBeGreaterThan(0);
    }
  });

  it('all three serve an identical DNSKEY RRset and identical CDS and CDNSKEY RRsets', async () => {
    const apexes = await Promise.all(
      ids.map((id) => readApexFromServer(endpoint(labServer(lab, id)), zone)),
    );
    const expectedKeys = ids
      .flatMap((id) => ownKeys.get(id)!.map((key) => dnskeyIdentity(key.dnskey)))
      .sort();
    for (const apex of apexes) {
      expect(identities(apex.dnskey, dnskeyIdentity)).toEqual(expectedKeys);
      expect(identities(apex.cds, dsIdentity)).toEqual(identities(apexes[0]!.cds, dsIdentity));
      expect(identities(apex.cdnskey, dnskeyIdentity)).toEqual(
        identities(apexes[0]!.cdnskey, dnskeyIdentity),
      );
    }
    const ksks = ids.flatMap((id) => ownKeys.get(id)!.filter((key) => key.role !== 'ZSK'));
    expect(identities(apexes[0]!.cds, dsIdentity)).toEqual(
      ksks.map((key) => dsIdentity(computeDs(zone, key.dnskey, 2))).sort(),
    );
    expect(apexes[0]!.cds!.records).toHaveLength(3);
  });

  it('with all three KSKs at the parent, a resolver pinned to each provider validates positive and NXDOMAIN answers', async () => {
    const ksks = ids.flatMap((id) => ownKeys.get(id)!.filter((key) => key.role !== 'ZSK'));
    await setParentDs(ksks.map((key) => computeDs(zone, key.dnskey, 2)));
    await flushResolvers();
    for (const id of ids) {
      const resolver = endpoint(labResolver(lab, `resolver-${id}`));
      const positive = await query(resolver, `www.${zone}`, 'A', { recursionDesired: true });
      expect({ id, rcode: positive.rcode, ad: positive.flags.ad }).toEqual({
        id,
        rcode: 'NOERROR',
        ad: true,
      });
      const negative = await query(resolver, `no-such-name.${zone}`, 'A', {
        recursionDesired: true,
      });
      expect({ id, rcode: negative.rcode, ad: negative.flags.ad }).toEqual({
        id,
        rcode: 'NXDOMAIN',
        ad: true,
      });
    }
  });

  it('delv asked directly of each provider reports fully validated', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-delv-'));
    try {
      const ksks = ids.flatMap((id) => ownKeys.get(id)!.filter((key) => key.role !== 'ZSK'));
      const anchors = ksks.map((key) => {
        const ds = computeDs(zone, key.dnskey, 2);
        return `  ${zone} static-ds ${ds.keyTag} ${ds.algorithm} ${ds.digestType} "${ds.digest}";`;
      });
      const anchorFile = path.join(directory, 'anchors.conf');
      await writeFile(anchorFile, `trust-anchors {\n${anchors.join('\n')}\n};\n`);
      for (const id of ids) {
        const server = labServer(lab, id);
        const delv = (name: string) =>
          run('delv', [
            '-a',
            anchorFile,
            `+root=${zone.replace(/\.$/, '')}`,
            `@${server.address}`,
            '-p',
            String(server.port),
            name,
            'A',
          ]).then((result) => result.stdout + result.stderr);
        expect(await delv(`www.${zone}`)).toContain('; fully validated');
        expect(await delv(`no-such-name.${zone}`)).toContain('negative response, fully validated');
      }
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('negative control: without PowerDNS ZSK in Knot DNSKEY RRset, PowerDNS answers do not validate', async () => {
    const powerdnsZsk = ownKeys.get('powerdns')!.find((key) => key.role === 'ZSK')!;
    const validates = async (keySource: NameServer) => {
      const keys = (await query(keySource, zone, 'DNSKEY')).answers.find(
        (set) => set.type === 'DNSKEY',
      )!.records as DnskeyData[];
      const answer = (await query(endpoint(labServer(lab, 'powerdns')), `www.${zone}`, 'A'))
        .answers[0]!;
      return answer.signatures.some((signature) =>
        keys.some(
          (key) =>
            keyTag(key) === signature.keyTag && verifyRrsig({ rrset: answer, signature, key }).ok,
        ),
      );
    };
    const knot = endpoint(labServer(lab, 'knot'));
    expect(await validates(knot)).toBe(true);
    const desired = desiredFor().knot!;
    await reconcileSigner(signers.get('knot')!, zone, {
      ...desired,
      foreignDnskeys: desired.foreignDnskeys.filter(
        (key) => dnskeyIdentity(key) !== dnskeyIdentity(powerdnsZsk.dnskey),
      ),
    });
    expect(await validates(knot)).toBe(false);
    // PowerDNS's own DNSKEY RRset still covers its answers: the failure is the missing import.
    expect(await validates(endpoint(labServer(lab, 'powerdns')))).toBe(true);
    await reconcileSigner(signers.get('knot')!, zone, desired);
    expect(await validates(knot)).toBe(true);
  });

  it('after a restart of every server the foreign keys are still served', async () => {
    lab = await labRestart({ directory: lab.directory, servers: [...ids] });
    const expectedKeys = ids
      .flatMap((id) => ownKeys.get(id)!.map((key) => dnskeyIdentity(key.dnskey)))
      .sort();
    for (const id of ids) {
      const apex = await readApexFromServer(endpoint(labServer(lab, id)), zone, { retries: 3 });
      expect({ id, keys: identities(apex.dnskey, dnskeyIdentity) }).toEqual({
        id,
        keys: expectedKeys,
      });
    }
  });
});
