import { afterEach, describe, expect, test } from 'vitest';
import { verifyRequestLog, DESEC_RATE_LIMITS, type DesecRateLimits } from '../../src/index.js';
import { BACKEND_KSK, FOREIGN_KSK, startTestFake, type TestFake } from './helpers.js';

const BASE = '/api/v1/domains/example.test';
let fake: TestFake | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(options: Parameters<typeof startTestFake>[1] = {}): Promise<TestFake> {
  fake = await startTestFake('desec', options);
  return fake;
}

describe('deSEC authentication', () => {
  test('missing header, wrong token, expired and revoked tokens get 401 and change nothing', async () => {
    const api = await start();
    const missing = await api.call('GET', '/api/v1/domains/', undefined, { auth: false });
    expect(missing.status).toBe(401);
    expect(missing.json).toEqual({ detail: 'Authentication credentials were not provided.' });
    expect(missing.headers.get('www-authenticate')).toBe('Token');
    const bearer = await api.call('GET', '/api/v1/domains/', undefined, {
      auth: false,
      headers: { Authorization: `Bearer ${api.token}` },
    });
    expect(bearer.json).toEqual({ detail: 'Authentication credentials were not provided.' });
    const wrong = await api.call('GET', '/api/v1/domains/', undefined, {
      auth: false,
      headers: { Authorization: 'Token nope' },
    });
    expect(wrong).toMatchObject({ status: 401, json: { detail: 'Invalid token.' } });
    for (const state of ['expired', 'revoked']) {
      expect((await api.admin('POST', '/_fake/token', { state })).status).toBe(200);
      const write = await api.call('PATCH', `${BASE}/rrsets/`, [
        { subname: 'x', type: 'A', ttl: 3600, records: ['192.0.2.9'] },
      ]);
      expect(write).toMatchObject({ status: 401, json: { detail: 'Invalid token.' } });
    }
    expect(api.standIn.patches).toEqual([]);
    await api.admin('POST', '/_fake/token', { state: 'valid' });
    expect((await api.call('GET', '/api/v1/domains/')).status).toBe(200);
  });

  test('admin endpoints need X-Fake-Admin; health does not', async () => {
    const api = await start();
    const health = await fetch(`${api.url}/_fake/health`);
    expect(await health.json()).toEqual({ ok: true, provider: 'desec' });
    const refused = await fetch(`${api.url}/_fake/requests`);
    expect(refused.status).toBe(401);
    const wrong = await fetch(`${api.url}/_fake/faults`, {
      method: 'DELETE',
      headers: { 'X-Fake-Admin': api.token },
    });
    expect(wrong.status).toBe(401);
  });
});

describe('deSEC domains', () => {
  // DS values of FOREIGN_KSK at provider.test as the real PowerDNS computed them.
  test('list without keys, owns_qname, detail with managed and unmanaged keys', async () => {
    const api = await start({
      minimumTtl: 300,
      zones: (standIn) => {
        standIn.addZone('provider.test.', [
          {
            name: 'provider.test.',
            type: 'DNSKEY',
            ttl: 3600,
            records: [
              { content: FOREIGN_KSK, disabled: false },
              { content: '256 3 13 AQID', disabled: false },
            ],
          },
        ]);
        standIn.addZone('sub.provider.test.');
      },
    });
    const list = await api.call('GET', '/api/v1/domains/');
    expect(list.status).toBe(200);
    const names = (list.json as { name: string; keys?: unknown; minimum_ttl: number }[]).map(
      (domain) => {
        expect(domain.keys).toBeUndefined();
        expect(domain.minimum_ttl).toBe(300);
        return domain.name;
      },
    );
    expect(names.sort()).toEqual(['provider.test', 'sub.provider.test']);
    const owner = await api.call('GET', '/api/v1/domains/?owns_qname=www.sub.provider.test');
    expect((owner.json as { name: string }[]).map((domain) => domain.name)).toEqual([
      'sub.provider.test',
    ]);
    expect((await api.call('GET', '/api/v1/domains/?owns_qname=other.test')).json).toEqual([]);

    const detail = await api.call('GET', '/api/v1/domains/provider.test/');
    const keys = (detail.json as { keys: unknown[] }).keys;
    expect(keys).toEqual([
      {
        dnskey: BACKEND_KSK.dnskey,
        ds: [BACKEND_KSK.ds?.[1], BACKEND_KSK.ds?.[2]],
        flags: 257,
        keytype: 'csk',
        managed: true,
      },
      { dnskey: '256 3 13 AQID', ds: [], flags: 256, keytype: null, managed: false },
      {
        dnskey: FOREIGN_KSK,
        ds: [
          '29052 13 2 73deb303c5930c4ed91193aaf1b263214554538456e19309e9b9ed15943cb3d2',
          '29052 13 4 9404e3cfe34b44f2ed3c863a5c052ae60c780cb10aa8ab55f3af68d9d18471e06f48e38649318e03026fb47764d2a357',
        ],
        flags: 257,
        keytype: null,
        managed: false,
      },
    ]);
    expect((await api.call('GET', '/api/v1/domains/nope.test/')).json).toEqual({
      detail: 'Not found.',
    });
  });
});

