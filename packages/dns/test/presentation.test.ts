import { describe, expect, it } from 'vitest';
import { PresentationParseError, type DnsRecord } from '@chorus/core';
import { encodeRdata } from '../src/rdata.js';
import {
  formatRdata,
  formatRecord,
  parseRdata,
  parseRecord,
  parseZone,
} from '../src/presentation.js';

/**
 * Fixtures below are tool output captured from BIND 9.18.49 (`named` serving a test zone,
 * queried with `dig`; `dnssec-signzone`; `dnssec-keygen`) — not hand-written.
 */

/** `dig types.test AXFR +noall +answer` (the CAA line is tested separately). */
const AXFR_TEXT = `types.test.		600	IN	SOA	ns1.types.test. hostmaster.types.test. 7 3600 900 1209600 300
types.test.		600	IN	NS	ns1.types.test.
types.test.		600	IN	MX	0 .
types.test.		600	IN	CSYNC	66 3 A NS AAAA
types.test.		600	IN	CDS	0 0 0 00
types.test.		600	IN	CDNSKEY	0 3 0 AA==
types.test.		600	IN	NSEC3PARAM 1 0 0 AABBCCDD
10.types.test.		600	IN	PTR	Host.types.test.
_sip._tcp.types.test.	600	IN	SRV	10 60 5060 SipServer.types.test.
alias.types.test.	600	IN	CNAME	www.types.test.
empty.types.test.	600	IN	TYPE65001 \\# 0
misc.types.test.	600	IN	TYPE65000 \\# 3 ABCDEF
ns1.types.test.		600	IN	A	192.0.2.53
ns1.types.test.		600	IN	AAAA	2001:db8::53
old.types.test.		600	IN	DNAME	new.types.test.
www.types.test.		600	IN	TXT	"semi;colon" "paren(" "tab\\009end" "caf\\195\\169" "quote\\"back\\\\"
`;

/** The same transfer with `+unknownformat`: every rdata as the server's wire octets. */
const AXFR_GENERIC = `types.test.		600	CLASS1	TYPE6	\\# 59 036E73310574797065730474657374000A686F73746D617374657205 74797065730474657374000000000700000E10000003840012750000 00012C
types.test.		600	CLASS1	TYPE2	\\# 16 036E7331057479706573047465737400
types.test.		600	CLASS1	TYPE15	\\# 3 000000
types.test.		600	CLASS1	TYPE62	\\# 12 000000420003000460000008
types.test.		600	CLASS1	TYPE59	\\# 5 0000000000
types.test.		600	CLASS1	TYPE60	\\# 5 0000030000
types.test.		600	CLASS1	TYPE51	\\# 9 0100000004AABBCCDD
10.types.test.		600	CLASS1	TYPE12	\\# 17 04486F7374057479706573047465737400
_sip._tcp.types.test.	600	CLASS1	TYPE33	\\# 28 000A003C13C409536970536572766572057479706573047465737400
alias.types.test.	600	CLASS1	TYPE5	\\# 16 03777777057479706573047465737400
empty.types.test.	600	CLASS1	TYPE65001 \\# 0
misc.types.test.	600	CLASS1	TYPE65000 \\# 3 ABCDEF
ns1.types.test.		600	CLASS1	TYPE1	\\# 4 C0000235
ns1.types.test.		600	CLASS1	TYPE28	\\# 16 20010DB8000000000000000000000053
old.types.test.		600	CLASS1	TYPE39	\\# 16 036E6577057479706573047465737400
www.types.test.		600	CLASS1	TYPE16	\\# 44 0A73656D693B636F6C6F6E06706172656E280774616209656E640563 6166C3A90B71756F7465226261636B5C
`;

