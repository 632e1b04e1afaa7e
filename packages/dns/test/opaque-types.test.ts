import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PresentationParseError, type DnsMessage, type DnsRecord } from '@chorus/core';
import { canonicalOpaqueRdata } from '../src/opaque-types.js';
import { formatRecord, parseRdata, parseRecord, parseZone } from '../src/presentation.js';
import { decodeMessage, encodeMessage } from '../src/wire.js';
import { zoneContentDigest } from '../src/zone-content.js';

/** Hex of ASCII text. */
const ascii = (text: string) => Buffer.from(text, 'ascii').toString('hex');
/** A <character-string>: length octet, then the text. */
const cs = (text: string) => byte(text.length) + ascii(text);
const byte = (value: number) => value.toString(16).padStart(2, '0');
const u16 = (value: number) => value.toString(16).padStart(4, '0');
const u32 = (value: number) => value.toString(16).padStart(8, '0');
/** An uncompressed name, labels as given. */
const name = (...labels: string[]) => labels.map(cs).join('') + '00';
const hex = (...parts: string[]) => parts.join('').toUpperCase();

interface Vector {
  /** Type and rdata in presentation format. */
  text: string;
  /** The record type as parsing and wire decoding name it. */
  type: string;
  /** The rdata octets, derived by hand from the RFC layout. */
  wire: string;
}

/** Latitude or longitude on the wire: thousandths of an arc second from 2^31 (RFC 1876 §2). */
const arc = (degrees: number, minutes: number, millis: number, sign = 1) =>
  u32(2 ** 31 + sign * ((degrees * 60 + minutes) * 60 * 1000 + millis));

