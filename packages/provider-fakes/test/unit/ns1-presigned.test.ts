/**
 * The NS1 fake's model-1 routes [inferred API]: `GET …/dnssec/signing_keys` and
 * `GET|PUT|DELETE …/dnssec/presigned_dnskey`, against the PowerDNS API stand-in and a gsqlite3
 * database file of the stand-in's shape. Every refusal changes nothing; the lab test
 * (plugin-ns1/test/lab/presigned-dnskey.test.ts) checks what a real PowerDNS then serves.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { DnskeyData, RrsigData } from '@chorus/core';
import {
  canonicalRrsetSigningData,
  formatRdata,
  keyTag,
  parseRdata,
  rrsigLabelCount,
  verifyRrsig,
} from '@chorus/dns';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { BACKEND_KSK, startTestFake, type StandInKey, type TestFake } from './helpers.js';

const ZONE = 'example.test.';
const PATH = '/v1/zones/example.test/dnssec/presigned_dnskey';
const TTL = 3600;

interface KeyPair {
  dnskey: DnskeyData;
  privateKey: KeyObject;
}

function newKey(flags: 256 | 257): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const jwk = publicKey.export({ format: 'jwk' });
  const material = Buffer.concat([
    Buffer.from(jwk.x ?? '', 'base64url'),
    Buffer.from(jwk.y ?? '', 'base64url'),
  ]);
  return {
    dnskey: { flags, protocol: 3, algorithm: 13, publicKey: material.toString('base64') },
    privateKey,
  };
}

const text = (key: DnskeyData) => `${key.flags} ${key.protocol} ${key.algorithm} ${key.publicKey}`;
const keyObject = (key: DnskeyData) => ({
  flags: key.flags,
  protocol: key.protocol,
  algorithm: key.algorithm,
  public_key: key.publicKey,
});

const ns1Zsk = newKey(256);
const owner = newKey(257);
const otherZsk = newKey(256).dnskey;
const NS1_ZSK: StandInKey = {
  id: 2,
  keytype: 'zsk',
  active: true,
  published: true,
  dnskey: text(ns1Zsk.dnskey),
  privatekey: `Private-key-format: v1.2\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: ${Buffer.from(
    ns1Zsk.privateKey.export({ format: 'jwk' }).d ?? '',
    'base64url',
  ).toString('base64')}\n`,
};

const now = () => Math.floor(Date.now() / 1000);

function signSet(
  signer: KeyPair,
  keys: readonly DnskeyData[],
  times: { inception: number; expiration: number } = {
    inception: now() - 3600,
    expiration: now() + 86_400,
  },
): RrsigData {
  const template: RrsigData = {
    typeCovered: 'DNSKEY',
    algorithm: 13,
    labels: rrsigLabelCount(ZONE),
    originalTtl: TTL,
    ...times,
    keyTag: keyTag(signer.dnskey),
    signerName: ZONE,
    signature: '',
  };
  const data = canonicalRrsetSigningData(template, {
    name: ZONE,
    type: 'DNSKEY',
    class: 'IN',
    records: keys,
  });
  const signature = sign('sha256', data, { key: signer.privateKey, dsaEncoding: 'ieee-p1363' });
  return { ...template, signature: signature.toString('base64') };
}

function body(keys: readonly DnskeyData[], rrsigs: readonly (RrsigData | string)[]) {
  return {
    dnskey: { ttl: TTL, data: keys.map(keyObject) },
    rrsig: rrsigs.map((rrsig) =>
      typeof rrsig === 'string'
        ? rrsig
        : {
            type_covered: rrsig.typeCovered,
            algorithm: rrsig.algorithm,
            labels: rrsig.labels,
            original_ttl: rrsig.originalTtl,
            expiration: rrsig.expiration,
            inception: rrsig.inception,
            key_tag: rrsig.keyTag,
            signer_name: rrsig.signerName,
            signature: rrsig.signature,
          },
    ),
  };
}

const ownerSet = [owner.dnskey, ns1Zsk.dnskey, otherZsk];

/** The columns PowerDNS's gsqlite3 schema gives these tables, and the zone's row. */
function createDatabase(file: string): void {
  const db = new DatabaseSync(file);
  db.exec(`
    CREATE TABLE domains (id INTEGER PRIMARY KEY, name VARCHAR(255) NOT NULL);
    CREATE TABLE records (id INTEGER PRIMARY KEY, domain_id INTEGER, name VARCHAR(255),
      type VARCHAR(10), content VARCHAR(65535), ttl INTEGER, prio INTEGER,
      disabled BOOLEAN DEFAULT 0, ordername VARCHAR(255), auth BOOL DEFAULT 1);
    CREATE TABLE domainmetadata (id INTEGER PRIMARY KEY, domain_id INT NOT NULL,
      kind VARCHAR(32), content TEXT);
    INSERT INTO domains (id, name) VALUES (1, 'example.test');
    INSERT INTO domainmetadata (domain_id, kind, content) VALUES (1, 'NSEC3PARAM', '1 0 0 -');
    INSERT INTO records (domain_id, name, type, content, ttl) VALUES
      (1, 'example.test', 'SOA', 'ns1.example.test hostmaster.example.test 1 3600 600 86400 3600', 3600),
      (1, 'example.test', 'NS', 'ns1.example.test', 3600),
      (1, 'www.example.test', 'A', '192.0.2.1', 300),
      (1, 'a.deep.example.test', 'A', '192.0.2.2', 300);
  `);
  db.close();
}

