import { computeDs, keyTag } from '@chorus/dns';
import { describe, expect, test } from 'vitest';
import {
  errorText,
  parseConfigResponse,
  parseCryptokeysResponse,
  parseMetadataResponse,
  parseZoneResponse,
} from '../../src/api.js';
import { signingKeyOf } from '../../src/powerdns-signer.js';
import { backendApex } from '../../src/rrsets.js';
import { fixture, jsonFixture } from './fixtures.js';

describe('parsing recorded PowerDNS 4.7.3 API responses', () => {
  test('GET /config: direct-dnskey, launch, and the API key masked', () => {
    const settings = parseConfigResponse(jsonFixture('config-gsqlite3.json'));
    expect(settings.get('direct-dnskey')).toBe('yes');
    expect(settings.get('launch')).toBe('gsqlite3');
    expect(settings.get('api-key')).toBe('***');
    expect(parseConfigResponse(jsonFixture('config-bind-backend.json')).get('launch')).toBe('bind');
  });

  test('GET /cryptokeys: a KSK and a ZSK whose key tags and DS match what PowerDNS reports', () => {
    const raw = jsonFixture('cryptokeys.json') as { id: number; ds?: string[] }[];
    const keys = parseCryptokeysResponse(raw).map(signingKeyOf);
    expect(keys.map((key) => [key.role, key.keyTag, key.state])).toEqual([
      ['ZSK', 46574, 'active, published (id 4)'],
      ['KSK', 49893, 'active, published (id 3)'],
    ]);
    for (const key of keys) {
      expect(key.keyTag).toBe(keyTag(key.dnskey));
      expect(key.algorithm).toBe(13);
    }
    // PowerDNS lists the KSK's DS in lower-case hex; ours are upper-case.
    const ksk = keys.find((key) => key.role === 'KSK')!;
    const reported = raw.find((entry) => entry.id === 3)!.ds!;
    const sha256 = computeDs('conformance.test.', ksk.dnskey, 2);
    expect(reported).toContain(
      `${sha256.keyTag} ${sha256.algorithm} 2 ${sha256.digest.toLowerCase()}`,
    );
  });

  test('GET /metadata: PUBLISH-CDS and PUBLISH-CDNSKEY, or neither', () => {
    const set = parseMetadataResponse(jsonFixture('metadata-publish-cds.json'));
    expect(set.get('PUBLISH-CDS')).toEqual(['2']);
    expect(set.get('PUBLISH-CDNSKEY')).toEqual(['1']);
    const unset = parseMetadataResponse(jsonFixture('metadata-no-publish-cds.json'));
    expect(unset.get('PUBLISH-CDS')).toBeUndefined();
    expect(unset.get('TSIG-ALLOW-DNSUPDATE')).toEqual(['chorus-powerdns']);
  });

  test('GET /zones/{zone}?rrsets=false: kind, dnssec and SOA-EDIT-API, without rrsets', () => {
    const zone = parseZoneResponse(jsonFixture('zone-info.json'));
    expect(zone).toMatchObject({ name: 'conformance.test.', kind: 'Native', dnssec: true });
    expect(zone.soaEditApi).toBe('');
    expect(zone.rrsets).toEqual([]);
    const bind = parseZoneResponse(jsonFixture('zone-info-bind-backend.json'));
    expect(bind).toMatchObject({ kind: 'Master', dnssec: false });
  });

  test('GET /zones/{zone}?rrset_name=: only backend records, normalised (CDS hex upper-case, names absolute)', () => {
    const zone = parseZoneResponse(jsonFixture('zone-apex-with-foreign.json'));
    const apex = backendApex(zone.rrsets, 'conformance.test.');
    expect(Object.keys(apex).sort()).toEqual(['CDNSKEY', 'CDS', 'CSYNC', 'DNSKEY', 'NS']);
    // The foreign KSK only: PowerDNS's own keys (49893, 46574) are not backend records.
    expect(apex.DNSKEY!.records.map((record) => record.data)).toEqual([
      {
        flags: 257,
        protocol: 3,
        algorithm: 13,
        publicKey:
          'mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==',
      },
    ]);
    expect(apex.CDS!.records[0]!.data).toEqual({
      keyTag: 12345,
      algorithm: 13,
      digestType: 2,
      digest: 'AAA680EEBC94799BF7436B7E008F488F93896EE2A923798C74B73495E9C9335D',
    });
    expect(apex.CSYNC!.records[0]!.data).toEqual({
      serial: 0,
      flags: 1,
      types: ['A', 'NS', 'AAAA'],
    });
    expect(apex.NS!.records.map((record) => record.data)).toEqual([
      'NS.Bind.test.',
      'ns.powerdns.test.',
    ]);
    expect(apex.NS!.ttl).toBe(30);
  });

  test('error bodies: JSON {"error"} for 422, plain text for 401 and 404', () => {
    expect(errorText(fixture('error-422-spaced-base64.json'))).toMatch(
      /^Record conformance\.test\.\/DNSKEY '257 3 13 .+ .+': Not in expected format/,
    );
    expect(errorText(fixture('error-422-bind-backend.json'))).toBe(
      'Hosting backend does not support editing records.',
    );
    expect(errorText(fixture('error-401.txt'))).toBe('Unauthorized');
    expect(errorText(fixture('error-404.txt'))).toBe('Not Found');
  });

  test('malformed bodies are refused with a TypeError naming the expected shape', () => {
    expect(() => parseCryptokeysResponse({})).toThrow(/array of cryptokeys/);
    expect(() => parseZoneResponse({ id: 'x.', name: 'x.', rrsets: {} })).toThrow(/rrsets/);
    expect(() => parseMetadataResponse([{ kind: 1 }])).toThrow(/metadata/);
  });
});
