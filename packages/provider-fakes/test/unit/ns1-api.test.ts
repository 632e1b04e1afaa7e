import { afterEach, describe, expect, test } from 'vitest';
import { verifyRequestLog, NS1_RATE_LIMITS } from '../../src/index.js';
import {
  BACKEND_KSK,
  FOREIGN_KSK,
  startTestFake,
  type StandInKey,
  type TestFake,
} from './helpers.js';

const ZONE = '/v1/zones/example.test';
const ZSK: StandInKey = {
  id: 2,
  keytype: 'zsk',
  active: true,
  published: true,
  dnskey: '256 3 13 AQIDBA==',
};
let fake: TestFake | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(options: Parameters<typeof startTestFake>[1] = {}): Promise<TestFake> {
  fake = await startTestFake('ns1', {
    zones: (standIn) =>
      standIn.addZone('example.test.', [], [{ ...BACKEND_KSK, keytype: 'ksk' }, ZSK]),
    ...options,
  });
  return fake;
}

function record(type: string, answers: unknown[], extra: Record<string, unknown> = {}) {
  return {
    zone: 'example.test',
    domain: 'example.test',
    type,
    ttl: 300,
    answers,
    filters: [],
    meta: {},
    ...extra,
  };
}

describe('NS1 authentication and rate limits', () => {
  test('a bad key gets 401 with the rate headers and changes nothing', async () => {
    const api = await start();
    const refused = await api.call('PUT', `${ZONE}/example.test/CDS`, record('CDS', []), {
      auth: false,
      headers: { 'X-NSONE-Key': 'wrong' },
    });
    expect(refused).toMatchObject({ status: 401, json: { message: 'Authentication failed' } });
    expect(refused.headers.get('x-ratelimit-limit')).not.toBeNull();
    expect(api.standIn.patches).toEqual([]);
  });

  test('token buckets per class, headers on every response, 429 when empty', async () => {
    const limits = {
      read: { limit: 3, periodSeconds: 300 },
      write: { limit: 1, periodSeconds: 300 },
    };
    const api = await start({ rateLimits: limits });
    const remaining: string[] = [];
    for (let index = 0; index < 3; index++) {
      const response = await api.call('GET', ZONE);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-ratelimit-limit')).toBe('3');
      expect(response.headers.get('x-ratelimit-period')).toBe('300');
      remaining.push(response.headers.get('x-ratelimit-remaining') ?? '');
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const empty = await api.call('GET', ZONE);
    expect(empty).toMatchObject({ status: 429, json: { message: 'rate limit exceeded' } });
    expect(empty.headers.get('x-ratelimit-remaining')).toBe('0');
    // writes have their own bucket: one write, then 429 and nothing written
    expect(
      (
        await api.call(
          'PUT',
          `${ZONE}/a.example.test/A`,
          record('A', [{ answer: ['192.0.2.1'] }], { domain: 'a.example.test' }),
        )
      ).status,
    ).toBe(200);
    const second = await api.call(
      'PUT',
      `${ZONE}/b.example.test/A`,
      record('A', [{ answer: ['192.0.2.2'] }], { domain: 'b.example.test' }),
    );
    expect(second.status).toBe(429);
    expect(api.standIn.patches).toHaveLength(1);
    const log = await api.requestLog();
    expect(verifyRequestLog(log, limits)).toEqual([]);
    expect(
      verifyRequestLog(log, {
        ...NS1_RATE_LIMITS,
        read: { limit: 2, periodSeconds: 300 },
        write: limits.write,
      }),
    ).not.toEqual([]);
  });
});

describe('NS1 zones and records', () => {
  test('zone object with records summary; ?records=false omits them; unknown zone 404', async () => {
    const api = await start();
    const zone = await api.call('GET', ZONE);
    expect(zone.json).toMatchObject({
      zone: 'example.test',
      dnssec: true,
      serial: 1,
      dns_servers: ['ns1.example.test'],
    });
    expect((zone.json as { records: unknown[] }).records).toContainEqual(
      expect.objectContaining({
        domain: 'example.test',
        type: 'NS',
        short_answers: ['ns1.example.test'],
        tier: 1,
      }),
    );
    expect((await api.call('GET', `${ZONE}?records=false`)).json).not.toHaveProperty('records');
    expect(await api.call('GET', '/v1/zones/nope.test')).toMatchObject({
      status: 404,
      json: { message: 'zone not found' },
    });
  });

  test('records beyond a page continue on the page Link rel="next" names; each page is paced', async () => {
    const api = await start({
      ns1RecordPageSize: 2,
      rateLimits: { read: { limit: 4, periodSeconds: 300 } },
      zones: (standIn) =>
        standIn.addZone(
          'example.test.',
          ['a', 'b'].map((label) => ({
            name: `${label}.example.test.`,
            type: 'A',
            ttl: 300,
            records: [{ content: '192.0.2.1', disabled: false }],
          })),
          [{ ...BACKEND_KSK, keytype: 'ksk' }, ZSK],
        ),
    });
    const domains: string[] = [];
    const remaining: string[] = [];
    let path: string | undefined = ZONE;
    while (path !== undefined) {
      const page = await api.call('GET', path);
      expect(page.json).toMatchObject({ zone: 'example.test', serial: 1 });
      for (const entry of (page.json as { records: { domain: string; type: string }[] }).records)
        domains.push(`${entry.domain} ${entry.type}`);
      remaining.push(page.headers.get('x-ratelimit-remaining') ?? '');
      const next = /^<([^>]+)>; rel="next"$/.exec(page.headers.get('link') ?? '')?.[1];
      if (next !== undefined) expect(next).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/zones\//);
      path = next === undefined ? undefined : new URL(next).pathname + new URL(next).search;
    }
    expect(domains).toEqual([
      'example.test DNSKEY',
      'example.test NS',
      'a.example.test A',
      'b.example.test A',
    ]);
    expect(remaining).toEqual(['3', '2']);
    expect((await api.call('GET', `${ZONE}?records=false`)).headers.get('link')).toBeNull();
    expect(await api.call('GET', `${ZONE}?after=bm9wZQ`)).toMatchObject({ status: 400 });
    expect((await api.call('GET', ZONE)).status).toBe(429);
  });

  test('the records list shows the apex DNSKEY NS1 serves: own keys and external keys', async () => {
    const api = await start();
    const [flags, protocol, algorithm, publicKey] = FOREIGN_KSK.split(' ');
    const put = await api.call('PUT', `${ZONE}/dnssec/external_keys/chorus`, {
      dnskey: { ttl: 3600, data: [{ flags, protocol, algorithm, public_key: publicKey }] },
    });
    expect(put.status).toBe(200);
    const zone = await api.call('GET', ZONE);
    const dnskeys = (zone.json as { records: { type: string; short_answers: string[] }[] }).records
      .filter((entry) => entry.type === 'DNSKEY')
      .map((entry) => entry.short_answers);
    expect(dnskeys).toEqual([[BACKEND_KSK.dnskey, ZSK.dnskey, FOREIGN_KSK]]);
    await api.call('POST', ZONE, { zone: 'example.test', dnssec: false });
    const off = await api.call('GET', ZONE);
    expect(
      (off.json as { records: { type: string }[] }).records.map((entry) => entry.type),
    ).toEqual(['NS']);
  });

  test('PUT creates, PUT again 400, POST updates only what is sent, DELETE removes', async () => {
    const api = await start();
    const path = `${ZONE}/example.test/CDS`;
    const created = await api.call(
      'PUT',
      path,
      record(
        'CDS',
        [
          {
            answer: [
              22787,
              13,
              2,
              'C9D1A9EA10EAC51CBF4F6BE7EFC44EA74DDEFAC28FC951D78E0E45F3335C91C5',
            ],
          },
        ],
        { meta: { note: 'x' } },
      ),
    );
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({
      domain: 'example.test',
      type: 'CDS',
      ttl: 300,
      answers: [
        {
          answer: [
            '22787',
            '13',
            '2',
            'c9d1a9ea10eac51cbf4f6be7efc44ea74ddefac28fc951d78e0e45f3335c91c5',
          ],
        },
      ],
      meta: { note: 'x' },
      filters: [],
      tier: 1,
      use_client_subnet: true,
    });
    expect(api.standIn.rrset('example.test.', 'example.test.', 'CDS')).toMatchObject({ ttl: 300 });
    expect(
      await api.call('PUT', path, record('CDS', [{ answer: ['0', '0', '0', '00'] }])),
    ).toMatchObject({
      status: 400,
      json: { message: 'record already exists' },
    });
    const updated = await api.call('POST', path, { ttl: 600 });
    expect(updated.json).toMatchObject({
      ttl: 600,
      meta: { note: 'x' },
      answers: [{ answer: ['22787', '13', '2', expect.any(String)] }],
    });
    expect((await api.call('GET', path)).json).toMatchObject({ ttl: 600 });
    expect((await api.call('DELETE', path)).status).toBe(200);
    expect(await api.call('GET', path)).toMatchObject({
      status: 404,
      json: { message: 'record not found' },
    });
    expect(await api.call('POST', path, { ttl: 600 })).toMatchObject({ status: 404 });
  });

  test('CSYNC and NS answers are split and canonicalised', async () => {
    const api = await start();
    const csync = await api.call(
      'PUT',
      `${ZONE}/example.test/CSYNC`,
      record('CSYNC', [{ answer: [66, 3, 'NS AAAA A'] }]),
    );
    expect((csync.json as { answers: { answer: string[] }[] }).answers[0]?.answer).toEqual([
      '66',
      '3',
      'A NS AAAA',
    ]);
    const split = await api.call('POST', `${ZONE}/example.test/CSYNC`, {
      answers: [{ answer: ['1', '3', 'A', 'NS'] }],
    });
    expect((split.json as { answers: { answer: string[] }[] }).answers[0]?.answer).toEqual([
      '1',
      '3',
      'A NS',
    ]);
    const ns = await api.call(
      'PUT',
      `${ZONE}/sub.example.test/NS`,
      record('NS', [{ answer: ['ns.other.test'] }], { domain: 'sub.example.test' }),
    );
    expect((ns.json as { answers: { answer: string[] }[] }).answers[0]?.answer).toEqual([
      'ns.other.test',
    ]);
    expect(api.standIn.rrset('example.test.', 'sub.example.test.', 'NS')?.records[0]?.content).toBe(
      'ns.other.test.',
    );
  });

  test('DNSSEC record writes 405; filters not an array 400; nothing written', async () => {
    const api = await start();
    for (const type of ['DNSKEY', 'RRSIG', 'NSEC', 'NSEC3', 'NSEC3PARAM'])
      expect(
        await api.call('PUT', `${ZONE}/example.test/${type}`, record(type, [{ answer: ['x'] }])),
      ).toMatchObject({
        status: 405,
        json: { message: 'Operation on DNSSEC record is not allowed' },
      });
    expect(
      await api.call(
        'PUT',
        `${ZONE}/example.test/CDS`,
        record('CDS', [{ answer: ['0', '0', '0', '00'] }], { filters: null }),
      ),
    ).toMatchObject({
      status: 400,
      json: {
        message:
          "Input validation failed (Value None for field '<obj>.filters' is not of type array)",
      },
    });
    expect(api.standIn.patches).toEqual([]);
  });
});

describe('NS1 DNSSEC', () => {
  const keySet = {
    dnskey: {
      ttl: 3600,
      data: [{ flags: 257, protocol: 3, algorithm: 13, public_key: FOREIGN_KSK.split(' ')[3] }],
    },
  };

  test('GET /dnssec: own keys, KSK delegation with digest-2 DS', async () => {
    const api = await start();
    const dnssec = await api.call('GET', `${ZONE}/dnssec`);
    expect(dnssec.json).toEqual({
      zone: 'example.test.',
      keys: { dnskey: [BACKEND_KSK.dnskey.split(' '), ZSK.dnskey.split(' ')], ttl: 3600 },
      delegation: {
        dnskey: [BACKEND_KSK.dnskey.split(' ')],
        ds: [BACKEND_KSK.ds?.[1]?.split(' ')],
        ttl: 3600,
      },
    });
  });

  test('external key sets: create, conflict, algorithm check, union in the backend DNSKEY rrset, delete', async () => {
    const api = await start();
    const path = `${ZONE}/dnssec/external_keys/desec`;
    expect((await api.call('PUT', path, keySet)).status).toBe(200);
    expect((await api.call('PUT', path, keySet)).status).toBe(409);
    // the body without the dnskey envelope is accepted too
    const second = {
      ttl: 600,
      data: [{ flags: 256, protocol: 3, algorithm: 13, public_key: 'AQIDBAUG' }],
    };
    expect((await api.call('PUT', `${ZONE}/dnssec/external_keys/other`, second)).status).toBe(200);
    const bad = {
      dnskey: { ttl: 3600, data: [{ flags: 257, protocol: 3, algorithm: 8, public_key: 'AQID' }] },
    };
    expect(await api.call('POST', path, bad)).toMatchObject({
      status: 400,
      json: { message: 'only algorithm 13 (ECDSAP256SHA256) is supported' },
    });
    expect(api.standIn.rrset('example.test.', 'example.test.', 'DNSKEY')).toEqual({
      name: 'example.test.',
      type: 'DNSKEY',
      ttl: 600,
      records: [
        { content: '256 3 13 AQIDBAUG', disabled: false },
        { content: FOREIGN_KSK, disabled: false },
      ],
    });
    const list = await api.call('GET', `${ZONE}/dnssec/external_keys`);
    expect((list.json as { name: string }[]).map((set) => set.name)).toEqual(['desec', 'other']);
    expect((await api.call('DELETE', `${ZONE}/dnssec/external_keys/other`)).status).toBe(200);
    expect(api.standIn.rrset('example.test.', 'example.test.', 'DNSKEY')?.records).toHaveLength(1);
    expect((await api.call('DELETE', `${ZONE}/dnssec/external_keys/other`)).status).toBe(404);
  });

  test('DNSSEC off: keys inactive, key sets kept but not served, /dnssec 400; on restores', async () => {
    const api = await start();
    await api.call('PUT', `${ZONE}/dnssec/external_keys/desec`, keySet);
    const off = await api.call('POST', ZONE, { zone: 'example.test', dnssec: false });
    expect(off.json).toMatchObject({ dnssec: false });
    const keys = api.standIn.zones.get('example.test.')?.keys ?? [];
    expect(keys.map((key) => [key.active, key.published])).toEqual([
      [false, false],
      [false, false],
    ]);
    expect(api.standIn.rrset('example.test.', 'example.test.', 'DNSKEY')).toBeUndefined();
    expect(await api.call('GET', `${ZONE}/dnssec`)).toMatchObject({
      status: 400,
      json: { message: 'DNSSEC is not enabled on the zone' },
    });
    expect(((await api.call('GET', `${ZONE}/dnssec/external_keys`)).json as unknown[]).length).toBe(
      1,
    );
    const on = await api.call('POST', ZONE, { dnssec: true });
    expect(on.json).toMatchObject({ dnssec: true });
    expect(keys.map((key) => key.active)).toEqual([true, true]);
    expect(api.standIn.rrset('example.test.', 'example.test.', 'DNSKEY')?.records).toEqual([
      { content: FOREIGN_KSK, disabled: false },
    ]);
  });
});
