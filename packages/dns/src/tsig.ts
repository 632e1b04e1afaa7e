import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ChorusError, TsigError, type DnsMessage } from '@chorus/core';
import { nameToWire, normalizeName, namesEqual } from './names.js';
import { decodeMessageDetailed } from './wire.js';

/**
 * TSIG (RFC 8945) with hmac-sha256 and hmac-sha512. A `TsigKey` holds a secret: never log it,
 * never put it in an event or an error message. Errors name the key, never its secret.
 */

export type TsigAlgorithm = 'hmac-sha256' | 'hmac-sha512';

export interface TsigKey {
  /** Key name as configured on the server, e.g. `ddns.` */
  name: string;
  algorithm: TsigAlgorithm;
  /** Base64 shared secret. */
  secret: string;
}

const HASHES: Record<TsigAlgorithm, 'sha256' | 'sha512'> = {
  'hmac-sha256': 'sha256',
  'hmac-sha512': 'sha512',
};
const TSIG_ERRORS = { NOERROR: 0, BADSIG: 16, BADKEY: 17, BADTIME: 18, BADTRUNC: 22 } as const;
/** Default allowed clock skew, seconds (RFC 8945 §10 recommends 300). */
export const DEFAULT_TSIG_FUDGE = 300;

const keyError = (message: string) =>
  new ChorusError('Chorus_TsigKeyError', { message: `TSIG key: ${message}`, isRetryable: false });

/** Validates a key and returns it with a normalised name. Throws without echoing the secret. */
export function createTsigKey(input: { name: string; algorithm: string; secret: string }): TsigKey {
  const algorithm = input.algorithm.toLowerCase().replace(/\.$/, '');
  if (algorithm !== 'hmac-sha256' && algorithm !== 'hmac-sha512') {
    throw keyError(
      `algorithm ${JSON.stringify(input.algorithm)} of key ${input.name} is not supported (use hmac-sha256 or hmac-sha512)`,
    );
  }
  const secret = input.secret.trim();
  if (secret.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(secret)) {
    throw keyError(`the secret of key ${input.name} is not valid base64`);
  }
  return { name: normalizeName(input.name), algorithm, secret };
}

/**
 * Parses a BIND `key "name" { algorithm …; secret "…"; };` clause, as printed by tsig-keygen.
 * The first key clause in the text is used.
 */
export function parseTsigKeyFile(text: string, source = 'key file'): TsigKey {
  const clause = /key\s+"?([^"\s{]+)"?\s*\{([^}]*)\}/m.exec(text);
  if (!clause) throw keyError(`${source} contains no key clause`);
  const body = clause[2]!;
  const algorithm = /algorithm\s+"?([\w.-]+)"?\s*;/.exec(body)?.[1];
  const secret = /secret\s+"([^"]+)"\s*;/.exec(body)?.[1];
  if (!algorithm) throw keyError(`${source}: key ${clause[1]} has no algorithm`);
  if (!secret) throw keyError(`${source}: key ${clause[1]} has no secret`);
  return createTsigKey({ name: clause[1]!, algorithm, secret });
}

