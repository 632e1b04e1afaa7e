/**
 * readZoneContent: the RRset list page by page, the SOA and unparsable RRsets on the wire, and
 * the pure parts behind it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AbortError, ApiCallError, DnsWireError, type DnsRecord } from '@chorus/core';
import { zoneContentDigest } from '@chorus/dns';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { nextCursor, parseRrsetList, type DesecRrset } from '../../src/api.js';
import { listedContent, ownerName } from '../../src/content.js';
import { createDesecSigner } from '../../src/index.js';
import { DEFAULT_NS, ZONE, startFakeDesec, type FakeDesec, type RrsetJson } from './fake-desec.js';
import { startFakeNameserver, type FakeNameserver } from './fake-nameserver.js';

const TOKEN = 'unit-desec-content-token-77c1';
const CAA_RDATA = '00056973737565736F6D652E74657374'; // 0 issue "some.test" in wire form
// RP (no presentation parser): hostmaster.conformance.test. txt.conformance.test. as served.
const RP_RDATA =
  '0A686F73746D61737465720B636F6E666F726D616E636504746573740003747874' +
  '0B636F6E666F726D616E6365047465737400';

let directory: string;
let tokenFile: string;
let fake: FakeDesec | undefined;
let nameserver: FakeNameserver | undefined;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'chorus-desec-content-'));
  tokenFile = path.join(directory, 'desec.token');
  await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
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

const RRSETS: RrsetJson[] = [
  DEFAULT_NS,
  { subname: '', type: 'MX', ttl: 3600, records: ['10 mail.conformance.test.'] },
  { subname: 'www', type: 'A', ttl: 3600, records: ['192.0.2.80'] },
  { subname: 'www', type: 'AAAA', ttl: 3600, records: ['2001:db8::80'] },
  { subname: 'txt', type: 'TXT', ttl: 3600, records: ['"Chorus lab zone"'] },
  { subname: '', type: 'DNSKEY', ttl: 3600, records: ['256 3 13 AQID'] },
];

async function start(options: { pageSize?: number; rrsets?: RrsetJson[] } = {}) {
  fake = await startFakeDesec({ token: TOKEN, rrsets: options.rrsets ?? RRSETS, ...options });
  const rp = {
    name: `rp.${ZONE}`,
    type: 'RP',
    class: 'IN',
    ttl: 3600,
    data: { rdata: RP_RDATA },
  } as DnsRecord;
  nameserver = await startFakeNameserver({ zone: ZONE, dnskeys: [], records: [rp] });
  return createDesecSigner(
    { id: 'desec-unit', api: { url: fake.url, tokenFile }, server: nameserver.server },
    { logger: pino({ level: 'silent' }) },
  );
}

describe('parsing', () => {
  test('an RRset list, types in upper case; anything else is refused', () => {
    expect(
      parseRrsetList([{ subname: 'www', type: 'a', ttl: 3600, records: ['192.0.2.1'] }]),
    ).toEqual([{ subname: 'www', type: 'A', ttl: 3600, records: ['192.0.2.1'] }]);
    expect(() => parseRrsetList({})).toThrow(TypeError);
    expect(() => parseRrsetList([{ subname: '', type: 'A', ttl: 1, records: [1] }])).toThrow(
      TypeError,
    );
  });

  test('the cursor of the next link, or none on the last page', () => {
    const first = '<https://desec.io/api/v1/domains/x.test/rrsets/?cursor=>; rel="first"';
    const next = '<https://desec.io/api/v1/domains/x.test/rrsets/?cursor=cD0y>; rel="next"';
    expect(nextCursor(`${first}, ${next}`)).toBe('cD0y');
    expect(nextCursor(first)).toBeUndefined();
    expect(nextCursor(null)).toBeUndefined();
    expect(() => nextCursor('<https://desec.io/x/>; rel="next"')).toThrow(TypeError);
  });

  test('content: absolute owners, no DNSSEC types, unparsable types left for the wire', () => {
    const rrsets: DesecRrset[] = [
      { subname: '', type: 'MX', ttl: 3600, records: ['10 mail.example.com.'] },
      { subname: 'a.b', type: 'TXT', ttl: 3600, records: ['"x y"', '"z"'] },
      { subname: '', type: 'DNSKEY', ttl: 3600, records: ['256 3 13 AQID'] },
      { subname: '', type: 'CSYNC', ttl: 3600, records: ['0 1 A'] },
      { subname: 'caa', type: 'CAA', ttl: 3600, records: ['0 issue "ca.test"'] },
      { subname: '_443._tcp', type: 'TLSA', ttl: 3600, records: ['3 1 1 00'] },
      { subname: 'rp', type: 'RP', ttl: 3600, records: ['hostmaster.example.com. .'] },
    ];
    const content = listedContent('example.com.', rrsets);
    expect(content.records).toEqual([
      {
        name: 'example.com.',
        type: 'MX',
        class: 'IN',
        ttl: 3600,
        data: { preference: 10, exchange: 'mail.example.com.' },
      },
      { name: 'a.b.example.com.', type: 'TXT', class: 'IN', ttl: 3600, data: ['x y'] },
      { name: 'a.b.example.com.', type: 'TXT', class: 'IN', ttl: 3600, data: ['z'] },
      // CAA and TLSA parse into the opaque rdata that wire decoding gives.
      {
        name: 'caa.example.com.',
        type: 'CAA',
        class: 'IN',
        ttl: 3600,
        data: { rdata: '0005697373756563612E74657374' },
      },
      {
        name: '_443._tcp.example.com.',
        type: 'TLSA',
        class: 'IN',
        ttl: 3600,
        data: { rdata: '03010100' },
      },
    ]);
    expect(content.unparsed).toEqual([{ owner: 'rp.example.com.', type: 'RP' }]);
    expect(ownerName('example.com.', '')).toBe('example.com.');
  });
});

describe('readZoneContent', () => {
  test('every page of the list, the SOA and an RP from the wire, no DNSSEC types', async () => {
    // The nameserver serves no CAA: read on the wire, it would fail (see the next test).
    const rrsets = [
      ...RRSETS,
      { subname: 'caa', type: 'CAA', ttl: 3600, records: ['0 issue "some.test"'] },
      {
        subname: 'rp',
        type: 'RP',
        ttl: 3600,
        records: ['hostmaster.conformance.test. txt.conformance.test.'],
      },
    ];
    const signer = await start({ pageSize: 2, rrsets });
    const records = await signer.readZoneContent(ZONE, {});
    const listRequests = fake!.requests.filter((request) => request.path.endsWith('/rrsets/'));
    expect(listRequests.map((request) => new URLSearchParams(request.query).get('cursor'))).toEqual(
      ['', '2', '4', '6'],
    );
    const summary = records.map((record) => `${record.name} ${record.type}`);
    expect(summary).toEqual([
      'conformance.test. SOA',
      'conformance.test. NS',
      'conformance.test. NS',
      'conformance.test. MX',
      'www.conformance.test. A',
      'www.conformance.test. AAAA',
      'txt.conformance.test. TXT',
      'caa.conformance.test. CAA',
      'rp.conformance.test. RP',
    ]);
    expect(records.at(-2)!.data).toEqual({ rdata: CAA_RDATA });
    expect(records.at(-1)!.data).toEqual({ rdata: RP_RDATA });
    expect(zoneContentDigest(ZONE, records)).toMatchObject({ serial: 1, rrsets: 6, records: 6 });
  });

  test('an RRset the server does not serve (yet) is a retryable DnsWireError', async () => {
    const signer = await start({
      rrsets: [...RRSETS, { subname: 'contact', type: 'RP', ttl: 3600, records: ['. .'] }],
    });
    const error = await signer.readZoneContent(ZONE, {}).catch((caught: unknown) => caught);
    expect(DnsWireError.isInstance(error)).toBe(true);
    expect((error as DnsWireError).isRetryable).toBe(true);
    expect((error as Error).message).toContain('contact.conformance.test. RP');
  });

  test('a next link that repeats is an unexpected response', async () => {
    fake = await startFakeDesec({
      token: TOKEN,
      override: (request) =>
        request.path.endsWith('/rrsets/')
          ? {
              body: [],
              headers: { Link: `<http://${String(request.headers.host)}/x/?cursor=a>; rel="next"` },
            }
          : undefined,
    });
    nameserver = await startFakeNameserver({ zone: ZONE, dnskeys: [] });
    const signer = createDesecSigner(
      { id: 'desec-unit', api: { url: fake.url, tokenFile }, server: nameserver.server },
      { logger: pino({ level: 'silent' }) },
    );
    const error = await signer.readZoneContent(ZONE, {}).catch((caught: unknown) => caught);
    expect(ApiCallError.isInstance(error)).toBe(true);
    expect((error as ApiCallError).isRetryable).toBe(false);
    expect((error as ApiCallError).responseBody).toContain('a next link not seen before');
    expect(fake.requests.filter((request) => request.path.endsWith('/rrsets/'))).toHaveLength(2);
  });

  test('an aborted signal rejects with AbortError before any request', async () => {
    const signer = await start();
    const error = await signer
      .readZoneContent(ZONE, { signal: AbortSignal.abort() })
      .catch((caught: unknown) => caught);
    expect(AbortError.isInstance(error)).toBe(true);
    expect(fake!.requests).toHaveLength(0);
  });
});