interface Row {
  name: string;
  type: string | null;
  content: string | null;
  ordername: string | null;
  auth: number;
}

function rows(file: string): { records: Row[]; metadata: Record<string, string> } {
  const db = new DatabaseSync(file);
  try {
    const records = db
      .prepare('SELECT name, type, content, ordername, auth FROM records ORDER BY id')
      .all() as unknown as Row[];
    const metadata = Object.fromEntries(
      (
        db.prepare('SELECT kind, content FROM domainmetadata').all() as {
          kind: string;
          content: string;
        }[]
      ).map((row) => [row.kind, row.content]),
    );
    return { records, metadata };
  } finally {
    db.close();
  }
}

let fake: TestFake | undefined;
let directory: string;
let database: string;

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'chorus-ns1-presigned-unit-'));
  database = path.join(directory, 'pdns.sqlite3');
  createDatabase(database);
});

afterEach(async () => {
  await fake?.close();
  fake = undefined;
  await rm(directory, { recursive: true, force: true });
});

async function start(
  options: Partial<Parameters<typeof startTestFake>[1]> = {},
): Promise<TestFake> {
  fake = await startTestFake('ns1', {
    database,
    zones: (standIn) =>
      standIn.addZone(
        ZONE,
        [
          {
            name: `www.${ZONE}`,
            type: 'A',
            ttl: 300,
            records: [{ content: '192.0.2.1', disabled: false }],
          },
          {
            name: `a.deep.${ZONE}`,
            type: 'A',
            ttl: 300,
            records: [{ content: '192.0.2.2', disabled: false }],
          },
        ],
        [{ ...BACKEND_KSK, keytype: 'ksk' }, NS1_ZSK],
      ),
    ...options,
  });
  return fake;
}

describe('NS1 signing keys', () => {
  test('GET …/signing_keys lists NS1’s ZSK; with DNSSEC off it is a 400', async () => {
    const api = await start();
    const keys = await api.call('GET', '/v1/zones/example.test/dnssec/signing_keys');
    expect(keys).toMatchObject({
      status: 200,
      json: { zone: 'example.test', zsk: { ttl: 3600, data: [keyObject(ns1Zsk.dnskey)] } },
    });
    expect(keys.json).not.toHaveProperty('zsk.data.0.privatekey');
    await api.call('POST', '/v1/zones/example.test', { zone: 'example.test', dnssec: false });
    expect(await api.call('GET', '/v1/zones/example.test/dnssec/signing_keys')).toMatchObject({
      status: 400,
      json: { message: 'DNSSEC is not enabled on the zone' },
    });
  });
});

