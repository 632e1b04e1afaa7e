import { randomInt } from 'node:crypto';
import {
  AbortError,
  DnsTimeoutError,
  DnsWireError,
  type DnsMessage,
  type DnsRecord,
  type EmptyRecord,
  type HeaderFlags,
  type NameServer,
  type Rcode,
  type RecordType,
  type RRset,
  type RrsigData,
} from '@chorus/core';
import { canonicalName, normalizeName } from './names.js';
import { countCall } from './kit/tally.js';
import { sendPooledTcp } from './tcp-pool.js';
import { describeServer, sendTcp, sendUdp } from './transport.js';
import { signMessage, verifyResponse, type TsigKey } from './tsig.js';
import { decodeMessage, encodeMessage, NO_FLAGS } from './wire.js';

export interface ExchangeOptions {
  /** Per-attempt timeout. Default 2000 ms. */
  timeoutMs?: number;
  /** Extra attempts after a timeout or network error. Default 2. */
  retries?: number;
  signal?: AbortSignal;
  /** 'udp' falls back to TCP when the answer is truncated (TC). Default 'udp'. */
  transport?: 'udp' | 'tcp';
  /** Sign the request and verify the response (RFC 8945). */
  tsig?: TsigKey;
  /**
   * TCP over the server's persistent, pipelined connection (see tcp-pool.ts). Default true;
   * false opens a connection for this message alone.
   */
  reuseConnection?: boolean;
}

export interface ExchangeResult {
  message: DnsMessage;
  transport: 'udp' | 'tcp';
  server: string;
  elapsedMs: number;
}

function describeRequest(message: Omit<DnsMessage, 'tsig'>): string {
  const question = message.questions[0];
  const subject = question ? `${question.name} ${question.type}` : '(no question)';
  return message.opcode === 'QUERY' ? subject : `${message.opcode} ${subject}`;
}

/** Matches only datagrams that answer our ID with QR set; anything else is ignored as noise. */
function acceptsAnswerTo(id: number) {
  return (frame: Buffer) =>
    frame.length >= 4 && frame.readUInt16BE(0) === id && (frame[2]! & 0x80) !== 0;
}

function checkQuestion(
  request: Omit<DnsMessage, 'tsig'>,
  response: DnsMessage,
  server: string,
): void {
  const asked = request.questions[0];
  const answered = response.questions[0];
  if (!asked || response.questions.length === 0) return;
  if (
    !answered ||
    canonicalName(answered.name) !== canonicalName(asked.name) ||
    answered.type !== asked.type ||
    response.opcode !== request.opcode
  ) {
    throw new DnsWireError(
      `${server} answered a different question (${answered?.name ?? '?'} ${answered?.type ?? '?'}) than ${asked.name} ${asked.type}`,
    );
  }
}

/** `dns update`, or `dns query <type>` (the tally's key). */
function callKind(request: Omit<DnsMessage, 'tsig'>): string {
  if (request.opcode === 'UPDATE') return 'dns update';
  if (request.opcode === 'NOTIFY') return `dns notify ${request.questions[0]?.type ?? 'none'}`;
  return `dns query ${request.questions[0]?.type ?? 'none'}`;
}

/**
 * Sends a message and returns the decoded answer: UDP with TCP fallback on TC, or TCP only;
 * retries after timeouts and network errors; honours `signal`; signs and verifies with TSIG.
 */
export async function exchange(
  server: NameServer,
  request: Omit<DnsMessage, 'tsig'>,
  options: ExchangeOptions = {},
): Promise<ExchangeResult> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const retries = options.retries ?? 2;
  const label = describeServer(server);
  const what = describeRequest(request);
  const started = performance.now();
  let lastError: unknown;
  for (let attempt = 0; attempt <= retries; attempt += 1) {
    if (options.signal?.aborted) throw new AbortError(what, options.signal.reason);
    countCall(attempt === 0 ? callKind(request) : 'dns retry');
    const id = attempt === 0 ? request.id : randomInt(0, 0x10000);
    const encoded = encodeMessage({ ...request, id });
    const signed = options.tsig ? signMessage(encoded, options.tsig) : undefined;
    const bytes = signed ? signed.bytes : encoded;
    const sendOptions = { timeoutMs, signal: options.signal, what, accept: acceptsAnswerTo(id) };
    try {
      let transport: 'udp' | 'tcp' = options.transport ?? 'udp';
      const overTcp = options.reuseConnection === false ? sendTcp : sendPooledTcp;
      let raw =
        transport === 'udp'
          ? await sendUdp(server, bytes, sendOptions)
          : await overTcp(server, bytes, sendOptions);
      if (transport === 'udp' && raw.length >= 4 && (raw[2]! & 0x02) !== 0) {
        transport = 'tcp';
        raw = await overTcp(server, bytes, sendOptions);
      }
      const message =
        signed && options.tsig
          ? verifyResponse(raw, options.tsig, signed.mac, { server: label })
          : decodeMessage(raw);
      checkQuestion(request, message, label);
      return { message, transport, server: label, elapsedMs: performance.now() - started };
    } catch (error) {
      lastError = error;
      const retryable =
        error instanceof Error &&
        'isRetryable' in error &&
        (error as { isRetryable: boolean }).isRetryable;
      const tsigProblem = (error as { name?: string }).name === 'Chorus_TsigError';
      if (!retryable || tsigProblem || AbortError.isInstance(error)) throw error;
    }
  }
  countCall('dns failed');
  if (DnsTimeoutError.isInstance(lastError)) {
    throw new DnsTimeoutError({ server: label, timeoutMs, attempts: retries + 1, what });
  }
  throw lastError;
}

