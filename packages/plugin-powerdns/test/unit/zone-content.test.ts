import { PresentationParseError } from '@chorus/core';
import { zoneContentDigest } from '@chorus/dns';
import { describe, expect, test } from 'vitest';
import { parseZoneResponse, type PdnsZone } from '../../src/api.js';
import { zoneContentOf } from '../../src/zone-content.js';
import { jsonFixture } from './fixtures.js';

const ZONE = 'conformance.test.';
const zone = (): PdnsZone => parseZoneResponse(jsonFixture('zone-content-soa-edit.json'));
const lines = (pdnsZone: PdnsZone) =>
  zoneContentOf(pdnsZone).map((record) => `${record.name} ${record.type}`);

describe('the zone content from GET /zones/{zone}', () => {
  test('every enabled record, names absolute, TTL from the rrset', () => {
    const records = zoneContentOf(zone());
    expect(records).toHaveLength(19);
    expect(records.every((record) => record.name.endsWith('.') && record.ttl === 30)).toBe(true);
    expect(lines(zone())).toContain('*.wild.conformance.test. A');
    expect(lines(zone())).toContain('sub.conformance.test. DS');
  });

  test('digests like the same content read from Knot (plugin-knot unit test)', () => {
    expect(zoneContentDigest(ZONE, zoneContentOf(zone())).digest).toBe(
      '7d84973e7189420c007e620e7225e732e070c7e9b2aa87e49530b7f2a308da75d52b198bae9c3635cd11e0ebea556283',
    );
  });

  test('leaves the disabled record out', () => {
    const www = zoneContentOf(zone()).filter(
      (record) => record.name === `www.${ZONE}` && record.type === 'A',
    );
    expect(www.map((record) => record.data)).toEqual(['192.0.2.80']);
  });

  test('the apex SOA takes the served serial (edited_serial), not the stored one', () => {
    const pdnsZone = zone();
    expect(pdnsZone.serial).toBe(1);
    expect(zoneContentDigest(ZONE, zoneContentOf(pdnsZone)).serial).toBe(2026120301);
    delete pdnsZone.editedSerial;
    expect(zoneContentDigest(ZONE, zoneContentOf(pdnsZone)).serial).toBe(1);
  });

  test('parses escaped TXT strings and the RFC 3597 form', () => {
    const byName = (name: string) =>
      zoneContentOf(zone()).find((record) => record.name === `${name}.${ZONE}`)!.data;
    expect(byName('multi')).toEqual(['a b', 'c"d', '\\e', 'é', ';x', '(y)']);
    expect(byName('empty')).toEqual(['']);
    expect(byName('unk')).toEqual({ rdata: '0A000001' });
  });

  test('content it cannot parse is an error naming the owner and type', () => {
    const pdnsZone = zone();
    pdnsZone.rrsets.push({
      name: `bad.${ZONE}`,
      type: 'A',
      ttl: 30,
      records: [{ content: 'not-an-address', disabled: false }],
    });
    expect(() => zoneContentOf(pdnsZone)).toThrow(PresentationParseError);
    expect(() => zoneContentOf(pdnsZone)).toThrow(/bad\.conformance\.test\. 30 IN A/);
  });
});
