import { readFileSync } from 'node:fs';
import { keyTag, zoneContentDigest } from '@chorus/dns';
import { describe, expect, test } from 'vitest';
import {
  parseKeymgrDnskey,
  parseKeymgrList,
  roleOf,
  stateOf,
  type KaspKey,
} from '../../src/keymgr.js';
import {
  interpretKskSubmitted,
  outputErrors,
  parseConfRead,
  parseZoneRead,
} from '../../src/knotc.js';

const SAME_CONTENT_DIGEST =
  '7d84973e7189420c007e620e7225e732e070c7e9b2aa87e49530b7f2a308da75d52b198bae9c3635cd11e0ebea556283';

// Every fixture is real output of Knot 3.2.6 (knotc, keymgr) captured from the lab's servers.
const fixture = (name: string) =>
  readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');

describe('knotc conf-read', () => {
  test('parses section[id].item = value and section.id lines', () => {
    const entries = parseConfRead(fixture('conf-read-template.knot-zonefile-revert.txt'));
    expect(entries[0]).toEqual({
      section: 'template',
      id: undefined,
      item: 'id',
      value: 'default',
    });
    expect(entries).toContainEqual({
      section: 'template',
      id: 'default',
      item: 'zonefile-sync',
      value: '-1',
    });
    expect(entries).toContainEqual({
      section: 'template',
      id: 'default',
      item: 'file',
      value: '%s.zone',
    });
  });

  test('parses zone entries with the zone name as id, and normalised durations', () => {
    const zones = parseConfRead(fixture('conf-read-zone.custom.txt'));
    expect(zones).toContainEqual({
      section: 'zone',
      id: undefined,
      item: 'domain',
      value: 'c.test.',
    });
    expect(zones).toContainEqual({
      section: 'zone',
      id: 'a.test.',
      item: 'template',
      value: 'journal-only',
    });
    const policy = parseConfRead(fixture('conf-read-policy.custom.txt'));
    expect(policy).toContainEqual({
      section: 'policy',
      id: 'multi',
      item: 'delete-delay',
      value: '86400',
    });
  });

  test('reads the database section', () => {
    const entries = parseConfRead(fixture('conf-read-database.knot.txt'));
    expect(entries.map((entry) => entry.item)).toEqual(['storage', 'kasp-db']);
  });
});

describe('keymgr list -j', () => {
  const keys = parseKeymgrList(fixture('keymgr-list.knot.json'));

  test('reads flags, tags, algorithm and timers', () => {
    expect(keys).toHaveLength(2);
    const ksk = keys.find((key) => key.ksk)!;
    expect(ksk).toMatchObject({ zsk: false, algorithm: 13, publicOnly: false });
    expect(ksk.id).toMatch(/^[0-9a-f]{40}$/);
    expect(ksk.timers.ready).toBeGreaterThan(0);
    expect(ksk.timers.active).toBe(0);
  });

  test('roles: ksk → KSK, zsk → ZSK, both → CSK', () => {
    expect(keys.map(roleOf).sort()).toEqual(['KSK', 'ZSK']);
    expect(roleOf({ ksk: true, zsk: true })).toBe('CSK');
  });

  test('state is the latest timer that has passed', () => {
    const now = 1_900_000_000;
    const ksk = keys.find((key) => key.ksk)!;
    const zsk = keys.find((key) => key.zsk)!;
    expect(stateOf(ksk, now)).toBe('ready');
    expect(stateOf(zsk, now)).toBe('active');
    expect(stateOf(ksk, ksk.timers.publish - 1)).toBe('created');
    const retiring: Pick<KaspKey, 'timers'> = {
      timers: { ...zsk.timers, retire: now - 10, remove: now + 10 },
    };
    expect(stateOf(retiring, now)).toBe('retired');
    expect(stateOf(retiring, now + 20)).toBe('removed');
  });

  test('marks keys imported with import-pub as public-only', () => {
    const imported = parseKeymgrList(fixture('keymgr-list.import-pub.json'));
    expect(imported).toHaveLength(3);
    const publicOnly = imported.filter((key) => key.publicOnly);
    expect(publicOnly).toHaveLength(1);
    expect(publicOnly[0]).toMatchObject({ ksk: true, tag: 40562 });
  });

  test('an empty output (no keys) is an empty list; malformed JSON throws', () => {
    expect(parseKeymgrList('')).toEqual([]);
    expect(() => parseKeymgrList('{"zone": 1}')).toThrow(/JSON array/);
    expect(() => parseKeymgrList('[{"id": "zz"}]')).toThrow(/field id/);
  });
});

