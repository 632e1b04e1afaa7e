/**
 * A held ZSK roll end to end on the lab's PowerDNS 4.7, zone roll.test., each step checked on
 * the wire at the server's address (never through the plugin): the successor published and
 * silent, then signing alone, then the predecessor gone. The lab runs pdns_server with
 * cache-ttl=0, so the wire shows each step at once; the roller's apex flush covers the default
 * caches in production (README "Settings for a multi-signer group: key rolls").
 */
import { UnsafePlanError, type RRset, type SigningKey } from '@chorus/core';
import { keyTag, query, readApexFromServer, verifyRrsig } from '@chorus/dns';
import { beforeAll, describe, expect, inject, test } from 'vitest';
import { ROLL_ZONE, endpoint, labServer } from '@chorus/lab/testing';
import { createPowerDnsSigner, type PowerDnsSigner } from '../../src/index.js';
import { labConfig } from './helpers.js';

const lab = inject('lab');
const server = endpoint(labServer(lab, 'powerdns'));

let signer: PowerDnsSigner;
let predecessors: SigningKey[];
let predecessorTags: number[];
let successor: SigningKey;
/** The key fingerprint before the roll and after each of its steps. */
const fingerprints: string[] = [];
const fingerprint = () => signer.ownKeysFingerprint(ROLL_ZONE, {});

/** The key tags of the signatures over `rrset` that verify with one of `keys`. */
function verifiedBy(rrset: RRset, keys: readonly SigningKey[]): number[] {
  return rrset.signatures
    .filter((signature) =>
      keys.some(
        (key) =>
          key.keyTag === signature.keyTag && verifyRrsig({ rrset, signature, key: key.dnskey }).ok,
      ),
    )
    .map((signature) => signature.keyTag)
    .sort((a, b) => a - b);
}

async function servedApex() {
  return readApexFromServer(server, ROLL_ZONE, { retries: 1 });
}

async function servedDnskeyTags(): Promise<number[]> {
  return ((await servedApex()).dnskey?.records ?? []).map((key) => keyTag(key));
}

async function soaSignerTags(): Promise<number[]> {
  const soa = (await servedApex()).soa!;
  return soa.signatures.map((signature) => signature.keyTag).sort((a, b) => a - b);
}

/** The signatures over www.roll.test. A: a name below the apex, which the apex flush does not cover. */
async function wwwSignerTags(): Promise<number[]> {
  const response = await query(server, `www.${ROLL_ZONE}`, 'A', { transport: 'tcp' });
  const rrset = response.answers.find((set) => set.type === 'A')!;
  return rrset.signatures.map((signature) => signature.keyTag).sort((a, b) => a - b);
}

async function stateOf(tag: number): Promise<string | undefined> {
  const keys = await signer.listOwnKeys(ROLL_ZONE, {});
  return keys.find((key) => key.keyTag === tag)?.state;
}

beforeAll(async () => {
  signer = createPowerDnsSigner(labConfig(lab));
  await signer.checkZone(ROLL_ZONE, {});
  // The ZSKs signing the SOA now: robust to a roll an earlier run (or the conformance suite) left.
  const signing = new Set(await soaSignerTags());
  const keys = await signer.listOwnKeys(ROLL_ZONE, {});
  predecessors = keys.filter((key) => key.role === 'ZSK' && signing.has(key.keyTag));
  predecessorTags = predecessors.map((key) => key.keyTag);
  expect(predecessorTags.length).toBeGreaterThan(0);
  fingerprints.push(await fingerprint());
});

