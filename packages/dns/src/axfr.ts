/**
 * AXFR client (RFC 5936): one TCP connection, one request, answer messages until the closing SOA.
 *
 * With a TSIG key the request is signed and every answer message is verified (RFC 8945 §5.3.1):
 * each signed message's MAC chains to the one before, covering any unsigned messages between
 * them (at most 99 in a row), and the transfer must end with a signed message.
 */
import { randomInt } from 'node:crypto';
import {
  DnsResponseError,
  DnsWireError,
  type DnsMessage,
  type DnsRecord,
  type EmptyRecord,
  type NameServer,
  type Rcode,
  type SoaData,
  type TypedRecord,
} from '@chorus/core';
import { throwIfAborted } from './kit/abort.js';
import { canonicalName, normalizeName } from './names.js';
import { isRecordOfType } from './records.js';
import { describeServer, streamTcp } from './transport.js';
import { signMessage, TsigStreamVerifier, type TsigKey } from './tsig.js';
import { decodeMessage, encodeMessage, NO_FLAGS } from './wire.js';

export interface TransferOptions {
  signal?: AbortSignal;
  /** How long to wait for each answer message. Default 10000 ms. */
  timeoutMs?: number;
  /** Signs the request and verifies every answer message (see the module comment). */
  tsig?: TsigKey;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** What to do about an error rcode, for the error message. */
const RCODE_HINTS: Partial<Record<Rcode, string>> = {
  REFUSED: "AXFR refused: allow the sidecar's address in the server's transfer ACL",
  NOTAUTH: 'the server is not authoritative for the zone or does not accept the TSIG key',
  NOTZONE: 'the server has no such zone',
};

function axfrRequest(id: number, zone: string): Omit<DnsMessage, 'tsig'> {
  return {
    id,
    opcode: 'QUERY',
    flags: NO_FLAGS,
    rcode: 'NOERROR',
    questions: [{ name: zone, type: 'AXFR', class: 'IN' }],
    answers: [],
    authorities: [],
    additionals: [],
  };
}

type SoaRecord = Extract<TypedRecord, { type: 'SOA' }>;

function hasData(record: DnsRecord | EmptyRecord): record is DnsRecord {
  return record.data !== null;
}

/** Collects the answer messages of one transfer and says when the closing SOA has come. */
class TransferStream {
  readonly records: DnsRecord[] = [];
  readonly #zone: string;
  readonly #id: number;
  readonly #server: string;
  readonly #verifier: TsigStreamVerifier | undefined;
  #opening: SoaData | undefined;
  messages = 0;

  constructor(zone: string, id: number, server: string, verifier?: TsigStreamVerifier) {
    this.#zone = zone;
    this.#id = id;
    this.#server = server;
    this.#verifier = verifier;
  }

  /** Takes one answer message; true once it ended with the closing SOA. */
  add(frame: Buffer): boolean {
    const message = this.#verifier ? this.#verifier.take(frame) : decodeMessage(frame);
    this.messages += 1;
    this.#checkHeader(message);
    const answers = message.answers.filter(hasData);
    for (const [index, record] of answers.entries()) {
      if (!this.#isApexSoa(record)) this.#take(record);
      else if (this.#opening === undefined) this.#open(record);
      else return this.#close(record, index === answers.length - 1);
    }
    if (this.#opening === undefined) throw this.#wireError('sent no SOA in its first answer');
    return false;
  }

  #checkHeader(message: DnsMessage): void {
    if (message.id !== this.#id || !message.flags.qr)
      throw this.#wireError(
        `sent message ${message.id}, which does not answer request ${this.#id}`,
      );
    if (message.rcode !== 'NOERROR') {
      const hint = RCODE_HINTS[message.rcode];
      const what = `AXFR ${this.#zone}${hint ? ` (${hint})` : ''}`;
      throw new DnsResponseError({ server: this.#server, rcode: message.rcode, what });
    }
    const question = message.questions[0];
    if (question && (canonicalName(question.name) !== this.#zone || question.type !== 'AXFR'))
      throw this.#wireError(`answered ${question.name} ${question.type}`);
  }

  #isApexSoa(record: DnsRecord): record is SoaRecord {
    return isRecordOfType(record, 'SOA') && canonicalName(record.name) === this.#zone;
  }

  #take(record: DnsRecord): void {
    if (this.#opening === undefined)
      throw this.#wireError(`began the transfer with ${record.name} ${record.type}, not the SOA`);
    this.records.push(record);
  }

  #open(soa: SoaRecord): void {
    this.#opening = soa.data;
    this.records.push(soa);
  }

  #close(soa: SoaRecord, last: boolean): true {
    const serial = this.#opening!.serial;
    if (soa.data.serial !== serial)
      throw this.#wireError(`ended the transfer with serial ${soa.data.serial}, not ${serial}`);
    if (!last) throw this.#wireError('sent records after the closing SOA');
    this.#verifier?.finish();
    return true;
  }

  #wireError(problem: string): DnsWireError {
    return new DnsWireError(`AXFR of ${this.#zone} from ${this.#server}: the server ${problem}`);
  }
}

/** A whole zone, and how it came: answer messages, and how many carried a TSIG that verified. */
export interface ZoneTransfer {
  records: DnsRecord[];
  messages: number;
  verifiedMessages: number;
}

/**
 * Transfers a whole zone by AXFR and returns its records, the apex SOA first and once.
 * Rejects, never returning part of a zone: DnsResponseError on an error rcode (REFUSED is not
 * retryable), DnsTimeoutError/DnsNetworkError (retryable) when the server is silent or closes
 * early, DnsWireError on a malformed stream, TsigError, AbortError.
 *
 * @example
 * const records = await transferZone({ address: '127.53.0.2' }, 'example.test.');
 */
export async function transferZone(
  server: NameServer,
  zone: string,
  options: TransferOptions = {},
): Promise<DnsRecord[]> {
  return (await transferZoneDetailed(server, zone, options)).records;
}

/** `transferZone`, also saying how many messages came and how many were verified. */
export async function transferZoneDetailed(
  server: NameServer,
  zone: string,
  options: TransferOptions = {},
): Promise<ZoneTransfer> {
  const apex = canonicalName(normalizeName(zone));
  const label = describeServer(server);
  const what = `AXFR ${apex}`;
  throwIfAborted(options.signal, what);
  const id = randomInt(0, 0x10000);
  const encoded = encodeMessage(axfrRequest(id, apex));
  const tsig = options.tsig;
  const signed = tsig ? signMessage(encoded, tsig) : undefined;
  const verifier =
    tsig && signed ? new TsigStreamVerifier(tsig, signed.mac, { server: label }) : undefined;
  const stream = new TransferStream(apex, id, label, verifier);
  await streamTcp(server, signed?.bytes ?? encoded, {
    what,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    signal: options.signal,
    onFrame: (frame) => stream.add(frame),
  });
  return {
    records: stream.records,
    messages: stream.messages,
    verifiedMessages: verifier?.counts.verified ?? 0,
  };
}