describe('keymgr dnskey', () => {
  test('parses the DNSKEY line, whose key tag matches the list', () => {
    const keys = parseKeymgrList(fixture('keymgr-list.knot.json'));
    const dnskey = parseKeymgrDnskey(fixture('keymgr-dnskey-zsk.knot.txt'));
    expect(dnskey).toMatchObject({ flags: 256, protocol: 3, algorithm: 13 });
    expect(keyTag(dnskey)).toBe(keys.find((key) => key.zsk)!.tag);
  });

  test('error output is recognised', () => {
    // keymgr prints two lines for an unknown key.
    expect(outputErrors(fixture('keymgr-dnskey-unknown.stderr.txt'))).toEqual([
      'error: key not found',
      'error: not exists',
    ]);
    expect(() => parseKeymgrDnskey('')).toThrow(/no DNSKEY/);
  });
});

describe('knotc zone-ksk-submitted', () => {
  const run = (name: string) =>
    interpretKskSubmitted(
      fixture(`ksk-submitted.${name}.stdout.txt`),
      fixture(`ksk-submitted.${name}.stderr.txt`),
    );

  test('OK means submitted', () => {
    expect(run('ok')).toBe('submitted');
  });

  test('"no key ready for submission" is reported, not thrown', () => {
    expect(run('no-key')).toBe('no-key-ready');
  });

  test('any other error text throws, whatever the exit code', () => {
    expect(() => run('no-zone')).toThrow(/no such zone found/);
    expect(() => interpretKskSubmitted('', '')).toThrow(/unexpected output/);
    // knotc prints its errors on stdout: an exit status of 0 must not hide them.
    expect(() => interpretKskSubmitted('OK\nerror: [x.test] (operation failed)\n', '')).toThrow(
      /operation failed/,
    );
  });
});

describe('knotc zone-read', () => {
  test('parses DNSKEY, CDS (TTL 0) and CDNSKEY lines', () => {
    const records = parseZoneRead(fixture('zone-read-dnskey.knot.txt'));
    expect(records.map((record) => `${record.type} ${record.ttl}`)).toEqual([
      'DNSKEY 30',
      'DNSKEY 30',
      'CDS 0',
      'CDNSKEY 0',
    ]);
    expect(records[0]!.name).toBe('conformance.test.');
  });

  test('parses a whole zone, DNSSEC records included (zone-read.knot-rich.txt)', () => {
    // The lab's conformance.test. after knotc zone-set of a delegation, a wildcard, escaped
    // TXT strings and a TYPE65280 record.
    const records = parseZoneRead(fixture('zone-read.knot-rich.txt'));
    expect(records).toHaveLength(69);
    const types = new Set(records.map((record) => record.type));
    for (const type of ['SOA', 'NS', 'DS', 'RRSIG', 'NSEC', 'DNSKEY', 'CDS', 'TYPE65280'])
      expect(types).toContain(type);
    const data = (name: string, type: string) =>
      records.find((record) => record.name === `${name}.conformance.test.` && record.type === type)!
        .data;
    expect(data('multi', 'TXT')).toEqual(['a b', 'c"d', '\\e', 'é', ';x', '(y)']);
    expect(data('*.wild', 'A')).toBe('192.0.2.1');
    expect(data('unk', 'TYPE65280')).toEqual({ rdata: '0A000001' });
    // The PowerDNS plugin's unit test gets the same digest from the same content in its API.
    expect(zoneContentDigest('conformance.test.', records)).toMatchObject({
      serial: 5,
      rrsets: 17,
      digest: SAME_CONTENT_DIGEST,
    });
  });

  test('errors on stdout are found', () => {
    expect(outputErrors(fixture('knotc-no-socket.stderr.txt'))).toHaveLength(1);
  });
});
