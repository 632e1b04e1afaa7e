import { isIPv4, isIPv6 } from 'node:net';
import {
  ChorusError,
  className,
  DSYNC_SCHEME_NOTIFY,
  PresentationParseError,
  recordTypeName,
  recordTypeNumber,
  type DnsClass,
  type DnsRecord,
  type DsyncData,
  type KnownRecordType,
  type RecordType,
  type TypedRecord,
  type UnknownData,
} from '@chorus/core';
import { normalizeName } from './names.js';
import {
  opaqueEncoder,
  opaqueTypeNumber,
  type OpaqueEncoder,
  type RdataFields,
} from './opaque-types.js';
import { base32HexDecode, decodeRdata, encodeRdata } from './rdata.js';

/**
 * Presentation (zone-file) format, RFC 1035 §5 with the DNSSEC forms of RFC 4034 and the
 * generic `\# length hex` form of RFC 3597. The parser accepts what `dnssec-signzone` and `dig`
 * print: parentheses spanning lines, `;` comments, blank owners, base64 and hex split by spaces.
 */

/** The rdata of any record: a typed shape for the known types, raw hex otherwise. */
type RecordData = DnsRecord['data'];

/** Options of {@link parseRecord}. */
export interface ParseRecordOptions {
  /** Origin for `@` and relative names. Without it, every name must be absolute. */
  origin?: string;
  /** TTL when the line has none. Without it, a line without a TTL is an error. */
  defaultTtl?: number;
  /** Class when the line has none; defaults to IN. */
  defaultClass?: DnsClass;
}

/** Options of {@link parseZone}. */
export interface ParseZoneOptions {
  /** The zone origin, used for `@` and relative names until a `$ORIGIN` changes it. */
  origin: string;
  /** TTL for records without one until a `$TTL` sets it; after that, the previous record's TTL. */
  defaultTtl?: number;
}

interface Token {
  text: string;
  quoted: boolean;
}

/** One logical entry: a record or directive, possibly spread over lines by parentheses. */
interface Entry {
  tokens: Token[];
  /** The first line started with blank space: the owner is the previous record's. */
  ownerOmitted: boolean;
  /** Where the entry came from, for error messages. */
  source: Source;
}

interface Source {
  text: string;
  /** 1-based line number in zone text; absent for single records. */
  line?: number;
}

const MAX_U8 = 0xff;
const MAX_U16 = 0xffff;
const MAX_U32 = 0xffffffff;
const MAX_TTL = 0x7fffffff;

const KNOWN_TYPES: ReadonlySet<string> = new Set<KnownRecordType>([
  'A',
  'AAAA',
  'NS',
  'CNAME',
  'DNAME',
  'PTR',
  'SOA',
  'MX',
  'TXT',
  'SRV',
  'DS',
  'CDS',
  'DNSKEY',
  'CDNSKEY',
  'RRSIG',
  'NSEC',
  'NSEC3',
  'NSEC3PARAM',
  'CSYNC',
  'DSYNC',
]);

const CLASSES: ReadonlySet<string> = new Set<DnsClass>(['IN', 'CH', 'HS', 'NONE', 'ANY']);

/** DNSSEC algorithm mnemonics accepted in DNSKEY, DS and RRSIG (RFC 4034 App. A.1 registry). */
const ALGORITHM_MNEMONICS: Readonly<Record<string, number>> = {
  RSAMD5: 1,
  DH: 2,
  DSA: 3,
  RSASHA1: 5,
  'DSA-NSEC3-SHA1': 6,
  'RSASHA1-NSEC3-SHA1': 7,
  RSASHA256: 8,
  RSASHA512: 10,
  'ECC-GOST': 12,
  ECDSAP256SHA256: 13,
  ECDSAP384SHA384: 14,
  ED25519: 15,
  ED448: 16,
  PRIVATEDNS: 253,
  PRIVATEOID: 254,
};

/** DSYNC scheme mnemonics (the RFC 9859 scheme registry); other schemes are written as numbers. */
const DSYNC_SCHEME_MNEMONICS: Readonly<Record<string, number>> = { NOTIFY: DSYNC_SCHEME_NOTIFY };

