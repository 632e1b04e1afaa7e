import { isIPv4, isIPv6 } from 'node:net';
import packet from 'dns-packet';
import {
  DnsWireError,
  recordTypeName,
  recordTypeNumber,
  type DnsRecord,
  type DsyncData,
  type RecordType,
  type TypedRecord,
  type UnknownData,
} from '@chorus/core';
import { nameFromWire, nameToWire } from './names.js';

/**
 * Rdata codecs. dns-packet's codecs are used where they are exact (A, AAAA, TXT, DS, DNSKEY);
 * names, type bitmaps, RRSIG, NSEC/NSEC3, CSYNC, DSYNC and the CDS/CDNSKEY aliases are encoded
 * here, because dns-packet cannot express CSYNC (it silently becomes type 0), drops escapes in
 * names and reads past RDLENGTH on empty rdata (node-libs §4.2).
 */

interface RdataCodec<T> {
  encode(value: T): Buffer;
  decode(buffer: Buffer, offset: number): T;
}

/** The dns-packet rdata codecs used here (its published typings omit them). */
const codecs = packet as unknown as {
  a: RdataCodec<string>;
  aaaa: RdataCodec<string>;
  txt: RdataCodec<string[] | Buffer[]>;
  ds: RdataCodec<{ keyTag: number; algorithm: number; digestType: number; digest: Buffer }>;
};

/** Types whose embedded names are lower-cased in canonical form (RFC 4034 §6.2 as amended by RFC 6840 §5.1). */
const CANONICAL_LOWERCASE_TYPES = new Set([
  'NS',
  'CNAME',
  'SOA',
  'PTR',
  'MX',
  'SRV',
  'DNAME',
  'RRSIG',
]);

/** A 16-bit field in network order. */
export function u16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16BE(value);
  return buffer;
}

/** A 32-bit field in network order. */
export function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value >>> 0);
  return buffer;
}

/** RFC 4034 §4.1.2 type bitmap. */
export function encodeTypeBitmap(types: readonly RecordType[]): Buffer {
  const numbers = [
    ...new Set(
      types.map((type) => {
        const value = recordTypeNumber(type);
        if (value === undefined) throw new DnsWireError(`unknown RR type ${type} in a type bitmap`);
        return value;
      }),
    ),
  ].sort((a, b) => a - b);
  const windows = new Map<number, Buffer>();
  for (const value of numbers) {
    const window = value >> 8;
    const bit = value & 0xff;
    const bitmap = windows.get(window) ?? Buffer.alloc(32);
    bitmap[bit >> 3]! |= 0x80 >> (bit & 7);
    windows.set(window, bitmap);
  }
  const parts: Buffer[] = [];
  for (const [window, bitmap] of [...windows].sort((a, b) => a[0] - b[0])) {
    let length = 32;
    while (length > 0 && bitmap[length - 1] === 0) length -= 1;
    parts.push(Buffer.from([window, length]), bitmap.subarray(0, length));
  }
  return Buffer.concat(parts);
}

export function decodeTypeBitmap(buffer: Buffer): RecordType[] {
  const types: RecordType[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    if (offset + 2 > buffer.length) throw new DnsWireError('truncated type bitmap window');
    const window = buffer[offset]!;
    const length = buffer[offset + 1]!;
    if (length < 1 || length > 32 || offset + 2 + length > buffer.length)
      throw new DnsWireError('malformed type bitmap window');
    for (let i = 0; i < length; i += 1) {
      const byte = buffer[offset + 2 + i]!;
      for (let bit = 0; bit < 8; bit += 1) {
        if (byte & (0x80 >> bit)) types.push(recordTypeName((window << 8) | (i * 8 + bit)));
      }
    }
    offset += 2 + length;
  }
  return types;
}

const BASE32HEX = '0123456789ABCDEFGHIJKLMNOPQRSTUV';

export function base32HexEncode(buffer: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of buffer) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32HEX[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32HEX[(value << (5 - bits)) & 31];
  return out;
}

