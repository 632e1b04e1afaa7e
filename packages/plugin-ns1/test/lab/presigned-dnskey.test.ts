/**
 * Model 1 at NS1 (capability `presigned-dnskey`) end to end on real software: the NS1 fake in
 * front of a PowerDNS 4.7 of this test's own (gsqlite3, KSK + ZSK, NSEC3 like the lab's), the
 * plugin's publisher, an owner KSK made here. The owner signs ONE DNSKEY RRset (its KSK, NS1's
 * ZSK, another provider's ZSK); PowerDNS then serves exactly that RRset with the owner's RRSIG,
 * while every other RRset is signed by NS1's ZSK; delv, anchored at the owner's KSK alone, fully
 * validates an answer, an NXDOMAIN, a NODATA and an empty non-terminal, also after a record
 * write. Negative controls: another anchor does not validate; a set without NS1's ZSK, and one
 * whose signature does not verify, are refused with a SignerConfigurationError and change
 * nothing; leaving model 1 gives the zone back to NS1's own KSK.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import {
  SignerConfigurationError,
  type DnskeyData,
  type RrsigData,
  type SignerPlan,
} from '@chorus/core';
import {
  canonicalRrsetSigningData,
  dnskeyRdata,
  keyTag,
  query,
  rrsigLabelCount,
  runCommand,
  verifyRrsig,
} from '@chorus/dns';
import { startProviderFake, type RunningFake } from '@chorus/provider-fakes';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { signerConformance } from '@chorus/conformance';
import { openFileOwnerKey } from '@chorus/owner';
import { createNs1Signer, ns1Capabilities, type Ns1Signer } from '../../src/index.js';

const ZONE = 'presigned.test.';
const ADDRESS = process.env.CHORUS_TEST_NS1_PRESIGNED_ADDRESS ?? '127.94.0.1';
const PORT = 5300;
const API_PORT = 8081;
const SERVER = { address: ADDRESS, port: PORT };
const SCHEMA = '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql';
const TTL = 300;

let directory: string;
let pdns: ChildProcess | undefined;
let fake: RunningFake | undefined;
let signer: Ns1Signer;
let apiKey: string;

const zoneText = `$ORIGIN ${ZONE}
$TTL ${TTL}
@ SOA ns1 hostmaster 1 3600 600 86400 ${TTL}
@ NS ns1
@ TXT "model one"
ns1 A ${ADDRESS}
www A 192.0.2.1
leaf.deep A 192.0.2.2
sub NS ns.sub
ns.sub A 192.0.2.53
`;

const pdnsConf = (dir: string, key: string) =>
  [
    'launch=gsqlite3',
    `gsqlite3-database=${dir}/pdns.sqlite3`,
    'gsqlite3-dnssec=yes',
    `local-address=${ADDRESS}:${PORT}`,
    `query-local-address=${ADDRESS}`,
    'daemon=no',
    'guardian=no',
    `socket-dir=${dir}`,
    'disable-syslog=yes',
    'security-poll-suffix=',
    'api=yes',
    `api-key=${key}`,
    'webserver=yes',
    `webserver-address=${ADDRESS}`,
    `webserver-port=${API_PORT}`,
    'webserver-allow-from=127.0.0.0/8',
    'direct-dnskey=yes',
    'default-ksk-algorithm=ecdsa256',
    'default-zsk-algorithm=ecdsa256',
    'zone-metadata-cache-ttl=0',
    'cache-ttl=0',
    'query-cache-ttl=0',
    'negquery-cache-ttl=0',
    '',
  ].join('\n');

/** A P-256 key pair and its DNSKEY. */
function newKey(flags: 256 | 257): { dnskey: DnskeyData; privateKey: KeyObject } {
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

const owner = newKey(257);
const otherProviderZsk = newKey(256).dnskey;

/** The owner's RRSIG over the DNSKEY RRset. */
function ownerSignature(keys: readonly DnskeyData[], now: number): RrsigData {
  const template: RrsigData = {
    typeCovered: 'DNSKEY',
    algorithm: 13,
    labels: rrsigLabelCount(ZONE),
    originalTtl: TTL,
    expiration: now + 7 * 86_400,
    inception: now - 3600,
    keyTag: keyTag(owner.dnskey),
    signerName: ZONE,
    signature: '',
  };
  const data = canonicalRrsetSigningData(template, {
    name: ZONE,
    type: 'DNSKEY',
    class: 'IN',
    records: keys,
  });
  const signature = sign('sha256', data, { key: owner.privateKey, dsaEncoding: 'ieee-p1363' });
  return { ...template, signature: signature.toString('base64') };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

async function servedDnskey() {
  const answer = await query(SERVER, ZONE, 'DNSKEY', { transport: 'tcp' });
  const rrset = answer.answers.find((set) => set.type === 'DNSKEY');
  return { keys: (rrset?.records ?? []) as DnskeyData[], rrsigs: rrset?.signatures ?? [] };
}

const sortedRdata = (keys: readonly DnskeyData[]) =>
  keys.map((key) => dnskeyRdata(key).toString('hex')).sort();

async function anchor(key: DnskeyData, name: string): Promise<string> {
  const file = path.join(directory, name);
  await writeFile(
    file,
    `trust-anchors { ${ZONE} static-key ${key.flags} ${key.protocol} ${key.algorithm} "${key.publicKey}"; };\n`,
  );
  return file;
}

async function delv(anchorFile: string, name: string, type: string): Promise<string> {
  const result = await runCommand(
    'delv',
    ['-a', anchorFile, `@${ADDRESS}`, '-p', String(PORT), name, type, `+root=${ZONE}`],
    { timeoutMs: 20_000, allowFailure: true },
  );
  return `${result.stdout}${result.stderr}`;
}

/** A call to the NS1 fake's API, as an operator would make it. */
async function ns1Call(method: string, urlPath: string, body?: unknown) {
  const response = await fetch(`${fake!.url}/v1/${urlPath}`, {
    method,
    headers: { 'X-NSONE-Key': apiKey, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

async function pdnsutil(...args: string[]): Promise<void> {
  const result = await runCommand('pdnsutil', [`--config-dir=${directory}`, ...args], {
    timeoutMs: 60_000,
  });
  expect(result.exitCode).toBe(0);
}

async function answersSigned(): Promise<boolean> {
  try {
    const answer = await query(SERVER, ZONE, 'SOA', { timeoutMs: 500, retries: 0 });
    return answer.answers.some((rrset) => rrset.type === 'SOA' && rrset.signatures.length > 0);
  } catch {
    return false;
  }
}

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'chorus-ns1-presigned-'));
  const backendKey = `pdns-${Math.random().toString(36).slice(2)}`;
  await writeFile(path.join(directory, 'pdns.conf'), pdnsConf(directory, backendKey), {
    mode: 0o600,
  });
  await writeFile(path.join(directory, 'api.key'), backendKey, { mode: 0o600 });
  const database = new DatabaseSync(path.join(directory, 'pdns.sqlite3'));
  database.exec(await readFile(SCHEMA, 'utf8'));
  database.close();
  await writeFile(path.join(directory, 'zone'), zoneText);
  await pdnsutil('load-zone', ZONE, path.join(directory, 'zone'));
  await pdnsutil('secure-zone', ZONE);
  await pdnsutil('set-nsec3', ZONE, '1 0 0 -');
  await pdnsutil('rectify-zone', ZONE);
  pdns = spawn('pdns_server', [`--config-dir=${directory}`], { stdio: 'ignore' });
  const deadline = Date.now() + 20_000;
  while (!(await answersSigned())) {
    if (Date.now() > deadline) throw new Error(`pdns_server did not serve ${ZONE} signed`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  apiKey = `ns1-${Math.random().toString(36).slice(2)}`;
  await writeFile(path.join(directory, 'ns1.key'), apiKey, { mode: 0o600 });
  await writeFile(path.join(directory, 'admin.key'), 'admin', { mode: 0o600 });
  fake = await startProviderFake({
    provider: 'ns1',
    listen: { address: ADDRESS, port: 0 },
    tokenFile: path.join(directory, 'ns1.key'),
    adminTokenFile: path.join(directory, 'admin.key'),
    backend: {
      url: `http://${ADDRESS}:${API_PORT}/api/v1/servers/localhost`,
      apiKeyFile: path.join(directory, 'api.key'),
      database: path.join(directory, 'pdns.sqlite3'),
    },
    stateFile: path.join(directory, 'fake-state.json'),
    requestLogFile: path.join(directory, 'requests.jsonl'),
  });
  signer = createNs1Signer({
    id: 'ns1-presigned',
    server: SERVER,
    api: { url: `${fake.url}/v1/`, apiKeyFile: path.join(directory, 'ns1.key') },
    requestTimeoutMs: 5000,
  });
}, 90_000);

afterAll(async () => {
  await fake?.close();
  // Stopped by its own PID, and gone before its directory is removed.
  if (pdns?.pid && pdns.exitCode === null) {
    const exited = new Promise((resolve) => pdns!.once('exit', resolve));
    process.kill(pdns.pid, 'SIGTERM');
    await exited;
  }
  if (directory) await rm(directory, { recursive: true, force: true });
});

const csyncPlan = (action: 'add' | 'delete'): SignerPlan => ({
  zone: ZONE,
  signerId: signer.id,
  changes: [
    { action, type: 'CSYNC', data: { serial: 0, flags: 1, types: ['A', 'NS', 'AAAA'] }, ttl: TTL },
  ],
});

async function soaSerial(): Promise<number> {
  const answer = await query(SERVER, ZONE, 'SOA', { transport: 'tcp' });
  return (answer.answers[0]!.records[0] as { serial: number }).serial;
}

/** NS1's ZSK as the API lists it. */
let ns1ZskSeen: DnskeyData | undefined;
const ns1Zsk = () => ns1ZskSeen!;

/** How many CSYNC, CDS and CDNSKEY records PowerDNS serves at the apex. */
async function apexTypes() {
  const count = async (type: 'CSYNC' | 'CDS' | 'CDNSKEY') =>
    (await query(SERVER, ZONE, type, { transport: 'tcp' })).answers.find(
      (rrset) => rrset.type === type,
    )?.records.length ?? 0;
  return { csync: await count('CSYNC'), cds: await count('CDS'), cdnskey: await count('CDNSKEY') };
}

describe('NS1 model 1 on a real PowerDNS behind the NS1 fake', () => {
  test('serves the owner-signed DNSKEY RRset byte for byte, signs the rest with NS1’s ZSK, and delv validates from the owner KSK', async () => {
    const [planned] = await signer.presignedDnskey.plannedZsks(ZONE, nowSeconds() + 86_400, {});
    expect(planned?.zsks).toHaveLength(1);
    const ns1Zsk = planned!.zsks[0]!;
    ns1ZskSeen = ns1Zsk;
    expect(ns1Zsk.flags).toBe(256);
    // NS1's ZSK is the one that signs the zone today (model 2).
    const before = await query(SERVER, `www.${ZONE}`, 'A', { transport: 'tcp' });
    expect(before.answers[0]?.signatures.map((rrsig) => rrsig.keyTag)).toEqual([keyTag(ns1Zsk)]);

    const now = nowSeconds();
    const dnskeys = [owner.dnskey, ns1Zsk, otherProviderZsk];
    const snapshot = { at: now, ttl: TTL, dnskeys, rrsigs: [ownerSignature(dnskeys, now)] };
    await signer.presignedDnskey.publishSignedDnskeys(ZONE, [snapshot], {});

    const served = await servedDnskey();
    expect(sortedRdata(served.keys)).toEqual(sortedRdata(dnskeys));
    // Start-up checks accept the owner's set in place of NS1's KSK.
    await signer.checkZone(ZONE, {});
    expect(served.rrsigs).toEqual(snapshot.rrsigs);
    const www = await query(SERVER, `www.${ZONE}`, 'A', { transport: 'tcp' });
    const wwwSet = www.answers.find((rrset) => rrset.type === 'A')!;
    expect(wwwSet.signatures.map((rrsig) => rrsig.keyTag)).toEqual([keyTag(ns1Zsk)]);
    expect(
      verifyRrsig({
        rrset: { name: `www.${ZONE}`, type: 'A', class: 'IN', records: wwwSet.records },
        signature: wwwSet.signatures[0]!,
        key: ns1Zsk,
      }),
    ).toEqual({ ok: true });

    const ownerAnchor = await anchor(owner.dnskey, 'owner.anchor');
    const positive = await delv(ownerAnchor, `www.${ZONE}`, 'A');
    expect(positive).toContain('; fully validated');
    expect(positive).toMatch(/www\.presigned\.test\.\s+300\s+IN\s+A\s+192\.0\.2\.1/);
    const nxdomain = await delv(ownerAnchor, `nope.${ZONE}`, 'A');
    expect(nxdomain).toContain('; negative response, fully validated');
    expect(nxdomain).toContain('NXDOMAIN');
    const nodata = await delv(ownerAnchor, `www.${ZONE}`, 'TXT');
    expect(nodata).toContain('; negative response, fully validated');
    const emptyNonTerminal = await delv(ownerAnchor, `deep.${ZONE}`, 'A');
    expect(emptyNonTerminal).toContain('; negative response, fully validated');
    expect(emptyNonTerminal).toContain('NXRRSET');

    // A record written through NS1's API afterwards is signed by NS1 too.
    const created = await ns1Call('PUT', `zones/presigned.test/late.presigned.test/A`, {
      zone: 'presigned.test',
      domain: 'late.presigned.test',
      type: 'A',
      ttl: TTL,
      answers: [{ answer: ['192.0.2.7'] }],
      filters: [],
      meta: {},
    });
    expect(created.status).toBe(200);
    expect(await delv(ownerAnchor, `late.${ZONE}`, 'A')).toContain('; fully validated');
    expect(await delv(ownerAnchor, `lat.${ZONE}`, 'A')).toContain(
      '; negative response, fully validated',
    );

    // Negative control: another KSK as the anchor validates nothing.
    const otherAnchor = await anchor(newKey(257).dnskey, 'other.anchor');
    expect(await delv(otherAnchor, `www.${ZONE}`, 'A')).not.toContain('fully validated');
    expect(await delv(otherAnchor, `nope.${ZONE}`, 'A')).not.toContain('fully validated');
  }, 120_000);

  test('a set without NS1’s ZSK, or with a signature that does not verify, is refused and changes nothing', async () => {
    const [planned] = await signer.presignedDnskey.plannedZsks(ZONE, nowSeconds() + 86_400, {});
    const ns1Zsk = planned!.zsks[0]!;
    const servedBefore = await servedDnskey();
    const now = nowSeconds();

    const withoutNs1 = [owner.dnskey, otherProviderZsk];
    const missing = signer.presignedDnskey.publishSignedDnskeys(
      ZONE,
      [{ at: now, ttl: TTL, dnskeys: withoutNs1, rrsigs: [ownerSignature(withoutNs1, now)] }],
      {},
    );
    await expect(missing).rejects.toSatisfy((error) => SignerConfigurationError.isInstance(error));
    await expect(missing).rejects.toThrow(/lacks NS1's ZSK \d+/);

    const signed = [owner.dnskey, ns1Zsk];
    const tampered = [owner.dnskey, ns1Zsk, otherProviderZsk];
    const badSignature = signer.presignedDnskey.publishSignedDnskeys(
      ZONE,
      [{ at: now, ttl: TTL, dnskeys: tampered, rrsigs: [ownerSignature(signed, now)] }],
      {},
    );
    await expect(badSignature).rejects.toSatisfy((error) =>
      SignerConfigurationError.isInstance(error),
    );
    await expect(badSignature).rejects.toThrow(/NS1 refused the DNSKEY RRset: .*does not verify/);
    expect(await servedDnskey()).toEqual(servedBefore);
  }, 60_000);

  test('in model 1 a CSYNC plan writes CSYNC alone: no CDS/CDNSKEY for NS1’s own KSK, which the owner’s set does not hold', async () => {
    const before = await servedDnskey();
    const serialBefore = await soaSerial();
    await signer.applyChanges(csyncPlan('add'), {});
    expect(await apexTypes()).toEqual({ csync: 1, cds: 0, cdnskey: 0 });
    expect(await servedDnskey()).toEqual(before);
    // The rows, the serial and NS1's signatures change in one transaction.
    expect(await soaSerial()).toBe(serialBefore + 1);
    const csync = (await query(SERVER, ZONE, 'CSYNC', { transport: 'tcp' })).answers[0]!;
    expect(csync.signatures.map((rrsig) => rrsig.keyTag)).toEqual([keyTag(ns1Zsk())]);
    await signer.applyChanges(csyncPlan('delete'), {});
    expect(await apexTypes()).toEqual({ csync: 0, cds: 0, cdnskey: 0 });
  }, 60_000);

  test('DELETE presigned_dnskey gives the zone back to NS1’s own KSK (model 2)', async () => {
    const deleted = await ns1Call('DELETE', 'zones/presigned.test/dnssec/presigned_dnskey');
    expect(deleted.status).toBe(200);
    const dnssec = (await ns1Call('GET', 'zones/presigned.test/dnssec')).json as {
      delegation: { dnskey: string[][] };
    };
    const [flags, protocol, algorithm, publicKey] = dnssec.delegation.dnskey[0]!;
    const ns1Ksk = {
      flags: Number(flags),
      protocol: Number(protocol),
      algorithm: Number(algorithm),
      publicKey: publicKey!,
    };
    const served = await servedDnskey();
    expect(served.rrsigs.map((rrsig) => rrsig.keyTag)).toEqual([keyTag(ns1Ksk)]);
    expect(served.keys.map(keyTag)).not.toContain(keyTag(owner.dnskey));
    const ns1Anchor = await anchor(ns1Ksk, 'ns1.anchor');
    expect(await delv(ns1Anchor, `late.${ZONE}`, 'A')).toContain('; fully validated');
    expect(await delv(ns1Anchor, `nope.${ZONE}`, 'A')).toContain(
      '; negative response, fully validated',
    );
    const ownerAnchor = await anchor(owner.dnskey, 'owner-again.anchor');
    expect(await delv(ownerAnchor, `www.${ZONE}`, 'A')).not.toContain('fully validated');
    // Negative control of the test above: in model 2 the same plan adds NS1's own CDS/CDNSKEY.
    await signer.applyChanges(csyncPlan('add'), {});
    expect(await apexTypes()).toEqual({ csync: 1, cds: 1, cdnskey: 1 });
    await signer.applyChanges(csyncPlan('delete'), {});
  }, 60_000);
});

// The shared conformance group, on the same zone after the tests above (which leave it in model 2).
signerConformance({
  describe,
  test,
  expect,
  capabilities: ns1Capabilities,
  create: () => signer,
  zone: ZONE,
  only: ['presigned-dnskey'],
  presignedDnskey: () => ({
    zone: ZONE,
    ttl: TTL,
    openOwnerKey: async () => {
      const file = path.join(directory, 'conformance-owner.pem');
      const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
        format: 'pem',
        type: 'pkcs8',
      });
      await writeFile(file, pem, { mode: 0o600 });
      return openFileOwnerKey(file);
    },
  }),
});
