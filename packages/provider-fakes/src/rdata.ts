/**
 * Record content in canonical presentation format, shared by both fakes: integers without
 * leading zeros, base64 and hex un-chunked, DS digests lower-case, CSYNC type bitmaps sorted by
 * type number. Types `@chorus/dns` has no parser for are only whitespace-normalised (lenient:
 * the backend PowerDNS still validates them).
 */
import { recordTypeNumber, type CsyncData, type DsData, type RecordType } from '@chorus/core';
import { formatRdata, parseRdata } from '@chorus/dns';

/** Content that does not parse as its type; `reason` says why. */
export class RdataError extends Error {
  readonly reason: string;

  constructor(reason: string) {
    super(reason);
    this.name = 'RdataError';
    this.reason = reason;
  }
}

/** Types `@chorus/dns` parses; everything else is normalised leniently. */
const PARSED_TYPES = new Set([
  'A',
  'AAAA',
  'NS',
  'CNAME',
  'DNAME',
  'PTR',
  'MX',
  'TXT',
  'SRV',
  'DS',
  'CDS',
  'DNSKEY',
  'CDNSKEY',
  'CSYNC',
]);

function typeNumber(type: RecordType): number {
  return recordTypeNumber(type) ?? Number.MAX_SAFE_INTEGER;
}

/** The canonical form of `content` for `type`; throws RdataError when it does not parse. */
export function canonicalRdata(type: string, content: string): string {
  if (!PARSED_TYPES.has(type)) {
    const collapsed = content.trim().replace(/\s+/g, ' ');
    if (collapsed === '') throw new RdataError('empty record content');
    return collapsed;
  }
  let data: ReturnType<typeof parseRdata>;
  try {
    data = parseRdata(type, content);
  } catch (error) {
    throw new RdataError(error instanceof Error ? error.message : String(error));
  }
  if (type === 'DS' || type === 'CDS') {
    const ds = data as DsData;
    data = { ...ds, digest: ds.digest.replace(/\s+/g, '').toLowerCase() };
  }
  if (type === 'CSYNC') {
    const csync = data as CsyncData;
    data = { ...csync, types: [...csync.types].sort((a, b) => typeNumber(a) - typeNumber(b)) };
  }
  return formatRdata({ type, data });
}

/** The canonical form, or the content as it is when it does not parse (for backend data). */
export function canonicalOrRaw(type: string, content: string): string {
  try {
    return canonicalRdata(type, content);
  } catch {
    return content;
  }
}

/** The key of a record for duplicate detection: canonical and case-insensitive. */
export function recordIdentity(type: string, canonical: string): string {
  // Base64 is case-sensitive: keys and signatures keep their case.
  if (type === 'DNSKEY' || type === 'CDNSKEY' || type === 'TXT') return canonical;
  return canonical.toLowerCase();
}