describe('deSEC RRsets', () => {
  test('a bulk PATCH is ONE backend PATCH and returns canonical records', async () => {
    const api = await start();
    const response = await api.call('PATCH', `${BASE}/rrsets/`, [
      { subname: '', type: 'CSYNC', ttl: 3600, records: ['066 03  NS  AAAA A'] },
      { subname: '', type: 'DNSKEY', ttl: 3600, records: [FOREIGN_KSK.replace('257', '0257')] },
      {
        subname: '',
        type: 'CDS',
        ttl: 3600,
        records: ['29052 13 2 73DEB303C5930C4ED91193AAF1B263214554538456E19309E9B9ED15 943CB3D2'],
      },
      { subname: 'nothing', type: 'A', records: [] },
    ]);
    expect(response.status).toBe(200);
    expect((response.json as { records: string[] }[]).map((rrset) => rrset.records)).toEqual([
      ['66 3 A NS AAAA'],
      [FOREIGN_KSK],
      ['29052 13 2 73deb303c5930c4ed91193aaf1b263214554538456e19309e9b9ed15943cb3d2'],
    ]);
    expect(api.standIn.patches).toHaveLength(1);
    expect(api.standIn.rrset('example.test.', 'example.test.', 'CSYNC')?.records).toEqual([
      { content: '66 3 A NS AAAA', disabled: false },
    ]);
    // GET of DNSKEY returns only the user's records (the backend's own key is a cryptokey)
    const dnskeys = await api.call('GET', `${BASE}/rrsets/?type=DNSKEY`);
    expect((dnskeys.json as { records: string[] }[]).map((rrset) => rrset.records)).toEqual([
      [FOREIGN_KSK],
    ]);
  });

  test('a bulk request with one bad item writes nothing and answers the aligned list', async () => {
    const api = await start();
    const response = await api.call('PUT', `${BASE}/rrsets/`, [
      { subname: 'a', type: 'A', ttl: 3600, records: ['192.0.2.1'] },
      { subname: 'b', type: 'A', ttl: 100, records: ['192.0.2.2'] },
    ]);
    expect(response).toMatchObject({
      status: 400,
      json: [{}, { ttl: ['Ensure this value is greater than or equal to 3600.'] }],
    });
    expect(api.standIn.patches).toEqual([]);
    const notList = await api.call('PATCH', `${BASE}/rrsets/`, { subname: 'a', type: 'A' });
    expect(notList).toMatchObject({
      status: 400,
      json: { non_field_errors: ['Expected a list of items but got dict.'] },
    });
  });

  test('single RRset routes: POST 201, @ and ... forms, PATCH, records [] → 204, DELETE 204', async () => {
    const api = await start();
    const created = await api.call('POST', `${BASE}/rrsets/`, {
      subname: 'www',
      type: 'A',
      ttl: 3600,
      records: ['192.0.2.7'],
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      domain: 'example.test',
      subname: 'www',
      name: 'www.example.test.',
      type: 'A',
    });
    const again = await api.call('POST', `${BASE}/rrsets/`, {
      subname: 'www',
      type: 'A',
      ttl: 3600,
      records: ['192.0.2.7'],
    });
    expect(again.status).toBe(400);
    expect((await api.call('GET', `${BASE}/rrsets/www.../A/`)).status).toBe(200);
    expect((await api.call('GET', `${BASE}/rrsets/@/NS/`)).json).toMatchObject({
      subname: '',
      type: 'NS',
    });
    expect((await api.call('GET', `${BASE}/rrsets/.../NS/`)).status).toBe(200);
    expect((await api.call('GET', `${BASE}/rrsets/nope/A/`)).json).toEqual({
      detail: 'Not found.',
    });
    const patched = await api.call('PATCH', `${BASE}/rrsets/www/A/`, { ttl: 7200 });
    expect(patched.json).toMatchObject({ ttl: 7200, records: ['192.0.2.7'] });
    expect(
      (await api.call('PUT', `${BASE}/rrsets/nope/A/`, { ttl: 3600, records: ['192.0.2.1'] }))
        .status,
    ).toBe(404);
    const emptied = await api.call('PATCH', `${BASE}/rrsets/www/A/`, { records: [] });
    expect(emptied.status).toBe(204);
    expect(api.standIn.rrset('example.test.', 'www.example.test.', 'A')).toBeUndefined();
    expect((await api.call('DELETE', `${BASE}/rrsets/www/A/`)).status).toBe(204);
  });

  test('automatic types: 403 on filters and detail routes', async () => {
    const api = await start();
    expect(await api.call('GET', `${BASE}/rrsets/?type=SOA`)).toMatchObject({
      status: 403,
      json: { detail: 'You cannot tinker with the SOA RRset.' },
    });
    expect((await api.call('GET', `${BASE}/rrsets/@/RRSIG/`)).status).toBe(403);
    const list = await api.call('GET', `${BASE}/rrsets/?subname=`);
    expect((list.json as { type: string }[]).map((rrset) => rrset.type)).toEqual(['NS']);
  });

  test('pagination over the RRset list', async () => {
    const api = await start({
      desecPageSize: 2,
      zones: (standIn) =>
        standIn.addZone(
          'example.test.',
          ['a', 'b', 'c'].map((label) => ({
            name: `${label}.example.test.`,
            type: 'A',
            ttl: 3600,
            records: [{ content: '192.0.2.1', disabled: false }],
          })),
        ),
    });
    const refused = await api.call('GET', `${BASE}/rrsets/`);
    expect(refused.status).toBe(400);
    expect(refused.headers.get('link')).toMatch(
      /^<http:\/\/127\.0\.0\.1:\d+\/api\/v1\/domains\/example\.test\/rrsets\/\?cursor=>; rel="first"$/,
    );
    const first = await api.call('GET', `${BASE}/rrsets/?cursor=`);
    expect(first.json).toHaveLength(2);
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.get('link') ?? '')?.[1] ?? '';
    const second = await api.call('GET', new URL(next).pathname + new URL(next).search);
    expect(second.json).toHaveLength(2);
    expect(second.headers.get('link')).not.toContain('rel="next"');
  });

  test('every page is a read: a throttled page gets 429 with Retry-After', async () => {
    const api = await start({
      desecPageSize: 1,
      rateLimits: { read: [{ limit: 2, periodSeconds: 60 }] },
      zones: (standIn) =>
        standIn.addZone('example.test.', [
          {
            name: 'a.example.test.',
            type: 'CAA',
            ttl: 3600,
            records: [{ content: '0  issue   "ca.test"', disabled: false }],
          },
        ]),
    });
    const first = await api.call('GET', `${BASE}/rrsets/?cursor=`);
    expect(first.json).toHaveLength(1);
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.get('link') ?? '')?.[1] ?? '';
    const second = await api.call('GET', new URL(next).pathname + new URL(next).search);
    expect(second.json).toEqual([
      expect.objectContaining({ subname: 'a', type: 'CAA', records: ['0 issue "ca.test"'] }),
    ]);
    expect(second.headers.get('link')).not.toContain('rel="next"');
    const throttled = await api.call('GET', `${BASE}/rrsets/?cursor=`);
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await api.call('GET', `${BASE}/rrsets/?cursor=bm9wZQ`)).toMatchObject({
      status: 429,
    });
  });

  test('an invalid cursor is 404 "Invalid cursor"', async () => {
    const api = await start();
    expect(await api.call('GET', `${BASE}/rrsets/?cursor=bm9wZQ`)).toMatchObject({
      status: 404,
      json: { detail: 'Invalid cursor' },
    });
  });

  test('oversized bodies get 413; a backend refusal gets 500 with deSEC body', async () => {
    const api = await start();
    const huge = await api.call('PATCH', `${BASE}/rrsets/`, undefined, {
      rawBody: JSON.stringify([
        { subname: 't', type: 'TXT', ttl: 3600, records: ['"' + 'x'.repeat(64_000) + '"'] },
      ]),
    });
    expect(huge).toMatchObject({ status: 413, json: { detail: 'Payload too large.' } });
    api.standIn.refusePatchStatus = 422;
    const refused = await api.call('PATCH', `${BASE}/rrsets/`, [
      { subname: 'x', type: 'A', ttl: 3600, records: ['192.0.2.1'] },
    ]);
    expect(refused).toMatchObject({
      status: 500,
      json: { detail: "Internal Server Error. We're on it!" },
    });
  });
});

