import { describe, expect, it } from 'vitest';
import { buildNotify } from '../src/notify.js';
import { decodeMessage, encodeMessage, encodeRecord } from '../src/wire.js';
import { groupRRsets } from '../src/query.js';
import { UpdateBuilder } from '../src/update.js';
import { DnsWireError, type DnsMessage, type DnsRecord } from '@chorus/core';

const noFlags = { qr: false, aa: false, tc: false, rd: false, ra: false, ad: false, cd: false };

function message(records: DnsRecord[]): Omit<DnsMessage, 'tsig'> {
  return {
    id: 4242,
    opcode: 'QUERY',
    flags: { ...noFlags, qr: true, aa: true },
    rcode: 'NOERROR',
    questions: [{ name: 'example.test.', type: 'ANY', class: 'IN' }],
    answers: records,
    authorities: [],
    additionals: [],
    edns: { udpPayloadSize: 1232, dnssecOk: true, version: 0, options: [] },
  };
}

const samples: DnsRecord[] = [
  { name: 'example.test.', type: 'A', class: 'IN', ttl: 30, data: '192.0.2.1' },
  { name: 'example.test.', type: 'AAAA', class: 'IN', ttl: 30, data: '2001:db8::1' },
  { name: 'example.test.', type: 'NS', class: 'IN', ttl: 30, data: 'ns.bind.test.' },
  {
    name: 'example.test.',
    type: 'SOA',
    class: 'IN',
    ttl: 30,
    data: {
      mname: 'ns.bind.test.',
      rname: 'hostmaster.example.test.',
      serial: 2026112201,
      refresh: 30,
      retry: 30,
      expire: 600,
      minimum: 30,
    },
  },
  {
    name: 'example.test.',
    type: 'MX',
    class: 'IN',
    ttl: 30,
    data: { preference: 10, exchange: 'mail.example.test.' },
  },
  { name: 'example.test.', type: 'TXT', class: 'IN', ttl: 30, data: ['hello', 'world'] },
  {
    name: 'example.test.',
    type: 'DS',
    class: 'IN',
    ttl: 30,
    data: { keyTag: 12345, algorithm: 13, digestType: 2, digest: 'AB'.repeat(32) },
  },
  {
    name: 'example.test.',
    type: 'CDS',
    class: 'IN',
    ttl: 30,
    data: { keyTag: 12345, algorithm: 13, digestType: 2, digest: 'CD'.repeat(32) },
  },
  {
    name: 'example.test.',
    type: 'DNSKEY',
    class: 'IN',
    ttl: 30,
    data: {
      flags: 257,
      protocol: 3,
      algorithm: 13,
      publicKey: Buffer.alloc(64, 7).toString('base64'),
    },
  },
  {
    name: 'example.test.',
    type: 'CDNSKEY',
    class: 'IN',
    ttl: 30,
    data: {
      flags: 257,
      protocol: 3,
      algorithm: 13,
      publicKey: Buffer.alloc(64, 9).toString('base64'),
    },
  },
  {
    name: 'example.test.',
    type: 'CSYNC',
    class: 'IN',
    ttl: 30,
    data: { serial: 0, flags: 1, types: ['A', 'NS', 'AAAA'] },
  },
  {
    name: 'example.test.',
    type: 'NSEC',
    class: 'IN',
    ttl: 30,
    data: {
      nextName: 'www.example.test.',
      types: ['NS', 'SOA', 'RRSIG', 'NSEC', 'DNSKEY', 'CDS', 'CDNSKEY', 'CSYNC', 'TYPE65534'],
    },
  },
  {
    name: 'example.test.',
    type: 'NSEC3PARAM',
    class: 'IN',
    ttl: 0,
    data: { hashAlgorithm: 1, flags: 0, iterations: 0, salt: '' },
  },
  {
    name: 'example.test.',
    type: 'RRSIG',
    class: 'IN',
    ttl: 30,
    data: {
      typeCovered: 'CSYNC',
      algorithm: 13,
      labels: 2,
      originalTtl: 30,
      expiration: 1800000000,
      inception: 1700000000,
      keyTag: 4711,
      signerName: 'example.test.',
      signature: Buffer.alloc(64, 3).toString('base64'),
    },
  },
  { name: 'example.test.', type: 'TYPE65534', class: 'IN', ttl: 0, data: { rdata: '0D1234' } },
];

