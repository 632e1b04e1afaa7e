/**
 * The zone's content from NS1's zone `records` list. Pure: no I/O, so the unit tests run it on
 * recorded lists.
 *
 * Each record's `short_answers` are its answers' fields joined by spaces, names without their
 * trailing dot: read as presentation format relative to the root. A TXT answer is one string.
 * DNSSEC types (NS1 lists its own DNSKEY and RRSIG), CSYNC and the SOA are left out: the SOA is
 * read on the wire.
 */
import type { DnsRecord } from '@chorus/core';
import { NON_CONTENT_TYPES, parseRdata } from '@chorus/dns';
import type { Ns1ZoneRecord } from './responses.js';

/** The longest character string of a TXT record. */
const MAX_STRING_OCTETS = 255;

/** A record to read on the wire: linked, or its answers cannot be read here. */
export interface UnparsedRecord {
  owner: string;
  type: string;
}

export interface ListedContent {
  records: DnsRecord[];
  unparsed: UnparsedRecord[];
}

/** The rdata of one short answer; throws when it does not parse. */
function answerData(type: string, answer: string): DnsRecord['data'] {
  if (type !== 'TXT') return parseRdata(type, answer, '.');
  if (Buffer.byteLength(answer, 'utf8') > MAX_STRING_OCTETS)
    throw new RangeError('a TXT answer NS1 splits when serving');
  return [answer];
}

/** The records of one entry, or undefined when they must be read on the wire. */
function parsedRecords(owner: string, record: Ns1ZoneRecord): DnsRecord[] | undefined {
  if (record.link !== null || record.shortAnswers.length === 0) return undefined;
  try {
    return record.shortAnswers.map(
      (answer) =>
        ({
          name: owner,
          type: record.type,
          class: 'IN',
          ttl: record.ttl,
          data: answerData(record.type, answer),
        }) as DnsRecord,
    );
  } catch {
    return undefined;
  }
}

/** The content records in a zone's `records` list; owners absolute. */
export function listedContent(records: readonly Ns1ZoneRecord[]): ListedContent {
  const content: ListedContent = { records: [], unparsed: [] };
  for (const record of records) {
    if (NON_CONTENT_TYPES.has(record.type) || record.type === 'SOA') continue;
    const owner = `${record.domain.replace(/\.$/, '')}.`;
    const parsed = parsedRecords(owner, record);
    if (parsed) content.records.push(...parsed);
    else content.unparsed.push({ owner, type: record.type });
  }
  return content;
}