/** The start of `dnssec-signzone` output (full format): parentheses, comments, blank owners. */
const SIGNZONE_TEXT = `; File written on Sun Nov 22 13:15:54 2026
; dnssec_signzone version 9.18.49-1~deb12u3-Debian
alg15.test.		3600	IN SOA	ns1.alg15.test. hostmaster.alg15.test. (
					2026010101 ; serial
					7200       ; refresh (2 hours)
					3600       ; retry (1 hour)
					1209600    ; expire (2 weeks)
					300        ; minimum (5 minutes)
					)
			3600	RRSIG	SOA 15 2 3600 (
					20460101000000 20260101000000 14681 alg15.test.
					o+q7CUdFJa0zP+1Ii+u6bY9gKzuhc7+oJCRz
					vDtTQV0+6WaOU35za8f+7M8CwPjeoXSZ/fmd
					l8CBVwV0H9vpAA== )
			300	NSEC	ns1.alg15.test. NS SOA MX RRSIG NSEC DNSKEY
			3600	DNSKEY	257 3 15 (
					r+BrUVJ9/UBois+HQngmyfM+Pod52jdMliS+
					uqAcURw=
					) ; KSK; alg = ED25519 ; key id = 14681
www.alg15.test.		3600	IN A	192.0.2.10
			3600	IN A	192.0.2.11
`;

/** A `.key` file from `dnssec-keygen`: no TTL, base64 split by spaces. */
const KEY_FILE = `; This is a zone-signing key, keyid 52615, for example.test.
; Created: 20261122131319 (Sun Nov 22 13:13:19 2026)
; Publish: 20261122131319 (Sun Nov 22 13:13:19 2026)
; Activate: 20261122131319 (Sun Nov 22 13:13:19 2026)
example.test. IN DNSKEY 256 3 13 GMAbiLx4w1IKcSI0yU382JTeMh4d5XStTYwQhgnNpRiocvlf2+gPi6BY Y2Q9WVpLoQJLkvJiE2Xy0usJoKgiiQ==
`;

/** `dig alg13.test SOA +dnssec +multiline +noall +answer`. */
const DIG_MULTILINE = `alg13.test.		3600 IN	SOA ns1.alg13.test. hostmaster.alg13.test. (
				2026010101 ; serial
				7200       ; refresh (2 hours)
				3600       ; retry (1 hour)
				1209600    ; expire (2 weeks)
				300        ; minimum (5 minutes)
				)
alg13.test.		3600 IN	RRSIG SOA 13 2 3600 (
				20460101000000 20260101000000 51764 alg13.test.
				qioWOmTqdrq5LOKNtx6FK+IuYFiMGSFWyEq7T1AyaaCo
				LFqyp2YzH+LIufHOO3O4+fb0boIXuPW2kxGTjQJYvg== )
`;

/** Full `dig www.alg13.test A +dnssec` output, header comments included. */
const DIG_FULL = `
; <<>> DiG 9.18.49-1~deb12u3-Debian <<>> @127.0.0.1 -p 15353 www.alg13.test A +dnssec
; (1 server found)
;; global options: +cmd
;; Got answer:
;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 30270
;; flags: qr aa rd; QUERY: 1, ANSWER: 3, AUTHORITY: 0, ADDITIONAL: 1
;; WARNING: recursion requested but not available

;; OPT PSEUDOSECTION:
; EDNS: version: 0, flags: do; udp: 1232
; COOKIE: cc7971a4aa5fc327010000006b02eb274bfff91f6bdac14f (good)
;; QUESTION SECTION:
;www.alg13.test.			IN	A

;; ANSWER SECTION:
www.alg13.test.		3600	IN	A	192.0.2.10
www.alg13.test.		3600	IN	A	192.0.2.11
www.alg13.test.		3600	IN	RRSIG	A 13 3 3600 20460101000000 20260101000000 51764 alg13.test. Gt+h696uik6mxD8HIzLXaNk/lfzSkQAKBfqSar4xgVYF3ehKzsKHwMft vVBQXiGMEIiJ3Iv3J6FQ4JzUOQo56g==

;; Query time: 0 msec
;; SERVER: 127.0.0.1#15353(127.0.0.1) (UDP)
;; WHEN: Sun Nov 22 13:16:23 UTC 2026
;; MSG SIZE  rcvd: 209
`;

