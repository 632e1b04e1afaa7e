/**
 * The NS1 plugin's model-1 publisher (`presignedDnskey`) against the scripted NS1 stand-in: the
 * planned ZSKs come from `…/dnssec/signing_keys`, the snapshot in effect now is PUT as is, and a
 * set without NS1's ZSK, NS1's own refusal and DNSSEC off are SignerConfigurationErrors. The lab
 * test (test/lab/presigned-dnskey.test.ts) checks what a real nameserver then serves.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeForeignKeys } from '@chorus/conformance';
import {
  SignerConfigurationError,
  type DnskeyData,
  type RrsigData,
  type SignedDnskeySnapshot,
} from '@chorus/core';
import { keyTag } from '@chorus/dns';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { createNs1Signer } from '../../src/index.js';
import { API_KEY, startFakeNs1, type FakeNs1 } from './fake-ns1.js';

const ZONE = 'example.test.';
const [OWN_KSK, OWNER_KSK] = makeForeignKeys(2, 257).map((key) => key.dnskey) as [
  DnskeyData,
  DnskeyData,
];
const [OWN_ZSK, OTHER_ZSK] = makeForeignKeys(2, 256).map((key) => key.dnskey) as [
  DnskeyData,
  DnskeyData,
];
const fields = (key: DnskeyData) => [String(key.flags), '3', '13', key.publicKey];

let directory: string;
let keyFile: string;
let fake: FakeNs1 | undefined;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'chorus-ns1-presigned-'));
  keyFile = path.join(directory, 'ns1.key');
  await writeFile(keyFile, `${API_KEY}\n`, { mode: 0o600 });
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function setUp() {
  fake = await startFakeNs1({ ownKeys: [fields(OWN_KSK), fields(OWN_ZSK)] });
  const signer = createNs1Signer({
    id: 'ns1-unit',
    server: { address: '127.0.0.1', port: 9 },
    api: { url: fake.url, apiKeyFile: keyFile },
    requestTimeoutMs: 2000,
  });
  return { fake, publisher: signer.presignedDnskey };
}

const rrsig: RrsigData = {
  typeCovered: 'DNSKEY',
  algorithm: 13,
  labels: 2,
  originalTtl: 3600,
  expiration: 2_000_000_000,
  inception: 1_700_000_000,
  keyTag: keyTag(OWNER_KSK),
  signerName: ZONE,
  signature: 'c2lnbmF0dXJl',
};
const snapshot = (at: number, dnskeys: DnskeyData[]): SignedDnskeySnapshot => ({
  at,
  ttl: 3600,
  dnskeys,
  rrsigs: [{ ...rrsig, inception: at }],
});
const now = () => Math.floor(Date.now() / 1000);

describe('presignedDnskey', () => {
  test('plannedZsks: one entry from now with the ZSKs NS1 signs with', async () => {
    const { publisher } = await setUp();
    const before = now();
    const [planned, ...rest] = await publisher.plannedZsks(ZONE, before + 86_400, {});
    expect(rest).toEqual([]);
    expect(planned!.at).toBeGreaterThanOrEqual(before);
    expect(planned!.zsks).toEqual([OWN_ZSK]);
  });

  test('publishes the snapshot in effect now, as is, with its RRSIG field by field', async () => {
    const { fake: api, publisher } = await setUp();
    const set = [OWNER_KSK, OWN_ZSK, OTHER_ZSK];
    const past = snapshot(now() - 60, set);
    const future = snapshot(now() + 86_400, [OWNER_KSK, OTHER_ZSK]);
    await publisher.publishSignedDnskeys(ZONE, [past, future], {});
    expect(api.calls()).toEqual([
      'GET /v1/zones/example.test/dnssec/signing_keys',
      'PUT /v1/zones/example.test/dnssec/presigned_dnskey',
    ]);
    expect(api.state.presigned).toEqual({
      dnskey: {
        ttl: 3600,
        data: set.map((key) => ({
          flags: key.flags,
          protocol: 3,
          algorithm: 13,
          public_key: key.publicKey,
        })),
      },
      rrsig: [
        {
          type_covered: 'DNSKEY',
          algorithm: 13,
          labels: 2,
          original_ttl: 3600,
          expiration: 2_000_000_000,
          inception: past.at,
          key_tag: keyTag(OWNER_KSK),
          signer_name: ZONE,
          signature: 'c2lnbmF0dXJl',
        },
      ],
    });
  });

  test('a set without NS1’s ZSK is refused before any write', async () => {
    const { fake: api, publisher } = await setUp();
    const publish = publisher.publishSignedDnskeys(
      ZONE,
      [snapshot(now(), [OWNER_KSK, OTHER_ZSK])],
      {},
    );
    await expect(publish).rejects.toSatisfy((error) => SignerConfigurationError.isInstance(error));
    await expect(publish).rejects.toThrow(
      `lacks NS1's ZSK ${keyTag(OWN_ZSK)}, which signs the zone`,
    );
    await expect(publish).rejects.toMatchObject({ isRetryable: false });
    expect(api.calls().filter((call) => !call.startsWith('GET'))).toEqual([]);
    await expect(publisher.publishSignedDnskeys(ZONE, [], {})).rejects.toThrow(
      /no signed DNSKEY snapshot/,
    );
  });

  test('NS1’s 400 and DNSSEC off become SignerConfigurationErrors with NS1’s words', async () => {
    const { fake: api, publisher } = await setUp();
    api.state.presignedRefusal = 'the RRSIG with key tag 1 does not verify over the DNSKEY RRset';
    const refused = publisher.publishSignedDnskeys(
      ZONE,
      [snapshot(now(), [OWNER_KSK, OWN_ZSK])],
      {},
    );
    await expect(refused).rejects.toSatisfy((error) => SignerConfigurationError.isInstance(error));
    await expect(refused).rejects.toThrow(
      /NS1 refused the DNSKEY RRset: the RRSIG .* does not verify/,
    );
    api.state.dnssec = false;
    const off = publisher.plannedZsks(ZONE, now(), {});
    await expect(off).rejects.toSatisfy((error) => SignerConfigurationError.isInstance(error));
    await expect(off).rejects.toMatchObject({ setting: 'dnssec' });
  });
});