function fail(source: Source, message: string): never {
  const where = source.line === undefined ? '' : `line ${source.line}: `;
  throw new PresentationParseError(`${where}${message}`, source.text);
}

/** Runs `action`, turning Chorus errors from lower layers (names, rdata) into parse errors. */
function guarded<T>(source: Source, action: () => T): T {
  try {
    return action();
  } catch (error) {
    if (error instanceof PresentationParseError) throw error;
    if (ChorusError.isInstance(error)) fail(source, error.message);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Tokenizer

const DELIMITERS = new Set([' ', '\t', ';', '(', ')', '"']);

/** Splits text into entries. Escapes (`\x`, `\DDD`) are kept raw inside tokens. */
function tokenize(text: string, firstLine: number | undefined): Entry[] {
  const entries: Entry[] = [];
  const lines = text.split(/\r?\n/);
  let depth = 0;
  let current: Entry | undefined;
  lines.forEach((line, index) => {
    const lineNumber = firstLine === undefined ? undefined : firstLine + index;
    if (current === undefined || depth === 0) {
      if (current !== undefined && current.tokens.length > 0) entries.push(current);
      const source: Source =
        lineNumber === undefined ? { text: line } : { text: line, line: lineNumber };
      current = { tokens: [], ownerOmitted: /^[ \t]/.test(line), source };
    } else {
      current.source.text += `\n${line}`;
    }
    const entry = current;
    let position = 0;
    while (position < line.length) {
      const char = line[position]!;
      if (char === ' ' || char === '\t') {
        position += 1;
      } else if (char === ';') {
        break;
      } else if (char === '(') {
        depth += 1;
        position += 1;
      } else if (char === ')') {
        if (depth === 0) fail(entry.source, 'unbalanced closing parenthesis');
        depth -= 1;
        position += 1;
      } else if (char === '"') {
        let end = position + 1;
        let value = '';
        while (end < line.length && line[end] !== '"') {
          const step = line[end] === '\\' ? 2 : 1;
          value += line.slice(end, end + step);
          end += step;
        }
        if (end >= line.length) fail(entry.source, 'unterminated quoted string');
        entry.tokens.push({ text: value, quoted: true });
        position = end + 1;
      } else {
        let value = '';
        while (position < line.length && !DELIMITERS.has(line[position]!)) {
          const step = line[position] === '\\' ? 2 : 1;
          value += line.slice(position, position + step);
          position += step;
        }
        entry.tokens.push({ text: value, quoted: false });
      }
    }
  });
  if (current !== undefined) {
    if (depth > 0) fail(current.source, 'unclosed parenthesis');
    if (current.tokens.length > 0) entries.push(current);
  }
  return entries;
}

// ---------------------------------------------------------------------------------------------
// Field parsers

function isAbsoluteName(text: string): boolean {
  if (!text.endsWith('.')) return false;
  let backslashes = 0;
  for (let index = text.length - 2; index >= 0 && text[index] === '\\'; index -= 1)
    backslashes += 1;
  return backslashes % 2 === 0;
}

/** Resolves `@` and relative names against `origin` and validates the result. */
function parseName(source: Source, text: string, origin: string | undefined): string {
  let absolute: string;
  if (text === '@') {
    if (origin === undefined) fail(source, '@ needs an origin');
    absolute = origin;
  } else if (isAbsoluteName(text)) {
    absolute = text;
  } else {
    if (origin === undefined) fail(source, `relative name ${text} needs an origin`);
    absolute = origin === '.' ? `${text}.` : `${text}.${origin}`;
  }
  return guarded(source, () => normalizeName(absolute));
}

function parseInteger(source: Source, text: string, max: number, what: string): number {
  if (!/^\d+$/.test(text))
    fail(source, `${what} must be a decimal number, got ${JSON.stringify(text)}`);
  const value = Number(text);
  if (value > max) fail(source, `${what} ${text} is above ${max}`);
  return value;
}

const TTL_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** A TTL-style duration: plain seconds or BIND units (`1h30m`, `2d`). Undefined if not one. */
function durationValue(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^(?:\d+[smhdw])+$/i.test(text)) return undefined;
  let total = 0;
  for (const match of text.toLowerCase().matchAll(/(\d+)([smhdw])/g)) {
    total += Number(match[1]) * TTL_UNITS[match[2]!]!;
  }
  return total;
}

function parseDuration(source: Source, text: string, max: number, what: string): number {
  const value = durationValue(text);
  if (value === undefined)
    fail(source, `${what} must be a number of seconds, got ${JSON.stringify(text)}`);
  if (value > max) fail(source, `${what} ${text} is above ${max}`);
  return value;
}

function parseClass(text: string): DnsClass | undefined {
  const upper = text.toUpperCase();
  if (CLASSES.has(upper)) return upper as DnsClass;
  const generic = /^CLASS(\d{1,5})$/.exec(upper);
  return generic ? className(Number(generic[1])) : undefined;
}

/**
 * A type mnemonic or `TYPEnnn`, returned as the canonical mnemonic (`TYPE62` → `CSYNC`). Types
 * @chorus/core has no mnemonic for (`SMIMEA`) come back as `TYPEnnn`, as wire decoding names them.
 */
function parseType(source: Source, text: string, context = ''): RecordType {
  const value = recordTypeNumber(text) ?? opaqueTypeNumber(text);
  if (value === undefined) fail(source, `unknown type ${text}${context}`);
  return recordTypeName(value);
}

function parseAlgorithm(source: Source, text: string): number {
  const mnemonic = ALGORITHM_MNEMONICS[text.toUpperCase()];
  return mnemonic ?? parseInteger(source, text, MAX_U8, 'algorithm');
}

/** Decodes the escapes of a character string (RFC 1035 §5.1), at most 255 octets. */
function characterStringBytes(source: Source, text: string): Buffer {
  const bytes = escapedOctets(source, text);
  if (bytes.length > MAX_U8)
    fail(source, `character string longer than 255 octets (${bytes.length})`);
  return bytes;
}

/** Decodes the escapes of a character string (RFC 1035 §5.1) into octets, any length. */
function escapedOctets(source: Source, text: string): Buffer {
  const bytes: number[] = [];
  let index = 0;
  while (index < text.length) {
    const char = text[index]!;
    if (char !== '\\') {
      const codePoint = text.codePointAt(index)!;
      const symbol = String.fromCodePoint(codePoint);
      bytes.push(...Buffer.from(symbol, 'utf8'));
      index += symbol.length;
      continue;
    }
    const digits = /^\d{3}/.exec(text.slice(index + 1));
    if (digits) {
      const value = Number(digits[0]);
      if (value > MAX_U8) fail(source, `escape \\${digits[0]} is above 255`);
      bytes.push(value);
      index += 4;
      continue;
    }
    const next = text[index + 1];
    if (next === undefined) fail(source, 'dangling backslash in a character string');
    bytes.push(...Buffer.from(next, 'utf8'));
    index += 2;
  }
  return Buffer.from(bytes);
}

function parseHex(source: Source, text: string, what: string): string {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text))
    fail(source, `${what} is not valid hex`);
  return text.toUpperCase();
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function parseBase64(source: Source, text: string, what: string): string {
  if (text === '') fail(source, `${what} is missing`);
  if (!STRICT_BASE64.test(text)) fail(source, `${what} is not valid base64`);
  return text;
}