export function base32HexDecode(text: string): Buffer {
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of text.toUpperCase().replace(/=+$/, '')) {
    const index = BASE32HEX.indexOf(char);
    if (index < 0) throw new DnsWireError(`invalid base32hex character ${JSON.stringify(char)}`);
    value = ((value << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

function hexToBuffer(hex: string, what: string): Buffer {
  const clean = hex.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean))
    throw new DnsWireError(`${what} is not valid hex`);
  return Buffer.from(clean, 'hex');
}

function base64ToBuffer(text: string, what: string): Buffer {
  const clean = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) throw new DnsWireError(`${what} is not valid base64`);
  return Buffer.from(clean, 'base64');
}

/** A field that must fit in `max`, checked before it is written. */
function checkedField(value: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max)
    throw new DnsWireError(`${what} ${value} is not an integer from 0 to ${max}`);
  return value;
}

/** RFC 9859 §2.1. The target keeps its case in canonical form: DSYNC is not in RFC 6840 §5.1. */
function encodeDsync(dsync: DsyncData): Buffer {
  const type = recordTypeNumber(dsync.rrtype);
  if (type === undefined) throw new DnsWireError(`unknown RR type ${dsync.rrtype} in DSYNC`);
  return Buffer.concat([
    u16(type),
    Buffer.from([checkedField(dsync.scheme, 0xff, 'DSYNC scheme')]),
    u16(checkedField(dsync.port, 0xffff, 'DSYNC port')),
    nameToWire(dsync.target),
  ]);
}

/**
 * Octets of the name at `offset` in `rdata`, which must be written out in full: RFC 9859 §2.1
 * forbids compressing the DSYNC target, so a pointer is refused rather than followed.
 */
function uncompressedNameLength(rdata: Buffer, offset: number, what: string): number {
  let position = offset;
  for (;;) {
    if (position >= rdata.length) throw new DnsWireError(`${what} runs past RDLENGTH`);
    const length = rdata[position]!;
    if ((length & 0xc0) === 0xc0)
      throw new DnsWireError(`${what} is a compressed name, which RFC 9859 forbids`);
    if (length === 0) return position + 1 - offset;
    position += 1 + length;
  }
}

interface Options {
  /** Lower-case embedded names (canonical form, RFC 4034 §6.2). */
  lowercaseNames?: boolean;
}

