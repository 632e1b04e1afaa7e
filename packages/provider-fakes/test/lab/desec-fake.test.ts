/**
 * The deSEC fake against the lab's real PowerDNS (CSK, PUBLISH-CDS 2,4, direct-dnskey): what the
 * API writes is what the server serves, signed; throttled and failed writes change nothing on
 * the wire. Every change to conformance.test is undone.
 */
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { DESEC_RATE_LIMITS, verifyRequestLog } from '../../src/index.js';
import {
  dataOf,
  dig,
  newP256PublicKey,
  providerUnderTest,
  signingKeyTags,
  ZONE,
} from './helpers.js';

const lab = inject('lab');
const fake = providerUnderTest(lab, 'desec');
const DOMAIN = `domains/${ZONE}/`;

interface DomainKey {
  dnskey: string;
  ds: string[];
  keytype: string | null;
  managed: boolean;
}

describe.skipIf(typeof fake === 'string')(
  `deSEC fake on the lab${typeof fake === 'string' ? ` (skipped: ${fake})` : ''}`,
  () => {
    const desec = fake as Exclude<typeof fake, string>;
    const apex = `${ZONE}.`;

    beforeAll(async () => {
      // Room for these tests' writes; restored (and the windows forgotten) afterwards.
      await desec.admin('POST', '/_fake/rate-limits', {
        perDomainWrite: [{ limit: 100, periodSeconds: 1 }],
      });
    });

    afterAll(async () => {
      await desec.admin('DELETE', '/_fake/faults');
      await desec.restoreRateLimits();
    });

    test('health and authentication', async () => {
      const health = await fetch(`${new URL(desec.api.url).origin}/_fake/health`);
      expect(await health.json()).toEqual({ ok: true, provider: 'desec' });
      const anonymous = await fetch(`${desec.api.url}domains/`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toBe('Token');
    });

    test('the managed key is the CSK served on the wire, its DS the served CDS', async () => {
      const domain = await desec.call('GET', DOMAIN);
      expect(domain.status).toBe(200);
      const keys = (domain.json as { keys: DomainKey[] }).keys.filter((key) => key.managed);
      expect(keys).toHaveLength(1);
      const [csk] = keys;
      expect(csk?.keytype).toBe('csk');
      expect(dataOf(await dig(desec.backend, apex, 'DNSKEY'), 'DNSKEY')).toContain(csk?.dnskey);
      const servedCds = dataOf(await dig(desec.backend, apex, 'CDS'), 'CDS');
      expect(csk?.ds.map((ds) => ds.split(' ')[2])).toEqual(['2', '4']);
      for (const ds of csk?.ds ?? []) expect(servedCds).toContain(ds);
    });

    test('one bulk PATCH puts a foreign DNSKEY, a CDS and a CSYNC on the wire, signed; records [] removes them', async () => {
      const before = await dig(desec.backend, apex, 'DNSKEY');
      const ownTags = signingKeyTags(before, 'DNSKEY');
      const foreign = `257 3 13 ${newP256PublicKey()}`;
      const written = await desec.call('PATCH', `${DOMAIN}rrsets/`, [
        { subname: '', type: 'DNSKEY', ttl: 3600, records: [foreign] },
        { subname: '', type: 'CSYNC', ttl: 3600, records: ['0 3 NS AAAA A'] },
        {
          subname: 'fake-lab-child',
          type: 'DS',
          ttl: 3600,
          records: ['12345 13 2 ' + 'AB'.repeat(32)],
        },
      ]);
      expect(written.status).toBe(200);
      try {
        const dnskeys = await dig(desec.backend, apex, 'DNSKEY');
        expect(dataOf(dnskeys, 'DNSKEY')).toContain(foreign);
        expect(signingKeyTags(dnskeys, 'DNSKEY')).toEqual(ownTags);
        expect(dataOf(await dig(desec.backend, apex, 'CSYNC'), 'CSYNC')).toEqual(['0 3 A NS AAAA']);
        // the foreign key is an unmanaged entry with DS digest types 2 and 4
        const keys = ((await desec.call('GET', DOMAIN)).json as { keys: DomainKey[] }).keys;
        const entry = keys.find((key) => key.dnskey === foreign);
        expect(entry).toMatchObject({ managed: false, keytype: null });
        expect(entry?.ds.map((ds) => ds.split(' ')[2])).toEqual(['2', '4']);
        // GET ?type=DNSKEY lists only the user's key
        const listed = await desec.call('GET', `${DOMAIN}rrsets/?type=DNSKEY`);
        expect((listed.json as { records: string[] }[]).map((rrset) => rrset.records)).toEqual([
          [foreign],
        ]);
      } finally {
        const removed = await desec.call('PATCH', `${DOMAIN}rrsets/`, [
          { subname: '', type: 'DNSKEY', records: [] },
          { subname: '', type: 'CSYNC', records: [] },
          { subname: 'fake-lab-child', type: 'DS', records: [] },
        ]);
        expect(removed).toMatchObject({ status: 200, json: [] });
      }
      expect(dataOf(await dig(desec.backend, apex, 'DNSKEY'), 'DNSKEY')).toEqual(
        dataOf(before, 'DNSKEY'),
      );
      expect(dataOf(await dig(desec.backend, apex, 'CSYNC'), 'CSYNC')).toEqual([]);
    });

    test('a write over the per-domain limit gets 429 and changes nothing on the wire', async () => {
      const name = `fake-lab-throttle.${ZONE}.`;
      const limits = { ...DESEC_RATE_LIMITS, perDomainWrite: [{ limit: 3, periodSeconds: 60 }] };
      await desec.admin('POST', '/_fake/rate-limits', { perDomainWrite: limits.perDomainWrite });
      const since = new Date().toISOString();
      const write = (text: string) =>
        desec.call('PUT', `${DOMAIN}rrsets/`, [
          { subname: 'fake-lab-throttle', type: 'TXT', ttl: 3600, records: [`"${text}"`] },
        ]);
      try {
        for (const text of ['one', 'two', 'three']) expect((await write(text)).status).toBe(200);
        const throttled = await write('four');
        expect(throttled.status).toBe(429);
        expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(dataOf(await dig(desec.backend, name, 'TXT'), 'TXT')).toEqual(['"three"']);
        const records = await desec.requestsSince(since);
        expect(records.filter((record) => record.status === 429)).toHaveLength(1);
        expect(verifyRequestLog(records, limits)).toEqual([]);
      } finally {
        await desec.admin('POST', '/_fake/rate-limits', {
          perDomainWrite: [{ limit: 100, periodSeconds: 1 }],
        });
        await desec.call('DELETE', `${DOMAIN}rrsets/fake-lab-throttle/TXT/`);
      }
      expect(await dig(desec.backend, name, 'TXT')).toEqual([]);
    });

    test('an injected 500 changes nothing on the wire', async () => {
      const name = `fake-lab-fault.${ZONE}.`;
      await desec.admin('POST', '/_fake/faults', {
        match: { method: 'PATCH' },
        status: 500,
        times: 1,
      });
      const refused = await desec.call('PATCH', `${DOMAIN}rrsets/`, [
        { subname: 'fake-lab-fault', type: 'A', ttl: 3600, records: ['192.0.2.55'] },
      ]);
      expect(refused).toMatchObject({
        status: 500,
        json: { detail: "Internal Server Error. We're on it!" },
      });
      expect(await dig(desec.backend, name, 'A')).toEqual([]);
    });
  },
);
