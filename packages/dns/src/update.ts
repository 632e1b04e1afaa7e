import { randomInt } from 'node:crypto';
import {
  DnsResponseError,
  InvalidNameError,
  type DnsMessage,
  type DnsRecord,
  type EmptyRecord,
  type NameServer,
  type RecordType,
} from '@chorus/core';
import { isSubdomain, normalizeName } from './names.js';
import { countCall } from './kit/tally.js';
import { exchange, type ExchangeOptions } from './query.js';
import { describeServer } from './transport.js';
import { NO_FLAGS } from './wire.js';

/** One RFC 2136 prerequisite, as plain data. */
export type UpdatePrerequisite =
  | { kind: 'rrset-exists'; name: string; type: RecordType }
  | { kind: 'rrset-exists-with-value'; records: DnsRecord[] }
  | { kind: 'rrset-absent'; name: string; type: RecordType }
  | { kind: 'name-in-use'; name: string }
  | { kind: 'name-absent'; name: string };

/** One RFC 2136 update operation, as plain data. */
export type UpdateOperation =
  | { kind: 'add'; record: DnsRecord }
  | { kind: 'delete-record'; record: Omit<DnsRecord, 'ttl' | 'class'> }
  | { kind: 'delete-rrset'; name: string; type: RecordType }
  | { kind: 'delete-name'; name: string };

/**
 * Builds an RFC 2136 UPDATE for one zone. Every name must be inside the zone.
 *
 * @example
 * const update = new UpdateBuilder('example.test.')
 *   .requireRRsetExists('example.test.', 'SOA')
 *   .add({ name: 'example.test.', type: 'CSYNC', class: 'IN', ttl: 30, data: { serial: 0, flags: 1, types: ['A', 'NS', 'AAAA'] } })
 *   .deleteRecord({ name: 'example.test.', type: 'DNSKEY', data: oldKey });
 * await sendUpdate(server, update, { tsig });
 */
export class UpdateBuilder {
  readonly zone: string;
  readonly prerequisites: UpdatePrerequisite[] = [];
  readonly operations: UpdateOperation[] = [];

  constructor(zone: string) {
    this.zone = normalizeName(zone);
  }

  private inZone(name: string): string {
    const normalized = normalizeName(name);
    if (!isSubdomain(normalized, this.zone))
      throw new InvalidNameError(name, `not inside zone ${this.zone}`);
    return normalized;
  }

  requireRRsetExists(name: string, type: RecordType): this {
    this.prerequisites.push({ kind: 'rrset-exists', name: this.inZone(name), type });
    return this;
  }

  /** The RRset must exist with exactly these records (RFC 2136 §2.4.2). */
  requireRRsetEquals(records: DnsRecord[]): this {
    records.forEach((record) => this.inZone(record.name));
    this.prerequisites.push({ kind: 'rrset-exists-with-value', records });
    return this;
  }

  requireRRsetAbsent(name: string, type: RecordType): this {
    this.prerequisites.push({ kind: 'rrset-absent', name: this.inZone(name), type });
    return this;
  }

  requireNameInUse(name: string): this {
    this.prerequisites.push({ kind: 'name-in-use', name: this.inZone(name) });
    return this;
  }

  requireNameAbsent(name: string): this {
    this.prerequisites.push({ kind: 'name-absent', name: this.inZone(name) });
    return this;
  }

  add(record: DnsRecord): this {
    this.operations.push({ kind: 'add', record: { ...record, name: this.inZone(record.name) } });
    return this;
  }

  /** Deletes one RR (class NONE, RFC 2136 §2.5.4). */
  deleteRecord(record: Pick<DnsRecord, 'name' | 'type' | 'data'>): this {
    this.operations.push({
      kind: 'delete-record',
      record: { ...record, name: this.inZone(record.name) },
    });
    return this;
  }

  /** Deletes a whole RRset (class ANY, RFC 2136 §2.5.2). */
  deleteRRset(name: string, type: RecordType): this {
    this.operations.push({ kind: 'delete-rrset', name: this.inZone(name), type });
    return this;
  }

  /** Deletes every RRset at a name (RFC 2136 §2.5.3). */
  deleteName(name: string): this {
    this.operations.push({ kind: 'delete-name', name: this.inZone(name) });
    return this;
  }

  get isEmpty(): boolean {
    return this.operations.length === 0;
  }

  toMessage(id: number = randomInt(0, 0x10000)): Omit<DnsMessage, 'tsig'> {
    const empty = (name: string, type: RecordType, dnsClass: 'ANY' | 'NONE'): EmptyRecord => ({
      name,
      type,
      class: dnsClass,
      ttl: 0,
      data: null,
    });
    const prerequisites: (DnsRecord | EmptyRecord)[] = this.prerequisites.flatMap(
      (item): (DnsRecord | EmptyRecord)[] => {
        switch (item.kind) {
          case 'rrset-exists':
            return [empty(item.name, item.type, 'ANY')];
          case 'rrset-exists-with-value':
            return item.records.map((record) => ({ ...record, class: 'IN', ttl: 0 }));
          case 'rrset-absent':
            return [empty(item.name, item.type, 'NONE')];
          case 'name-in-use':
            return [empty(item.name, 'ANY', 'ANY')];
          case 'name-absent':
            return [empty(item.name, 'ANY', 'NONE')];
        }
      },
    );
    const updates = this.operations.map((operation): DnsRecord | EmptyRecord => {
      switch (operation.kind) {
        case 'add':
          return operation.record;
        case 'delete-record':
          return { ...operation.record, class: 'NONE', ttl: 0 } as DnsRecord;
        case 'delete-rrset':
          return empty(operation.name, operation.type, 'ANY');
        case 'delete-name':
          return empty(operation.name, 'ANY', 'ANY');
      }
    });
    return {
      id,
      opcode: 'UPDATE',
      flags: NO_FLAGS,
      rcode: 'NOERROR',
      questions: [{ name: this.zone, type: 'SOA', class: 'IN' }],
      answers: prerequisites,
      authorities: updates,
      additionals: [],
    };
  }
}

export interface UpdateResult {
  server: string;
  elapsedMs: number;
  message: DnsMessage;
}

/**
 * Sends an UPDATE (over TCP by default) and requires NOERROR. Any other rcode becomes a
 * DnsResponseError (SERVFAIL retryable; REFUSED, NOTAUTH, YXRRSET… not); TSIG failures a TsigError.
 */
export async function sendUpdate(
  server: NameServer,
  update: UpdateBuilder,
  options: ExchangeOptions = {},
): Promise<UpdateResult> {
  const result = await exchange(server, update.toMessage(), {
    transport: 'tcp',
    retries: 1,
    ...options,
  });
  if (result.message.rcode !== 'NOERROR') {
    countCall(`dns update ${result.message.rcode}`);
    throw new DnsResponseError({
      server: describeServer(server),
      rcode: result.message.rcode,
      what: `UPDATE of ${update.zone} (${update.operations.length} change(s))`,
    });
  }
  return { server: result.server, elapsedMs: result.elapsedMs, message: result.message };
}
