import { UnsafePlanError, type DnskeyData, type SignerChange } from '@chorus/core';
import { describe, expect, test } from 'vitest';
import { parseZoneResponse } from '../../src/api.js';
import { backendApex, buildPatch, formatContent, type BackendApex } from '../../src/rrsets.js';
import { jsonFixture } from './fixtures.js';

const ZONE = 'conformance.test.';
const recorded = (): BackendApex =>
  backendApex(parseZoneResponse(jsonFixture('zone-apex-with-foreign.json')).rrsets, ZONE);

const foreignKsk = recorded().DNSKEY!.records[0]!.data as DnskeyData;
const zsk: DnskeyData = {
  flags: 256,
  protocol: 3,
  algorithm: 13,
  publicKey:
    'L64Urvv9RhYscJ3yU3MbKSKOv1FPI3X1DKtNk8zvvkYD9u+WasNhYoDJMj9mzMpUtBKmum0WcLs4p2B4YT6PKg==',
};

const add = (data: DnskeyData, ttl = 30): SignerChange => ({
  action: 'add',
  type: 'DNSKEY',
  data,
  ttl,
});
const remove = (data: DnskeyData): SignerChange => ({
  action: 'delete',
  type: 'DNSKEY',
  data,
  ttl: 30,
});

describe('buildPatch', () => {
  test('adds a key by REPLACE of the backend DNSKEY set: the foreign key already there, plus the new one', () => {
    const patch = buildPatch(ZONE, recorded(), [add(zsk, 120)]);
    expect(patch.rrsets).toEqual([
      {
        name: ZONE,
        type: 'DNSKEY',
        changetype: 'REPLACE',
        ttl: 120,
        records: [
          { content: `257 3 13 ${foreignKsk.publicKey}`, disabled: false },
          { content: `256 3 13 ${zsk.publicKey}`, disabled: false },
        ],
      },
    ]);
    expect(patch.alreadyApplied).toBe(0);
  });

  test('is idempotent: adding what is there and deleting what is not sends nothing', () => {
    const patch = buildPatch(ZONE, recorded(), [add(foreignKsk), remove(zsk)]);
    expect(patch).toEqual({ rrsets: [], alreadyApplied: 2 });
  });

  test('DELETEs an rrset that ends empty, and leaves untouched types alone', () => {
    const patch = buildPatch(ZONE, recorded(), [
      remove(foreignKsk),
      {
        action: 'delete',
        type: 'CSYNC',
        data: { serial: 0, flags: 1, types: ['NS', 'A', 'AAAA'] },
        ttl: 30,
      },
    ]);
    expect(patch.rrsets).toEqual([
      { name: ZONE, type: 'DNSKEY', changetype: 'DELETE' },
      { name: ZONE, type: 'CSYNC', changetype: 'DELETE' },
    ]);
  });

  test('matches records whatever their presentation: spaced base64, lower-case hex, name case', () => {
    const spaced = { ...foreignKsk, publicKey: foreignKsk.publicKey.replace(/(.{20})/g, '$1 ') };
    const patch = buildPatch(ZONE, recorded(), [
      add(spaced),
      {
        action: 'delete',
        type: 'CDS',
        data: {
          keyTag: 12345,
          algorithm: 13,
          digestType: 2,
          digest: 'aaa680eebc94799bf7436b7e008f488f93896ee2a923798c74b73495e9c9335d',
        },
        ttl: 30,
      },
      { action: 'delete', type: 'NS', data: 'ns.bind.TEST.', ttl: 30 },
    ]);
    expect(patch.alreadyApplied).toBe(1);
    expect(patch.rrsets).toEqual([
      { name: ZONE, type: 'CDS', changetype: 'DELETE' },
      {
        name: ZONE,
        type: 'NS',
        changetype: 'REPLACE',
        ttl: 30,
        records: [{ content: 'ns.powerdns.test.', disabled: false }],
      },
    ]);
  });

  test('sends canonical content: base64 and hex without spaces (the API answers 422 otherwise)', () => {
    const spaced = { ...zsk, publicKey: zsk.publicKey.replace(/(.{16})/g, '$1 ') };
    const [rrset] = buildPatch(ZONE, {}, [add(spaced)]).rrsets;
    expect(rrset).toMatchObject({ changetype: 'REPLACE' });
    const content = (rrset as { records: { content: string }[] }).records[0]!.content;
    expect(content).toBe(`256 3 13 ${zsk.publicKey}`);
    expect(
      formatContent({
        type: 'CDS',
        data: { keyTag: 1, algorithm: 13, digestType: 2, digest: 'AB CD' },
      }),
    ).toBe('1 13 2 ABCD');
  });

  test('refuses to leave the apex NS set empty, before any call', () => {
    expect(() =>
      buildPatch(ZONE, recorded(), [
        { action: 'delete', type: 'NS', data: 'ns.powerdns.test.', ttl: 30 },
        { action: 'delete', type: 'NS', data: 'NS.Bind.test.', ttl: 30 },
      ]),
    ).toThrow(UnsafePlanError);
  });

  test('keeps disabled records, and enables one that the plan adds', () => {
    const current: BackendApex = {
      DNSKEY: {
        type: 'DNSKEY',
        ttl: 300,
        records: [
          { type: 'DNSKEY', data: foreignKsk, disabled: true },
          { type: 'DNSKEY', data: zsk, disabled: true },
        ],
      },
    };
    const patch = buildPatch(ZONE, current, [add(zsk)]);
    expect(patch.rrsets).toEqual([
      {
        name: ZONE,
        type: 'DNSKEY',
        changetype: 'REPLACE',
        ttl: 30,
        records: [
          { content: `257 3 13 ${foreignKsk.publicKey}`, disabled: true },
          { content: `256 3 13 ${zsk.publicKey}`, disabled: false },
        ],
      },
    ]);
  });
});
