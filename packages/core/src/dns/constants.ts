import type { DnsClass, Opcode, Rcode } from './types.js';

/** RR type mnemonics and numbers (IANA "Resource Record (RR) TYPEs"). */
const RECORD_TYPE_NUMBERS: Readonly<Record<string, number>> = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  RP: 17,
  AAAA: 28,
  SRV: 33,
  NAPTR: 35,
  DNAME: 39,
  OPT: 41,
  DS: 43,
  SSHFP: 44,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  NSEC3: 50,
  NSEC3PARAM: 51,
  TLSA: 52,
  CDS: 59,
  CDNSKEY: 60,
  CSYNC: 62,
  ZONEMD: 63,
  SVCB: 64,
  HTTPS: 65,
  DSYNC: 66,
  TSIG: 250,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
  CAA: 257,
};

const RECORD_TYPE_NAMES = new Map<number, string>(
  Object.entries(RECORD_TYPE_NUMBERS).map(([name, value]) => [value, name]),
);

/** The number of an RR type mnemonic or `TYPEnnn`; undefined if unknown. */
export function recordTypeNumber(type: string): number | undefined {
  const upper = type.toUpperCase();
  const known = RECORD_TYPE_NUMBERS[upper];
  if (known !== undefined) return known;
  const generic = /^TYPE(\d{1,5})$/.exec(upper);
  if (generic) {
    const value = Number(generic[1]);
    if (value <= 0xffff) return value;
  }
  return undefined;
}

/** The mnemonic of an RR type number, or `TYPEnnn` (RFC 3597). */
export function recordTypeName(value: number): string {
  return RECORD_TYPE_NAMES.get(value) ?? `TYPE${value}`;
}

const CLASS_NUMBERS: Readonly<Record<DnsClass, number>> = {
  IN: 1,
  CH: 3,
  HS: 4,
  NONE: 254,
  ANY: 255,
};

export function classNumber(dnsClass: DnsClass): number {
  return CLASS_NUMBERS[dnsClass];
}

const CLASS_NAMES: ReadonlyMap<number, DnsClass> = new Map(
  Object.entries(CLASS_NUMBERS).map(([name, number]) => [number, name as DnsClass]),
);

export function className(value: number): DnsClass | undefined {
  return CLASS_NAMES.get(value);
}

const OPCODES: readonly Opcode[] = ['QUERY', 'OPCODE1', 'OPCODE2', 'OPCODE3', 'NOTIFY', 'UPDATE'];

export function opcodeNumber(opcode: Opcode): number {
  const index = OPCODES.indexOf(opcode);
  if (index >= 0) return index;
  return Number(opcode.replace('OPCODE', ''));
}

export function opcodeName(value: number): Opcode {
  return OPCODES[value] ?? `OPCODE${value}`;
}

const RCODES: readonly Rcode[] = [
  'NOERROR',
  'FORMERR',
  'SERVFAIL',
  'NXDOMAIN',
  'NOTIMP',
  'REFUSED',
  'YXDOMAIN',
  'YXRRSET',
  'NXRRSET',
  'NOTAUTH',
  'NOTZONE',
];

export function rcodeName(value: number): Rcode {
  if (value === 16) return 'BADVERS';
  return RCODES[value] ?? `RCODE${value}`;
}

export function rcodeNumber(rcode: Rcode): number {
  if (rcode === 'BADVERS') return 16;
  const index = RCODES.indexOf(rcode);
  if (index >= 0) return index;
  return Number(rcode.replace('RCODE', ''));
}

/** DNSSEC algorithm numbers Chorus can verify (RFC 8624 / RFC 9904 registry). */
export const DnssecAlgorithm = {
  RSASHA256: 8,
  RSASHA512: 10,
  ECDSAP256SHA256: 13,
  ECDSAP384SHA384: 14,
  ED25519: 15,
  ED448: 16,
} as const;

/** DS digest types Chorus computes. SHA-1 (1) is deliberately absent (RFC 9905). */
export const DigestType = {
  SHA256: 2,
  SHA384: 4,
} as const;

export const DNSKEY_FLAG_ZONE = 0x0100;
export const DNSKEY_FLAG_SEP = 0x0001;
export const DNSKEY_FLAG_REVOKE = 0x0080;

export const CSYNC_FLAG_IMMEDIATE = 1;
export const CSYNC_FLAG_SOAMINIMUM = 2;

/** The DSYNC scheme for DNS NOTIFY to the target (RFC 9859 §2.3). */
export const DSYNC_SCHEME_NOTIFY = 1;

export const DEFAULT_DNS_PORT = 53;
