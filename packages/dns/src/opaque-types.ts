import { isIPv4, isIPv6 } from 'node:net';
import { nameToWire } from './names.js';
import { encodeRdata, u16, u32 } from './rdata.js';

/**
 * Presentation-format encoders for record types without a typed shape in @chorus/core. Each one
 * turns the rdata fields into the wire octets, so the record becomes the same `{ rdata: hex }`
 * (RFC 3597) that decoding the type from the wire gives, and digests agree on both paths.
 * Names in these rdata are written as given: uncompressed, case kept (see canonicalOpaqueRdata).
 */

/** A field as the tokenizer gives it: quotes removed, escapes still raw. */
export interface Field {
  readonly text: string;
  readonly quoted: boolean;
}

/** How an encoder reads its fields. Every failure throws a PresentationParseError. */
export interface RdataFields {
  /** The next field; fails naming `what` when there is none. */
  next(what: string): Field;
  /** The next field without reading it. */
  peek(): Field | undefined;
  hasMore(): boolean;
  integer(max: number, what: string): number;
  /** A DNSSEC algorithm number or mnemonic. */
  algorithm(): number;
  /** A domain name, absolute or relative to the origin, as an absolute presentation name. */
  name(): string;
  /** The remaining fields joined without spaces (hex and base64 are often split). */
  joinedRest(): string;
  /** The octets of a character string: `\DDD` and `\X` escapes decoded, no length limit. */
  octets(text: string): Buffer;
  /** Fails with a message that starts with the type. */
  fail(message: string): never;
}

export type OpaqueEncoder = (fields: RdataFields) => Buffer;

const MAX_U8 = 0xff;
const MAX_U16 = 0xffff;

function u8(value: number): Buffer {
  return Buffer.from([value]);
}

// ---------------------------------------------------------------------------------------------
// Shared field forms

/** A <character-string> on the wire: a length octet, then at most 255 octets. */
function characterString(fields: RdataFields, what: string): Buffer {
  const bytes = fields.octets(fields.next(what).text);
  if (bytes.length > MAX_U8) fields.fail(`${what} is longer than 255 octets`);
  return Buffer.concat([u8(bytes.length), bytes]);
}

function hexBytes(fields: RdataFields, text: string, what: string): Buffer {
  if (text === '') fields.fail(`${what} is missing`);
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(text))
    fields.fail(`${what} is not valid hex`);
  return Buffer.from(text, 'hex');
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function base64Bytes(fields: RdataFields, text: string, what: string): Buffer {
  if (text === '') fields.fail(`${what} is missing`);
  if (!STRICT_BASE64.test(text)) fields.fail(`${what} is not valid base64`);
  return Buffer.from(text, 'base64');
}

function nameWire(fields: RdataFields): Buffer {
  return nameToWire(fields.name());
}

// ---------------------------------------------------------------------------------------------
// Simple types

/** RFC 8659 §4.1.1: `flags tag value`; the value runs to the end of the rdata, unprefixed. */
function encodeCaa(fields: RdataFields): Buffer {
  const flags = fields.integer(MAX_U8, 'flags');
  const tag = fields.next('tag').text;
  if (!/^[A-Za-z0-9]{1,255}$/.test(tag))
    fields.fail(`tag ${JSON.stringify(tag)} must be 1 to 255 letters and digits`);
  const value = fields.octets(fields.next('value').text);
  return Buffer.concat([u8(flags), u8(tag.length), Buffer.from(tag, 'ascii'), value]);
}

/** RFC 4255 §3.2: `algorithm fp-type fingerprint-hex`. */
function encodeSshfp(fields: RdataFields): Buffer {
  return Buffer.concat([
    u8(fields.integer(MAX_U8, 'algorithm')),
    u8(fields.integer(MAX_U8, 'fingerprint type')),
    hexBytes(fields, fields.joinedRest(), 'fingerprint'),
  ]);
}

