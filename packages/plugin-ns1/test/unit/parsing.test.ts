import { UnsafePlanError, UnsupportedCapabilityError, type SignerChange } from '@chorus/core';
import { computeDs } from '@chorus/dns';
import { makeForeignKeys } from '@chorus/conformance';
import { describe, expect, test } from 'vitest';
import { answerFields, recordFromFields } from '../../src/answers.js';
import { externalKeySetBody, recordBody } from '../../src/api.js';
import { ownCdnskeys, ownCds, ownKeysOf } from '../../src/keys.js';
import { planKeySet, planRecord, refuseUnsupportedAlgorithms } from '../../src/plan-writes.js';
import { pacingDelayMs, readRateHeaders, spendOne } from '../../src/rate-limit.js';
import {
  errorText,
  parseDnssecKeys,
  parseExternalKeySets,
  parseRecord,
  parseZone,
} from '../../src/responses.js';

const ZONE = 'example.test.';
// The response of GET /dnssec in ns1-go's test fixture (provider-apis.md §2.4), shortened.
const KSK =
  't+4DPP+MFZ0Cr7gAXiDYv6HTyXzq/O2ESVRLc/ysuh5xBXKIsjsj5baV1HzhBNo2F7mbsevsEo0/6UEL8+JBmA==';
const ZSK =
  'pxEUulkf8UZtE9fy2+4wJwM44xncypgGVps4hE4kQGA5TuC/XJPoKBX6e3B/QL9AmwFCgyFeC4uRNxoqxK0xOg==';
const dnssecResponse = {
  zone: 'burping.cat.',
  keys: {
    dnskey: [
      ['257', '3', '13', KSK],
      [256, 3, 13, ZSK],
    ],
    ttl: 3600,
  },
  delegation: { dnskey: [], ds: [], ttl: 3666 },
};

describe('response parsers', () => {
  test('errorText reads {"message": …} and keeps anything else', () => {
    expect(errorText('{"message": "record not found"}')).toBe('record not found');
    expect(errorText('Bad Gateway')).toBe('Bad Gateway');
  });

  test('GET /dnssec: strings or JSON numbers', () => {
    expect(parseDnssecKeys(dnssecResponse)).toEqual([
      { flags: 257, protocol: 3, algorithm: 13, publicKey: KSK },
      { flags: 256, protocol: 3, algorithm: 13, publicKey: ZSK },
    ]);
    expect(() => parseDnssecKeys({ zone: 'x' })).toThrow(TypeError);
    expect(() => parseDnssecKeys({ keys: { dnskey: [['257', '3', '13']] } })).toThrow(/DNSKEYs as/);
  });

  test('GET /zones/{zone}: the name and the dnssec flag', () => {
    expect(parseZone({ zone: 'example.test', dnssec: true, records: [] })).toEqual({
      zone: 'example.test',
      dnssec: true,
    });
    expect(parseZone({ zone: 'example.test' }).dnssec).toBeUndefined();
    expect(() => parseZone({ id: 'z' })).toThrow(/"zone" name/);
  });

  test('external key sets: a list, a list under external_keys, or a map of names', () => {
    const set = {
      dnskey: { ttl: 60, data: [{ flags: 257, protocol: 3, algorithm: 13, public_key: KSK }] },
    };
    const expected = [
      {
        name: 'chorus',
        ttl: 60,
        keys: [{ flags: 257, protocol: 3, algorithm: 13, publicKey: KSK }],
      },
    ];
    expect(parseExternalKeySets([{ name: 'chorus', ...set }])).toEqual(expected);
    expect(parseExternalKeySets({ external_keys: [{ name: 'chorus', ...set }] })).toEqual(expected);
    expect(parseExternalKeySets({ chorus: set })).toEqual(expected);
    expect(parseExternalKeySets([])).toEqual([]);
    expect(() => parseExternalKeySets([{ name: 'x' }])).toThrow(/external key sets/);
  });

  test('records: answers split into fields, numbers as JSON numbers, names without the dot', () => {
    const cds = parseRecord('CDS', {
      ttl: 300,
      answers: [{ answer: [2371, 13, 2, 'ab12'], id: 'a1' }],
    });
    expect(cds).toEqual({
      ttl: 300,
      records: [
        { type: 'CDS', data: { keyTag: 2371, algorithm: 13, digestType: 2, digest: 'AB12' } },
      ],
    });
    expect(parseRecord('NS', { answers: [{ answer: ['dns1.p01.nsone.net'] }] }).records).toEqual([
      { type: 'NS', data: 'dns1.p01.nsone.net.' },
    ]);
    // CSYNC with the types as one field or split.
    for (const answer of [
      ['0', '1', 'A NS AAAA'],
      [0, 1, 'A', 'NS', 'AAAA'],
    ])
      expect(parseRecord('CSYNC', { answers: [{ answer }] }).records).toEqual([
        { type: 'CSYNC', data: { serial: 0, flags: 1, types: ['A', 'NS', 'AAAA'] } },
      ]);
    expect(() => parseRecord('CDS', { answers: [{ answer: ['x'] }] })).toThrow(TypeError);
    expect(() => parseRecord('CDS', { ttl: 3 })).toThrow(/answers/);
  });

  test('answer fields round-trip through recordFromFields', () => {
    const [key] = makeForeignKeys(1, 257);
    const records = [
      { type: 'CDS' as const, data: computeDs(ZONE, key!.dnskey, 2) },
      { type: 'CDNSKEY' as const, data: key!.dnskey },
      {
        type: 'CSYNC' as const,
        data: { serial: 0, flags: 1, types: ['A' as const, 'NS' as const] },
      },
      { type: 'NS' as const, data: 'ns.bind.test.' },
    ];
    for (const record of records)
      expect(recordFromFields(record.type, answerFields(record))).toEqual(record);
    expect(answerFields(records[3]!)).toEqual(['ns.bind.test']);
    expect(answerFields(records[2]!)).toEqual(['0', '1', 'A NS']);
  });

  test('request bodies: the external key set envelope, and filters: [] on records', () => {
    const [key] = makeForeignKeys(1, 256);
    expect(externalKeySetBody(30, [key!.dnskey])).toEqual({
      dnskey: {
        ttl: 30,
        data: [{ flags: 256, protocol: 3, algorithm: 13, public_key: key!.dnskey.publicKey }],
      },
    });
    expect(
      recordBody('Example.Test.', 'NS', 60, [{ type: 'NS', data: 'ns1.example.test.' }]),
    ).toEqual({
      zone: 'example.test',
      domain: 'example.test',
      type: 'NS',
      ttl: 60,
      answers: [{ answer: ['ns1.example.test'] }],
      filters: [],
      meta: {},
    });
  });
});

