import { describe, expect, it } from 'vitest';
import {
  DnsWireError,
  DSYNC_SCHEME_NOTIFY,
  PresentationParseError,
  type DnsMessage,
  type DnsRecord,
  type DsyncData,
} from '@chorus/core';
import { canonicalRrsetSigningData } from '../src/dnssec/canonical.js';
import {
  dsyncGenericRdata,
  formatRdata,
  formatRecord,
  parseRdata,
  parseRecord,
  parseZone,
} from '../src/presentation.js';
import { decodeRdata, encodeRdata } from '../src/rdata.js';
import { decodeMessage, encodeMessage } from '../src/wire.js';

/**
 * DSYNC (RFC 9859 §2, type 66). The wire bytes below are written out by hand from the §2.1
 * layout (RRtype u16, Scheme u8, Port u16, uncompressed Target), not produced by the encoder.
 */

/** `CDS NOTIFY 5300 scanner.test.`: 0x003B = 59 (CDS), 1 = NOTIFY, 0x14B4 = 5300. */
const CDS_NOTIFY_HEX = '003B' + '01' + '14B4' + '07' + '7363616E6E6572' + '04' + '74657374' + '00';
const CDS_NOTIFY: DsyncData = { rrtype: 'CDS', scheme: 1, port: 5300, target: 'scanner.test.' };

function parseErrorOf(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    expect(PresentationParseError.isInstance(error)).toBe(true);
    return error as Error;
  }
  throw new Error('expected a PresentationParseError');
}

function wireErrorOf(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    expect(DnsWireError.isInstance(error)).toBe(true);
    return error as Error;
  }
  throw new Error('expected a DnsWireError');
}

function hexBuffer(hex: string): Buffer {
  return Buffer.from(hex, 'hex');
}

/** A response carrying one record of type 66 whose rdata is exactly `rdataHex`. */
function messageWithDsyncRdata(rdataHex: string): Buffer {
  const message: Omit<DnsMessage, 'tsig'> = {
    id: 7,
    opcode: 'QUERY',
    flags: { qr: true, aa: true, tc: false, rd: false, ra: false, ad: false, cd: false },
    rcode: 'NOERROR',
    questions: [{ name: 'example._dsync.test.', type: 'DSYNC', class: 'IN' }],
    answers: [
      {
        name: 'example._dsync.test.',
        type: 'TYPE66',
        class: 'IN',
        ttl: 300,
        data: { rdata: rdataHex },
      },
    ],
    authorities: [],
    additionals: [],
  };
  return encodeMessage(message);
}