/** RFC 6698 §2.2 (TLSA), RFC 8162 §2 (SMIMEA): `usage selector matching-type data-hex`. */
function encodeTlsa(fields: RdataFields): Buffer {
  return Buffer.concat([
    u8(fields.integer(MAX_U8, 'certificate usage')),
    u8(fields.integer(MAX_U8, 'selector')),
    u8(fields.integer(MAX_U8, 'matching type')),
    hexBytes(fields, fields.joinedRest(), 'certificate association data'),
  ]);
}

/** RFC 3403 §4.1: `order preference flags services regexp replacement`. */
function encodeNaptr(fields: RdataFields): Buffer {
  return Buffer.concat([
    u16(fields.integer(MAX_U16, 'order')),
    u16(fields.integer(MAX_U16, 'preference')),
    characterString(fields, 'flags'),
    characterString(fields, 'services'),
    characterString(fields, 'regexp'),
    nameWire(fields),
  ]);
}

/** RFC 1035 §3.3.2: `cpu os`. */
function encodeHinfo(fields: RdataFields): Buffer {
  return Buffer.concat([characterString(fields, 'CPU'), characterString(fields, 'OS')]);
}

/** RFC 7553 §4.4: `priority weight "target"`; the target runs to the end, unprefixed. */
function encodeUri(fields: RdataFields): Buffer {
  const priority = fields.integer(MAX_U16, 'priority');
  const weight = fields.integer(MAX_U16, 'weight');
  const target = fields.next('target');
  if (!target.quoted) fields.fail('target must be in double quotes');
  return Buffer.concat([u16(priority), u16(weight), fields.octets(target.text)]);
}

/** RFC 4398 §2.1 certificate type mnemonics. */
const CERT_TYPES: ReadonlyMap<string, number> = new Map([
  ['PKIX', 1],
  ['SPKI', 2],
  ['PGP', 3],
  ['IPKIX', 4],
  ['ISPKI', 5],
  ['IPGP', 6],
  ['ACPKIX', 7],
  ['IACPKIX', 8],
  ['URI', 253],
  ['OID', 254],
]);

/** RFC 4398 §2.2: `type key-tag algorithm certificate-base64`. */
function encodeCert(fields: RdataFields): Buffer {
  const mnemonic = CERT_TYPES.get(fields.peek()?.text.toUpperCase() ?? '');
  if (mnemonic !== undefined) fields.next('certificate type');
  const type = mnemonic ?? fields.integer(MAX_U16, 'certificate type');
  return Buffer.concat([
    u16(type),
    u16(fields.integer(MAX_U16, 'key tag')),
    u8(fields.algorithm()),
    base64Bytes(fields, fields.joinedRest(), 'certificate'),
  ]);
}

// ---------------------------------------------------------------------------------------------
// LOC (RFC 1876)

/** A decimal with at most `places` fraction digits, scaled to an integer (`1.5`, 2 → 150). */
function scaledDecimal(fields: RdataFields, text: string, places: number, what: string): number {
  const match = /^(\d*)(?:\.(\d*))?$/.exec(text);
  const whole = match?.[1] ?? '';
  const fraction = match?.[2] ?? '';
  if (!match || whole + fraction === '' || fraction.length > places)
    fields.fail(`${what} ${JSON.stringify(text)} is not a number with at most ${places} decimals`);
  return Number(whole + fraction.padEnd(places, '0'));
}

/** `d [m [s]] hemisphere` in thousandths of an arc second, offset from 2^31 (RFC 1876 §2). */
function coordinate(
  fields: RdataFields,
  what: string,
  maxDegrees: number,
  hemispheres: string,
): number {
  const letters = hemispheres.split('');
  const atHemisphere = () => letters.includes(fields.peek()?.text ?? '');
  const degrees = fields.integer(maxDegrees, `${what} degrees`);
  const minutes = atHemisphere() ? 0 : fields.integer(59, `${what} minutes`);
  const seconds = atHemisphere()
    ? 0
    : scaledDecimal(fields, fields.next(`${what} seconds`).text, 3, `${what} seconds`);
  if (seconds >= 60_000) fields.fail(`${what} seconds must be below 60`);
  const hemisphere = fields.next(`${what} hemisphere`).text;
  if (!letters.includes(hemisphere))
    fields.fail(
      `${what} hemisphere must be ${letters.join(' or ')}, got ${JSON.stringify(hemisphere)}`,
    );
  const value = (degrees * 60 + minutes) * 60 * 1000 + seconds;
  if (value > maxDegrees * 3_600_000) fields.fail(`${what} is beyond ${maxDegrees} degrees`);
  return 2 ** 31 + (hemisphere === letters[0] ? value : -value);
}