/** `dig alg8.test DNSKEY +dnssec +noall +answer +nosplit`. */
const DIG_NOSPLIT = `alg8.test.		3600	IN	DNSKEY	257 3 8 AwEAAeCKq3Hg9YEhNxDRzX5t1xJBzLY/bRwrKY9gEiF6IKTf537qTpfJKiLjjHwM7C48gbsJNzGHl8X0f1OpxDqHUv4jwxoLsYU+ACogcs3mk1dyuL5poqwqE20BpLPQBPQVc5JesLuXgc9nZHgXBfOneaz0po8B1PQixcHuKSg3SRuz
alg8.test.		3600	IN	RRSIG	DNSKEY 8 2 3600 20460101000000 20260101000000 48416 alg8.test. bV7vzHCJw/T6ZJ7aIKYnrBfXj/7bHV+MxP8eQQmEiBdOernHD0BieJK5ukvPUqEepfWoya20FLIkTXJ+ReoSiKnOhpzYsS/hd3UeoVRvtdaG846r+rxdKzMffyd3PyfzKE29mzq3gy9WDs7WoG1pa/nE6lnEJuUaFTYO8+p/ANo=
`;

function expectParseError(action: () => unknown, message: string | RegExp): void {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(PresentationParseError.isInstance(caught)).toBe(true);
  expect((caught as Error).message).toMatch(message);
}

