import { describe, expect, it } from 'vitest';
import type { NameServer, RRset } from '@chorus/core';
import { explainOwnerSignature } from '../src/model1-checks.js';
import { createValidationObserver, type ValidationFinding } from '../src/validation-observer.js';
import type { ValidatorResolve, ValidatorResponse } from '../src/validator.js';
import { dsOf, KSK_FLAGS, makeKey, signedRrset, ZSK_FLAGS } from './helpers/signing.js';

// Model 1 in the validation observer: a provider serves the owner-signed DNSKEY RRset after the
// owner's signature expired. The finding names the owner's KSK and what its expiry means.

const NOW = 1_800_000_000;
const ZONE = 'example.test.';
const PARENT: NameServer = { address: '127.0.0.1', port: 5301 };
const PROVIDER: NameServer = { address: '127.0.0.2' };
const parentKey = makeKey(KSK_FLAGS);
const ownerKsk = makeKey(KSK_FLAGS);
const providerZsk = makeKey(ZSK_FLAGS);
const VALID = { inception: NOW - 3600, expiration: NOW + 86_400 };
const OWNER = { dnskeys: [ownerKsk.dnskey], refreshLeadSeconds: 600 };

const parentDnskey = signedRrset('test.', 'DNSKEY', [parentKey.dnskey], 300, [parentKey], {
  ...VALID,
  signer: 'test.',
});
const ds = signedRrset(ZONE, 'DS', [dsOf(ZONE, ownerKsk)], 300, [parentKey], {
  ...VALID,
  signer: 'test.',
});
const www = signedRrset(`www.${ZONE}`, 'A', ['192.0.2.1'], 300, [providerZsk], {
  ...VALID,
  signer: ZONE,
});
/** The owner's DNSKEY RRset, its signature expired a minute ago. */
const expiredDnskey = signedRrset(
  ZONE,
  'DNSKEY',
  [ownerKsk.dnskey, providerZsk.dnskey],
  300,
  [ownerKsk],
  { inception: NOW - 86_400, expiration: NOW - 60, signer: ZONE },
);

const answer = (rrset: RRset): ValidatorResponse => ({
  rcode: 'NOERROR',
  answers: [rrset],
  authorities: [],
});

const resolve: ValidatorResolve = (server, name, type) => {
  const table: Record<string, ValidatorResponse> = {
    [`${PARENT.address}|test.|DNSKEY`]: answer(parentDnskey),
    [`${PARENT.address}|${ZONE}|DS`]: answer(ds),
    [`${PROVIDER.address}|${ZONE}|DNSKEY`]: answer(expiredDnskey),
    [`${PROVIDER.address}|www.${ZONE}|A`]: answer(www),
  };
  const response = table[`${server.address}|${name}|${type}`];
  return response ? Promise.resolve(response) : Promise.reject(new Error('no such question'));
};

async function probe(owner?: typeof OWNER): Promise<ValidationFinding[]> {
  const observer = createValidationObserver({
    zone: ZONE,
    parentZone: 'test.',
    trustAnchorDs: [dsOf('test.', parentKey)],
    parentServers: [PARENT],
    providers: [{ id: 'knot', server: PROVIDER }],
    resolvers: [],
    probeNames: [{ name: `www.${ZONE}`, type: 'A' }],
    now: () => NOW,
    resolve,
    ...(owner ? { owner } : {}),
  });
  const report = await observer.probeOnce();
  await observer.shutdown?.();
  return report.findings;
}

describe('the validation observer in model 1', () => {
  it("names the owner's KSK when the owner's signature over the DNSKEY RRset expired", async () => {
    const [finding] = await probe(OWNER);
    expect(finding).toMatchObject({
      kind: 'validation-failure',
      provider: 'knot',
      invariant: 'I2',
    });
    expect(finding!.detail).toMatch(
      new RegExp(
        `RRSIG by key ${ownerKsk.tag}: signature expired .*\\(key ${ownerKsk.tag} is the zone owner's KSK: in model 1 only the owner re-signs the DNSKEY RRset, and its refresh is late or did not reach knot\\)$`,
      ),
    );
  });

  it('says nothing of an owner in model 2 (the control)', async () => {
    const [finding] = await probe();
    expect(finding).toMatchObject({ kind: 'validation-failure', invariant: 'I2' });
    expect(finding!.detail).toContain(`RRSIG by key ${ownerKsk.tag}: signature expired`);
    expect(finding!.detail).not.toContain('owner');
  });

  it("explainOwnerSignature leaves other reasons, and other keys' expiry, as they are", () => {
    const other =
      'DNSKEY RRset of ns x not signed by any key with a DS (RRSIG by key 1: signature expired at y)';
    expect(explainOwnerSignature(other, OWNER, 'knot')).toBe(other);
    const bad = `RRSIG by key ${ownerKsk.tag}: bad signature`;
    expect(explainOwnerSignature(bad, OWNER, 'knot')).toBe(bad);
    const expired = `RRSIG by key ${ownerKsk.tag}: signature expired at y`;
    expect(explainOwnerSignature(expired, undefined, 'knot')).toBe(expired);
    expect(explainOwnerSignature(expired, OWNER, undefined)).toContain(
      'did not reach the provider that served it',
    );
  });
});