describe('own keys', () => {
  test('are the /dnssec keys less every external key, KSK first', () => {
    const [foreign] = makeForeignKeys(1, 257);
    const listed = [...parseDnssecKeys(dnssecResponse), foreign!.dnskey];
    const keys = ownKeysOf(listed, [{ name: 'other', ttl: 60, keys: [foreign!.dnskey] }]);
    expect(keys.map((key) => [key.role, key.dnskey.publicKey])).toEqual([
      ['KSK', KSK],
      ['ZSK', ZSK],
    ]);
    expect(keys[0]!.state).toBe('active (NS1 online signing)');
    expect(ownCds(ZONE, keys)).toEqual([
      { type: 'CDS', data: computeDs(ZONE, keys[0]!.dnskey, 2) },
    ]);
    expect(ownCdnskeys(keys)).toEqual([{ type: 'CDNSKEY', data: keys[0]!.dnskey }]);
  });
});

describe('from a plan to writes', () => {
  const [zsk1, zsk2] = makeForeignKeys(2, 256);
  const add = (data: typeof zsk1): SignerChange => ({
    action: 'add',
    type: 'DNSKEY',
    data: data!.dnskey,
    ttl: 30,
  });
  const remove = (data: typeof zsk1): SignerChange => ({
    action: 'delete',
    type: 'DNSKEY',
    data: data!.dnskey,
    ttl: 30,
  });

  test('the key set is created (PUT), modified (POST), deleted when empty, left alone when unchanged', () => {
    expect(planKeySet('chorus', [], [add(zsk1)]).write).toEqual({
      method: 'PUT',
      ttl: 30,
      keys: [zsk1!.dnskey],
    });
    const existing = [{ name: 'chorus', ttl: 30, keys: [zsk1!.dnskey] }];
    expect(planKeySet('chorus', existing, [add(zsk2)]).write).toEqual({
      method: 'POST',
      ttl: 30,
      keys: [zsk1!.dnskey, zsk2!.dnskey],
    });
    expect(planKeySet('chorus', existing, [remove(zsk1)]).write).toEqual({ method: 'DELETE' });
    const repeated = planKeySet('chorus', existing, [add(zsk1), remove(zsk2)]);
    expect(repeated.write).toBeUndefined();
    expect(repeated.alreadyApplied).toBe(2);
  });

  test('a key of another key set is present, and never removed from there', () => {
    const other = [{ name: 'acme', ttl: 60, keys: [zsk1!.dnskey] }];
    expect(planKeySet('chorus', other, [add(zsk1)]).write).toBeUndefined();
    const removal = planKeySet('chorus', other, [remove(zsk1)]);
    expect(removal.write).toBeUndefined();
    expect(removal.warnings[0]).toMatchObject({
      type: 'other',
      message: expect.stringContaining('"acme"'),
    });
  });

  test('a non-13 foreign DNSKEY is refused with UnsupportedCapabilityError', () => {
    const rsa = { ...zsk1!.dnskey, algorithm: 8 };
    const plan = {
      zone: ZONE,
      signerId: 'ns1',
      changes: [{ action: 'add' as const, type: 'DNSKEY' as const, data: rsa, ttl: 30 }],
    };
    expect(() => refuseUnsupportedAlgorithms('ns1', plan)).toThrow(/accepts only algorithm 13/);
    let caught: unknown;
    try {
      refuseUnsupportedAlgorithms('ns1', plan);
    } catch (error) {
      caught = error;
    }
    expect(UnsupportedCapabilityError.isInstance(caught)).toBe(true);
  });

  test('records: the required own CDS is added and kept, an empty record is deleted', () => {
    const [ksk] = makeForeignKeys(1, 257);
    const own = { type: 'CDS' as const, data: computeDs(ZONE, ksk!.dnskey, 2) };
    const [foreign] = makeForeignKeys(1, 257);
    const foreignCds = computeDs(ZONE, foreign!.dnskey, 2);
    const addCds: SignerChange = { action: 'add', type: 'CDS', data: foreignCds, ttl: 30 };
    expect(planRecord(ZONE, 'CDS', undefined, [addCds], [own], 30).write).toEqual({
      method: 'PUT',
      ttl: 30,
      records: [{ type: 'CDS', data: foreignCds }, own],
    });
    const current = { ttl: 30, records: [{ type: 'CDS' as const, data: foreignCds }, own] };
    expect(
      planRecord(
        ZONE,
        'CDS',
        current,
        [
          { ...addCds, action: 'delete' },
          { ...addCds, data: own.data, action: 'delete' },
        ],
        [own],
        30,
      ).write,
    ).toEqual({
      method: 'POST',
      ttl: 30,
      records: [own],
    });
    expect(planRecord(ZONE, 'CDS', current, [addCds], [own], 30).write).toBeUndefined();
    const csync = {
      ttl: 30,
      records: [{ type: 'CSYNC' as const, data: { serial: 0, flags: 1, types: ['NS' as const] } }],
    };
    expect(
      planRecord(
        ZONE,
        'CSYNC',
        csync,
        [{ action: 'delete', type: 'CSYNC', data: csync.records[0]!.data, ttl: 30 }],
        [],
        30,
      ).write,
    ).toEqual({ method: 'DELETE' });
  });

  test('an apex NS record that would end empty is refused', () => {
    const ns = { ttl: 3600, records: [{ type: 'NS' as const, data: 'dns1.p01.nsone.net.' }] };
    expect(() =>
      planRecord(
        ZONE,
        'NS',
        ns,
        [{ action: 'delete', type: 'NS', data: 'dns1.p01.nsone.net.', ttl: 30 }],
        [],
        30,
      ),
    ).toThrow(UnsafePlanError);
  });
});

describe('rate-limit pacing', () => {
  const headers = (remaining: number) =>
    new Headers({
      'X-Ratelimit-Limit': '10',
      'X-Ratelimit-Remaining': String(remaining),
      'X-Ratelimit-Period': '5',
    });

  test('waits one token (period / limit) when fewer than 2 remain', () => {
    const low = readRateHeaders(headers(1), 1000)!;
    expect(low).toEqual({ limit: 10, remaining: 1, periodSeconds: 5, observedAt: 1000 });
    expect(pacingDelayMs(low, 1000)).toBe(500);
    expect(pacingDelayMs(low, 1300)).toBe(200);
    expect(pacingDelayMs(low, 2000)).toBe(0);
    expect(pacingDelayMs(readRateHeaders(headers(2), 1000), 1000)).toBe(0);
    expect(readRateHeaders(new Headers())).toBeUndefined();
  });

  test('a response without the headers spends a remembered token, refilled with time', () => {
    const state = readRateHeaders(headers(2), 0)!;
    expect(spendOne(state, 100).remaining).toBe(1);
    expect(spendOne(state, 1100).remaining).toBe(3);
  });
});