describe('DSYNC wire format', () => {
  it('encodes the RFC 9859 §2.1 layout byte for byte', () => {
    expect(encodeRdata({ type: 'DSYNC', data: CDS_NOTIFY }).toString('hex').toUpperCase()).toBe(
      CDS_NOTIFY_HEX,
    );
  });

  it('decodes the same bytes into the typed shape', () => {
    const bytes = hexBuffer(CDS_NOTIFY_HEX);
    expect(decodeRdata('DSYNC', bytes, 0, bytes.length)).toEqual(CDS_NOTIFY);
  });

  it('names an unknown RRtype TYPEnnn and keeps private-use schemes as numbers', () => {
    const bytes = hexBuffer('FDE9' + 'C8' + '0035' + '00');
    expect(decodeRdata('DSYNC', bytes, 0, bytes.length)).toEqual({
      rrtype: 'TYPE65001',
      scheme: 200,
      port: 53,
      target: '.',
    });
  });

  it('goes through a whole message as type 66', () => {
    const record: DnsRecord = {
      name: 'example._dsync.test.',
      type: 'DSYNC',
      class: 'IN',
      ttl: 300,
      data: { rrtype: 'CSYNC', scheme: 1, port: 5301, target: 'Scanner.test.' },
    };
    const wire = encodeMessage({
      id: 1,
      opcode: 'QUERY',
      flags: { qr: true, aa: true, tc: false, rd: false, ra: false, ad: false, cd: false },
      rcode: 'NOERROR',
      questions: [],
      answers: [record],
      authorities: [],
      additionals: [],
    });
    // The header (12 octets), the owner (21 octets), then TYPE: 66.
    expect(wire.readUInt16BE(12 + 21)).toBe(66);
    expect(decodeMessage(wire).answers).toEqual([record]);
  });

  it('keeps the target case in canonical form (DSYNC is not in the RFC 6840 §5.1 list)', () => {
    const data = { ...CDS_NOTIFY, target: 'Scanner.TEST.' };
    const canonical = encodeRdata({ type: 'DSYNC', data }, { lowercaseNames: true });
    expect(canonical.subarray(6, 13).toString('latin1')).toBe('Scanner');
    const signed = canonicalRrsetSigningData(
      {
        typeCovered: 'DSYNC',
        algorithm: 13,
        labels: 3,
        originalTtl: 300,
        expiration: 2_000_000_000,
        inception: 1_700_000_000,
        keyTag: 1,
        signerName: 'test.',
        signature: '',
      },
      { name: 'example._dsync.test.', type: 'DSYNC', class: 'IN', records: [data] },
    );
    expect(signed.includes(Buffer.from('Scanner', 'latin1'))).toBe(true);
  });

  it('refuses truncated rdata', () => {
    const short = hexBuffer('003B0114');
    expect(wireErrorOf(() => decodeRdata('DSYNC', short, 0, short.length)).message).toMatch(
      /DSYNC rdata too short \(4 octets\)/,
    );
    // Header complete, but the target stops inside its first label.
    const cut = hexBuffer(CDS_NOTIFY_HEX.slice(0, 2 * 9));
    expect(wireErrorOf(() => decodeRdata('DSYNC', cut, 0, cut.length)).message).toMatch(
      /DSYNC target runs past RDLENGTH/,
    );
    expect(wireErrorOf(() => decodeMessage(messageWithDsyncRdata('003B0114B4'))).message).toMatch(
      /too short/,
    );
  });

  it('refuses octets after the target', () => {
    const long = hexBuffer(`${CDS_NOTIFY_HEX}FF`);
    expect(wireErrorOf(() => decodeRdata('DSYNC', long, 0, long.length)).message).toMatch(
      /DSYNC rdata is 20 octets but its fields use 19/,
    );
  });

  it('refuses a compressed target, even one that points at a valid name', () => {
    // 0xC00C points at the question name at offset 12: a pointer any other name field would follow.
    const error = wireErrorOf(() => decodeMessage(messageWithDsyncRdata('003B0114B4C00C')));
    expect(error.message).toMatch(/DSYNC target is a compressed name/);
    const partly = '003B0114B4' + '07' + '7363616E6E6572' + 'C00C';
    expect(wireErrorOf(() => decodeMessage(messageWithDsyncRdata(partly))).message).toMatch(
      /compressed/,
    );
  });

  it('refuses to encode out-of-range fields and unknown types', () => {
    expect(
      wireErrorOf(() => encodeRdata({ type: 'DSYNC', data: { ...CDS_NOTIFY, port: 70000 } }))
        .message,
    ).toMatch(/DSYNC port 70000/);
    expect(
      wireErrorOf(() => encodeRdata({ type: 'DSYNC', data: { ...CDS_NOTIFY, scheme: 256 } }))
        .message,
    ).toMatch(/DSYNC scheme 256/);
    expect(
      wireErrorOf(() => encodeRdata({ type: 'DSYNC', data: { ...CDS_NOTIFY, rrtype: 'NOPE' } }))
        .message,
    ).toMatch(/unknown RR type NOPE in DSYNC/);
  });
});