describe('wire codec', () => {
  it('round-trips every supported type, including CSYNC as type 62', () => {
    const decoded = decodeMessage(encodeMessage(message(samples)));
    expect(decoded.answers).toEqual(samples);
    expect(decoded.edns).toEqual({ udpPayloadSize: 1232, dnssecOk: true, version: 0, options: [] });
    expect(decoded.flags.aa).toBe(true);
  });

  it('writes CSYNC with type code 62, not 0 (the dns-packet trap)', () => {
    const wire = encodeRecord(samples.find((record) => record.type === 'CSYNC')!);
    const typeOffset = 'example.test.'.length + 1; // uncompressed owner is length+1 octets here
    expect(wire.readUInt16BE(typeOffset)).toBe(62);
  });

  it('encodes UPDATE class NONE and empty-rdata class ANY records, and decodes them without desync', () => {
    const update = new UpdateBuilder('example.test.')
      .requireRRsetExists('example.test.', 'SOA')
      .deleteRRset('www.example.test.', 'A')
      .deleteRecord({ name: 'example.test.', type: 'A', data: '192.0.2.1' })
      .add({ name: 'after.example.test.', type: 'A', class: 'IN', ttl: 30, data: '192.0.2.99' });
    const decoded = decodeMessage(encodeMessage(update.toMessage(7)));
    expect(decoded.opcode).toBe('UPDATE');
    expect(decoded.questions).toEqual([{ name: 'example.test.', type: 'SOA', class: 'IN' }]);
    expect(decoded.answers).toEqual([
      { name: 'example.test.', type: 'SOA', class: 'ANY', ttl: 0, data: null },
    ]);
    expect(decoded.authorities).toEqual([
      { name: 'www.example.test.', type: 'A', class: 'ANY', ttl: 0, data: null },
      { name: 'example.test.', type: 'A', class: 'NONE', ttl: 0, data: '192.0.2.1' },
      { name: 'after.example.test.', type: 'A', class: 'IN', ttl: 30, data: '192.0.2.99' },
    ]);
  });

  it('rejects garbage with DnsWireError instead of returning wrong data', () => {
    const good = encodeMessage(message(samples.slice(0, 3)));
    expect(() => decodeMessage(good.subarray(0, 11))).toThrow(DnsWireError);
    expect(() => decodeMessage(good.subarray(0, good.length - 3))).toThrow(DnsWireError);
    expect(() => decodeMessage(Buffer.concat([good, Buffer.from([1, 2, 3])]))).toThrow(/trailing/);
    // An A record whose RDLENGTH says 3: must not read into the next record.
    const broken = Buffer.from(encodeMessage(message([samples[0]!, samples[2]!])));
    const rdlengthOffset = 12 + 'example.test.'.length + 1 + 4 + 'example.test.'.length + 1 + 8;
    expect(broken.readUInt16BE(rdlengthOffset)).toBe(4);
    broken.writeUInt16BE(3, rdlengthOffset);
    expect(() => decodeMessage(broken)).toThrow(DnsWireError);
  });

  it('refuses names that cannot exist on the wire', () => {
    const tooLong = `${'a'.repeat(64)}.example.test.`;
    expect(() => encodeMessage(message([{ ...samples[0]!, name: tooLong }]))).toThrow(/63 octets/);
    expect(() => encodeMessage(message([{ ...samples[0]!, name: 'a..example.test.' }]))).toThrow(
      /empty label/,
    );
  });

  it('refuses an address that is not one', () => {
    expect(() => encodeRecord({ ...samples[0]!, data: '192.0.2' } as DnsRecord)).toThrow(
      /not an IPv4 address/,
    );
    expect(() => encodeRecord({ ...samples[1]!, data: '192.0.2.1' } as DnsRecord)).toThrow(
      /not an IPv6 address/,
    );
  });

  it('keeps escaped dots inside labels', () => {
    const record: DnsRecord = {
      name: 'a\\.b.example.test.',
      type: 'A',
      class: 'IN',
      ttl: 1,
      data: '192.0.2.2',
    };
    expect(decodeMessage(encodeMessage(message([record]))).answers).toEqual([record]);
  });

  it('groups records into RRsets with their signatures and the smallest TTL', () => {
    const rrsig = samples.find((record) => record.type === 'RRSIG')!;
    const csync = samples.find((record) => record.type === 'CSYNC')!;
    const sets = groupRRsets([
      { name: 'www.example.test.', type: 'A', class: 'IN', ttl: 60, data: '192.0.2.1' },
      { name: 'WWW.example.test.', type: 'A', class: 'IN', ttl: 30, data: '192.0.2.2' },
      csync,
      rrsig,
    ]);
    expect(sets).toHaveLength(2);
    expect(sets[0]).toMatchObject({
      type: 'A',
      ttl: 30,
      records: ['192.0.2.1', '192.0.2.2'],
      signatures: [],
    });
    expect(sets[1]).toMatchObject({ type: 'CSYNC', signatures: [rrsig.data] });
  });

  it('survives a JSON round trip', () => {
    const decoded = decodeMessage(encodeMessage(message(samples)));
    expect(JSON.parse(JSON.stringify(decoded))).toEqual(decoded);
  });

  it('builds NOTIFY for SOA with the new SOA as a hint, and generalized NOTIFY for CDS and CSYNC', () => {
    const soa = samples.find((record) => record.type === 'SOA')!.data;
    const zoneNotify = decodeMessage(
      encodeMessage(buildNotify('example.test', 'SOA', soa as never)),
    );
    expect(zoneNotify.opcode).toBe('NOTIFY');
    expect(zoneNotify.flags.aa).toBe(true);
    expect(zoneNotify.questions).toEqual([{ name: 'example.test.', type: 'SOA', class: 'IN' }]);
    expect(zoneNotify.answers).toEqual([
      { name: 'example.test.', type: 'SOA', class: 'IN', ttl: 0, data: soa },
    ]);
    for (const type of ['CDS', 'CSYNC'] as const) {
      const generalized = decodeMessage(encodeMessage(buildNotify('example.test.', type)));
      expect(generalized.opcode).toBe('NOTIFY');
      expect(generalized.questions).toEqual([{ name: 'example.test.', type, class: 'IN' }]);
      expect(generalized.answers).toEqual([]);
    }
    // The wire question type of a CSYNC NOTIFY is 62 (RFC 9859 §4.2 uses the RR type as qtype).
    const wire = encodeMessage(buildNotify('example.test.', 'CSYNC'));
    expect(wire.readUInt16BE(12 + 'example.test.'.length + 1)).toBe(62);
    expect((wire.readUInt16BE(2) >> 11) & 0xf).toBe(4);
  });
});