export async function readTsigKeyFile(path: string): Promise<TsigKey> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ChorusError('Chorus_TsigKeyError', {
      message: `cannot read TSIG key file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      cause: error,
    });
  }
  return parseTsigKeyFile(text, path);
}

function u16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16BE(value);
  return buffer;
}

function u48(value: number): Buffer {
  const buffer = Buffer.alloc(6);
  buffer.writeUInt16BE(Math.floor(value / 2 ** 32), 0);
  buffer.writeUInt32BE(value % 2 ** 32, 2);
  return buffer;
}

interface TsigVariables {
  timeSigned: number;
  fudge: number;
  error: number;
  otherData: Buffer;
}

function algorithmName(key: TsigKey): string {
  return `${key.algorithm}.`;
}

/** Each TSIG key's secret as a KeyObject, made once (again if the secret changes). */
const secretKeys = new WeakMap<TsigKey, { text: string; object: KeyObject }>();

function macOf(key: TsigKey) {
  let secret = secretKeys.get(key);
  if (secret?.text !== key.secret) {
    secret = { text: key.secret, object: createSecretKey(Buffer.from(key.secret, 'base64')) };
    secretKeys.set(key, secret);
  }
  return createHmac(HASHES[key.algorithm], secret.object);
}

function computeMac(
  key: TsigKey,
  message: Buffer,
  variables: TsigVariables,
  requestMac?: Buffer,
): Buffer {
  const hmac = macOf(key);
  if (requestMac) hmac.update(Buffer.concat([u16(requestMac.length), requestMac]));
  hmac.update(message);
  hmac.update(nameToWire(key.name, { lowercase: true }));
  hmac.update(u16(255)); // class ANY
  hmac.update(Buffer.alloc(4)); // TTL 0
  hmac.update(nameToWire(algorithmName(key), { lowercase: true }));
  hmac.update(u48(variables.timeSigned));
  hmac.update(u16(variables.fudge));
  hmac.update(u16(variables.error));
  hmac.update(u16(variables.otherData.length));
  hmac.update(variables.otherData);
  return hmac.digest();
}

export interface SignedMessage {
  bytes: Buffer;
  /** The request MAC, needed to verify the response. */
  mac: Buffer;
}

/** Appends a TSIG record to an encoded message (RFC 8945 §5.1). */
export function signMessage(
  message: Buffer,
  key: TsigKey,
  options: { timeSigned?: number; fudge?: number; requestMac?: Buffer } = {},
): SignedMessage {
  const variables: TsigVariables = {
    timeSigned: options.timeSigned ?? Math.floor(Date.now() / 1000),
    fudge: options.fudge ?? DEFAULT_TSIG_FUDGE,
    error: 0,
    otherData: Buffer.alloc(0),
  };
  const mac = computeMac(key, message, variables, options.requestMac);
  const rdata = Buffer.concat([
    nameToWire(algorithmName(key)),
    u48(variables.timeSigned),
    u16(variables.fudge),
    u16(mac.length),
    mac,
    message.subarray(0, 2), // original ID
    u16(variables.error),
    u16(0),
  ]);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(250, 0);
  fixed.writeUInt16BE(255, 2);
  fixed.writeUInt32BE(0, 4);
  fixed.writeUInt16BE(rdata.length, 8);
  const signed = Buffer.concat([message, nameToWire(key.name), fixed, rdata]);
  signed.writeUInt16BE(message.readUInt16BE(10) + 1, 10);
  return { bytes: signed, mac };
}

type TsigRecord = NonNullable<DnsMessage['tsig']>;
type Fail = (failure: TsigError['failure'], side: TsigError['side'], detail?: string) => TsigError;

function failureFor(key: TsigKey, server: string): Fail {
  return (failure, side, detail) =>
    new TsigError({ failure, keyName: key.name, side, server, ...(detail ? { detail } : {}) });
}

/** The TSIG of a signed message, once its error field, key and algorithm are the expected ones. */
function expectedTsig(message: DnsMessage, key: TsigKey, fail: Fail): TsigRecord {
  const tsig = message.tsig!;
  const serverError = tsig.data.error;
  if (
    serverError === 'BADKEY' ||
    serverError === 'BADSIG' ||
    serverError === 'BADTIME' ||
    serverError === 'BADTRUNC'
  ) {
    throw fail(serverError, 'server-rejected-request');
  }
  if (!namesEqual(tsig.keyName, key.name))
    throw fail('BADKEY', 'response-verification', `response signed with key ${tsig.keyName}`);
  if (!namesEqual(tsig.data.algorithm, algorithmName(key)))
    throw fail('BADKEY', 'response-verification', `response uses ${tsig.data.algorithm}`);
  return tsig;
}

/** The message as it was before the TSIG was added: original ID, one additional record fewer. */
function withoutTsig(response: Buffer, tsigOffset: number, tsig: TsigRecord): Buffer {
  const unsigned = Buffer.from(response.subarray(0, tsigOffset));
  unsigned.writeUInt16BE(tsig.data.originalId, 0);
  unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10);
  return unsigned;
}

function checkMacAndTime(
  expected: Buffer,
  tsig: TsigRecord,
  fail: Fail,
  now = Math.floor(Date.now() / 1000),
): Buffer {
  const actual = Buffer.from(tsig.data.mac, 'base64');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected))
    throw fail('BADSIG', 'response-verification');
  if (Math.abs(now - tsig.data.timeSigned) > tsig.data.fudge) {
    throw fail(
      'BADTIME',
      'response-verification',
      `signed at ${tsig.data.timeSigned}, now ${now}, fudge ${tsig.data.fudge}`,
    );
  }
  return actual;
}

/**
 * Verifies the TSIG of a response to a request signed with `requestMac`.
 * Throws TsigError when the server rejected our signature (BADKEY, BADSIG, BADTIME in its TSIG
 * error field), when the response is unsigned, or when its MAC or time does not verify.
 */
export function verifyResponse(
  response: Buffer,
  key: TsigKey,
  requestMac: Buffer,
  options: { server: string; now?: number },
): DnsMessage {
  const { message, tsigOffset } = decodeMessageDetailed(response);
  const fail = failureFor(key, options.server);
  if (!message.tsig || tsigOffset === undefined) {
    if (message.rcode === 'NOTAUTH')
      throw fail('BADKEY', 'server-rejected-request', 'answered NOTAUTH without a TSIG');
    throw fail('UNSIGNED', 'response-verification', `response (${message.rcode}) carries no TSIG`);
  }
  const tsig = expectedTsig(message, key, fail);
  const expected = computeMac(
    key,
    withoutTsig(response, tsigOffset, tsig),
    {
      timeSigned: tsig.data.timeSigned,
      fudge: tsig.data.fudge,
      error: TSIG_ERRORS[tsig.data.error as keyof typeof TSIG_ERRORS] ?? 0,
      otherData: Buffer.from(tsig.data.otherData, 'hex'),
    },
    requestMac,
  );
  checkMacAndTime(expected, tsig, fail, options.now);
  return message;
}

/** RFC 8945 §5.3.1: a client accepts at most 99 unsigned messages in a row. */
export const MAX_UNSIGNED_TSIG_RUN = 99;

/**
 * Verifies every message of one TSIG-signed answer that spans several messages (AXFR),
 * RFC 8945 §5.3.1. The first is verified against the request's MAC; each later signed one against
 * the MAC before it, over the unsigned messages since and its own timers. Call `take` on each
 * message in order and `finish` after the last; both throw TsigError.
 */
export class TsigStreamVerifier {
  readonly #key: TsigKey;
  readonly #requestMac: Buffer;
  readonly #fail: Fail;
  readonly #server: string;
  readonly #now: (() => number) | undefined;
  #priorMac: Buffer | undefined;
  #unsigned: Buffer[] = [];
  #messages = 0;
  #verified = 0;

  constructor(key: TsigKey, requestMac: Buffer, options: { server: string; now?: () => number }) {
    this.#key = key;
    this.#requestMac = requestMac;
    this.#server = options.server;
    this.#now = options.now;
    this.#fail = failureFor(key, options.server);
  }

  /** Messages taken, and how many of them carried a TSIG that verified. */
  get counts(): { messages: number; verified: number } {
    return { messages: this.#messages, verified: this.#verified };
  }

  take(frame: Buffer): DnsMessage {
    this.#messages += 1;
    if (this.#priorMac === undefined) {
      const now = this.#now?.();
      const message = verifyResponse(frame, this.#key, this.#requestMac, {
        server: this.#server,
        ...(now !== undefined ? { now } : {}),
      });
      this.#priorMac = Buffer.from(message.tsig!.data.mac, 'base64');
      this.#verified += 1;
      return message;
    }
    const { message, tsigOffset } = decodeMessageDetailed(frame);
    if (!message.tsig || tsigOffset === undefined) {
      if (this.#unsigned.length >= MAX_UNSIGNED_TSIG_RUN)
        throw this.#fail(
          'UNSIGNED',
          'response-verification',
          `${MAX_UNSIGNED_TSIG_RUN + 1} messages in a row of the transfer carry no TSIG`,
        );
      this.#unsigned.push(Buffer.from(frame));
      return message;
    }
    const tsig = expectedTsig(message, this.#key, this.#fail);
    const hmac = macOf(this.#key);
    hmac.update(u16(this.#priorMac.length));
    hmac.update(this.#priorMac);
    for (const unsigned of this.#unsigned) hmac.update(unsigned);
    hmac.update(withoutTsig(frame, tsigOffset, tsig));
    hmac.update(u48(tsig.data.timeSigned));
    hmac.update(u16(tsig.data.fudge));
    this.#priorMac = checkMacAndTime(hmac.digest(), tsig, this.#fail, this.#now?.());
    this.#unsigned = [];
    this.#verified += 1;
    return message;
  }

  /** After the last message: the answer must end with a signed message. */
  finish(): void {
    if (this.#unsigned.length > 0)
      throw this.#fail(
        'UNSIGNED',
        'response-verification',
        `the last ${this.#unsigned.length} message(s) of the transfer carry no TSIG`,
      );
  }
}
