/**
 * `lab up --owner --providers ns1` for real: a lab of its own on 127.92.0 (or
 * $CHORUS_TEST_OWNER_PROVIDERS_PREFIX). The model-1 zone owner.test. is served by Knot
 * (offline-KSK) and by the NS1 fake's PowerDNS (presigned), both with the one DNSKEY RRset the
 * owner's KSK signed: the owner KSK, Knot's ZSK and NS1's ZSK. The parent delegates to both NS
 * names with the owner's DS, and the delegation resolver and the resolver pinned to NS1 validate
 * the zone. Negative controls: a changed RRSIG or DNSKEY RRset does not verify, the other
 * server's ZSK does not verify a server's signature, and the NS1 fake refuses a set without its
 * ZSK and keeps serving the owner's.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnskeyData, RRset, RrsigData } from '@chorus/core';
import { dnskeyRdata, keyTag, parseRdata, query, verifyRrsig } from '@chorus/dns';
import { labDown, labUp } from '../../src/lab.js';
import { serverById } from '../../src/plan.js';
import type { LabProviderApi, LabStatus } from '../../src/types.js';

const PREFIX = process.env.CHORUS_TEST_OWNER_PROVIDERS_PREFIX ?? '127.92.0';
const ZONE = 'owner.test.';
const SERVERS = ['knot', 'ns1'] as const;

let directory: string;
let status: LabStatus;

/** An authoritative question to one lab server: TCP, RD=0, DO=1. */
function ask(id: 'parent' | (typeof SERVERS)[number], name: string, type: 'DNSKEY' | 'A' | 'NS') {
  return query(serverById(status, id), name, type, { transport: 'tcp', timeoutMs: 3000 });
}

async function rrsetAt(id: (typeof SERVERS)[number], name: string, type: 'DNSKEY' | 'A' | 'NS') {
  const response = await ask(id, name, type);
  const rrset = response.answers.find((entry) => entry.type === type);
  if (!rrset) throw new Error(`${id} serves no ${name} ${type}`);
  return rrset;
}

const keys = (rrset: RRset) => rrset.records as DnskeyData[];
const sortedRdata = (records: readonly DnskeyData[]) =>
  records.map((key) => dnskeyRdata(key).toString('hex')).sort();

function verifies(rrset: RRset, records: readonly DnskeyData[], rrsig: RrsigData, key: DnskeyData) {
  return verifyRrsig({
    rrset: { name: rrset.name, type: rrset.type, class: 'IN', records },
    signature: rrsig,
    key,
  }).ok;
}

function ownerKsk(): DnskeyData {
  return parseRdata('DNSKEY', status.owner!.dnskey!) as DnskeyData;
}

function ns1Api(): LabProviderApi {
  return status.providers.find((api) => api.provider === 'ns1')!;
}

/** A call to the NS1 fake's API with the lab's token. */
async function ns1Call(method: 'GET' | 'PUT', urlPath: string, body?: unknown) {
  const token = (await readFile(ns1Api().tokenFile, 'utf8')).trim();
  const response = await fetch(`${ns1Api().url}${urlPath}`, {
    method,
    headers: { 'X-NSONE-Key': token, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, text: await response.text() };
}

/** A recursive question to a lab resolver. */
function resolve(id: 'resolver-delegation' | 'resolver-ns1', name: string) {
  const resolver = status.resolvers.find((entry) => entry.id === id)!;
  return query(resolver, name, 'A', { recursionDesired: true, timeoutMs: 3000 });
}

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-owner-providers-'));
  status = await labUp({
    directory,
    addressPrefix: PREFIX,
    ttl: 5,
    zones: ['example.test.'],
    owner: true,
    providers: ['ns1'],
  });
}, 120_000);

afterAll(async () => {
  if (directory) {
    await labDown({ directory });
    await rm(directory, { recursive: true, force: true });
  }
});