describe('parseRecord', () => {
  it('reads owner, TTL, class, type and rdata', () => {
    expect(parseRecord('www.example.test. 300 IN A 192.0.2.1')).toEqual({
      name: 'www.example.test.',
      ttl: 300,
      class: 'IN',
      type: 'A',
      data: '192.0.2.1',
    });
  });

  it('accepts TTL and class in either order, or missing with defaults', () => {
    const expected = parseRecord('a.test. 60 IN A 192.0.2.1');
    expect(parseRecord('a.test. IN 60 A 192.0.2.1')).toEqual(expected);
    expect(parseRecord('a.test. A 192.0.2.1', { defaultTtl: 60 })).toEqual(expected);
    expect(parseRecord('a.test. 60 A 192.0.2.1')).toEqual(expected);
    expect(parseRecord('a.test. 60 A 192.0.2.1', { defaultClass: 'CH' }).class).toBe('CH');
    expect(parseRecord('a.test. 60 CLASS1 A 192.0.2.1').class).toBe('IN');
  });

  it('reads TTLs with units', () => {
    expect(parseRecord('a.test. 1h30m IN A 192.0.2.1').ttl).toBe(5400);
    expect(parseRecord('a.test. 2D IN A 192.0.2.1').ttl).toBe(172800);
  });

  it('resolves @ and relative names against the origin', () => {
    const record = parseRecord('@ 300 IN MX 10 mail', { origin: 'example.test' });
    expect(record).toEqual({
      name: 'example.test.',
      ttl: 300,
      class: 'IN',
      type: 'MX',
      data: { preference: 10, exchange: 'mail.example.test.' },
    });
    expect(parseRecord('www 300 IN CNAME @', { origin: 'example.test.' }).data).toBe(
      'example.test.',
    );
    expect(parseRecord('host 300 IN PTR other', { origin: '.' }).name).toBe('host.');
  });

  it('keeps the case of names and normalises escapes', () => {
    expect(parseRecord('WWW.Example.TEST. 300 IN NS NS1.Example.test.').data).toBe(
      'NS1.Example.test.',
    );
    expect(parseRecord('a\\.b.test. 300 IN A 192.0.2.1').name).toBe('a\\.b.test.');
    expect(parseRecord('\\065.test. 300 IN A 192.0.2.1').name).toBe('A.test.');
  });

  it('accepts a record spread over lines in parentheses, with comments', () => {
    const record = parseRecord(
      'example.test. 300 IN SOA ns1.example.test. host.example.test. ( 1 ; serial\n 2h 1h 2w 5m )',
    );
    expect(record.data).toEqual({
      mname: 'ns1.example.test.',
      rname: 'host.example.test.',
      serial: 1,
      refresh: 7200,
      retry: 3600,
      expire: 1209600,
      minimum: 300,
    });
  });

  it('rejects bad input with a message naming the problem', () => {
    expectParseError(() => parseRecord(''), /no record/);
    expectParseError(() => parseRecord('a.test. 300 IN FOO 1'), /unknown type FOO/);
    expectParseError(() => parseRecord('a.test. 300 IN'), /record has no type/);
    expectParseError(() => parseRecord('a.test. IN A 192.0.2.1'), /no TTL/);
    expectParseError(
      () => parseRecord('www 300 IN A 192.0.2.1'),
      /relative name www needs an origin/,
    );
    expectParseError(() => parseRecord('@ 300 IN A 192.0.2.1'), /@ needs an origin/);
    expectParseError(() => parseRecord('a.test. 300 IN A 192.0.2.300'), /not an IPv4 address/);
    expectParseError(() => parseRecord('a.test. 300 IN AAAA 192.0.2.1'), /not an IPv6 address/);
    expectParseError(() => parseRecord('a.test. 300 IN AAAA fe80::1%eth0'), /not an IPv6/);
    expectParseError(
      () => parseRecord('a.test. 300 IN A 192.0.2.1 192.0.2.2'),
      /A needs 1 field, got 2/,
    );
    expectParseError(
      () => parseRecord('a.test. 300 IN SOA a. b. 1 2 3 4'),
      /SOA needs 7 fields, got 6/,
    );
    expectParseError(
      () => parseRecord('a.test. 300 IN MX ten mail.test.'),
      /MX preference must be a decimal/,
    );
    expectParseError(() => parseRecord('a.test. 300 IN MX 65536 mail.test.'), /above 65535/);
    expectParseError(() => parseRecord('a.test. 99999999999 IN A 192.0.2.1'), /TTL .* is above/);
    expectParseError(() => parseRecord('a..test. 300 IN A 192.0.2.1'), /empty label/);
    expectParseError(() => parseRecord('a.test. 300 IN TXT'), /TXT needs at least 1 field/);
    expectParseError(
      () => parseRecord('a.test. 300 IN TXT "unterminated'),
      /unterminated quoted string/,
    );
    expectParseError(() => parseRecord('a.test. 300 IN TXT "\\300"'), /above 255/);
    expectParseError(
      () => parseRecord(`a.test. 300 IN TXT "${'x'.repeat(256)}"`),
      /longer than 255/,
    );
    expectParseError(() => parseRecord('a.test. 300 IN A ( 192.0.2.1'), /unclosed parenthesis/);
    expectParseError(() => parseRecord('a.test. 300 IN A 192.0.2.1 )'), /unbalanced closing/);
    expectParseError(
      () => parseRecord('a.test. 300 IN A 192.0.2.1\nb.test. 300 IN A 192.0.2.2'),
      /more than one record/,
    );
    expectParseError(() => parseRecord('$TTL 300'), /only allowed in zone text/);
  });

  it('rejects malformed DNSSEC rdata', () => {
    expectParseError(
      () => parseRecord('a.test. 300 IN DNSKEY 257 3 13 not*base64'),
      'DNSKEY public key is not valid base64',
    );
    expectParseError(
      () => parseRecord('a.test. 300 IN CDNSKEY 257 3 13 abc'),
      /CDNSKEY public key is not valid base64/,
    );
    expectParseError(
      () => parseRecord('a.test. 300 IN DNSKEY 257 3 13'),
      /DNSKEY needs at least 4 fields/,
    );
    expectParseError(
      () => parseRecord('a.test. 300 IN DS 1 13 2 XYZ0'),
      /DS digest is not valid hex/,
    );
    expectParseError(
      () => parseRecord('a.test. 300 IN DS 1 13 2 ABC'),
      /DS digest is not valid hex/,
    );
    expectParseError(
      () => parseRecord('a.test. 300 IN DS 70000 13 2 AB'),
      /DS key tag 70000 is above 65535/,
    );
    expectParseError(
      () =>
        parseRecord(
          'a.test. 300 IN RRSIG FOO 13 2 300 20260101000000 20250101000000 1 a.test. AAAA',
        ),
      /unknown type FOO covered by the RRSIG/,
    );
    expectParseError(
      () =>
        parseRecord('a.test. 300 IN RRSIG A 13 2 300 20261301000000 20250101000000 1 a.test. AAAA'),
      /RRSIG expiration 20261301000000 is not a valid YYYYMMDDHHmmSS time/,
    );
    expectParseError(
      () => parseRecord('a.test. 300 IN RRSIG A 13 2 300 20260101000000 20250101000000 1 a.test.'),
      /RRSIG needs at least 9 fields/,
    );
    expectParseError(
      () => parseRecord('a.test. 300 IN NSEC b.test. A FOO'),
      /unknown type FOO in the NSEC type list/,
    );
    expectParseError(
      () => parseRecord('a.test. 300 IN NSEC3 1 0 0 - XYZ! A'),
      /not valid base32hex/,
    );
    expectParseError(
      () => parseRecord('a.test. 300 IN NSEC3 1 0 0 GG ABCD A'),
      /NSEC3 salt is not valid hex/,
    );
    expectParseError(
      () => parseRecord('a.test. 300 IN NSEC3PARAM 1 0 0'),
      /NSEC3PARAM needs 4 fields/,
    );
    expectParseError(() => parseRecord('a.test. 300 IN CSYNC 1'), /CSYNC needs at least 2 fields/);
  });

  it('reads and checks the RFC 3597 generic form', () => {
    expect(parseRecord('a.test. 300 IN TYPE65000 \\# 3 ab cd ef')).toEqual({
      name: 'a.test.',
      ttl: 300,
      class: 'IN',
      type: 'TYPE65000',
      data: { rdata: 'ABCDEF' },
    });
    // Known types in the generic form decode into their typed shape.
    expect(parseRecord('a.test. 300 IN A \\# 4 C0000201').data).toBe('192.0.2.1');
    expect(parseRecord('a.test. 300 IN TYPE62 \\# 12 000000420003000460000008')).toMatchObject({
      type: 'CSYNC',
      data: { serial: 66, flags: 3, types: ['A', 'NS', 'AAAA'] },
    });
    expectParseError(
      () => parseRecord('a.test. 300 IN TYPE65000 \\# 4 ABCDEF'),
      /length 4 does not match the 3 octets/,
    );
    expectParseError(() => parseRecord('a.test. 300 IN TYPE65000 \\#'), /needs a length/);
    expectParseError(() => parseRecord('a.test. 300 IN A \\# 3 C00002'), /A rdata is 3 octets/);
  });

  it('asks for the generic form for types without a presentation parser', () => {
    expectParseError(
      () => parseRecord('misc.types.test. 600 IN RP mbox.types.test. txt.types.test.'),
      /no presentation parser for type RP/,
    );
    // `dig +unknownformat` output for that CAA record.
    expect(
      parseRecord('misc.types.test.	600	CLASS1	TYPE257	\\# 14 0005697373756563612E74657374'),
    ).toEqual({
      name: 'misc.types.test.',
      ttl: 600,
      class: 'IN',
      type: 'CAA',
      data: { rdata: '0005697373756563612E74657374' },
    });
  });

  it('reads RRSIG times as YYYYMMDDHHmmSS or epoch seconds', () => {
    const dated = parseRecord(
      'a.test. 300 IN RRSIG A 13 2 300 20460101000000 20260101000000 51764 a.test. AAAA',
    );
    const epoch = parseRecord(
      'a.test. 300 IN RRSIG A 13 2 300 2398377600 1767225600 51764 a.test. AAAA',
    );
    expect(dated).toEqual(epoch);
    expect(dated.data).toMatchObject({ expiration: 2398377600, inception: 1767225600 });
  });

  it('accepts algorithm mnemonics', () => {
    expect(parseRecord('a.test. 300 IN DS 1 ECDSAP256SHA256 2 AB').data).toMatchObject({
      algorithm: 13,
    });
  });
});