/** Encodes the rdata of a record (without the RDLENGTH prefix). */
export function encodeRdata(
  record: Pick<DnsRecord, 'type' | 'data'>,
  options: Options = {},
): Buffer {
  const lower = options.lowercaseNames === true && CANONICAL_LOWERCASE_TYPES.has(record.type);
  const name = (value: string) => nameToWire(value, { lowercase: lower });
  const typed = record as TypedRecord;
  switch (typed.type) {
    case 'A':
      if (!isIPv4(typed.data))
        throw new DnsWireError(`A data ${JSON.stringify(typed.data)} is not an IPv4 address`);
      return codecs.a.encode(typed.data).subarray(2);
    case 'AAAA':
      if (!isIPv6(typed.data))
        throw new DnsWireError(`AAAA data ${JSON.stringify(typed.data)} is not an IPv6 address`);
      return codecs.aaaa.encode(typed.data).subarray(2);
    case 'NS':
    case 'CNAME':
    case 'DNAME':
    case 'PTR':
      return name(typed.data);
    case 'SOA': {
      const soa = typed.data;
      return Buffer.concat([
        name(soa.mname),
        name(soa.rname),
        u32(soa.serial),
        u32(soa.refresh),
        u32(soa.retry),
        u32(soa.expire),
        u32(soa.minimum),
      ]);
    }
    case 'MX':
      return Buffer.concat([u16(typed.data.preference), name(typed.data.exchange)]);
    case 'SRV': {
      const srv = typed.data;
      return Buffer.concat([u16(srv.priority), u16(srv.weight), u16(srv.port), name(srv.target)]);
    }
    case 'TXT':
      // dns-packet's TXT encoder mutates the array it is given.
      return codecs.txt.encode([...typed.data]).subarray(2);
    case 'DS':
    case 'CDS': {
      const ds = typed.data;
      return codecs.ds
        .encode({
          keyTag: ds.keyTag,
          algorithm: ds.algorithm,
          digestType: ds.digestType,
          digest: hexToBuffer(ds.digest, 'DS digest'),
        })
        .subarray(2);
    }
    case 'DNSKEY':
    case 'CDNSKEY': {
      const key = typed.data;
      return Buffer.concat([
        u16(key.flags),
        Buffer.from([key.protocol, key.algorithm]),
        base64ToBuffer(key.publicKey, 'DNSKEY public key'),
      ]);
    }
    case 'RRSIG': {
      const sig = typed.data;
      const covered = recordTypeNumber(sig.typeCovered);
      if (covered === undefined)
        throw new DnsWireError(`unknown RRSIG type covered ${sig.typeCovered}`);
      return Buffer.concat([
        u16(covered),
        Buffer.from([sig.algorithm, sig.labels]),
        u32(sig.originalTtl),
        u32(sig.expiration),
        u32(sig.inception),
        u16(sig.keyTag),
        name(sig.signerName),
        base64ToBuffer(sig.signature, 'RRSIG signature'),
      ]);
    }
    case 'NSEC':
      return Buffer.concat([name(typed.data.nextName), encodeTypeBitmap(typed.data.types)]);
    case 'NSEC3': {
      const nsec3 = typed.data;
      const salt = hexToBuffer(nsec3.salt, 'NSEC3 salt');
      const next = base32HexDecode(nsec3.nextHashedOwner);
      return Buffer.concat([
        Buffer.from([nsec3.hashAlgorithm, nsec3.flags]),
        u16(nsec3.iterations),
        Buffer.from([salt.length]),
        salt,
        Buffer.from([next.length]),
        next,
        encodeTypeBitmap(nsec3.types),
      ]);
    }
    case 'NSEC3PARAM': {
      const param = typed.data;
      const salt = hexToBuffer(param.salt, 'NSEC3PARAM salt');
      return Buffer.concat([
        Buffer.from([param.hashAlgorithm, param.flags]),
        u16(param.iterations),
        Buffer.from([salt.length]),
        salt,
      ]);
    }
    case 'CSYNC':
      return Buffer.concat([
        u32(typed.data.serial),
        u16(typed.data.flags),
        encodeTypeBitmap(typed.data.types),
      ]);
    case 'DSYNC':
      return encodeDsync(typed.data);
    default:
      return hexToBuffer((record.data as UnknownData).rdata, `${record.type} rdata`);
  }
}

/**
 * Decodes the rdata at `buffer[offset, offset+length)`. `buffer` is the whole message so that
 * compression pointers resolve. Throws DnsWireError when the rdata is not exactly `length` octets.
 */