describe('lab up --owner --providers ns1', () => {
  it('records both servers of the model-1 zone', () => {
    expect(status.owner?.servers).toEqual(['knot', 'ns1']);
    expect(serverById(status, 'ns1').zones).toContain(ZONE);
  });

  it('serves the same DNSKEY RRset and owner RRSIGs at Knot and at the NS1 fake', async () => {
    const [knot, ns1] = await Promise.all(SERVERS.map((id) => rrsetAt(id, ZONE, 'DNSKEY')));
    expect(sortedRdata(keys(ns1!))).toEqual(sortedRdata(keys(knot!)));
    expect(ns1!.ttl).toBe(knot!.ttl);
    expect(ns1!.signatures).toEqual(knot!.signatures);
    expect(knot!.signatures.map((rrsig) => rrsig.keyTag)).toEqual([keyTag(ownerKsk())]);
    const rrsig = knot!.signatures[0]!;
    expect(verifies(knot!, keys(knot!), rrsig, ownerKsk())).toBe(true);
    // Negative controls: a changed signature, or a key set without one of its keys, fails.
    const bytes = Buffer.from(rrsig.signature, 'base64');
    bytes[0] = bytes[0]! ^ 0xff;
    const changed = { ...rrsig, signature: bytes.toString('base64') };
    expect(verifies(knot!, keys(knot!), changed, ownerKsk())).toBe(false);
    expect(verifies(knot!, keys(knot!).slice(1), rrsig, ownerKsk())).toBe(false);
  });

  it('holds the owner KSK, Knot’s ZSK and NS1’s ZSK, each server signing with its own', async () => {
    const dnskeys = keys(await rrsetAt('knot', ZONE, 'DNSKEY'));
    const zskOf = async (id: (typeof SERVERS)[number]) => {
      const www = await rrsetAt(id, `www.${ZONE}`, 'A');
      const [rrsig] = www.signatures;
      const zsk = dnskeys.find((key) => key.flags === 256 && keyTag(key) === rrsig?.keyTag);
      expect(zsk, `${id}'s ZSK in the set`).toBeDefined();
      expect(verifies(www, www.records as DnskeyData[], rrsig!, zsk!)).toBe(true);
      return { zsk: zsk!, www, rrsig: rrsig! };
    };
    const knot = await zskOf('knot');
    const ns1 = await zskOf('ns1');
    expect(keyTag(knot.zsk)).not.toBe(keyTag(ns1.zsk));
    expect(sortedRdata(dnskeys)).toEqual(sortedRdata([ownerKsk(), knot.zsk, ns1.zsk]));
    // Negative control: NS1's ZSK does not verify Knot's signature.
    const foreign = { ...knot.rrsig, keyTag: keyTag(ns1.zsk) };
    expect(verifies(knot.www, knot.www.records as DnskeyData[], foreign, ns1.zsk)).toBe(false);
    // NS1's API names the same ZSK as its signing key.
    const signing = await ns1Call('GET', `zones/owner.test/dnssec/signing_keys`);
    expect(signing.status).toBe(200);
    const listed = (JSON.parse(signing.text) as { zsk: { data: { public_key: string }[] } }).zsk;
    expect(listed.data.map((key) => key.public_key)).toEqual([ns1.zsk.publicKey]);
  });

  it('serves the same content and apex NS set at both servers', async () => {
    for (const [name, type] of [
      [ZONE, 'NS'],
      [`www.${ZONE}`, 'A'],
    ] as const) {
      const [knot, ns1] = await Promise.all(SERVERS.map((id) => rrsetAt(id, name, type)));
      expect([...ns1!.records].sort(), `${name} ${type}`).toEqual([...knot!.records].sort());
    }
    expect([...(await rrsetAt('knot', ZONE, 'NS')).records].sort()).toEqual([
      'ns.knot.test.',
      'ns.ns1.test.',
    ]);
  });

  it('is delegated from test. to both NS names with the owner’s DS', async () => {
    const referral = await ask('parent', `www.${ZONE}`, 'A');
    const ns = referral.authorities.find((rrset) => rrset.type === 'NS' && rrset.name === ZONE);
    expect([...(ns?.records ?? [])].sort()).toEqual(['ns.knot.test.', 'ns.ns1.test.']);
    const ds = referral.authorities.find((rrset) => rrset.type === 'DS' && rrset.name === ZONE);
    expect(ds?.records).toHaveLength(1);
    expect((ds!.records[0] as { keyTag: number }).keyTag).toBe(keyTag(ownerKsk()));
  });

  it('validates at the delegation resolver and at the resolver pinned to NS1 (AD=1)', async () => {
    const ns1Tag = (await rrsetAt('ns1', `www.${ZONE}`, 'A')).signatures[0]?.keyTag;
    for (const id of ['resolver-delegation', 'resolver-ns1'] as const) {
      const response = await resolve(id, `www.${ZONE}`);
      expect(response.rcode, id).toBe('NOERROR');
      expect(response.flags.ad, id).toBe(true);
      const www = response.answers.find((rrset) => rrset.type === 'A');
      expect(www?.records).toEqual(['192.0.2.80']);
      // resolver-ns1 got its answer from NS1: signed by NS1's ZSK, not Knot's.
      if (id === 'resolver-ns1')
        expect(www?.signatures.map((rrsig) => rrsig.keyTag)).toEqual([ns1Tag]);
    }
  });

  it('negative control: the NS1 fake refuses a set without its ZSK and keeps the owner’s', async () => {
    const before = await rrsetAt('ns1', ZONE, 'DNSKEY');
    const signing = JSON.parse(
      (await ns1Call('GET', `zones/owner.test/dnssec/signing_keys`)).text,
    ) as { zsk: { data: { public_key: string }[] } };
    const ns1Key = signing.zsk.data[0]!.public_key;
    const without = keys(before).filter((key) => key.publicKey !== ns1Key);
    expect(without).toHaveLength(keys(before).length - 1);
    const refused = await ns1Call('PUT', 'zones/owner.test/dnssec/presigned_dnskey', {
      dnskey: {
        ttl: before.ttl,
        data: without.map((key) => ({
          flags: key.flags,
          protocol: key.protocol,
          algorithm: key.algorithm,
          public_key: key.publicKey,
        })),
      },
      rrsig: before.signatures.map((rrsig) => ({ ...rrsig })),
    });
    expect(refused.status).toBe(400);
    expect(refused.text).toMatch(/lacks NS1's ZSK/);
    const after = await rrsetAt('ns1', ZONE, 'DNSKEY');
    expect(sortedRdata(keys(after))).toEqual(sortedRdata(keys(before)));
    expect(after.signatures).toEqual(before.signatures);
  });
});
