import {
  className,
  classNumber,
  DnsWireError,
  opcodeName,
  opcodeNumber,
  rcodeName,
  rcodeNumber,
  recordTypeName,
  recordTypeNumber,
  type DnsMessage,
  type DnsRecord,
  type Edns,
  type EmptyRecord,
  type HeaderFlags,
  type Question,
  type RecordType,
  type TsigData,
  type TsigRecord,
} from '@chorus/core';
import { nameFromWire, nameToWire } from './names.js';
import { decodeRdata, encodeRdata } from './rdata.js';

/**
 * DNS message framing (RFC 1035 §4). Names are written uncompressed, which every server accepts
 * and which keeps TSIG computation simple. Decoding splits each RR by its RDLENGTH before the
 * rdata codec runs, so an empty or malformed rdata can never desynchronise the rest.
 */

const TSIG_TYPE = 250;
const OPT_TYPE = 41;

function typeNumber(type: RecordType): number {
  const value = recordTypeNumber(type);
  if (value === undefined) throw new DnsWireError(`unknown RR type ${JSON.stringify(type)}`);
  return value;
}

function encodeRecordHeader(
  name: string,
  type: number,
  dnsClass: number,
  ttl: number,
  rdata: Buffer,
): Buffer {
  const owner = nameToWire(name);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(dnsClass, 2);
  fixed.writeUInt32BE(ttl >>> 0, 4);
  if (rdata.length > 0xffff) throw new DnsWireError(`rdata of ${name} is longer than 65535 octets`);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([owner, fixed, rdata]);
}

export function encodeRecord(record: DnsRecord | EmptyRecord): Buffer {
  const rdata = record.data === null ? Buffer.alloc(0) : encodeRdata(record);
  return encodeRecordHeader(
    record.name,
    typeNumber(record.type),
    classNumber(record.class),
    record.ttl,
    rdata,
  );
}

function encodeEdns(edns: Edns, rcode: number): Buffer {
  const options = Buffer.concat(
    edns.options.map((option) => {
      const data = Buffer.from(option.data, 'hex');
      const head = Buffer.alloc(4);
      head.writeUInt16BE(option.code, 0);
      head.writeUInt16BE(data.length, 2);
      return Buffer.concat([head, data]);
    }),
  );
  const ttl =
    (((rcode >> 4) & 0xff) << 24) | ((edns.version & 0xff) << 16) | (edns.dnssecOk ? 0x8000 : 0);
  return encodeRecordHeader('.', OPT_TYPE, edns.udpPayloadSize, ttl >>> 0, options);
}

function flagsToNumber(opcode: number, flags: HeaderFlags, rcode: number): number {
  return (
    (flags.qr ? 0x8000 : 0) |
    ((opcode & 0xf) << 11) |
    (flags.aa ? 0x0400 : 0) |
    (flags.tc ? 0x0200 : 0) |
    (flags.rd ? 0x0100 : 0) |
    (flags.ra ? 0x0080 : 0) |
    (flags.ad ? 0x0020 : 0) |
    (flags.cd ? 0x0010 : 0) |
    (rcode & 0xf)
  );
}

/** Encodes a message without TSIG (use `signMessage` to add one). */
export function encodeMessage(message: Omit<DnsMessage, 'tsig'>): Buffer {
  const rcode = rcodeNumber(message.rcode);
  if (rcode > 15 && !message.edns) throw new DnsWireError(`rcode ${message.rcode} needs EDNS`);
  const additionals = message.additionals.map(encodeRecord);
  if (message.edns) additionals.push(encodeEdns(message.edns, rcode));
  const header = Buffer.alloc(12);
  header.writeUInt16BE(message.id & 0xffff, 0);
  header.writeUInt16BE(flagsToNumber(opcodeNumber(message.opcode), message.flags, rcode), 2);
  header.writeUInt16BE(message.questions.length, 4);
  header.writeUInt16BE(message.answers.length, 6);
  header.writeUInt16BE(message.authorities.length, 8);
  header.writeUInt16BE(additionals.length, 10);
  const questions = message.questions.map((question) => {
    const fixed = Buffer.alloc(4);
    fixed.writeUInt16BE(typeNumber(question.type), 0);
    fixed.writeUInt16BE(classNumber(question.class), 2);
    return Buffer.concat([nameToWire(question.name), fixed]);
  });
  return Buffer.concat([
    header,
    ...questions,
    ...message.answers.map(encodeRecord),
    ...message.authorities.map(encodeRecord),
    ...additionals,
  ]);
}