describe('parseRdata', () => {
  it('parses the rdata of one type', () => {
    expect(parseRdata('CSYNC', '0 1 A NS AAAA')).toEqual({
      serial: 0,
      flags: 1,
      types: ['A', 'NS', 'AAAA'],
    });
    expect(parseRdata('mx', '10 mail', 'example.test.')).toEqual({
      preference: 10,
      exchange: 'mail.example.test.',
    });
    expect(parseRdata('NSEC3', '1 1 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S A RRSIG')).toEqual({
      hashAlgorithm: 1,
      flags: 1,
      iterations: 0,
      salt: '',
      nextHashedOwner: '2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S',
      types: ['A', 'RRSIG'],
    });
    expect(parseRdata('TYPE2', 'ns.example.test.')).toBe('ns.example.test.');
  });

  it('joins base64 and hex split by spaces and newlines', () => {
    expect(
      parseRdata('DNSKEY', '257 3 15 ( r+BrUVJ9/UBois+HQngmyfM+Pod52jdMliS+\n uqAcURw= )'),
    ).toEqual({
      flags: 257,
      protocol: 3,
      algorithm: 15,
      publicKey: 'r+BrUVJ9/UBois+HQngmyfM+Pod52jdMliS+uqAcURw=',
    });
    expect(parseRdata('DS', '14681 15 2 0f5fc4d1 adf3')).toEqual({
      keyTag: 14681,
      algorithm: 15,
      digestType: 2,
      digest: '0F5FC4D1ADF3',
    });
  });

  it('rejects unknown types and bad rdata', () => {
    expectParseError(() => parseRdata('FOO', '1'), /unknown type FOO/);
    expectParseError(() => parseRdata('SOA', 'a. b. 1 2 3'), /SOA needs 7 fields/);
    expectParseError(() => parseRdata('NS', 'relative'), /needs an origin/);
  });
});

