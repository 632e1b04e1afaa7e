import { describe, expect, it } from 'vitest';
import { parseZone, zoneContentDigest } from '../src/index.js';

const ZONE = 'example.test.';
const BASE = `
$TTL 300
@        IN SOA ns1.example.test. hostmaster.example.test. 7 3600 600 86400 300
@        IN NS  ns1.provider-a.test.
@        IN MX  10 mail.example.test.
www      IN A   192.0.2.10
www      IN A   192.0.2.11
mail     IN A   192.0.2.20
*.wild   IN TXT "wildcard"
sub      IN NS  ns.sub.example.test.
ns.sub   IN A   192.0.2.53
`;

const digestOf = (text: string) => zoneContentDigest(ZONE, parseZone(text, { origin: ZONE }));

describe('zoneContentDigest', () => {
  it('counts the comparable RRsets and records and reads the serial', () => {
    const digest = digestOf(BASE);
    // MX, www A (2 records), mail A, *.wild TXT, sub NS, ns.sub A: apex SOA and NS are left out.
    expect(digest).toMatchObject({ algorithm: 'sha384', rrsets: 6, records: 7, serial: 7 });
    expect(digest.digest).toMatch(/^[0-9a-f]{96}$/);
  });

  it('ignores record order, name case, TTLs, duplicates, SOA, apex NS and DNSSEC records', () => {
    const reordered = `
$TTL 60
WWW      IN A   192.0.2.11
@        IN NS  ns1.provider-b.test.
@        IN NS  ns1.provider-a.test.
mail     IN A   192.0.2.20
www      IN A   192.0.2.10
www      IN A   192.0.2.10
@        IN SOA ns1.other.test. hostmaster.example.test. 99 1 1 1 1
*.wild   IN TXT "wildcard"
@        IN MX  10 MAIL.example.test.
sub      IN NS  ns.sub.example.test.
ns.sub   IN A   192.0.2.53
@        IN NSEC3PARAM 1 0 0 -
@        IN CDS 12345 13 2 ${'ab'.repeat(32)}
@        IN CSYNC 7 3 A NS AAAA
`;
    const left = digestOf(BASE);
    const right = digestOf(reordered);
    expect(right.digest).toBe(left.digest);
    expect(right.serial).toBe(99);
  });

  it('changes when any comparable rdata, owner or type changes', () => {
    const base = digestOf(BASE).digest;
    const variants = [
      BASE.replace('192.0.2.11', '192.0.2.12'),
      BASE.replace('mail     IN A', 'mail2    IN A'),
      BASE.replace('"wildcard"', '"wildcard!"'),
      BASE.replace('ns.sub   IN A   192.0.2.53', 'ns.sub   IN AAAA 2001:db8::53'),
      BASE.replace('www      IN A   192.0.2.11\n', ''),
      `${BASE}extra IN TXT "one more"\n`,
    ];
    for (const variant of variants) expect(digestOf(variant).digest, variant).not.toBe(base);
  });

  it('leaves out records outside the zone', () => {
    expect(digestOf(`${BASE}other.test. IN A 192.0.2.99\n`).digest).toBe(digestOf(BASE).digest);
  });

  it('refuses content without an apex SOA', () => {
    expect(() => digestOf(BASE.replace(/^@ +IN SOA.*$/m, ''))).toThrow(/no SOA record at the apex/);
  });
});

describe('zoneContentDigest of opaque types', () => {
  it('lower-cases a NAPTR replacement (RFC 4034 §6.2), so case alone is no difference', () => {
    const naptr = (replacement: string) =>
      digestOf(`${BASE}sip IN NAPTR 100 10 "S" "SIP+D2U" "" ${replacement}\n`).digest;
    expect(naptr('_SIP._UDP.Example.Test.')).toBe(naptr('_sip._udp.example.test.'));
    expect(naptr('_sips._tcp.example.test.')).not.toBe(naptr('_sip._udp.example.test.'));
  });
});