/** A length in metres, with an optional `m`, in centimetres. */
function centimetres(fields: RdataFields, text: string, what: string): number {
  return scaledDecimal(fields, text.endsWith('m') ? text.slice(0, -1) : text, 2, what);
}

/** Altitude in centimetres above 100 km below the WGS 84 spheroid. */
function altitude(fields: RdataFields): number {
  const text = fields.next('altitude').text;
  const sign = /^[+-]/.test(text) ? text[0] : '+';
  const magnitude = centimetres(fields, text.replace(/^[+-]/, ''), 'altitude');
  const value = 10_000_000 + (sign === '-' ? -magnitude : magnitude);
  if (value < 0 || value > 0xffffffff)
    fields.fail(`altitude ${text} is outside -100000m to 42849672.95m`);
  return value;
}

/** Size or precision as mantissa and power of ten of centimetres, truncated (RFC 1876 §2). */
function sizeOctet(fields: RdataFields, what: string, fallback: string): number {
  const text = fields.hasMore() ? fields.next(what).text : fallback;
  const value = centimetres(fields, text, what);
  if (value > 9e9) fields.fail(`${what} ${text} is above 90000000m`);
  const exponent = value === 0 ? 0 : String(value).length - 1;
  return (Math.floor(value / 10 ** exponent) << 4) | exponent;
}

/** RFC 1876 §3: `lat-d [m [s]] N|S long-d [m [s]] E|W alt[m] [size[m] [hp[m] [vp[m]]]]`. */
function encodeLoc(fields: RdataFields): Buffer {
  const latitude = coordinate(fields, 'latitude', 90, 'NS');
  const longitude = coordinate(fields, 'longitude', 180, 'EW');
  const height = altitude(fields);
  const size = sizeOctet(fields, 'size', '1m');
  const horizontal = sizeOctet(fields, 'horizontal precision', '10000m');
  const vertical = sizeOctet(fields, 'vertical precision', '10m');
  return Buffer.concat([
    Buffer.from([0, size, horizontal, vertical]),
    u32(latitude),
    u32(longitude),
    u32(height),
  ]);
}

// ---------------------------------------------------------------------------------------------
// SVCB and HTTPS (RFC 9460)

const SVC_KEYS: ReadonlyMap<string, number> = new Map([
  ['mandatory', 0],
  ['alpn', 1],
  ['no-default-alpn', 2],
  ['port', 3],
  ['ipv4hint', 4],
  ['ech', 5],
  ['ipv6hint', 6],
  ['dohpath', 7],
  ['ohttp', 8],
]);

function svcKeyName(key: number): string {
  return [...SVC_KEYS].find(([, value]) => value === key)?.[0] ?? `key${key}`;
}

/** A key name or the generic `keyNNNNN` (no leading zeros). */
function svcKeyNumber(fields: RdataFields, name: string): number {
  const known = SVC_KEYS.get(name);
  if (known !== undefined) return known;
  const generic = /^key(0|[1-9]\d{0,4})$/.exec(name);
  if (generic && Number(generic[1]) <= MAX_U16) return Number(generic[1]);
  return fields.fail(`has an unknown SvcParam key ${JSON.stringify(name)}`);
}