export function decodeRdata(
  type: string,
  buffer: Buffer,
  offset: number,
  length: number,
): DnsRecord['data'] {
  const end = offset + length;
  const rdata = buffer.subarray(offset, end);
  const need = (count: number) => {
    if (length < count) throw new DnsWireError(`${type} rdata too short (${length} octets)`);
  };
  const nameAt = (position: number) => {
    const result = nameFromWire(buffer, position);
    if (position + result.bytes > end)
      throw new DnsWireError(`${type} rdata name runs past RDLENGTH`);
    return result;
  };
  const exact = (used: number) => {
    if (used !== length)
      throw new DnsWireError(`${type} rdata is ${length} octets but its fields use ${used}`);
  };
  switch (type) {
    case 'A':
      exact(4);
      return codecs.a.decode(buffer, offset - 2);
    case 'AAAA':
      exact(16);
      return codecs.aaaa.decode(buffer, offset - 2);
    case 'NS':
    case 'CNAME':
    case 'DNAME':
    case 'PTR': {
      const result = nameAt(offset);
      exact(result.bytes);
      return result.name;
    }
    case 'SOA': {
      const mname = nameAt(offset);
      const rname = nameAt(offset + mname.bytes);
      const position = offset + mname.bytes + rname.bytes;
      exact(mname.bytes + rname.bytes + 20);
      return {
        mname: mname.name,
        rname: rname.name,
        serial: buffer.readUInt32BE(position),
        refresh: buffer.readUInt32BE(position + 4),
        retry: buffer.readUInt32BE(position + 8),
        expire: buffer.readUInt32BE(position + 12),
        minimum: buffer.readUInt32BE(position + 16),
      };
    }
    case 'MX': {
      need(3);
      const exchange = nameAt(offset + 2);
      exact(2 + exchange.bytes);
      return { preference: rdata.readUInt16BE(0), exchange: exchange.name };
    }
    case 'SRV': {
      need(7);
      const target = nameAt(offset + 6);
      exact(6 + target.bytes);
      return {
        priority: rdata.readUInt16BE(0),
        weight: rdata.readUInt16BE(2),
        port: rdata.readUInt16BE(4),
        target: target.name,
      };
    }
    case 'TXT': {
      const strings: string[] = [];
      let position = 0;
      while (position < length) {
        const size = rdata[position]!;
        if (position + 1 + size > length) throw new DnsWireError('TXT string runs past RDLENGTH');
        strings.push(rdata.subarray(position + 1, position + 1 + size).toString('utf8'));
        position += 1 + size;
      }
      return strings;
    }
    case 'DS':
    case 'CDS':
      need(5);
      return {
        keyTag: rdata.readUInt16BE(0),
        algorithm: rdata[2]!,
        digestType: rdata[3]!,
        digest: rdata.subarray(4).toString('hex').toUpperCase(),
      };
    case 'DNSKEY':
    case 'CDNSKEY':
      need(4);
      return {
        flags: rdata.readUInt16BE(0),
        protocol: rdata[2]!,
        algorithm: rdata[3]!,
        publicKey: rdata.subarray(4).toString('base64'),
      };
    case 'RRSIG': {
      need(19);
      const signer = nameAt(offset + 18);
      return {
        typeCovered: recordTypeName(rdata.readUInt16BE(0)),
        algorithm: rdata[2]!,
        labels: rdata[3]!,
        originalTtl: rdata.readUInt32BE(4),
        expiration: rdata.readUInt32BE(8),
        inception: rdata.readUInt32BE(12),
        keyTag: rdata.readUInt16BE(16),
        signerName: signer.name,
        signature: rdata.subarray(18 + signer.bytes).toString('base64'),
      };
    }
    case 'NSEC': {
      const next = nameAt(offset);
      return { nextName: next.name, types: decodeTypeBitmap(rdata.subarray(next.bytes)) };
    }
    case 'NSEC3': {
      need(6);
      const saltLength = rdata[4]!;
      need(6 + saltLength);
      const hashLength = rdata[5 + saltLength]!;
      need(6 + saltLength + hashLength);
      return {
        hashAlgorithm: rdata[0]!,
        flags: rdata[1]!,
        iterations: rdata.readUInt16BE(2),
        salt: rdata
          .subarray(5, 5 + saltLength)
          .toString('hex')
          .toUpperCase(),
        nextHashedOwner: base32HexEncode(
          rdata.subarray(6 + saltLength, 6 + saltLength + hashLength),
        ),
        types: decodeTypeBitmap(rdata.subarray(6 + saltLength + hashLength)),
      };
    }
    case 'NSEC3PARAM': {
      need(5);
      const saltLength = rdata[4]!;
      exact(5 + saltLength);
      return {
        hashAlgorithm: rdata[0]!,
        flags: rdata[1]!,
        iterations: rdata.readUInt16BE(2),
        salt: rdata.subarray(5).toString('hex').toUpperCase(),
      };
    }
    case 'CSYNC':
      need(6);
      return {
        serial: rdata.readUInt32BE(0),
        flags: rdata.readUInt16BE(4),
        types: decodeTypeBitmap(rdata.subarray(6)),
      };
    case 'DSYNC':
      need(6);
      exact(5 + uncompressedNameLength(rdata, 5, 'DSYNC target'));
      return {
        rrtype: recordTypeName(rdata.readUInt16BE(0)),
        scheme: rdata[2]!,
        port: rdata.readUInt16BE(3),
        target: nameFromWire(rdata, 5).name,
      };
    default:
      return { rdata: rdata.toString('hex').toUpperCase() };
  }
}