interface RawRecord {
  name: string;
  type: number;
  dnsClass: number;
  ttl: number;
  rdataOffset: number;
  rdataLength: number;
  /** Offset of the first octet of the RR (its owner name). */
  start: number;
}

function readRawRecord(buffer: Buffer, offset: number): { record: RawRecord; next: number } {
  const owner = nameFromWire(buffer, offset);
  const position = offset + owner.bytes;
  if (position + 10 > buffer.length) throw new DnsWireError('truncated resource record header');
  const rdataLength = buffer.readUInt16BE(position + 8);
  const rdataOffset = position + 10;
  if (rdataOffset + rdataLength > buffer.length)
    throw new DnsWireError('rdata runs past the end of the message');
  return {
    record: {
      name: owner.name,
      type: buffer.readUInt16BE(position),
      dnsClass: buffer.readUInt16BE(position + 2),
      ttl: buffer.readUInt32BE(position + 4),
      rdataOffset,
      rdataLength,
      start: offset,
    },
    next: rdataOffset + rdataLength,
  };
}

function toRecord(buffer: Buffer, raw: RawRecord): DnsRecord | EmptyRecord {
  const type = recordTypeName(raw.type);
  const dnsClass = className(raw.dnsClass) ?? 'IN';
  if (className(raw.dnsClass) === undefined)
    throw new DnsWireError(`unsupported class ${raw.dnsClass} for ${raw.name} ${type}`);
  if (raw.rdataLength === 0 && (dnsClass === 'ANY' || dnsClass === 'NONE')) {
    return { name: raw.name, type, class: dnsClass, ttl: raw.ttl, data: null };
  }
  const data = decodeRdata(type, buffer, raw.rdataOffset, raw.rdataLength);
  return { name: raw.name, type, class: dnsClass, ttl: raw.ttl, data } as DnsRecord;
}

function decodeTsig(buffer: Buffer, raw: RawRecord): TsigRecord {
  const end = raw.rdataOffset + raw.rdataLength;
  const algorithm = nameFromWire(buffer, raw.rdataOffset);
  let position = raw.rdataOffset + algorithm.bytes;
  const need = (count: number) => {
    if (position + count > end) throw new DnsWireError('truncated TSIG rdata');
  };
  need(10);
  const timeSigned = buffer.readUInt16BE(position) * 2 ** 32 + buffer.readUInt32BE(position + 2);
  const fudge = buffer.readUInt16BE(position + 6);
  const macSize = buffer.readUInt16BE(position + 8);
  position += 10;
  need(macSize + 6);
  const mac = buffer.subarray(position, position + macSize);
  position += macSize;
  const originalId = buffer.readUInt16BE(position);
  const error = buffer.readUInt16BE(position + 2);
  const otherLength = buffer.readUInt16BE(position + 4);
  position += 6;
  need(otherLength);
  const otherData = buffer.subarray(position, position + otherLength);
  const tsigErrors: Record<number, TsigData['error']> = {
    16: 'BADSIG',
    17: 'BADKEY',
    18: 'BADTIME',
    22: 'BADTRUNC',
  };
  return {
    keyName: raw.name,
    data: {
      algorithm: algorithm.name,
      timeSigned,
      fudge,
      mac: mac.toString('base64'),
      originalId,
      error: tsigErrors[error] ?? rcodeName(error),
      otherData: otherData.toString('hex'),
    },
  };
}

export interface DecodedMessage {
  message: DnsMessage;
  /** Offset where the TSIG RR starts, when the message has one. */
  tsigOffset?: number;
}

