/**
 * readZoneContent: the zone's records list page by page (paced), the SOA and unreadable records
 * on the wire, and the pure parts behind it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AbortError, ApiCallError, DnsWireError, type DnsRecord } from '@chorus/core';
import { zoneContentDigest } from '@chorus/dns';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { listedContent } from '../../src/content.js';
import { createNs1Signer } from '../../src/index.js';
import { nextLink, parseZoneRecords, type Ns1ZoneRecord } from '../../src/responses.js';
import { API_KEY, startFakeNs1, type FakeNs1, type FakeNs1State } from './fake-ns1.js';
import { startFakeNameserver, type FakeNameserver } from './fake-nameserver.js';

const ZONE = 'example.test.';
const CAA_RDATA = '00056973737565736F6D652E74657374'; // 0 issue "some.test" in wire form
// RP (no presentation parser): hostmaster.example.test. txt.example.test. as served.
const RP_RDATA =
  '0A686F73746D6173746572076578616D706C6504746573740003747874076578616D706C65047465737400';

let directory: string;
let keyFile: string;
let fake: FakeNs1 | undefined;
let nameserver: FakeNameserver | undefined;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'chorus-ns1-content-'));
  keyFile = path.join(directory, 'ns1.key');
  await writeFile(keyFile, `${API_KEY}\n`, { mode: 0o600 });
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

afterEach(async () => {
  await fake?.close();
  await nameserver?.close();
  fake = undefined;
  nameserver = undefined;
});

const entry = (domain: string, type: string, shortAnswers: string[], link?: string) => ({
  domain,
  type,
  ttl: 3600,
  tier: 1,
  short_answers: shortAnswers,
  id: `${domain}/${type}`,
  link: link ?? null,
});

const ZONE_RECORDS = [
  entry('example.test', 'NS', ['dns1.p01.nsone.net', 'dns2.p01.nsone.net']),
  entry('example.test', 'MX', ['10 mail.example.test']),
  entry('example.test', 'DNSKEY', ['257 3 13 AQID']),
  entry('example.test', 'RRSIG', ['opaque']),
  entry('www.example.test', 'A', ['192.0.2.80']),
  entry('txt.example.test', 'TXT', ['Chorus lab zone example.test']),
  entry('caa.example.test', 'CAA', ['0 issue some.test']),
  entry('rp.example.test', 'RP', ['hostmaster.example.test txt.example.test']),
];

const SERVED: DnsRecord[] = [
  {
    name: ZONE,
    type: 'SOA',
    class: 'IN',
    ttl: 3600,
    data: {
      mname: 'dns1.p01.nsone.net.',
      rname: 'hostmaster.nsone.net.',
      serial: 7,
      refresh: 43200,
      retry: 7200,
      expire: 1209600,
      minimum: 3600,
    },
  },
  // No CAA: it is parsed from its short answer, never read on the wire.
  { name: `rp.${ZONE}`, type: 'RP', class: 'IN', ttl: 3600, data: { rdata: RP_RDATA } },
];

async function start(state: Partial<FakeNs1State> = {}) {
  fake = await startFakeNs1({ zoneRecords: ZONE_RECORDS, ...state });
  nameserver = await startFakeNameserver(SERVED);
  return createNs1Signer({
    id: 'ns1-unit',
    server: nameserver.server,
    api: { url: fake.url, apiKeyFile: keyFile },
    requestTimeoutMs: 2000,
  });
}

describe('parsing', () => {
  test('a zone records list; short_answers may be absent (linked records)', () => {
    expect(
      parseZoneRecords({
        records: [
          { domain: 'a.example.test', type: 'a', ttl: 60, short_answers: ['192.0.2.1', 7] },
          { domain: 'b.example.test', type: 'A', ttl: 60, link: 'a.example.test' },
        ],
      }),
    ).toEqual([
      {
        domain: 'a.example.test',
        type: 'A',
        ttl: 60,
        shortAnswers: ['192.0.2.1', '7'],
        link: null,
      },
      { domain: 'b.example.test', type: 'A', ttl: 60, shortAnswers: [], link: 'a.example.test' },
    ]);
    expect(() => parseZoneRecords({ zone: 'example.test' })).toThrow(TypeError);
    expect(() => parseZoneRecords({ records: [{ domain: 'x', type: 'A' }] })).toThrow(TypeError);
  });

  test('the next link of a Link header', () => {
    expect(nextLink('<https://api.nsone.net/v1/zones/x?page=2>; rel="next"')).toBe(
      'https://api.nsone.net/v1/zones/x?page=2',
    );
    expect(nextLink('<https://api.nsone.net/v1/zones/x>; rel="prev"')).toBeUndefined();
    expect(nextLink(null)).toBeUndefined();
  });

  test('content: names made absolute, a TXT answer is one string, DNSSEC types and SOA left out', () => {
    const list: Ns1ZoneRecord[] = [
      ...parseZoneRecords({ records: ZONE_RECORDS }),
      { domain: 'example.test', type: 'SOA', ttl: 1, shortAnswers: ['a b 1 2 3 4 5'], link: null },
      { domain: 'l.example.test', type: 'A', ttl: 60, shortAnswers: [], link: 'www.example.test' },
      {
        domain: '_443._tcp.example.test',
        type: 'TLSA',
        ttl: 60,
        shortAnswers: ['3 1 1 00'],
        link: null,
      },
      {
        domain: 't.example.test',
        type: 'TXT',
        ttl: 60,
        shortAnswers: ['x'.repeat(256)],
        link: null,
      },
    ];
    const content = listedContent(list);
    expect(content.records.map((record) => [record.name, record.type, record.data])).toEqual([
      ['example.test.', 'NS', 'dns1.p01.nsone.net.'],
      ['example.test.', 'NS', 'dns2.p01.nsone.net.'],
      ['example.test.', 'MX', { preference: 10, exchange: 'mail.example.test.' }],
      ['www.example.test.', 'A', '192.0.2.80'],
      ['txt.example.test.', 'TXT', ['Chorus lab zone example.test']],
      // CAA and TLSA parse into the opaque rdata that wire decoding gives.
      ['caa.example.test.', 'CAA', { rdata: CAA_RDATA }],
      ['_443._tcp.example.test.', 'TLSA', { rdata: '03010100' }],
    ]);
    expect(content.unparsed).toEqual([
      { owner: 'rp.example.test.', type: 'RP' },
      { owner: 'l.example.test.', type: 'A' },
      { owner: 't.example.test.', type: 'TXT' },
    ]);
  });
});

describe('readZoneContent', () => {
  test('every page of the records list, the SOA and an RP from the wire', async () => {
    const signer = await start({ recordPageSize: 3 });
    const records = await signer.readZoneContent(ZONE, {});
    expect(fake!.server.requests.map((request) => `${request.path}${request.query}`)).toEqual([
      '/v1/zones/example.test',
      '/v1/zones/example.test?page=1',
      '/v1/zones/example.test?page=2',
    ]);
    expect(records.map((record) => `${record.name} ${record.type}`)).toEqual([
      'example.test. SOA',
      'example.test. NS',
      'example.test. NS',
      'example.test. MX',
      'www.example.test. A',
      'txt.example.test. TXT',
      'caa.example.test. CAA',
      'rp.example.test. RP',
    ]);
    expect(records.at(-2)!.data).toEqual({ rdata: CAA_RDATA });
    expect(records.at(-1)!.data).toEqual({ rdata: RP_RDATA });
    expect(zoneContentDigest(ZONE, records)).toMatchObject({ serial: 7, rrsets: 5, records: 5 });
  });

  test('pages are paced by the rate-limit headers', async () => {
    const signer = await start({
      recordPageSize: 4,
      rate: { limit: 10, remaining: 2, period: 2 },
    });
    const started = Date.now();
    await signer.readZoneContent(ZONE, {});
    expect(fake!.times).toHaveLength(2);
    expect(fake!.times[1]! - started).toBeGreaterThanOrEqual(190);
  });

  test('a next link to another host is refused without following it', async () => {
    const signer = await start();
    fake!.state.override = {
      body: { zone: 'example.test', records: [] },
      headers: { Link: '<http://192.0.2.1/v1/zones/example.test?page=1>; rel="next"' },
    };
    const error = await signer.readZoneContent(ZONE, {}).catch((caught: unknown) => caught);
    expect(ApiCallError.isInstance(error)).toBe(true);
    expect((error as ApiCallError).responseBody).toContain('next links under the API URL');
    expect(fake!.server.requests).toHaveLength(1);
  });

  test('a record of a type DNS does not know is a non-retryable DnsWireError naming it', async () => {
    const signer = await start({
      zoneRecords: [entry('example.test', 'ALIAS', ['target.example.net'])],
    });
    const error = await signer.readZoneContent(ZONE, {}).catch((caught: unknown) => caught);
    expect(DnsWireError.isInstance(error)).toBe(true);
    expect((error as DnsWireError).isRetryable).toBe(false);
    expect((error as Error).message).toContain('example.test. ALIAS');
  });

  test('an aborted signal rejects with AbortError before any request', async () => {
    const signer = await start();
    const error = await signer
      .readZoneContent(ZONE, { signal: AbortSignal.abort() })
      .catch((caught: unknown) => caught);
    expect(AbortError.isInstance(error)).toBe(true);
    expect(fake!.server.requests).toHaveLength(0);
  });
});