describe('parseZone', () => {
  it('handles $ORIGIN, $TTL, comments, quotes, parentheses and blank owners', () => {
    const text = `$ORIGIN example.test.
$TTL 1h ; default
@   IN SOA ns1 hostmaster ( 2024010101 ; serial
        7200 3600 1209600 300 )
    IN NS ns1            ; blank owner: the apex
ns1 A 192.0.2.1
    AAAA 2001:DB8::1
txt 60 TXT "a ; not a comment" "( not a paren )" plain
$ORIGIN sub
www CNAME @
$TTL 120
x CH TXT "chaos"
y TXT "class follows the previous record"
`;
    const records = parseZone(text, { origin: 'ignored.test.' });
    expect(records.map(formatRecord)).toEqual([
      'example.test. 3600 IN SOA ns1.example.test. hostmaster.example.test. 2024010101 7200 3600 1209600 300',
      'example.test. 3600 IN NS ns1.example.test.',
      'ns1.example.test. 3600 IN A 192.0.2.1',
      'ns1.example.test. 3600 IN AAAA 2001:db8::1',
      'txt.example.test. 60 IN TXT "a ; not a comment" "( not a paren )" "plain"',
      'www.sub.example.test. 3600 IN CNAME sub.example.test.',
      'x.sub.example.test. 120 CH TXT "chaos"',
      'y.sub.example.test. 120 CH TXT "class follows the previous record"',
    ]);
  });

  it('uses the previous TTL before any $TTL (RFC 1035), then options.defaultTtl', () => {
    expect(
      parseZone('a 30 IN A 192.0.2.1\nb IN A 192.0.2.2', { origin: 'z.' }).map((r) => r.ttl),
    ).toEqual([30, 30]);
    expect(parseZone('a IN A 192.0.2.1', { origin: 'z.', defaultTtl: 5 })[0]!.ttl).toBe(5);
    expectParseError(
      () => parseZone('a IN A 192.0.2.1', { origin: 'z.' }),
      /line 1: record has no TTL/,
    );
  });

  it('reports the line of an error', () => {
    expectParseError(
      () => parseZone('$TTL 60\na A 192.0.2.1\nb A 192.0.2.x\n', { origin: 'z.' }),
      /^line 3: A address/,
    );
    expectParseError(
      () => parseZone('  A 192.0.2.1', { origin: 'z.', defaultTtl: 1 }),
      /no owner name/,
    );
    expectParseError(
      () => parseZone('$INCLUDE other.db', { origin: 'z.' }),
      /unsupported directive \$INCLUDE/,
    );
    expectParseError(() => parseZone('$ORIGIN', { origin: 'z.' }), /\$ORIGIN needs a name/);
    expectParseError(() => parseZone('$TTL soon', { origin: 'z.' }), /\$TTL must be a number/);
  });

  it('reads dnssec-signzone output', () => {
    const records = parseZone(SIGNZONE_TEXT, { origin: 'alg15.test.' });
    expect(records.map((record) => record.type)).toEqual([
      'SOA',
      'RRSIG',
      'NSEC',
      'DNSKEY',
      'A',
      'A',
    ]);
    expect(records[1]).toEqual({
      name: 'alg15.test.',
      ttl: 3600,
      class: 'IN',
      type: 'RRSIG',
      data: {
        typeCovered: 'SOA',
        algorithm: 15,
        labels: 2,
        originalTtl: 3600,
        expiration: 2398377600,
        inception: 1767225600,
        keyTag: 14681,
        signerName: 'alg15.test.',
        signature:
          'o+q7CUdFJa0zP+1Ii+u6bY9gKzuhc7+oJCRzvDtTQV0+6WaOU35za8f+7M8CwPjeoXSZ/fmdl8CBVwV0H9vpAA==',
      },
    });
    expect(records[2]!.ttl).toBe(300);
    expect(records[3]!.data).toEqual({
      flags: 257,
      protocol: 3,
      algorithm: 15,
      publicKey: 'r+BrUVJ9/UBois+HQngmyfM+Pod52jdMliS+uqAcURw=',
    });
    expect(records[5]).toEqual({
      name: 'www.alg15.test.',
      ttl: 3600,
      class: 'IN',
      type: 'A',
      data: '192.0.2.11',
    });
  });

  it('reads dig output, joining base64 split by spaces', () => {
    const records = parseZone(DIG_FULL, { origin: '.' });
    expect(records).toHaveLength(3);
    expect(records[2]!.data).toMatchObject({
      typeCovered: 'A',
      signature:
        'Gt+h696uik6mxD8HIzLXaNk/lfzSkQAKBfqSar4xgVYF3ehKzsKHwMftvVBQXiGMEIiJ3Iv3J6FQ4JzUOQo56g==',
    });
    const multiline = parseZone(DIG_MULTILINE, { origin: '.' });
    expect(multiline.map((record) => record.type)).toEqual(['SOA', 'RRSIG']);
    expect(multiline[0]!.data).toMatchObject({ serial: 2026010101, minimum: 300 });
  });

  it('reads dig +nosplit output', () => {
    const [key, signature] = parseZone(DIG_NOSPLIT, { origin: '.' });
    expect(key!.data).toMatchObject({ flags: 257, protocol: 3, algorithm: 8 });
    expect(signature!.data).toMatchObject({
      typeCovered: 'DNSKEY',
      keyTag: 48416,
      signerName: 'alg8.test.',
    });
    expect(formatRecord(key!)).toBe(DIG_NOSPLIT.split('\n')[0]!.replace(/\t+/g, ' '));
  });

  it('reads dnssec-keygen key files (no TTL) with a default TTL', () => {
    const [key] = parseZone(KEY_FILE, { origin: 'example.test.', defaultTtl: 3600 });
    expect(key).toEqual({
      name: 'example.test.',
      ttl: 3600,
      class: 'IN',
      type: 'DNSKEY',
      data: {
        flags: 256,
        protocol: 3,
        algorithm: 13,
        publicKey:
          'GMAbiLx4w1IKcSI0yU382JTeMh4d5XStTYwQhgnNpRiocvlf2+gPi6BYY2Q9WVpLoQJLkvJiE2Xy0usJoKgiiQ==',
      },
    });
  });
});