describe('NS1 presigned DNSKEY set', () => {
  test('an owner-signed set is served as given; every other RRset is signed by NS1’s ZSK, with an NSEC chain', async () => {
    const api = await start();
    expect(await api.call('GET', PATH)).toMatchObject({ status: 404 });
    const rrsig = signSet(owner, ownerSet);
    const put = await api.call('PUT', PATH, body(ownerSet, [rrsig]));
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({
      zone: 'example.test',
      dnskey: { ttl: TTL, data: ownerSet.map(keyObject) },
      rrsig: [{ key_tag: keyTag(owner.dnskey), signature: rrsig.signature }],
    });
    expect((await api.call('GET', PATH)).json).toEqual(put.json);

    const { records, metadata } = rows(database);
    // The DNSKEY rows are written with their RRSIGs, in one transaction.
    expect(
      records
        .filter((row) => row.type === 'DNSKEY' && row.name === 'example.test')
        .map((row) => row.content),
    ).toEqual(ownerSet.map(text));
    expect(metadata).toEqual({ PRESIGNED: '1' });
    const rrsigs = records.filter((row) => row.type === 'RRSIG');
    const dnskeyRrsig = rrsigs.find((row) => row.content?.startsWith('DNSKEY '));
    expect(dnskeyRrsig?.content).toBe(formatRdata({ type: 'RRSIG', data: rrsig }));
    // NS1's ZSK signs the A record: its RRSIG verifies with the ZSK.
    const wwwRrsig = rrsigs.find(
      (row) => row.name === 'www.example.test' && row.content?.startsWith('A '),
    );
    expect(
      verifyRrsig({
        rrset: { name: `www.${ZONE}`, type: 'A', class: 'IN', records: ['192.0.2.1'] },
        signature: parseRdata('RRSIG', wwwRrsig!.content!) as RrsigData,
        key: ns1Zsk.dnskey,
      }),
    ).toEqual({ ok: true });
    // The chain in PowerDNS's order, with the order names its rectify would write.
    const nsec = records
      .filter((row) => row.type === 'NSEC')
      .map((row) => `${row.ordername}|${row.name} ${row.content}`);
    expect(nsec).toEqual([
      '|example.test a.deep.example.test. SOA NS DNSKEY RRSIG NSEC',
      'deep a|a.deep.example.test www.example.test. A RRSIG NSEC',
      'www|www.example.test example.test. A RRSIG NSEC',
    ]);

    // The empty non-terminal exists for PowerDNS, outside the chain.
    expect(records).toContainEqual({
      name: 'deep.example.test',
      type: null,
      content: null,
      ordername: null,
      auth: 1,
    });
  });

  test('RRSIGs as presentation text are accepted too (lenient)', async () => {
    const api = await start();
    const rrsig = signSet(owner, ownerSet);
    const put = await api.call(
      'PUT',
      PATH,
      body(ownerSet, [formatRdata({ type: 'RRSIG', data: rrsig })]),
    );
    expect(put).toMatchObject({ status: 200, json: { rrsig: [{ signature: rrsig.signature }] } });
  });

  test('refusals: no NS1 ZSK, a bad or expired signature, a non-SEP signer, DNSSEC off, a malformed body — nothing written', async () => {
    const api = await start();
    const withoutNs1 = [owner.dnskey, otherZsk];
    const cases: [unknown, number, RegExp][] = [
      [
        body(withoutNs1, [signSet(owner, withoutNs1)]),
        400,
        new RegExp(`^the DNSKEY RRset lacks NS1's ZSK ${keyTag(ns1Zsk.dnskey)} `),
      ],
      [
        body(ownerSet, [signSet(owner, [owner.dnskey, ns1Zsk.dnskey])]),
        400,
        /^the RRSIG with key tag \d+ does not verify over the DNSKEY RRset/,
      ],
      [
        body(ownerSet, [
          signSet(owner, ownerSet, { inception: now() - 7200, expiration: now() - 60 }),
        ]),
        400,
        /^the RRSIG with key tag \d+ expired at 20\d\d-/,
      ],
      [
        body(ownerSet, [signSet(ns1Zsk, ownerSet)]),
        400,
        /is not made by a SEP key \(flags 257\) of the DNSKEY RRset$/,
      ],
      [
        { dnskey: { ttl: TTL, data: ownerSet.map(keyObject) } },
        400,
        /^Input validation failed \(.*'rrsig'/,
      ],
      [{ rrsig: [signSet(owner, ownerSet)] }, 400, /^Input validation failed \(.*'dnskey'/],
      [
        body([{ ...owner.dnskey, algorithm: 8 }, ns1Zsk.dnskey], [signSet(owner, ownerSet)]),
        400,
        /^only algorithm 13/,
      ],
      [
        body(ownerSet, ['DNSKEY 13 two']),
        400,
        /^Input validation failed \(rrsig\[0\] is not RRSIG text/,
      ],
    ];
    for (const [request, status, message] of cases) {
      const answer = await api.call('PUT', PATH, request);
      expect(answer.status, JSON.stringify(answer.json)).toBe(status);
      expect((answer.json as { message: string }).message).toMatch(message);
    }
    const notJson = await api.call('PUT', PATH, undefined, { rawBody: '{nope' });
    expect(notJson).toMatchObject({
      status: 400,
      json: { message: 'Input validation failed (the body is not JSON)' },
    });
    await api.call('POST', '/v1/zones/example.test', { zone: 'example.test', dnssec: false });
    const patchesBefore = api.standIn.patches.length;
    expect(await api.call('PUT', PATH, body(ownerSet, [signSet(owner, ownerSet)]))).toMatchObject({
      status: 400,
      json: { message: 'DNSSEC is not enabled on the zone' },
    });
    expect(api.standIn.patches.length).toBe(patchesBefore);
    const { records, metadata } = rows(database);
    expect(metadata).toEqual({ NSEC3PARAM: '1 0 0 -' });
    expect(records.filter((row) => row.type === 'RRSIG' || row.type === 'NSEC')).toEqual([]);
    expect(await api.call('GET', PATH)).toMatchObject({ status: 404 });
  });

  test('a record written in model 1 is signed at once; DELETE returns the zone to NS1’s own signing', async () => {
    const api = await start();
    expect(await api.call('DELETE', PATH)).toMatchObject({
      status: 404,
      json: { message: 'no presigned DNSKEY set for the zone' },
    });
    expect((await api.call('PUT', PATH, body(ownerSet, [signSet(owner, ownerSet)]))).status).toBe(
      200,
    );
    const created = await api.call('PUT', '/v1/zones/example.test/new.example.test/TXT', {
      zone: 'example.test',
      domain: 'new.example.test',
      type: 'TXT',
      ttl: 300,
      answers: [{ answer: ['hello'] }],
    });
    expect(created.status).toBe(200);
    // The stand-in keeps the record; the database only NS1's signatures, so look for its RRSIG there.
    const signedNew = rows(database).records.filter(
      (row) => row.name === 'new.example.test' && row.type === 'RRSIG',
    );
    expect(signedNew.map((row) => row.content?.split(' ')[0])).toEqual(['TXT', 'NSEC']);

    expect(await api.call('DELETE', PATH)).toMatchObject({ status: 200 });
    const { records, metadata } = rows(database);
    expect(metadata).toEqual({ NSEC3PARAM: '1 0 0 -' });
    expect(
      records.filter((row) => row.type === null || row.type === 'RRSIG' || row.type === 'NSEC'),
    ).toEqual([]);
    expect(api.standIn.rectified).toEqual([ZONE]);
    expect(api.standIn.rrset(ZONE, ZONE, 'DNSKEY')).toBeUndefined();
    expect(await api.call('GET', PATH)).toMatchObject({ status: 404 });
  });

  test('without backend.database the routes answer 501 and write nothing', async () => {
    const api = await start({ database: undefined });
    const answer = await api.call('PUT', PATH, body(ownerSet, [signSet(owner, ownerSet)]));
    expect(answer.status).toBe(501);
    expect((answer.json as { message: string }).message).toMatch(/backend\.database/);
    expect(api.standIn.patches).toEqual([]);
  });

  test('the write bucket applies: a refused PUT takes a token, the next is a 429', async () => {
    const api = await start({
      rateLimits: {
        read: { limit: 100, periodSeconds: 300 },
        write: { limit: 1, periodSeconds: 300 },
      },
    });
    const withoutNs1 = [owner.dnskey, otherZsk];
    expect(
      (await api.call('PUT', PATH, body(withoutNs1, [signSet(owner, withoutNs1)]))).status,
    ).toBe(400);
    const throttled = await api.call('PUT', PATH, body(ownerSet, [signSet(owner, ownerSet)]));
    expect(throttled).toMatchObject({ status: 429, json: { message: 'rate limit exceeded' } });
    expect(throttled.headers.get('x-ratelimit-remaining')).toBe('0');
    expect((await api.call('GET', '/v1/zones/example.test/dnssec/signing_keys')).status).toBe(200);
    expect(rows(database).metadata).toEqual({ NSEC3PARAM: '1 0 0 -' });
  });
});