const VECTORS: Vector[] = [
  {
    text: 'CAA 0 issue "ca.test; account=1"',
    type: 'CAA',
    wire: hex('00', cs('issue'), ascii('ca.test; account=1')),
  },
  { text: 'CAA 128 tbs ""', type: 'CAA', wire: hex('80', cs('tbs')) },
  { text: 'CAA 0 Issue ca.test', type: 'CAA', wire: hex('00', cs('Issue'), ascii('ca.test')) },
  {
    text: 'SSHFP 4 2 ( 0123456789abcdef0123456789abcdef\n 0123456789abcdef0123456789ABCDEF )',
    type: 'SSHFP',
    wire: hex('04', '02', '0123456789abcdef'.repeat(4)),
  },
  { text: 'TLSA 3 1 1 ab cd', type: 'TLSA', wire: hex('03', '01', '01', 'abcd') },
  { text: 'SMIMEA 3 0 0 0102', type: 'TYPE53', wire: hex('03', '00', '00', '0102') },
  {
    // RFC 3403 §6.2 example; the replacement keeps its case.
    text: 'NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp.Example.com.',
    type: 'NAPTR',
    wire: hex(
      u16(100),
      u16(10),
      cs('S'),
      cs('SIP+D2U'),
      cs(''),
      name('_sip', '_udp', 'Example', 'com'),
    ),
  },
  {
    text: 'NAPTR 100 50 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .',
    type: 'NAPTR',
    wire: hex(u16(100), u16(50), cs('u'), cs('E2U+sip'), cs('!^.*$!sip:info@example.com!'), '00'),
  },
  { text: 'HINFO "PC" Linux', type: 'HINFO', wire: hex(cs('PC'), cs('Linux')) },
  { text: 'HINFO "a\\"b" "c\\032d\\\\"', type: 'HINFO', wire: hex(cs('a"b'), cs('c d\\')) },
  {
    // RFC 7553 §4.5 example.
    text: 'URI 10 1 "ftp://ftp1.example.com/public"',
    type: 'TYPE256',
    wire: hex(u16(10), u16(1), ascii('ftp://ftp1.example.com/public')),
  },
  {
    text: 'CERT PGP 0 0 AAECAw==',
    type: 'TYPE37',
    wire: hex(u16(3), u16(0), '00', '00010203'),
  },
  {
    text: 'CERT 1 12345 RSASHA256 AA AA',
    type: 'TYPE37',
    wire: hex(u16(1), u16(12345), '08', '000000'),
  },
  {
    // Defaults: size 1m = 1e2 cm, horizontal 10000m = 1e6 cm, vertical 10m = 1e3 cm.
    text: 'LOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m',
    type: 'TYPE29',
    wire: hex(
      '00',
      '00',
      '16',
      '13',
      arc(52, 22, 23_000),
      arc(4, 53, 32_000),
      u32(10_000_000 - 200),
    ),
  },
  {
    // RFC 1876 §3 example shapes: minutes and seconds left out, 15m truncated to 1e3 cm.
    text: 'LOC 42 S 71 6 W 15m 15m 0.05 1.5',
    type: 'TYPE29',
    wire: hex('00', '13', '50', '12', arc(42, 0, 0, -1), arc(71, 6, 0, -1), u32(10_000_000 + 1500)),
  },
  {
    text: 'LOC 90 0 0 S 180 0 0 W 42849672.95m 90000000m 90000000m 90000000m',
    type: 'TYPE29',
    wire: hex('00', '99', '99', '99', arc(90, 0, 0, -1), arc(180, 0, 0, -1), 'ffffffff'),
  },
  {
    // RFC 9460 App. D.1 (AliasMode).
    text: 'SVCB 0 foo.example.com.',
    type: 'SVCB',
    wire: hex(u16(0), name('foo', 'example', 'com')),
  },
  {
    // RFC 9460 App. D.2: a generic key with an escaped octet.
    text: 'SVCB 1 foo.example.com. key667="hello\\210qoo"',
    type: 'SVCB',
    wire: hex(
      u16(1),
      name('foo', 'example', 'com'),
      u16(667),
      u16(9),
      ascii('hello'),
      'd2',
      ascii('qoo'),
    ),
  },
  {
    // RFC 9460 App. D.2: IPv6 hints.
    text: 'SVCB 1 foo.example.com. ipv6hint="2001:db8::1,2001:db8::53:1"',
    type: 'SVCB',
    wire: hex(
      u16(1),
      name('foo', 'example', 'com'),
      u16(6),
      u16(32),
      '20010db8000000000000000000000001',
      '20010db8000000000000000000530001',
    ),
  },
  {
    // RFC 9460 App. D.2: params out of order in the text, sorted on the wire.
    text: 'SVCB 16 foo.example.org. (alpn=h2,h3-19 mandatory=ipv4hint,alpn\n ipv4hint=192.0.2.1)',
    type: 'SVCB',
    wire: hex(
      u16(16),
      name('foo', 'example', 'org'),
      u16(0) + u16(4) + u16(1) + u16(4),
      u16(1) + u16(9) + cs('h2') + cs('h3-19'),
      u16(4) + u16(4) + 'c0000201',
    ),
  },
  {
    // RFC 9460 App. D.2: an alpn id holding a comma and a backslash.
    text: 'SVCB 16 foo.example.org. alpn="f\\\\\\\\oo\\\\,bar,h2"',
    type: 'SVCB',
    wire: hex(u16(16), name('foo', 'example', 'org'), u16(1), u16(12), cs('f\\oo,bar'), cs('h2')),
  },
  {
    text: 'HTTPS 1 . port=8443 no-default-alpn ech=AEX+DQ== alpn=h3 ohttp dohpath=/q{?dns}',
    type: 'HTTPS',
    wire: hex(
      u16(1),
      '00',
      u16(1) + u16(3) + cs('h3'),
      u16(2) + u16(0),
      u16(3) + u16(2) + u16(8443),
      u16(5) + u16(4) + '0045fe0d',
      u16(7) + u16(8) + ascii('/q{?dns}'),
      u16(8) + u16(0),
    ),
  },
];

const noFlags = { qr: true, aa: true, tc: false, rd: false, ra: false, ad: false, cd: false };