describe('rdata bytes match the server', () => {
  const typed = parseZone(AXFR_TEXT, { origin: '.' });
  const generic = parseZone(AXFR_GENERIC, { origin: '.' });
  const hexByLine = AXFR_GENERIC.trim()
    .split('\n')
    .map((line) => line.split('\\#')[1]!.trim().split(/\s+/).slice(1).join(''));

  it('parses every record of the transfer both ways', () => {
    expect(typed).toHaveLength(16);
    expect(generic).toHaveLength(16);
  });

  it('encodeRdata of each parsed record gives the octets BIND served', () => {
    typed.forEach((record, index) => {
      expect(encodeRdata(record).toString('hex').toUpperCase(), formatRecord(record)).toBe(
        hexByLine[index],
      );
    });
  });

  it('the generic form decodes to the same records', () => {
    expect(generic).toEqual(typed);
  });

  it('reads special TXT characters', () => {
    expect(typed[15]!.data).toEqual(['semi;colon', 'paren(', 'tab\tend', 'café', 'quote"back\\']);
  });
});

describe('formatRecord and formatRdata', () => {
  const lines = [
    'a.test. 300 IN A 192.0.2.1',
    'a.test. 300 IN AAAA 2001:db8::1',
    'a.test. 300 IN NS ns.a.test.',
    'a.test. 300 IN CNAME b.test.',
    'a.test. 300 IN DNAME b.test.',
    'a.test. 300 IN PTR Host.test.',
    'a.test. 300 IN SOA ns.a.test. host.a.test. 4294967295 7200 3600 1209600 300',
    'a.test. 300 IN MX 0 .',
    'a.test. 300 IN TXT "hello world" "" "tab\\009 \\"q\\" \\\\ caf\\195\\169"',
    'a.test. 300 IN SRV 10 60 5060 sip.a.test.',
    'a.test. 300 IN DS 14681 15 2 0F5FC4D1ADF3ED775FD7E2E7422690D14ADBDE5214020EBA8DE6A6DC779C8CB3',
    'a.test. 300 IN CDS 0 0 0 00',
    'a.test. 300 IN DNSKEY 257 3 15 r+BrUVJ9/UBois+HQngmyfM+Pod52jdMliS+uqAcURw=',
    'a.test. 300 IN CDNSKEY 0 3 0 AA==',
    'a.test. 300 IN RRSIG DNSKEY 15 2 3600 20460101000000 20260101000000 14681 a.test. SG9xiaWvwIeWZzC7W52mjDf0jEcOLVthYLDZPc+E7ATtpMt9C+/OU49DOU8vE1+OvAToI/ssw07Hnk1ft+daAA==',
    'a.test. 300 IN NSEC b.test. A NS SOA RRSIG NSEC DNSKEY TYPE65000',
    'a.test. 300 IN NSEC b.test.',
    'a.test. 300 IN NSEC3 1 1 10 AABB 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S A RRSIG',
    'a.test. 300 IN NSEC3 1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S',
    'a.test. 300 IN NSEC3PARAM 1 0 0 -',
    'a.test. 300 IN NSEC3PARAM 1 0 5 CAFE',
    'a.test. 300 IN CSYNC 0 1 A NS AAAA',
    'a.test. 300 IN TYPE65000 \\# 3 ABCDEF',
    'a.test. 300 IN TYPE65001 \\# 0',
    'a.test. 300 CH TXT "chaos"',
  ];

  it.each(lines)('prints %s back exactly', (line) => {
    expect(formatRecord(parseRecord(line))).toBe(line);
  });

  it.each(lines)('round-trips %s through formatRecord and parseRecord', (line) => {
    const record = parseRecord(line);
    expect(parseRecord(formatRecord(record))).toEqual(record);
    expect(parseRdata(record.type, formatRdata(record))).toEqual(record.data);
  });

  it('round-trips every record of the transfer and of the signed zone', () => {
    const records = [
      ...parseZone(AXFR_TEXT, { origin: '.' }),
      ...parseZone(SIGNZONE_TEXT, { origin: '.' }),
    ];
    for (const record of records) expect(parseRecord(formatRecord(record))).toEqual(record);
  });

  it('prints base64 and hex without spaces, and unknown types generically', () => {
    const record: DnsRecord = {
      name: 'a.test.',
      ttl: 1,
      class: 'IN',
      type: 'CAA',
      data: { rdata: '0005697373756563612e74657374' },
    };
    expect(formatRecord(record)).toBe('a.test. 1 IN CAA \\# 14 0005697373756563612E74657374');
    expect(
      formatRdata({
        type: 'DNSKEY',
        data: { flags: 256, protocol: 3, algorithm: 13, publicKey: 'AB CD' },
      }),
    ).toBe('256 3 13 ABCD');
  });
});