/** `key`, `key=value` or `key="value"` (the tokenizer splits the last one in two). */
function nextSvcParam(fields: RdataFields): { key: number; value: string | undefined } {
  const field = fields.next('SvcParam');
  if (field.quoted) fields.fail(`SvcParam expected, got the string ${JSON.stringify(field.text)}`);
  const equals = field.text.indexOf('=');
  if (equals < 0) return { key: svcKeyNumber(fields, field.text), value: undefined };
  const key = svcKeyNumber(fields, field.text.slice(0, equals));
  const value = field.text.slice(equals + 1);
  if (value === '' && fields.peek()?.quoted === true)
    return { key, value: fields.next('SvcParam value').text };
  return { key, value };
}

/** RFC 9460 App. A.1: items split at commas, where `\,` and `\\` stand for themselves. */
function valueList(fields: RdataFields, text: string, what: string): Buffer[] {
  const octets = fields.octets(text);
  const items: number[][] = [[]];
  for (let index = 0; index < octets.length; index += 1) {
    const byte = octets[index]!;
    if (byte === 0x2c) items.push([]);
    else if (byte === 0x5c && index + 1 < octets.length) items.at(-1)!.push(octets[++index]!);
    else items.at(-1)!.push(byte);
  }
  if (items.some((item) => item.length === 0)) fields.fail(`${what} has an empty item`);
  return items.map((item) => Buffer.from(item));
}

type SvcValueEncoder = (fields: RdataFields, value: string, what: string) => Buffer;

function mandatoryValue(fields: RdataFields, value: string, what: string): Buffer {
  const keys = valueList(fields, value, what).map((item) =>
    svcKeyNumber(fields, item.toString('latin1')),
  );
  if (keys.includes(0)) fields.fail(`${what} must not list mandatory itself`);
  if (new Set(keys).size !== keys.length) fields.fail(`${what} lists a key twice`);
  return Buffer.concat(keys.sort((a, b) => a - b).map(u16));
}

function alpnValue(fields: RdataFields, value: string, what: string): Buffer {
  const ids = valueList(fields, value, what);
  if (ids.some((id) => id.length > MAX_U8)) fields.fail(`${what} has an id over 255 octets`);
  return Buffer.concat(ids.flatMap((id) => [u8(id.length), id]));
}

function portValue(fields: RdataFields, value: string, what: string): Buffer {
  const text = fields.octets(value).toString('latin1');
  if (!/^\d+$/.test(text) || Number(text) > MAX_U16)
    fields.fail(`${what} ${JSON.stringify(text)} is not a port number`);
  return u16(Number(text));
}

function addressHints(family: 'A' | 'AAAA'): SvcValueEncoder {
  const valid = family === 'A' ? isIPv4 : (text: string) => isIPv6(text) && !text.includes('%');
  return (fields, value, what) =>
    Buffer.concat(
      valueList(fields, value, what).map((item) => {
        const address = item.toString('latin1');
        if (!valid(address)) fields.fail(`${what} ${JSON.stringify(address)} is not an address`);
        return encodeRdata({ type: family, data: address });
      }),
    );
}

function echValue(fields: RdataFields, value: string, what: string): Buffer {
  const text = fields.octets(value).toString('latin1');
  return text === '' ? Buffer.alloc(0) : base64Bytes(fields, text, what);
}

/** Value encoders of the keys with a typed value; other keys take their octets as given. */
const SVC_VALUES: ReadonlyMap<number, SvcValueEncoder> = new Map([
  [0, mandatoryValue],
  [1, alpnValue],
  [3, portValue],
  [4, addressHints('A')],
  [5, echValue],
  [6, addressHints('AAAA')],
]);

/** Keys whose presentation has no value. */
const SVC_FLAGS: ReadonlySet<number> = new Set([2, 8]);

function svcValue(fields: RdataFields, key: number, value: string | undefined): Buffer {
  const what = `SvcParam ${svcKeyName(key)}`;
  if (SVC_FLAGS.has(key)) {
    if (value !== undefined) fields.fail(`${what} takes no value`);
    return Buffer.alloc(0);
  }
  const encode = SVC_VALUES.get(key);
  if (encode === undefined) return fields.octets(value ?? '');
  if (value === undefined || value === '') fields.fail(`${what} needs a value`);
  return encode(fields, value, what);
}

