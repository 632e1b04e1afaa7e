/**
 * RRsets read on the wire at NS1's nameserver: the kit's `servedRecords`, refusing first the
 * types DNS does not know (NS1's ALIAS, URLFWD), which NS1 serves as other types.
 */
import {
  DnsWireError,
  recordTypeNumber,
  type DnsRecord,
  type NameServer,
  type RecordType,
} from '@chorus/core';
import { normalizeName, servedRecords as servedByKit, type ServedOptions } from '@chorus/dns';

export type { ServedOptions };

export async function servedRecords(
  server: NameServer,
  owner: string,
  type: RecordType,
  options: ServedOptions,
): Promise<DnsRecord[]> {
  if (recordTypeNumber(type) === undefined)
    throw new DnsWireError(
      `${normalizeName(owner)} ${type}: NS1 lists a record of a type DNS does not know (served as other types), so the zone content cannot be read`,
    );
  return servedByKit(server, owner, type, options);
}