/** Decodes an answer holding `rdata` of `type`, as an AXFR of the record would give it. */
function fromWire(type: string, rdata: string): DnsRecord {
  const message: Omit<DnsMessage, 'tsig'> = {
    id: 1,
    opcode: 'QUERY',
    flags: noFlags,
    rcode: 'NOERROR',
    questions: [],
    answers: [{ name: 'example.com.', ttl: 300, class: 'IN', type, data: { rdata } }],
    authorities: [],
    additionals: [],
  };
  const answer = decodeMessage(encodeMessage(message)).answers[0]!;
  if (answer.data === null) throw new Error('the answer has no rdata');
  return answer;
}

const parse = (text: string) =>
  parseRecord(`@ 300 IN ${text}`, { origin: 'example.com.', defaultTtl: 300 });

function expectParseError(action: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(PresentationParseError.isInstance(caught)).toBe(true);
  expect((caught as Error).message).toMatch(message);
}

describe('presentation parsing of types without a typed shape', () => {
  it.each(VECTORS)('$text', ({ text, type, wire }) => {
    const record = parse(text);
    expect(record).toEqual({
      name: 'example.com.',
      ttl: 300,
      class: 'IN',
      type,
      data: { rdata: wire },
    });
    expect(record).toEqual(fromWire(type, wire));
  });

  it('reads the RFC 3597 generic form and TYPEnnn to the same data', () => {
    const presentation = parse('CAA 0 issue "ca.test"');
    expect(parse('CAA \\# 14 0005697373756563612E74657374')).toEqual(presentation);
    expect(parse('TYPE257 0 issue "ca.test"')).toEqual(presentation);
    expect(parse('TYPE53 3 0 0 0102')).toEqual(parse('SMIMEA 3 0 0 0102'));
    expect(parseRdata('caa', '0 issue "ca.test"')).toEqual(presentation.data);
  });

  it('resolves names relative to the origin and keeps their case', () => {
    const wire = hex(u16(1), name('SVC', 'example', 'com'), u16(3), u16(2), u16(443));
    expect(parseRdata('HTTPS', '1 SVC port=443', 'example.com.')).toEqual({ rdata: wire });
    expect(parseRdata('NAPTR', '1 2 "" "" "" @', 'Example.com.')).toEqual({
      rdata: hex(u16(1), u16(2), '000000', name('Example', 'com')),
    });
  });

  it('reads them inside zone text and reads its own formatting back', () => {
    const zone = parseZone(
      `$TTL 300
@ CAA 0 issuewild ";"
_443._tcp TLSA ( 3 1 1
   ABCD ) ; comment
svc HTTPS 1 . (
   alpn=h2 )`,
      { origin: 'example.com.' },
    );
    expect(zone.map((record) => record.type)).toEqual(['CAA', 'TLSA', 'HTTPS']);
    for (const record of zone) expect(parseRecord(formatRecord(record))).toEqual(record);
  });

  it('gives the same zone content digest from presentation text and from the wire', () => {
    const soa = parse('SOA ns.example.com. hm.example.com. 1 2 3 4 5');
    const texts = VECTORS.map((vector) => vector.text);
    const fromText = [soa, ...texts.map(parse)];
    const fromAxfr = [soa, ...VECTORS.map((vector) => fromWire(vector.type, vector.wire))];
    expect(zoneContentDigest('example.com.', fromText)).toEqual(
      zoneContentDigest('example.com.', fromAxfr),
    );
  });
});