/** RFC 9460 §8: every key listed in mandatory must be present. */
function checkMandatory(fields: RdataFields, params: ReadonlyMap<number, Buffer>): void {
  const mandatory = params.get(0);
  if (mandatory === undefined) return;
  for (let offset = 0; offset + 2 <= mandatory.length; offset += 2) {
    const key = mandatory.readUInt16BE(offset);
    if (!params.has(key)) fields.fail(`SvcParam mandatory lists ${svcKeyName(key)}, not present`);
  }
}

/** RFC 9460 §2.1: `priority target params…`; params sorted by key on the wire. */
function encodeSvcb(fields: RdataFields): Buffer {
  const priority = fields.integer(MAX_U16, 'priority');
  const target = nameWire(fields);
  const params = new Map<number, Buffer>();
  while (fields.hasMore()) {
    const { key, value } = nextSvcParam(fields);
    if (params.has(key)) fields.fail(`SvcParam ${svcKeyName(key)} appears twice`);
    const encoded = svcValue(fields, key, value);
    if (encoded.length > MAX_U16) fields.fail(`SvcParam ${svcKeyName(key)} is too long`);
    params.set(key, encoded);
  }
  checkMandatory(fields, params);
  const sorted = [...params].sort(([a], [b]) => a - b);
  const wire = sorted.map(([key, value]) => Buffer.concat([u16(key), u16(value.length), value]));
  return Buffer.concat([u16(priority), target, ...wire]);
}

// ---------------------------------------------------------------------------------------------
// Table

/** Mnemonic, type number, encoder. */
const OPAQUE_TYPES: ReadonlyArray<readonly [string, number, OpaqueEncoder]> = [
  ['HINFO', 13, encodeHinfo],
  ['LOC', 29, encodeLoc],
  ['NAPTR', 35, encodeNaptr],
  ['CERT', 37, encodeCert],
  ['SSHFP', 44, encodeSshfp],
  ['TLSA', 52, encodeTlsa],
  ['SMIMEA', 53, encodeTlsa],
  ['SVCB', 64, encodeSvcb],
  ['HTTPS', 65, encodeSvcb],
  ['URI', 256, encodeUri],
  ['CAA', 257, encodeCaa],
];

const ENCODERS = new Map(OPAQUE_TYPES.map(([, type, encode]) => [type, encode]));
const MNEMONICS = new Map(OPAQUE_TYPES.map(([mnemonic, type]) => [mnemonic, type]));

/** The number of a type mnemonic this module encodes (some are unknown to @chorus/core). */
export function opaqueTypeNumber(mnemonic: string): number | undefined {
  return MNEMONICS.get(mnemonic.toUpperCase());
}

/** The presentation encoder of a type number, if this module has one. */
export function opaqueEncoder(type: number): OpaqueEncoder | undefined {
  return ENCODERS.get(type);
}

// ---------------------------------------------------------------------------------------------
// Canonical form

const NAPTR = 35;

/**
 * The canonical form (RFC 4034 §6.2, RFC 6840 §5.1) of opaque rdata: NAPTR is the only type
 * here whose embedded name is lower-cased; types newer than RFC 3597 keep case (its §7).
 */
export function canonicalOpaqueRdata(type: number, rdata: Buffer): Buffer {
  if (type !== NAPTR) return rdata;
  let offset = 4;
  for (let strings = 0; strings < 3 && offset < rdata.length; strings += 1)
    offset += 1 + rdata[offset]!;
  const copy = Buffer.from(rdata);
  // Label lengths are at most 63, so only letters of the name fall in 'A'-'Z'.
  for (let index = offset; index < copy.length; index += 1) {
    const byte = copy[index]!;
    if (byte >= 0x41 && byte <= 0x5a) copy[index] = byte + 0x20;
  }
  return copy;
}