describe('DSYNC presentation format', () => {
  it('round-trips presentation → wire → presentation', () => {
    const text = 'example._dsync.test. 300 IN DSYNC CDS NOTIFY 5300 scanner.test.';
    const record = parseRecord(text);
    expect(record).toEqual({
      name: 'example._dsync.test.',
      ttl: 300,
      class: 'IN',
      type: 'DSYNC',
      data: CDS_NOTIFY,
    });
    const wire = encodeRdata(record);
    expect(wire.toString('hex').toUpperCase()).toBe(CDS_NOTIFY_HEX);
    const decoded = decodeRdata('DSYNC', wire, 0, wire.length);
    expect(formatRecord({ ...record, data: decoded } as DnsRecord)).toBe(text);
  });

  it('reads TYPEnnn, numeric schemes and relative targets', () => {
    expect(parseRdata('DSYNC', 'TYPE62 1 5301 scanner', 'test.')).toEqual({
      rrtype: 'CSYNC',
      scheme: DSYNC_SCHEME_NOTIFY,
      port: 5301,
      target: 'scanner.test.',
    });
    expect(parseRdata('TYPE66', 'cds notify 0 @', 'test.')).toEqual({
      rrtype: 'CDS',
      scheme: 1,
      port: 0,
      target: 'test.',
    });
    const privateScheme = parseRdata('DSYNC', 'TYPE65001 200 53 .');
    expect(privateScheme).toEqual({ rrtype: 'TYPE65001', scheme: 200, port: 53, target: '.' });
    expect(formatRdata({ type: 'DSYNC', data: privateScheme })).toBe('TYPE65001 200 53 .');
  });

  it('decodes the RFC 3597 generic form into the typed form', () => {
    const records = parseZone(
      `$TTL 300\n*._dsync IN TYPE66 \\# 19 ${CDS_NOTIFY_HEX.slice(0, 20)} ${CDS_NOTIFY_HEX.slice(20)}\n`,
      { origin: 'test.' },
    );
    expect(records).toEqual([
      { name: '*._dsync.test.', ttl: 300, class: 'IN', type: 'DSYNC', data: CDS_NOTIFY },
    ]);
    expect(formatRecord(records[0]!)).toBe(
      '*._dsync.test. 300 IN DSYNC CDS NOTIFY 5300 scanner.test.',
    );
  });

  it('writes the generic form BIND 9.18 can load, and reads it back', () => {
    const generic = dsyncGenericRdata(CDS_NOTIFY);
    expect(generic).toBe(`\\# 19 ${CDS_NOTIFY_HEX}`);
    expect(parseRdata('TYPE66', generic)).toEqual(CDS_NOTIFY);
    expect(dsyncGenericRdata({ rrtype: 'CSYNC', scheme: 1, port: 5301, target: 'S.test.' })).toBe(
      '\\# 13 003E0114B5' + '0153' + '04' + '74657374' + '00',
    );
  });

  it('refuses a port above 65535', () => {
    expect(
      parseErrorOf(() => parseRdata('DSYNC', 'CDS NOTIFY 70000 scanner.test.')).message,
    ).toMatch(/DSYNC port 70000 is above 65535/);
  });

  it('refuses an unknown scheme mnemonic and a scheme above 255', () => {
    expect(parseErrorOf(() => parseRdata('DSYNC', 'CDS UPDATE 53 scanner.test.')).message).toMatch(
      /DSYNC scheme UPDATE is not NOTIFY or a number/,
    );
    expect(parseErrorOf(() => parseRdata('DSYNC', 'CDS 256 53 scanner.test.')).message).toMatch(
      /DSYNC scheme 256 is above 255/,
    );
  });

  it('refuses an unknown RRtype, a missing field and a relative target without origin', () => {
    expect(parseErrorOf(() => parseRdata('DSYNC', 'BOGUS NOTIFY 53 s.test.')).message).toMatch(
      /unknown type BOGUS in the DSYNC RRtype field/,
    );
    expect(parseErrorOf(() => parseRdata('DSYNC', 'CDS NOTIFY 53')).message).toMatch(
      /DSYNC needs 4 fields, got 3/,
    );
    expect(parseErrorOf(() => parseRdata('DSYNC', 'CDS NOTIFY 53 scanner')).message).toMatch(
      /relative name scanner needs an origin/,
    );
  });

  it('refuses generic rdata that is truncated or compressed', () => {
    expect(parseErrorOf(() => parseRdata('DSYNC', '\\# 4 003B0114')).message).toMatch(
      /DSYNC rdata too short/,
    );
    expect(parseErrorOf(() => parseRdata('DSYNC', '\\# 7 003B0114B4C00C')).message).toMatch(
      /DSYNC target is a compressed name/,
    );
  });
});