describe('a held ZSK roll on PowerDNS 4.7 (roll.test.)', () => {
  test('negative control: removing the only active ZSK is refused, and it stays served', async () => {
    const keys = await signer.listOwnKeys(ROLL_ZONE, {});
    const activeZsks = keys.filter((key) => key.role === 'ZSK' && key.state?.startsWith('active'));
    expect(activeZsks.map((key) => key.keyTag)).toEqual(predecessorTags);
    const error = await signer.keyRoller.removeKeys(ROLL_ZONE, predecessorTags, {}).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(UnsafePlanError.isInstance(error)).toBe(true);
    expect((error as UnsafePlanError).message).toContain('last active ZSK');
    expect(await servedDnskeyTags()).toEqual(expect.arrayContaining(predecessorTags));
    expect(await soaSignerTags()).toEqual(predecessorTags);
  });

  test('startRoll: the successor is listed inactive, served in DNSKEY, and signs nothing', async () => {
    successor = await signer.keyRoller.startRoll(ROLL_ZONE, 'ZSK', predecessorTags, {});
    expect(successor.role).toBe('ZSK');
    expect(predecessorTags).not.toContain(successor.keyTag);
    expect(successor.algorithm).toBe(predecessors[0]!.algorithm);
    expect(await stateOf(successor.keyTag)).toMatch(/^inactive, published/);

    const apex = await servedApex();
    expect(apex.dnskey!.records.map((key) => keyTag(key))).toContain(successor.keyTag);
    // The DNSKEY RRset with the successor is signed by the KSK, and the signature verifies.
    const ksks = (await signer.listOwnKeys(ROLL_ZONE, {})).filter((key) => key.role === 'KSK');
    expect(verifiedBy(apex.dnskey!, ksks).length).toBeGreaterThan(0);
    // The SOA is still signed by the predecessor only.
    expect(verifiedBy(apex.soa!, predecessors)).toEqual(predecessorTags);
    expect(await soaSignerTags()).toEqual(predecessorTags);
    expect(await wwwSignerTags()).toEqual(predecessorTags);
    fingerprints.push(await fingerprint());
  });

  test('startRoll again returns the same successor and generates nothing', async () => {
    const before = await signer.listOwnKeys(ROLL_ZONE, {});
    const again = await signer.keyRoller.startRoll(ROLL_ZONE, 'ZSK', predecessorTags, {});
    expect(again).toEqual(successor);
    expect(await signer.listOwnKeys(ROLL_ZONE, {})).toEqual(before);
  });

  test('activateSuccessor: the SOA RRSIG key tag is the successor’s, at once', async () => {
    await signer.keyRoller.activateSuccessor(ROLL_ZONE, successor.keyTag, predecessorTags, {});
    const apex = await servedApex();
    expect(await soaSignerTags()).toEqual([successor.keyTag]);
    expect(verifiedBy(apex.soa!, [successor])).toEqual([successor.keyTag]);
    expect(await wwwSignerTags()).toEqual([successor.keyTag]);
    // The predecessor stays published (inactive) until removeKeys.
    expect(apex.dnskey!.records.map((key) => keyTag(key))).toEqual(
      expect.arrayContaining([...predecessorTags, successor.keyTag]),
    );
    expect(await stateOf(successor.keyTag)).toMatch(/^active, published/);
    for (const tag of predecessorTags) expect(await stateOf(tag)).toMatch(/^inactive, published/);
    fingerprints.push(await fingerprint());
  });

  test('removeKeys: the predecessor is gone from the list and the wire; again is a no-op', async () => {
    await signer.keyRoller.removeKeys(ROLL_ZONE, predecessorTags, {});
    const listed = (await signer.listOwnKeys(ROLL_ZONE, {})).map((key) => key.keyTag);
    for (const tag of predecessorTags) expect(listed).not.toContain(tag);
    const served = await servedDnskeyTags();
    for (const tag of predecessorTags) expect(served).not.toContain(tag);
    expect(served).toContain(successor.keyTag);
    expect(await soaSignerTags()).toEqual([successor.keyTag]);
    await signer.keyRoller.removeKeys(ROLL_ZONE, predecessorTags, {});
    fingerprints.push(await fingerprint());
  });

  test('the successor is now the only active ZSK: removing it is refused', async () => {
    const error = await signer.keyRoller.removeKeys(ROLL_ZONE, [successor.keyTag], {}).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(UnsafePlanError.isInstance(error)).toBe(true);
    expect(await soaSignerTags()).toEqual([successor.keyTag]);
  });

  test('the key fingerprint changed at each step (publish, activate, remove) and holds between them', async () => {
    expect(fingerprints).toHaveLength(4);
    expect(new Set(fingerprints).size).toBe(4);
    expect(await fingerprint()).toBe(fingerprints[3]);
    expect(await fingerprint()).toBe(await fingerprint());
  });
});