/** RRSIG times (RFC 4034 §3.2): `YYYYMMDDHHmmSS` in UTC, or seconds since the epoch. */
function parseSignatureTime(source: Source, text: string, what: string): number {
  const date = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (!date) return parseInteger(source, text, MAX_U32, what);
  const [year, month, day, hour, minute, second] = date.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const milliseconds = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(milliseconds);
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    check.getUTCHours() !== hour ||
    check.getUTCMinutes() !== minute ||
    check.getUTCSeconds() !== second ||
    milliseconds < 0
  ) {
    fail(source, `${what} ${text} is not a valid YYYYMMDDHHmmSS time`);
  }
  // Times past 2106 wrap around, as RRSIG times use serial-number arithmetic (RFC 4034 §3.1.5).
  return (milliseconds / 1000) % 2 ** 32;
}

/** Formats an RRSIG time as `YYYYMMDDHHmmSS` (UTC). */
function formatSignatureTime(value: number): string {
  return new Date(value * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

// ---------------------------------------------------------------------------------------------
// Rdata

/** Reads rdata fields in order, with errors that name the type. */
class FieldReader implements RdataFields {
  private index = 0;

  constructor(
    private readonly source: Source,
    readonly type: string,
    private readonly tokens: readonly Token[],
    private readonly origin: string | undefined,
  ) {}

  /** Fails unless there are exactly `count` fields (or at least `count` when `atLeast`). */
  expect(count: number, atLeast = false): void {
    const got = this.tokens.length;
    if (atLeast ? got < count : got !== count) {
      const amount = atLeast ? `at least ${count}` : `${count}`;
      fail(this.source, `${this.type} needs ${amount} field${count === 1 ? '' : 's'}, got ${got}`);
    }
  }

  text(): string {
    const token = this.tokens[this.index];
    if (token === undefined) fail(this.source, `${this.type} rdata is incomplete`);
    this.index += 1;
    return token.text;
  }

  next(what: string): Token {
    const token = this.tokens[this.index];
    if (token === undefined) this.fail(`${what} is missing`);
    this.index += 1;
    return token;
  }

  peek(): Token | undefined {
    return this.tokens[this.index];
  }

  hasMore(): boolean {
    return this.index < this.tokens.length;
  }

  /** Fails when fields are left over. */
  end(): void {
    const extra = this.tokens.length - this.index;
    if (extra > 0) this.fail(`has ${extra} field${extra === 1 ? '' : 's'} too many`);
  }

  octets(text: string): Buffer {
    return escapedOctets(this.source, text);
  }

  fail(message: string): never {
    return fail(this.source, `${this.type} ${message}`);
  }

  integer(max: number, what: string): number {
    return parseInteger(this.source, this.text(), max, `${this.type} ${what}`);
  }

  duration(what: string): number {
    return parseDuration(this.source, this.text(), MAX_U32, `${this.type} ${what}`);
  }

  algorithm(): number {
    return parseAlgorithm(this.source, this.text());
  }

  name(): string {
    return parseName(this.source, this.text(), this.origin);
  }

  time(what: string): number {
    return parseSignatureTime(this.source, this.text(), `${this.type} ${what}`);
  }

  /** All remaining tokens joined without spaces (base64 and hex are often split). */
  joinedRest(): string {
    const rest = this.tokens.slice(this.index).map((token) => token.text);
    this.index = this.tokens.length;
    return rest.join('');
  }

  typeList(): RecordType[] {
    const rest = this.tokens.slice(this.index);
    this.index = this.tokens.length;
    return rest.map((token) =>
      parseType(this.source, token.text, ` in the ${this.type} type list`),
    );
  }

  remaining(): readonly Token[] {
    const rest = this.tokens.slice(this.index);
    this.index = this.tokens.length;
    return rest;
  }
}

/** RFC 3597 §5: `\# length hex…`, decoded into the typed shape when the type has one. */
function parseGenericRdata(source: Source, type: RecordType, tokens: readonly Token[]): RecordData {
  const lengthToken = tokens[1];
  if (lengthToken === undefined) fail(source, 'generic rdata \\# needs a length');
  const length = parseInteger(source, lengthToken.text, MAX_U16, 'generic rdata length');
  const hex = parseHex(
    source,
    tokens
      .slice(2)
      .map((token) => token.text)
      .join(''),
    'generic rdata',
  );
  if (hex.length / 2 !== length) {
    fail(
      source,
      `generic rdata length ${length} does not match the ${hex.length / 2} octets of hex`,
    );
  }
  if (!KNOWN_TYPES.has(type)) return { rdata: hex } satisfies UnknownData;
  const bytes = Buffer.from(hex, 'hex');
  return guarded(source, () => decodeRdata(type, bytes, 0, bytes.length));
}

/** Canonical text of an address: what decoding its wire form gives back. */
function normalizeAddress(type: 'A' | 'AAAA', address: string): string {
  const wire = encodeRdata({ type, data: address });
  return decodeRdata(type, wire, 0, wire.length) as string;
}

function parseRdataTokens(
  source: Source,
  type: RecordType,
  tokens: readonly Token[],
  origin: string | undefined,
): RecordData {
  const first = tokens[0];
  if (first !== undefined && !first.quoted && first.text === '\\#') {
    return parseGenericRdata(source, type, tokens);
  }
  const fields = new FieldReader(source, type, tokens, origin);
  switch (type) {
    case 'A': {
      fields.expect(1);
      const address = fields.text();
      if (!isIPv4(address))
        fail(source, `A address ${JSON.stringify(address)} is not an IPv4 address`);
      return normalizeAddress('A', address);
    }
    case 'AAAA': {
      fields.expect(1);
      const address = fields.text();
      if (!isIPv6(address) || address.includes('%')) {
        fail(source, `AAAA address ${JSON.stringify(address)} is not an IPv6 address`);
      }
      return normalizeAddress('AAAA', address);
    }
    case 'NS':
    case 'CNAME':
    case 'DNAME':
    case 'PTR':
      fields.expect(1);
      return fields.name();
    case 'SOA':
      fields.expect(7);
      return {
        mname: fields.name(),
        rname: fields.name(),
        serial: fields.integer(MAX_U32, 'serial'),
        refresh: fields.duration('refresh'),
        retry: fields.duration('retry'),
        expire: fields.duration('expire'),
        minimum: fields.duration('minimum'),
      };
    case 'MX':
      fields.expect(2);
      return { preference: fields.integer(MAX_U16, 'preference'), exchange: fields.name() };
    case 'SRV':
      fields.expect(4);
      return {
        priority: fields.integer(MAX_U16, 'priority'),
        weight: fields.integer(MAX_U16, 'weight'),
        port: fields.integer(MAX_U16, 'port'),
        target: fields.name(),
      };
    case 'TXT':
      fields.expect(1, true);
      return fields
        .remaining()
        .map((token) => characterStringBytes(source, token.text).toString('utf8'));
    case 'DS':
    case 'CDS': {
      fields.expect(4, true);
      return {
        keyTag: fields.integer(MAX_U16, 'key tag'),
        algorithm: fields.algorithm(),
        digestType: fields.integer(MAX_U8, 'digest type'),
        digest: parseHex(source, fields.joinedRest(), `${type} digest`),
      };
    }
    case 'DNSKEY':
    case 'CDNSKEY':
      fields.expect(4, true);
      return {
        flags: fields.integer(MAX_U16, 'flags'),
        protocol: fields.integer(MAX_U8, 'protocol'),
        algorithm: fields.algorithm(),
        publicKey: parseBase64(source, fields.joinedRest(), `${type} public key`),
      };
    case 'RRSIG':
      fields.expect(9, true);
      return {
        typeCovered: parseType(source, fields.text(), ' covered by the RRSIG'),
        algorithm: fields.algorithm(),
        labels: fields.integer(MAX_U8, 'labels'),
        originalTtl: fields.integer(MAX_U32, 'original TTL'),
        expiration: fields.time('expiration'),
        inception: fields.time('inception'),
        keyTag: fields.integer(MAX_U16, 'key tag'),
        signerName: fields.name(),
        signature: parseBase64(source, fields.joinedRest(), 'RRSIG signature'),
      };
    case 'NSEC':
      fields.expect(1, true);
      return { nextName: fields.name(), types: fields.typeList() };
    case 'NSEC3': {
      fields.expect(5, true);
      const hashAlgorithm = fields.integer(MAX_U8, 'hash algorithm');
      const flags = fields.integer(MAX_U8, 'flags');
      const iterations = fields.integer(MAX_U16, 'iterations');
      const salt = parseSalt(source, fields.text(), 'NSEC3 salt');
      const nextHashedOwner = fields.text().toUpperCase();
      if (!/^[0-9A-V]+$/.test(nextHashedOwner)) {
        fail(source, 'NSEC3 next hashed owner is not valid base32hex');
      }
      if (base32HexDecode(nextHashedOwner).length > MAX_U8) {
        fail(source, 'NSEC3 next hashed owner is longer than 255 octets');
      }
      return { hashAlgorithm, flags, iterations, salt, nextHashedOwner, types: fields.typeList() };
    }
    case 'NSEC3PARAM':
      fields.expect(4);
      return {
        hashAlgorithm: fields.integer(MAX_U8, 'hash algorithm'),
        flags: fields.integer(MAX_U8, 'flags'),
        iterations: fields.integer(MAX_U16, 'iterations'),
        salt: parseSalt(source, fields.text(), 'NSEC3PARAM salt'),
      };
    case 'CSYNC':
      fields.expect(2, true);
      return {
        serial: fields.integer(MAX_U32, 'serial'),
        flags: fields.integer(MAX_U16, 'flags'),
        types: fields.typeList(),
      };
    case 'DSYNC':
      fields.expect(4);
      return {
        rrtype: parseType(source, fields.text(), ' in the DSYNC RRtype field'),
        scheme: parseDsyncScheme(source, fields.text()),
        port: fields.integer(MAX_U16, 'port'),
        target: fields.name(),
      };
    default: {
      const encode = opaqueEncoder(recordTypeNumber(type)!);
      if (encode !== undefined) return parseOpaqueRdata(source, fields, encode);
      return fail(
        source,
        `no presentation parser for type ${type}; use the RFC 3597 form \\# length hex`,
      );
    }
  }
}

/** Rdata of a type without a typed shape, as the raw hex that wire decoding gives. */
function parseOpaqueRdata(source: Source, fields: FieldReader, encode: OpaqueEncoder): UnknownData {
  const wire = guarded(source, () => encode(fields));
  fields.end();
  if (wire.length > MAX_U16) fields.fail(`rdata is longer than ${MAX_U16} octets`);
  return { rdata: wire.toString('hex').toUpperCase() };
}

/** A DSYNC scheme: a mnemonic (`NOTIFY`) or a number from 0 to 255. */
function parseDsyncScheme(source: Source, text: string): number {
  const mnemonic = DSYNC_SCHEME_MNEMONICS[text.toUpperCase()];
  if (mnemonic !== undefined) return mnemonic;
  if (!/^\d+$/.test(text)) fail(source, `DSYNC scheme ${text} is not NOTIFY or a number`);
  return parseInteger(source, text, MAX_U8, 'DSYNC scheme');
}

/** NSEC3 salt: `-` for none, otherwise up to 255 octets of hex. */
function parseSalt(source: Source, text: string, what: string): string {
  if (text === '-') return '';
  const hex = parseHex(source, text, what);
  if (hex.length / 2 > MAX_U8) fail(source, `${what} is longer than 255 octets`);
  return hex;
}

// ---------------------------------------------------------------------------------------------
// Records

interface RecordDefaults {
  origin: string | undefined;
  /** Used when the entry has no TTL. */
  ttl: number | undefined;
  /** Used when the entry has no class. */
  dnsClass: DnsClass;
  /** Owner for entries whose line starts with blank space. */
  previousOwner: string | undefined;
}

function parseRecordEntry(
  entry: Entry,
  defaults: RecordDefaults,
  ownerOmitted: boolean,
): DnsRecord {
  const { tokens, source } = entry;
  let index = 0;
  let owner: string;
  if (ownerOmitted) {
    if (defaults.previousOwner === undefined)
      fail(source, 'record has no owner name and no record precedes it');
    owner = defaults.previousOwner;
  } else {
    owner = parseName(source, tokens[0]!.text, defaults.origin);
    index = 1;
  }

  let ttl: number | undefined;
  let dnsClass: DnsClass | undefined;
  for (let round = 0; round < 2; round += 1) {
    const token = tokens[index];
    if (token === undefined || token.quoted) break;
    const duration = ttl === undefined ? durationValue(token.text) : undefined;
    const parsedClass = dnsClass === undefined ? parseClass(token.text) : undefined;
    if (duration !== undefined) {
      if (duration > MAX_TTL) fail(source, `TTL ${token.text} is above ${MAX_TTL}`);
      ttl = duration;
    } else if (parsedClass !== undefined) {
      dnsClass = parsedClass;
    } else {
      break;
    }
    index += 1;
  }

  const typeToken = tokens[index];
  if (typeToken === undefined) fail(source, 'record has no type');
  const type = parseType(source, typeToken.text);
  const data = parseRdataTokens(source, type, tokens.slice(index + 1), defaults.origin);
  const finalTtl = ttl ?? defaults.ttl;
  if (finalTtl === undefined) fail(source, 'record has no TTL and no default TTL is set');
  return {
    name: owner,
    ttl: finalTtl,
    class: dnsClass ?? defaults.dnsClass,
    type,
    data,
  } as DnsRecord;
}

function normalizeOrigin(source: Source, origin: string | undefined): string | undefined {
  if (origin === undefined) return undefined;
  return guarded(source, () => normalizeName(origin));
}

/**
 * Parses one resource record in presentation format: `owner [ttl] [class] type rdata`, TTL and
 * class in either order. `@` and relative owners need `options.origin`. Parentheses and comments
 * are allowed. Throws PresentationParseError naming the problem.
 */
export function parseRecord(line: string, options: ParseRecordOptions = {}): DnsRecord {
  const source: Source = { text: line };
  const entries = tokenize(line, undefined);
  if (entries.length === 0) fail(source, 'no record');
  if (entries.length > 1) fail(source, 'more than one record');
  const entry = entries[0]!;
  if (entry.tokens[0]!.text.startsWith('$') && !entry.tokens[0]!.quoted) {
    fail(source, `directive ${entry.tokens[0]!.text} is only allowed in zone text`);
  }
  const defaults: RecordDefaults = {
    origin: normalizeOrigin(source, options.origin),
    ttl: options.defaultTtl,
    dnsClass: options.defaultClass ?? 'IN',
    previousOwner: undefined,
  };
  return parseRecordEntry({ ...entry, source }, defaults, false);
}

/**
 * Parses zone text: `$ORIGIN`, `$TTL`, `;` comments, quoted strings, parentheses spanning lines,
 * and blank owners (the previous record's owner). Records without a class take the previous
 * record's class (IN at first). Reads `dnssec-signzone` and `dig` output. `$INCLUDE` and
 * `$GENERATE` are rejected. Throws PresentationParseError with the line number.
 */
export function parseZone(text: string, options: ParseZoneOptions): DnsRecord[] {
  const records: DnsRecord[] = [];
  let origin = normalizeOrigin({ text: options.origin }, options.origin);
  let directiveTtl = options.defaultTtl;
  let previous: DnsRecord | undefined;
  for (const entry of tokenize(text, 1)) {
    const first = entry.tokens[0]!;
    if (!entry.ownerOmitted && !first.quoted && first.text.startsWith('$')) {
      const directive = first.text.toUpperCase();
      const argument = entry.tokens[1]?.text;
      if (directive === '$ORIGIN') {
        if (argument === undefined) fail(entry.source, '$ORIGIN needs a name');
        origin = parseName(entry.source, argument, origin);
      } else if (directive === '$TTL') {
        if (argument === undefined) fail(entry.source, '$TTL needs a value');
        directiveTtl = parseDuration(entry.source, argument, MAX_TTL, '$TTL');
      } else {
        fail(entry.source, `unsupported directive ${first.text}`);
      }
      continue;
    }
    const record = parseRecordEntry(
      entry,
      {
        origin,
        // RFC 2308 §4: $TTL; before any, RFC 1035 §5.1: the last TTL given.
        ttl: directiveTtl ?? previous?.ttl,
        dnsClass: previous?.class ?? 'IN',
        previousOwner: previous?.name,
      },
      entry.ownerOmitted,
    );
    records.push(record);
    previous = record;
  }
  return records;
}

/**
 * Parses the rdata part of a record of `type` (a mnemonic or `TYPEnnn`). Relative names need
 * `origin`. Throws PresentationParseError naming the problem.
 */
export function parseRdata(type: RecordType, text: string, origin?: string): RecordData {
  const source: Source = { text };
  const canonicalType = parseType(source, type);
  const tokens = tokenize(text, undefined).flatMap((entry) => entry.tokens);
  return parseRdataTokens(source, canonicalType, tokens, normalizeOrigin(source, origin));
}

// ---------------------------------------------------------------------------------------------
// Formatting

/** A character string in quotes, escaping `"` and `\` and every non-printable octet as `\DDD`. */
function quoteCharacterString(text: string): string {
  let out = '"';
  for (const byte of Buffer.from(text, 'utf8')) {
    if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\${byte.toString().padStart(3, '0')}`;
  }
  return `${out}"`;
}

/** The RFC 3597 form: `\# length hex`. */
function formatGeneric(hex: string): string {
  const clean = hex.replace(/\s+/g, '').toUpperCase();
  return clean === '' ? '\\# 0' : `\\# ${clean.length / 2} ${clean}`;
}

function withTypes(prefix: string, types: readonly RecordType[]): string {
  return types.length === 0 ? prefix : `${prefix} ${types.join(' ')}`;
}

/**
 * The rdata of a record in presentation format, on one line: base64 and hex without spaces,
 * RRSIG times as `YYYYMMDDHHmmSS`, types without a typed shape as `\# length hex`.
 */
export function formatRdata(record: Pick<DnsRecord, 'type' | 'data'>): string {
  const typed = record as TypedRecord;
  if (!KNOWN_TYPES.has(typed.type)) return formatGeneric((record.data as UnknownData).rdata);
  switch (typed.type) {
    case 'A':
    case 'AAAA':
    case 'NS':
    case 'CNAME':
    case 'DNAME':
    case 'PTR':
      return typed.data;
    case 'SOA': {
      const soa = typed.data;
      return `${soa.mname} ${soa.rname} ${soa.serial} ${soa.refresh} ${soa.retry} ${soa.expire} ${soa.minimum}`;
    }
    case 'MX':
      return `${typed.data.preference} ${typed.data.exchange}`;
    case 'TXT':
      return typed.data.map(quoteCharacterString).join(' ');
    case 'SRV': {
      const srv = typed.data;
      return `${srv.priority} ${srv.weight} ${srv.port} ${srv.target}`;
    }
    case 'DS':
    case 'CDS': {
      const ds = typed.data;
      return `${ds.keyTag} ${ds.algorithm} ${ds.digestType} ${ds.digest.replace(/\s+/g, '')}`;
    }
    case 'DNSKEY':
    case 'CDNSKEY': {
      const key = typed.data;
      return `${key.flags} ${key.protocol} ${key.algorithm} ${key.publicKey.replace(/\s+/g, '')}`;
    }
    case 'RRSIG': {
      const sig = typed.data;
      return [
        sig.typeCovered,
        sig.algorithm,
        sig.labels,
        sig.originalTtl,
        formatSignatureTime(sig.expiration),
        formatSignatureTime(sig.inception),
        sig.keyTag,
        sig.signerName,
        sig.signature.replace(/\s+/g, ''),
      ].join(' ');
    }
    case 'NSEC':
      return withTypes(typed.data.nextName, typed.data.types);
    case 'NSEC3': {
      const nsec3 = typed.data;
      const prefix = `${nsec3.hashAlgorithm} ${nsec3.flags} ${nsec3.iterations} ${nsec3.salt === '' ? '-' : nsec3.salt} ${nsec3.nextHashedOwner}`;
      return withTypes(prefix, nsec3.types);
    }
    case 'NSEC3PARAM': {
      const param = typed.data;
      return `${param.hashAlgorithm} ${param.flags} ${param.iterations} ${param.salt === '' ? '-' : param.salt}`;
    }
    case 'CSYNC':
      return withTypes(`${typed.data.serial} ${typed.data.flags}`, typed.data.types);
    case 'DSYNC':
      return formatDsync(typed.data);
  }
}

/** RFC 9859 §2.2: `CDS NOTIFY 5300 target.`; schemes without a mnemonic as numbers. */
function formatDsync(dsync: DsyncData): string {
  const scheme = dsync.scheme === DSYNC_SCHEME_NOTIFY ? 'NOTIFY' : String(dsync.scheme);
  return `${dsync.rrtype} ${scheme} ${dsync.port} ${dsync.target}`;
}

/**
 * DSYNC rdata in the RFC 3597 form `\# length hex`, for servers that cannot parse DSYNC
 * presentation (BIND 9.18 loads it as `TYPE66 \# …`). Throws DnsWireError on unencodable data.
 */
export function dsyncGenericRdata(data: DsyncData): string {
  return formatGeneric(encodeRdata({ type: 'DSYNC', data }).toString('hex'));
}

/** One record on one line: `owner ttl class type rdata`, as {@link parseRecord} reads it back. */
export function formatRecord(record: DnsRecord): string {
  return `${record.name} ${record.ttl} ${record.class} ${record.type} ${formatRdata(record)}`;
}