export interface QueryOptions extends Omit<ExchangeOptions, 'tsig'> {
  /** Set the DO bit (EDNS0). Default true. */
  dnssecOk?: boolean;
  /** RD flag. Default false: Chorus asks authoritative servers directly. */
  recursionDesired?: boolean;
  /** CD flag. Default false. */
  checkingDisabled?: boolean;
  /** EDNS0 UDP payload size. Default 1232. */
  udpPayloadSize?: number;
  tsig?: TsigKey;
}

export interface QueryResponse {
  message: DnsMessage;
  rcode: Rcode;
  flags: HeaderFlags;
  answers: RRset[];
  authorities: RRset[];
  additionals: RRset[];
  server: string;
  transport: 'udp' | 'tcp';
  elapsedMs: number;
}

/**
 * Groups records into RRsets (by owner, type and class, case-insensitively) and attaches the
 * RRSIGs that cover each. An RRSIG whose covered RRset is absent from the section yields an
 * RRset with no records, so that signatures are never dropped silently.
 */
export function groupRRsets(records: readonly (DnsRecord | EmptyRecord)[]): RRset[] {
  const sets = new Map<string, RRset>();
  const order: string[] = [];
  const keyOf = (name: string, type: string, dnsClass: string) =>
    `${canonicalName(name)}|${type}|${dnsClass}`;
  const ensure = (name: string, type: RecordType, dnsClass: RRset['class'], ttl: number) => {
    const key = keyOf(name, type, dnsClass);
    let set = sets.get(key);
    if (!set) {
      set = { name, type, class: dnsClass, ttl, records: [], signatures: [] };
      sets.set(key, set);
      order.push(key);
    }
    return set;
  };
  for (const record of records) {
    if (record.data === null || record.type === 'RRSIG') continue;
    const set = ensure(record.name, record.type, record.class, record.ttl);
    set.ttl = Math.min(set.ttl, record.ttl);
    (set.records as unknown[]).push(record.data);
  }
  for (const record of records) {
    if (record.type !== 'RRSIG' || record.data === null) continue;
    const signature = record.data as RrsigData;
    const set = ensure(record.name, signature.typeCovered, record.class, record.ttl);
    set.signatures.push(signature);
  }
  return order.map((key) => sets.get(key)!);
}

/**
 * Asks one server one question. Answers come back grouped as RRsets with their TTLs and RRSIGs.
 *
 * @example
 * const response = await query({ address: '127.53.0.2' }, 'example.test.', 'DNSKEY');
 * response.answers[0]?.records; // DnskeyData[]
 */
export async function query(
  server: NameServer,
  name: string,
  type: RecordType,
  options: QueryOptions = {},
): Promise<QueryResponse> {
  const dnssecOk = options.dnssecOk ?? true;
  const request: Omit<DnsMessage, 'tsig'> = {
    id: randomInt(0, 0x10000),
    opcode: 'QUERY',
    flags: {
      ...NO_FLAGS,
      rd: options.recursionDesired ?? false,
      cd: options.checkingDisabled ?? false,
    },
    rcode: 'NOERROR',
    questions: [{ name: normalizeName(name), type, class: 'IN' }],
    answers: [],
    authorities: [],
    additionals: [],
    edns: { udpPayloadSize: options.udpPayloadSize ?? 1232, dnssecOk, version: 0, options: [] },
  };
  const result = await exchange(server, request, options);
  const { message } = result;
  return {
    message,
    rcode: message.rcode,
    flags: message.flags,
    answers: groupRRsets(message.answers),
    authorities: groupRRsets(message.authorities),
    additionals: groupRRsets(message.additionals),
    server: result.server,
    transport: result.transport,
    elapsedMs: result.elapsedMs,
  };
}