/** Decodes a message. Throws DnsWireError on anything malformed. */
export function decodeMessageDetailed(input: Uint8Array): DecodedMessage {
  const buffer = Buffer.isBuffer(input)
    ? input
    : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  try {
    if (buffer.length < 12)
      throw new DnsWireError(`message of ${buffer.length} octets is shorter than a header`);
    const id = buffer.readUInt16BE(0);
    const bits = buffer.readUInt16BE(2);
    const counts = [
      buffer.readUInt16BE(4),
      buffer.readUInt16BE(6),
      buffer.readUInt16BE(8),
      buffer.readUInt16BE(10),
    ] as const;
    let offset = 12;
    const questions: Question[] = [];
    for (let i = 0; i < counts[0]; i += 1) {
      const qname = nameFromWire(buffer, offset);
      offset += qname.bytes;
      if (offset + 4 > buffer.length) throw new DnsWireError('truncated question');
      const dnsClass = className(buffer.readUInt16BE(offset + 2));
      questions.push({
        name: qname.name,
        type: recordTypeName(buffer.readUInt16BE(offset)),
        class: dnsClass ?? 'IN',
      });
      offset += 4;
    }
    const sections: (DnsRecord | EmptyRecord)[][] = [[], [], []];
    let edns: Edns | undefined;
    let extendedRcode = 0;
    let tsig: TsigRecord | undefined;
    let tsigOffset: number | undefined;
    for (let section = 0; section < 3; section += 1) {
      const count = counts[section + 1]!;
      for (let i = 0; i < count; i += 1) {
        const { record, next } = readRawRecord(buffer, offset);
        offset = next;
        if (section === 2 && record.type === OPT_TYPE) {
          extendedRcode = record.ttl >>> 24;
          const options: Edns['options'] = [];
          let position = record.rdataOffset;
          const end = record.rdataOffset + record.rdataLength;
          while (position + 4 <= end) {
            const code = buffer.readUInt16BE(position);
            const size = buffer.readUInt16BE(position + 2);
            if (position + 4 + size > end) throw new DnsWireError('EDNS option runs past RDLENGTH');
            options.push({
              code,
              data: buffer.subarray(position + 4, position + 4 + size).toString('hex'),
            });
            position += 4 + size;
          }
          edns = {
            udpPayloadSize: record.dnsClass,
            dnssecOk: (record.ttl & 0x8000) !== 0,
            version: (record.ttl >>> 16) & 0xff,
            options,
          };
          continue;
        }
        if (section === 2 && record.type === TSIG_TYPE) {
          if (i !== count - 1) throw new DnsWireError('TSIG is not the last record of the message');
          tsig = decodeTsig(buffer, record);
          tsigOffset = record.start;
          continue;
        }
        sections[section]!.push(toRecord(buffer, record));
      }
    }
    if (offset !== buffer.length)
      throw new DnsWireError(`${buffer.length - offset} trailing octets after the last record`);
    const message: DnsMessage = {
      id,
      opcode: opcodeName((bits >> 11) & 0xf),
      flags: {
        qr: (bits & 0x8000) !== 0,
        aa: (bits & 0x0400) !== 0,
        tc: (bits & 0x0200) !== 0,
        rd: (bits & 0x0100) !== 0,
        ra: (bits & 0x0080) !== 0,
        ad: (bits & 0x0020) !== 0,
        cd: (bits & 0x0010) !== 0,
      },
      rcode: rcodeName((extendedRcode << 4) | (bits & 0xf)),
      questions,
      answers: sections[0]!,
      authorities: sections[1]!,
      additionals: sections[2]!,
    };
    if (edns) message.edns = edns;
    if (tsig) message.tsig = tsig;
    return tsigOffset === undefined ? { message } : { message, tsigOffset };
  } catch (error) {
    if (DnsWireError.isInstance(error)) throw error;
    throw new DnsWireError(`malformed DNS message: ${(error as Error).message}`, { cause: error });
  }
}

export function decodeMessage(input: Uint8Array): DnsMessage {
  return decodeMessageDetailed(input).message;
}

export const NO_FLAGS: HeaderFlags = {
  qr: false,
  aa: false,
  tc: false,
  rd: false,
  ra: false,
  ad: false,
  cd: false,
};
