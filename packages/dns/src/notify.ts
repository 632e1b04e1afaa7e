import { randomInt } from 'node:crypto';
import { DnsResponseError, type DnsMessage, type NameServer, type SoaData } from '@chorus/core';
import { normalizeName } from './names.js';
import { exchange, type ExchangeOptions } from './query.js';
import { describeServer } from './transport.js';
import { NO_FLAGS } from './wire.js';

/** SOA for zone change (RFC 1996); CDS and CSYNC for generalized NOTIFY to a parent (RFC 9859). */
export type NotifyType = 'SOA' | 'CDS' | 'CSYNC';

export interface NotifyOptions extends ExchangeOptions {
  /** For SOA NOTIFY: the new SOA, sent as a hint in the answer section (RFC 1996 §3.7). */
  soa?: SoaData;
}

export function buildNotify(
  zone: string,
  type: NotifyType,
  soa?: SoaData,
): Omit<DnsMessage, 'tsig'> {
  const name = normalizeName(zone);
  return {
    id: randomInt(0, 0x10000),
    opcode: 'NOTIFY',
    flags: { ...NO_FLAGS, aa: true },
    rcode: 'NOERROR',
    questions: [{ name, type, class: 'IN' }],
    answers: type === 'SOA' && soa ? [{ name, type: 'SOA', class: 'IN', ttl: 0, data: soa }] : [],
    authorities: [],
    additionals: [],
  };
}

/** Sends a NOTIFY and requires a NOERROR acknowledgement (retried over UDP, RFC 1996 §3.6). */
export async function sendNotify(
  server: NameServer,
  zone: string,
  type: NotifyType = 'SOA',
  options: NotifyOptions = {},
): Promise<{ server: string; elapsedMs: number }> {
  const result = await exchange(server, buildNotify(zone, type, options.soa), {
    retries: 3,
    ...options,
  });
  if (result.message.rcode !== 'NOERROR') {
    throw new DnsResponseError({
      server: describeServer(server),
      rcode: result.message.rcode,
      what: `NOTIFY(${type}) for ${normalizeName(zone)}`,
    });
  }
  return { server: result.server, elapsedMs: result.elapsedMs };
}
