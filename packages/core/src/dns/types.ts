/**
 * Plain-data DNS types used across Chorus.
 *
 * Every value here survives `JSON.parse(JSON.stringify(x))`: binary fields are strings
 * (base64 for keys and signatures, hex for digests and salts). Domain names are absolute,
 * in presentation format, with a trailing dot (`www.example.test.`; the root is `.`).
 */

/** Record types with a typed `data` shape. */
export interface RecordDataMap {
  A: string;
  AAAA: string;
  NS: string;
  CNAME: string;
  DNAME: string;
  PTR: string;
  SOA: SoaData;
  MX: MxData;
  TXT: string[];
  SRV: SrvData;
  DS: DsData;
  CDS: DsData;
  DNSKEY: DnskeyData;
  CDNSKEY: DnskeyData;
  RRSIG: RrsigData;
  NSEC: NsecData;
  NSEC3: Nsec3Data;
  NSEC3PARAM: Nsec3ParamData;
  CSYNC: CsyncData;
  DSYNC: DsyncData;
}

export type KnownRecordType = keyof RecordDataMap;

/** Any RR type: a known mnemonic, another registered mnemonic, or RFC 3597 `TYPEnnn`. */
// `string & {}` keeps editor completion for the known mnemonics.

export type RecordType = KnownRecordType | (string & {});

export type DnsClass = 'IN' | 'CH' | 'HS' | 'NONE' | 'ANY';

export interface SoaData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

export interface MxData {
  preference: number;
  exchange: string;
}

export interface SrvData {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

/** DS and CDS rdata (RFC 4034 §5, RFC 7344). */
export interface DsData {
  keyTag: number;
  algorithm: number;
  digestType: number;
  /** Upper-case hex, as `dnssec-dsfromkey` prints it. */
  digest: string;
}

/** DNSKEY and CDNSKEY rdata (RFC 4034 §2, RFC 7344). */
export interface DnskeyData {
  flags: number;
  protocol: number;
  algorithm: number;
  /** Base64, no spaces. */
  publicKey: string;
}

/** RRSIG rdata (RFC 4034 §3). Times are seconds since the epoch (serial arithmetic is the caller's job). */
export interface RrsigData {
  typeCovered: RecordType;
  algorithm: number;
  labels: number;
  originalTtl: number;
  expiration: number;
  inception: number;
  keyTag: number;
  signerName: string;
  /** Base64. */
  signature: string;
}

export interface NsecData {
  nextName: string;
  types: RecordType[];
}

export interface Nsec3Data {
  hashAlgorithm: number;
  flags: number;
  iterations: number;
  /** Hex, empty string for no salt. */
  salt: string;
  /** Base32hex (RFC 4648 §7), upper-case, no padding. */
  nextHashedOwner: string;
  types: RecordType[];
}

export interface Nsec3ParamData {
  hashAlgorithm: number;
  flags: number;
  iterations: number;
  salt: string;
}

/** CSYNC rdata (RFC 7477). Flags: 1 = immediate, 2 = soaminimum. */
export interface CsyncData {
  serial: number;
  flags: number;
  types: RecordType[];
}

/**
 * DSYNC rdata (RFC 9859 §2): where a parent wants generalized NOTIFYs about one RR type.
 * Scheme 1 is NOTIFY; 0 is the null scheme (ignored), 128-255 are private use. Port 0 means ignore.
 */
export interface DsyncData {
  /** The RR type the notifications are about, as a mnemonic (`CDS`, `CSYNC`) or `TYPEnnn`. */
  rrtype: RecordType;
  scheme: number;
  port: number;
  /** The host that receives the notifications: absolute, never compressed on the wire. */
  target: string;
}

/** Rdata of a type without a typed shape: the raw bytes in hex (RFC 3597). */
export interface UnknownData {
  rdata: string;
}

interface RecordBase {
  name: string;
  class: DnsClass;
  ttl: number;
}

export type TypedRecord = {
  [T in KnownRecordType]: RecordBase & { type: T; data: RecordDataMap[T] };
}[KnownRecordType];

export type UnknownRecord = RecordBase & { type: string; data: UnknownData };

/**
 * A record with no rdata (RDLENGTH 0). Only meaningful in UPDATE messages (RFC 2136 §2.4, §2.5):
 * class ANY deletes an RRset or checks it exists; class NONE checks that it does not.
 */
export type EmptyRecord = RecordBase & { type: RecordType; data: null };

export type DnsRecord = TypedRecord | UnknownRecord;

/** One RRset with the signatures that cover it, as observed in one answer. */
export interface RRset<T extends RecordType = RecordType> {
  name: string;
  type: T;
  class: DnsClass;
  /** TTL of the RRset as served (the smallest TTL of its records, per RFC 2181 §5.2). */
  ttl: number;
  records: T extends KnownRecordType ? RecordDataMap[T][] : UnknownData[];
  signatures: RrsigData[];
}

export interface Question {
  name: string;
  type: RecordType;
  class: DnsClass;
}

export type Opcode = 'QUERY' | 'NOTIFY' | 'UPDATE' | `OPCODE${number}`;

export type Rcode =
  | 'NOERROR'
  | 'FORMERR'
  | 'SERVFAIL'
  | 'NXDOMAIN'
  | 'NOTIMP'
  | 'REFUSED'
  | 'YXDOMAIN'
  | 'YXRRSET'
  | 'NXRRSET'
  | 'NOTAUTH'
  | 'NOTZONE'
  | 'BADVERS'
  | `RCODE${number}`;

export interface HeaderFlags {
  qr: boolean;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  ad: boolean;
  cd: boolean;
}

export interface EdnsOption {
  code: number;
  /** Hex. */
  data: string;
}

export interface Edns {
  udpPayloadSize: number;
  dnssecOk: boolean;
  version: number;
  options: EdnsOption[];
}

/** TSIG rdata (RFC 8945 §4.2). */
export interface TsigData {
  algorithm: string;
  timeSigned: number;
  fudge: number;
  /** Base64. */
  mac: string;
  originalId: number;
  error: Rcode | 'BADSIG' | 'BADKEY' | 'BADTIME' | 'BADTRUNC';
  /** Hex. */
  otherData: string;
}

export interface TsigRecord {
  keyName: string;
  data: TsigData;
}

/** A decoded DNS message. UPDATE uses the same sections under their RFC 2136 names: zone = questions, prerequisites = answers, updates = authorities. */
export interface DnsMessage {
  id: number;
  opcode: Opcode;
  flags: HeaderFlags;
  /** Includes the extended bits from EDNS when present. */
  rcode: Rcode;
  questions: Question[];
  answers: (DnsRecord | EmptyRecord)[];
  authorities: (DnsRecord | EmptyRecord)[];
  additionals: (DnsRecord | EmptyRecord)[];
  edns?: Edns;
  /** The TSIG record, always the last additional on the wire; not repeated in `additionals`. */
  tsig?: TsigRecord;
}

/** A nameserver endpoint. `address` is an IPv4 or IPv6 literal. */
export interface NameServer {
  address: string;
  port?: number;
}