describe('presentation errors of types without a typed shape', () => {
  it.each([
    ['CAA 256 issue "x"', /CAA flags 256 is above 255/],
    ['CAA 0 is-sue "x"', /CAA tag "is-sue" must be 1 to 255 letters and digits/],
    ['CAA 0 issue', /CAA value is missing/],
    ['TLSA 3 1 1 abc', /TLSA certificate association data is not valid hex/],
    ['TLSA 3 1 1', /TLSA certificate association data is missing/],
    ['SSHFP 1 1 zz', /SSHFP fingerprint is not valid hex/],
    ['HINFO PC', /HINFO OS is missing/],
    ['HINFO PC Linux extra', /HINFO has 1 field too many/],
    [`HINFO "${'x'.repeat(256)}" os`, /HINFO CPU is longer than 255 octets/],
    ['URI 10 1 ftp://x', /TYPE256 target must be in double quotes/],
    ['NAPTR 1 2 "" "" ""', /NAPTR rdata is incomplete/],
    ['CERT PGP 0 0 A', /certificate is not valid base64/],
    ['LOC 91 0 0 N 0 E 0', /latitude degrees 91 is above 90/],
    ['LOC 90 1 0 N 0 E 0', /latitude is beyond 90 degrees/],
    ['LOC 52 22 60 N 0 E 0', /latitude seconds must be below 60/],
    [
      'LOC 52 22 1.2345 N 0 E 0',
      /latitude seconds "1.2345" is not a number with at most 3 decimals/,
    ],
    ['LOC 52 X 0 E 0', /latitude minutes must be a decimal number/],
    ['LOC 52 22 1 N 4 E -100000.01m', /altitude -100000.01m is outside/],
    ['LOC 52 22 1 N 4 E 0 90000001m', /size 90000001m is above 90000000m/],
    ['SVCB 1 . foo=1', /SVCB has an unknown SvcParam key "foo"/],
    ['SVCB 1 . key03=1', /unknown SvcParam key "key03"/],
    ['SVCB 1 . port=1 port=2', /SvcParam port appears twice/],
    ['SVCB 1 . port=65536', /SvcParam port "65536" is not a port number/],
    ['SVCB 1 . alpn', /SvcParam alpn needs a value/],
    ['SVCB 1 . alpn=h2,,h3', /SvcParam alpn has an empty item/],
    ['SVCB 1 . no-default-alpn=x', /SvcParam no-default-alpn takes no value/],
    ['SVCB 1 . mandatory=alpn', /mandatory lists alpn, not present/],
    ['SVCB 1 . mandatory=mandatory', /must not list mandatory itself/],
    ['SVCB 1 . mandatory=port,port port=1', /lists a key twice/],
    ['SVCB 1 . ipv4hint=192.0.2.1,2001:db8::1', /ipv4hint "2001:db8::1" is not an address/],
    ['SVCB 1 . ech=AEX', /SvcParam ech is not valid base64/],
    ['SVCB 1 . "alpn=h2"', /SvcParam expected, got the string "alpn=h2"/],
    ['SVCB 1', /SVCB rdata is incomplete/],
  ])('%s', (text, message) => {
    expectParseError(() => parse(text), message);
  });
});

describe('canonicalOpaqueRdata', () => {
  it('lower-cases the NAPTR replacement only (RFC 4034 §6.2), as `ldns-read-zone -c` does', () => {
    const record = parse('NAPTR 1 2 "S" "SIP+D2U" "" _SIP._udp.Example.COM.');
    const rdata = Buffer.from((record.data as { rdata: string }).rdata, 'hex');
    const canonical = hex(
      u16(1),
      u16(2),
      cs('S'),
      cs('SIP+D2U'),
      cs(''),
      name('_sip', '_udp', 'example', 'com'),
    );
    expect(canonicalOpaqueRdata(35, rdata).toString('hex').toUpperCase()).toBe(canonical);
    // Types defined after RFC 3597 keep the case of their names (RFC 3597 §7).
    const svcb = Buffer.from(hex(u16(1), name('Foo', 'Example', 'COM')), 'hex');
    expect(canonicalOpaqueRdata(64, svcb)).toEqual(svcb);
  });
});

/** BIND's `named-rrchecker -u` prints rdata in the RFC 3597 form; absent on some machines. */
function bindRdata(text: string): string | undefined {
  const output = execFileSync('named-rrchecker', ['-u'], { input: `IN ${text}\n` }).toString();
  return /\\# \d+ ?([0-9A-F ]*)$/m.exec(output.trim())?.[1]?.replace(/ /g, '');
}

const hasRrchecker = spawnSync('named-rrchecker', ['-h']).error === undefined;

describe.skipIf(!hasRrchecker)('agreement with BIND named-rrchecker', () => {
  it.each(VECTORS)('$text', ({ text, wire }) => {
    // BIND 9.18 predates the ohttp key (RFC 9540): give it in the generic form.
    expect(bindRdata(text.replace(/\n/g, ' ').replace(' ohttp', ' key8'))).toBe(wire);
  });
});