describe('deSEC rate limits', () => {
  const limits: Partial<DesecRateLimits> = {
    perDomainWrite: [{ limit: 15, periodSeconds: 60 }],
  };

  test('the 16th write in a minute gets 429 with Retry-After and changes nothing', async () => {
    const api = await start({ rateLimits: limits });
    for (let index = 0; index < 15; index++) {
      const response = await api.call('PATCH', `${BASE}/rrsets/`, [
        { subname: `w${index}`, type: 'A', ttl: 3600, records: ['192.0.2.1'] },
      ]);
      expect(response.status).toBe(200);
    }
    const throttled = await api.call('PATCH', `${BASE}/rrsets/`, [
      { subname: 'w15', type: 'A', ttl: 3600, records: ['192.0.2.1'] },
    ]);
    expect(throttled.status).toBe(429);
    const retryAfter = Number(throttled.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(50);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(throttled.json).toEqual({
      detail: `Request was throttled. Expected available in ${retryAfter} seconds.`,
    });
    expect(api.standIn.patches).toHaveLength(15);
    expect(api.standIn.rrset('example.test.', 'w15.example.test.', 'A')).toBeUndefined();
    // writes to another domain and reads are counted apart
    expect((await api.call('GET', `${BASE}/rrsets/`)).status).toBe(200);
    const log = await api.requestLog();
    expect(log.filter((record) => record.status === 429)).toHaveLength(1);
    expect(log[0]).toMatchObject({
      method: 'PATCH',
      rateClass: 'perDomainWrite',
      domain: 'example.test',
    });
    expect(verifyRequestLog(log, { ...DESEC_RATE_LIMITS, ...limits })).toEqual([]);
    // negative control: the same log checked against a lower limit shows the windows
    expect(
      verifyRequestLog(log, {
        ...DESEC_RATE_LIMITS,
        perDomainWrite: [{ limit: 14, periodSeconds: 60 }],
      }),
    ).toHaveLength(1);
  });

  test('reads are throttled per account; the admin endpoint resets and lowers limits', async () => {
    const api = await start();
    const effective = await api.admin('POST', '/_fake/rate-limits', {
      read: [{ limit: 2, periodSeconds: 60 }],
    });
    expect(effective.json).toMatchObject({ read: [{ limit: 2, periodSeconds: 60 }] });
    expect((await api.call('GET', `${BASE}/`)).status).toBe(200);
    expect((await api.call('GET', '/api/v1/domains/')).status).toBe(200);
    expect((await api.call('GET', `${BASE}/rrsets/`)).status).toBe(429);
    const requests = await api.admin('GET', '/_fake/requests');
    expect((requests.json as { rateClass: string }[]).map((record) => record.rateClass)).toEqual([
      'read',
      'read',
      'read',
    ]);
  });
});

describe('deSEC faults', () => {
  test('injected 500 for `times` requests, then normal; nothing written meanwhile', async () => {
    const api = await start();
    await api.admin('POST', '/_fake/faults', {
      match: { method: 'PATCH', pathPrefix: BASE },
      status: 500,
      times: 1,
    });
    const write = [{ subname: 'f', type: 'A', ttl: 3600, records: ['192.0.2.1'] }];
    expect(await api.call('PATCH', `${BASE}/rrsets/`, write)).toMatchObject({
      status: 500,
      json: { detail: "Internal Server Error. We're on it!" },
    });
    expect(api.standIn.patches).toEqual([]);
    expect((await api.call('PATCH', `${BASE}/rrsets/`, write)).status).toBe(200);
  });

  test('dropFields removes fields from the answer', async () => {
    const api = await start();
    await api.admin('POST', '/_fake/faults', {
      match: { pathPrefix: BASE },
      dropFields: ['keys.ds', 'minimum_ttl'],
    });
    const detail = (await api.call('GET', `${BASE}/`)).json as Record<string, unknown>;
    expect(detail.minimum_ttl).toBeUndefined();
    expect((detail.keys as Record<string, unknown>[])[0]).not.toHaveProperty('ds');
    await api.admin('DELETE', '/_fake/faults');
    expect(((await api.call('GET', `${BASE}/`)).json as Record<string, unknown>).minimum_ttl).toBe(
      3600,
    );
  });

  test('a client that gives up during a delay changes nothing', async () => {
    const api = await start();
    await api.admin('POST', '/_fake/faults', { match: { method: 'PATCH' }, delayMs: 1500 });
    const aborted = fetch(`${api.url}${BASE}/rrsets/`, {
      method: 'PATCH',
      headers: { Authorization: `Token ${api.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify([{ subname: 'slow', type: 'A', ttl: 3600, records: ['192.0.2.1'] }]),
      signal: AbortSignal.timeout(200),
    });
    await expect(aborted).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 1700));
    expect(api.standIn.patches).toEqual([]);
    const log = await api.requestLog();
    expect(log.at(-1)).toMatchObject({ method: 'PATCH', status: 499 });
  });
});
