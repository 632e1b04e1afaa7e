/**
 * The NS1 fake against the lab's real PowerDNS (KSK+ZSK, no CDS publication, direct-dnskey):
 * records, external key sets and the DNSSEC switch as served on the wire. Every change to
 * conformance.test is undone.
 */
import { computeDs } from '@chorus/dns';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { verifyRequestLog } from '../../src/index.js';
import {
  dataOf,
  dig,
  newP256PublicKey,
  providerUnderTest,
  signingKeyTags,
  ZONE,
} from './helpers.js';

const lab = inject('lab');
const fake = providerUnderTest(lab, 'ns1');
const ZONE_PATH = `zones/${ZONE}`;
const GENEROUS = {
  read: { limit: 10_000, periodSeconds: 1 },
  write: { limit: 10_000, periodSeconds: 1 },
};

describe.skipIf(typeof fake === 'string')(
  `NS1 fake on the lab${typeof fake === 'string' ? ` (skipped: ${fake})` : ''}`,
  () => {
    const ns1 = fake as Exclude<typeof fake, string>;
    const apex = `${ZONE}.`;

    beforeAll(async () => {
      await ns1.admin('POST', '/_fake/rate-limits', GENEROUS);
      // The NS1 plugin's tests leave the CDS/CDNSKEY it writes for NS1's own KSK: start without.
      for (const type of ['CDS', 'CDNSKEY'])
        expect([200, 404]).toContain(
          (await ns1.call('DELETE', `${ZONE_PATH}/${ZONE}/${type}`)).status,
        );
    });

    afterAll(async () => {
      await ns1.restoreRateLimits();
    });

    test('GET /dnssec: the keys served on the wire, the delegation DS of the KSK', async () => {
      const response = await ns1.call('GET', `${ZONE_PATH}/dnssec`);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-ratelimit-limit')).not.toBeNull();
      const body = response.json as {
        keys: { dnskey: string[][] };
        delegation: { dnskey: string[][]; ds: string[][] };
      };
      const served = dataOf(await dig(ns1.backend, apex, 'DNSKEY'), 'DNSKEY');
      for (const key of body.keys.dnskey) expect(served).toContain(key.join(' '));
      expect(body.keys.dnskey.map((key) => key[0]).sort()).toEqual(['256', '257']);
      const [ksk] = body.delegation.dnskey;
      const [flags = '', protocol = '', algorithm = '', publicKey = ''] = ksk ?? [];
      const ds = computeDs(
        apex,
        {
          flags: Number(flags),
          protocol: Number(protocol),
          algorithm: Number(algorithm),
          publicKey,
        },
        2,
      );
      expect(body.delegation.ds).toEqual([[String(ds.keyTag), '13', '2', ds.digest.toLowerCase()]]);
      // NS1 publishes no CDS/CDNSKEY of its own
      expect(dataOf(await dig(ns1.backend, apex, 'CDS'), 'CDS')).toEqual([]);
    });

    test('an external key set is served in the DNSKEY rrset, signed by the KSK; deleting it removes it', async () => {
      const before = await dig(ns1.backend, apex, 'DNSKEY');
      const kskTag = signingKeyTags(before, 'DNSKEY');
      const publicKey = newP256PublicKey();
      const path = `${ZONE_PATH}/dnssec/external_keys/fake-lab`;
      const created = await ns1.call('PUT', path, {
        dnskey: {
          ttl: 3600,
          data: [{ flags: 257, protocol: 3, algorithm: 13, public_key: publicKey }],
        },
      });
      expect(created.status).toBe(200);
      try {
        const after = await dig(ns1.backend, apex, 'DNSKEY');
        expect(dataOf(after, 'DNSKEY')).toContain(`257 3 13 ${publicKey}`);
        expect(signingKeyTags(after, 'DNSKEY')).toEqual(kskTag);
        const refused = await ns1.call('POST', path, {
          dnskey: {
            ttl: 3600,
            data: [{ flags: 257, protocol: 3, algorithm: 8, public_key: publicKey }],
          },
        });
        expect(refused).toMatchObject({
          status: 400,
          json: { message: 'only algorithm 13 (ECDSAP256SHA256) is supported' },
        });
      } finally {
        expect((await ns1.call('DELETE', path)).status).toBe(200);
      }
      expect(dataOf(await dig(ns1.backend, apex, 'DNSKEY'), 'DNSKEY')).toEqual(
        dataOf(before, 'DNSKEY'),
      );
    });

    test('a CDS record is served with the TTL sent, signed; DELETE removes it', async () => {
      const path = `${ZONE_PATH}/${ZONE}/CDS`;
      const digest = 'ab'.repeat(32);
      const created = await ns1.call('PUT', path, {
        zone: ZONE,
        domain: ZONE,
        type: 'CDS',
        ttl: 120,
        answers: [{ answer: [12345, 13, 2, digest.toUpperCase()] }],
        filters: [],
        meta: {},
      });
      expect(created.status).toBe(200);
      try {
        const served = await dig(ns1.backend, apex, 'CDS');
        expect(served.filter((record) => record.type === 'CDS')).toEqual([
          { ttl: 120, type: 'CDS', data: `12345 13 2 ${digest.toUpperCase()}` },
        ]);
        expect(signingKeyTags(served, 'CDS').length).toBeGreaterThan(0);
        expect(
          (
            await ns1.call('PUT', path, {
              answers: [{ answer: ['0', '0', '0', '00'] }],
              filters: [],
            })
          ).json,
        ).toEqual({
          message: 'record already exists',
        });
      } finally {
        expect((await ns1.call('DELETE', path)).status).toBe(200);
      }
      expect(dataOf(await dig(ns1.backend, apex, 'CDS'), 'CDS')).toEqual([]);
    });

    test('DNSSEC off serves the zone unsigned; on signs it again', async () => {
      const off = await ns1.call('POST', ZONE_PATH, { zone: ZONE, dnssec: false });
      try {
        expect(off.json).toMatchObject({ dnssec: false });
        const soa = await dig(ns1.backend, apex, 'SOA');
        expect(soa.map((record) => record.type)).toEqual(['SOA']);
        expect(dataOf(await dig(ns1.backend, apex, 'DNSKEY'), 'DNSKEY')).toEqual([]);
        expect(await ns1.call('GET', `${ZONE_PATH}/dnssec`)).toMatchObject({
          status: 400,
          json: { message: 'DNSSEC is not enabled on the zone' },
        });
      } finally {
        const on = await ns1.call('POST', ZONE_PATH, { zone: ZONE, dnssec: true });
        expect(on.json).toMatchObject({ dnssec: true });
      }
      const signed = await dig(ns1.backend, apex, 'SOA');
      expect(signed.map((record) => record.type).sort()).toEqual(['RRSIG', 'SOA']);
    });

    test('an empty write bucket refuses with 429 and the rate headers; nothing on the wire', async () => {
      const limits = { read: GENEROUS.read, write: { limit: 2, periodSeconds: 600 } };
      await ns1.admin('POST', '/_fake/rate-limits', limits);
      const since = new Date().toISOString();
      const names = ['fake-lab-a', 'fake-lab-b', 'fake-lab-c'].map((label) => `${label}.${ZONE}`);
      const write = (domain: string) =>
        ns1.call('PUT', `${ZONE_PATH}/${domain}/A`, {
          answers: [{ answer: ['192.0.2.77'] }],
          filters: [],
          ttl: 300,
        });
      try {
        expect((await write(names[0] ?? '')).status).toBe(200);
        expect((await write(names[1] ?? '')).status).toBe(200);
        const throttled = await write(names[2] ?? '');
        expect(throttled).toMatchObject({ status: 429, json: { message: 'rate limit exceeded' } });
        expect(throttled.headers.get('x-ratelimit-remaining')).toBe('0');
        expect(throttled.headers.get('x-ratelimit-period')).toBe('600');
        expect(await dig(ns1.backend, `${names[2]}.`, 'A')).toEqual([]);
        expect(verifyRequestLog(await ns1.requestsSince(since), limits)).toEqual([]);
      } finally {
        await ns1.admin('POST', '/_fake/rate-limits', GENEROUS);
        for (const name of names.slice(0, 2)) await ns1.call('DELETE', `${ZONE_PATH}/${name}/A`);
      }
      expect(await dig(ns1.backend, `${names[0]}.`, 'A')).toEqual([]);
    });
  },
);
