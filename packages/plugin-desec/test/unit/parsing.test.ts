/** The pure parts: response parsers, error texts, roles of deSEC's keys, the bulk write builder. */
import { UnsafePlanError } from '@chorus/core';
import { makeForeignKeys } from '@chorus/conformance';
import { formatRdata } from '@chorus/dns';
import { describe, expect, test } from 'vitest';
import {
  domainPath,
  errorText,
  parseApexResponse,
  parseDomainResponse,
  type DesecKey,
} from '../../src/api.js';
import { acceptedTtl, buildBulkWrite } from '../../src/bulk-write.js';
import { ownKeysOf, roleOf } from '../../src/keys.js';

const ZONE = 'example.com.';
const [ksk] = makeForeignKeys(1, 257);
const [zsk] = makeForeignKeys(1, 256);
const text = (key: typeof ksk) => formatRdata({ type: 'DNSKEY', data: key!.dnskey });

describe('responses', () => {
  test('a domain object as deSEC documents it', () => {
    const domain = parseDomainResponse({
      created: '2018-09-18T16:36:16.510368Z',
      keys: [
        { dnskey: text(ksk), ds: [], flags: 257, keytype: 'csk', managed: true },
        { dnskey: text(zsk), ds: [], flags: 256, keytype: null, managed: false },
      ],
      minimum_ttl: 3600,
      name: 'example.com',
      published: '2018-09-18T17:21:38.348112Z',
      touched: '2018-09-18T17:21:38.348112Z',
    });
    expect(domain.minimumTtl).toBe(3600);
    expect(domain.keys.map((key) => [key.keytype, key.managed])).toEqual([
      ['csk', true],
      [null, false],
    ]);
    // Own keys: the managed entries only.
    expect(ownKeysOf(domain).map((key) => key.role)).toEqual(['CSK']);
  });

  test('a key whose dnskey is not presentation format is an unexpected shape', () => {
    expect(() =>
      parseDomainResponse({
        name: 'example.com',
        minimum_ttl: 3600,
        keys: [{ dnskey: 'not a key', managed: true }],
      }),
    ).toThrow(TypeError);
  });

  test('apex RRsets: other subnames and unmanaged types are left out, records parsed', () => {
    const apex = parseApexResponse(
      [
        { subname: '', type: 'A', ttl: 3600, records: ['192.0.2.1'] },
        { subname: 'www', type: 'NS', ttl: 3600, records: ['ns.example.net.'] },
        { subname: '', type: 'NS', ttl: 3600, records: ['NS1.desec.io.', 'ns2.desec.org.'] },
        { subname: '', type: 'CSYNC', ttl: 3600, records: ['66 3 A NS AAAA'] },
      ],
      ZONE,
    );
    expect(Object.keys(apex).sort()).toEqual(['CSYNC', 'NS']);
    expect(apex.NS!.records.map((record) => record.data)).toEqual([
      'ns1.desec.io.',
      'ns2.desec.org.',
    ]);
    expect(apex.CSYNC!.records[0]!.data).toEqual({
      serial: 66,
      flags: 3,
      types: ['A', 'NS', 'AAAA'],
    });
  });

  test('an unparseable record is an unexpected shape', () => {
    expect(() =>
      parseApexResponse([{ subname: '', type: 'CDS', ttl: 3600, records: ['x y'] }], ZONE),
    ).toThrow(/CDS records in presentation format/);
  });

  test('the domain path drops the trailing dot and lower-cases', () => {
    expect(domainPath('Example.COM.')).toBe('/domains/example.com/');
  });
});

describe('errorText', () => {
  test.each([
    ['{"detail": "Invalid token."}', 'Invalid token.'],
    [
      '{"ttl": ["Ensure this value is greater than or equal to 3600."]}',
      'ttl: Ensure this value is greater than or equal to 3600.',
    ],
    [
      '{"non_field_errors": ["DNSKEY RRset must have empty subname."]}',
      'DNSKEY RRset must have empty subname.',
    ],
    [
      '[{"type": ["This field is required."]}, {}, {"records": {"0": ["bad"]}}]',
      'item 1: type: This field is required.; item 3: records.0: bad',
    ],
    ['Bad Gateway', 'Bad Gateway'],
  ])('%s', (body, expected) => {
    expect(errorText(body)).toBe(expected);
  });
});

describe('roles of deSEC keys', () => {
  const key = (flags: number, keytype: string | null): DesecKey => ({
    dnskey: { ...ksk!.dnskey, flags },
    keytype,
    managed: true,
  });

  test.each([
    [257, 'csk', false, 'CSK'],
    [257, 'ksk', true, 'KSK'],
    [256, 'zsk', true, 'ZSK'],
    [257, null, false, 'CSK'],
    [257, null, true, 'KSK'],
    [256, null, true, 'ZSK'],
  ] as const)(
    'flags %s keytype %s (deSEC has a ZSK: %s) is a %s',
    (flags, keytype, hasZsk, role) => {
      expect(roleOf(key(flags, keytype), hasZsk)).toBe(role);
    },
  );
});

describe('buildBulkWrite', () => {
  const ns = {
    type: 'NS' as const,
    ttl: 3600,
    records: [{ type: 'NS' as const, data: 'ns1.desec.io.' }],
  };

  test('TTLs are raised to the minimum and capped at one day', () => {
    expect(acceptedTtl(30, 3600)).toBe(3600);
    expect(acceptedTtl(7200, 3600)).toBe(7200);
    expect(acceptedTtl(100_000, 3600)).toBe(86_400);
  });

  test('an add keeps the current records and uses the plan TTL; nothing for untouched types', () => {
    const write = buildBulkWrite(
      ZONE,
      { NS: ns },
      [{ action: 'add', type: 'NS', data: 'ns.other.example.', ttl: 7200 }],
      3600,
    );
    expect(write).toEqual({
      rrsets: [
        {
          subname: '',
          type: 'NS',
          ttl: 7200,
          records: ['ns1.desec.io.', 'ns.other.example.'],
        },
      ],
      alreadyApplied: 0,
    });
  });

  test('a delete of an absent record and an add of a present one write nothing', () => {
    const write = buildBulkWrite(
      ZONE,
      { NS: ns },
      [
        { action: 'add', type: 'NS', data: 'NS1.DESEC.IO.', ttl: 30 },
        { action: 'delete', type: 'DNSKEY', data: zsk!.dnskey, ttl: 30 },
      ],
      3600,
    );
    expect(write).toEqual({ rrsets: [], alreadyApplied: 2 });
  });

  test('never an empty apex NS set', () => {
    expect(() =>
      buildBulkWrite(
        ZONE,
        { NS: ns },
        [{ action: 'delete', type: 'NS', data: 'ns1.desec.io.', ttl: 30 }],
        3600,
      ),
    ).toThrow(UnsafePlanError);
  });
});
