/** deSEC's record types and limits (provider-apis.md §1.3–1.5). */

/** Managed by deSEC: never writable, never listed. */
export const AUTOMATIC_TYPES = new Set([
  'KEY',
  'NSEC',
  'NSEC3',
  'OPT',
  'RRSIG',
  'NSEC3PARAM',
  'SOA',
]);

/** Known to deSEC but refused. */
export const UNSUPPORTED_TYPES = new Set(['ALIAS', 'IPSECKEY', 'KEY', 'WKS']);

/** The documented list plus what the code also accepts (CSYNC, RKEY, MINFO, MR). */
export const SUPPORTED_TYPES = new Set([
  'A',
  'AAAA',
  'AFSDB',
  'APL',
  'CAA',
  'CDNSKEY',
  'CDS',
  'CERT',
  'CNAME',
  'CSYNC',
  'DHCID',
  'DNAME',
  'DNSKEY',
  'DLV',
  'DS',
  'EUI48',
  'EUI64',
  'HINFO',
  'HTTPS',
  'KX',
  'L32',
  'L64',
  'LOC',
  'LP',
  'MINFO',
  'MR',
  'MX',
  'NAPTR',
  'NID',
  'NS',
  'OPENPGPKEY',
  'PTR',
  'RKEY',
  'RP',
  'SMIMEA',
  'SPF',
  'SRV',
  'SSHFP',
  'SVCB',
  'TLSA',
  'TXT',
  'URI',
]);

export const MAXIMUM_TTL = 86400;
export const DEFAULT_MINIMUM_TTL = 3600;
export const MAX_RECORDS = 4091;
/** Request bodies longer than this many characters get 413. */
export const MAX_BODY_CHARS = 64_000;
/** deSEC's page size; lowered only by unit tests (startProviderFake internals). */
export const PAGE_SIZE = 500;

/** An RRset as deSEC shows it, without timestamps. */
export interface DesecRrset {
  subname: string;
  type: string;
  ttl: number;
  /** Canonical presentation format, sorted. */
  records: string[];
}

/** `{"field": ["message", …]}`, DRF's validation error shape. */
export type FieldErrors = Record<string, string[]>;

export const NOT_FOUND = { detail: 'Not found.' };
export const SERVER_ERROR = { detail: "Internal Server Error. We're on it!" };

export function rrsetKey(subname: string, type: string): string {
  return `${subname}|${type}`;
}
