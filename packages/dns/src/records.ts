import type { DnsRecord, EmptyRecord, KnownRecordType, TypedRecord } from '@chorus/core';

/**
 * Narrows a record to its typed shape. `record.type === 'RRSIG'` alone does not narrow
 * `record.data`, because records of unknown types also carry a string `type`.
 *
 * @example
 * const signatures = message.answers.filter((record) => isRecordOfType(record, 'RRSIG'));
 */
export function isRecordOfType<T extends KnownRecordType>(
  record: DnsRecord | EmptyRecord,
  type: T,
): record is Extract<TypedRecord, { type: T }> {
  return record.type === type && record.data !== null;
}
