/**
 * BIND's control channel, the protocol rndc speaks, so that an rndc command costs one TCP
 * exchange instead of a child process (a fork of a sidecar holding 10,000 zones costs more CPU
 * than the command itself).
 *
 * A message is a length, the version 1, then a table of `name → value` entries. A value is
 * binary data (strings travel as binary), a table or a list. The first entry, `_auth`, holds the
 * base64 HMAC of everything after it; `_ctrl` holds the serial, times and nonce, `_data` the
 * command. A command is two round trips: a `null` request that fetches a nonce, then the command
 * with that nonce. The answer carries `text`, `err` and `result`.
 */
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { Socket } from 'node:net';

export type ControlAlgorithm =
  'hmac-md5' | 'hmac-sha1' | 'hmac-sha224' | 'hmac-sha256' | 'hmac-sha384' | 'hmac-sha512';

/** The algorithm numbers the channel puts before a SHA HMAC (BIND's DST numbers). */
const ALGORITHM_NUMBERS: Readonly<Record<ControlAlgorithm, number>> = {
  'hmac-md5': 157,
  'hmac-sha1': 161,
  'hmac-sha224': 162,
  'hmac-sha256': 163,
  'hmac-sha384': 164,
  'hmac-sha512': 165,
};

export function isControlAlgorithm(name: string): name is ControlAlgorithm {
  return Object.hasOwn(ALGORITHM_NUMBERS, name);
}

export interface ControlKey {
  name: string;
  algorithm: ControlAlgorithm;
  /** The decoded secret. Never logged, never part of an error. */
  secret: Buffer;
}

export interface ControlEndpoint {
  address: string;
  port: number;
  key: ControlKey;
}

/** A table keeps its entries in insertion order, as the wire does. */
export interface ControlTable {
  [name: string]: ControlValue;
}
export type ControlValue = Buffer | ControlTable | ControlValue[];

const BINARY = 0x01;
const TABLE = 0x02;
const LIST = 0x03;
/** Base64 of an MD5 HMAC without its padding; a SHA HMAC field is 88 characters, zero-filled. */
const MD5_DIGEST_LENGTH = 22;
const SHA_DIGEST_LENGTH = 88;
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** The channel answered something that is not a well-formed, correctly signed message. */
export class ControlChannelError extends Error {
  override readonly name = 'ControlChannelError';
}

function encodeValue(value: ControlValue): Buffer {
  const body = Buffer.isBuffer(value)
    ? value
    : Array.isArray(value)
      ? Buffer.concat(value.map(encodeValue))
      : encodeTable(value);
  const head = Buffer.alloc(5);
  head.writeUInt8(Buffer.isBuffer(value) ? BINARY : Array.isArray(value) ? LIST : TABLE, 0);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

export function encodeTable(table: ControlTable): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(table)) {
    const key = Buffer.from(name, 'latin1');
    if (key.length > 255) throw new RangeError(`control channel key longer than 255: ${name}`);
    parts.push(Buffer.from([key.length]), key, encodeValue(value));
  }
  return Buffer.concat(parts);
}

/** Reads the entries of `bytes[start, end)`; throws ControlChannelError when they overrun it. */
function decodeEntries(
  bytes: Buffer,
  start: number,
  end: number,
): [string, ControlValue, number][] {
  const entries: [string, ControlValue, number][] = [];
  let offset = start;
  while (offset < end) {
    const keyLength = bytes.readUInt8(offset);
    const name = bytes.toString('latin1', offset + 1, offset + 1 + keyLength);
    offset += 1 + keyLength;
    const [value, next] = decodeValue(bytes, offset, end);
    offset = next;
    entries.push([name, value, offset]);
  }
  return entries;
}

function decodeValue(bytes: Buffer, offset: number, end: number): [ControlValue, number] {
  if (offset + 5 > end) throw new ControlChannelError('a value runs past the end of the message');
  const type = bytes.readUInt8(offset);
  const length = bytes.readUInt32BE(offset + 1);
  const start = offset + 5;
  const stop = start + length;
  if (stop > end) throw new ControlChannelError('a value runs past the end of the message');
  if (type === BINARY || type === 0x00) return [bytes.subarray(start, stop), stop];
  if (type === TABLE) return [tableOf(decodeEntries(bytes, start, stop)), stop];
  if (type === LIST) {
    const items: ControlValue[] = [];
    for (let at = start; at < stop;) {
      const [item, next] = decodeValue(bytes, at, stop);
      items.push(item);
      at = next;
    }
    return [items, stop];
  }
  throw new ControlChannelError(`unknown value type ${type}`);
}

function tableOf(entries: [string, ControlValue, number][]): ControlTable {
  // No prototype: a key such as `__proto__` from the wire stays an ordinary entry.
  const table = Object.create(null) as ControlTable;
  for (const [name, value] of entries) table[name] = value;
  return table;
}

/** The `_auth` field for `signed` (the bytes after `_auth`), as the channel writes it. */
function authField(key: ControlKey, signed: Buffer): { name: string; value: Buffer } {
  const digest = createHmac(key.algorithm.slice('hmac-'.length), key.secret)
    .update(signed)
    .digest('base64');
  if (key.algorithm === 'hmac-md5')
    return { name: 'hmd5', value: Buffer.from(digest.slice(0, MD5_DIGEST_LENGTH), 'latin1') };
  const value = Buffer.alloc(1 + SHA_DIGEST_LENGTH);
  value.writeUInt8(ALGORITHM_NUMBERS[key.algorithm], 0);
  value.write(digest, 1, 'latin1');
  return { name: 'hsha', value };
}

/** One framed, signed message: length, version 1, `_auth`, then `message`. */
export function encodeMessage(message: ControlTable, key: ControlKey): Buffer {
  const signed = encodeTable(message);
  const auth = authField(key, signed);
  const body = Buffer.concat([
    Buffer.from([0, 0, 0, 1]),
    encodeTable({ _auth: { [auth.name]: auth.value } }),
    signed,
  ]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length, 0);
  return Buffer.concat([length, body]);
}

/**
 * Reads one message body (after its length) and checks its HMAC with `key`. Throws
 * ControlChannelError for a wrong version, a malformed table, or a missing or wrong signature.
 */
export function decodeMessage(body: Buffer, key: ControlKey): ControlTable {
  if (body.length < 4 || body.readUInt32BE(0) !== 1)
    throw new ControlChannelError('not a version 1 control channel message');
  let entries: [string, ControlValue, number][];
  try {
    entries = decodeEntries(body, 4, body.length);
  } catch (error) {
    if (error instanceof ControlChannelError) throw error;
    throw new ControlChannelError('a malformed control channel message');
  }
  const [first] = entries;
  if (!first || first[0] !== '_auth' || !isTable(first[1]))
    throw new ControlChannelError('the answer is not signed');
  const expected = authField(key, body.subarray(first[2]));
  const received = first[1][expected.name];
  if (
    !Buffer.isBuffer(received) ||
    received.length !== expected.value.length ||
    !timingSafeEqual(received, expected.value)
  )
    throw new ControlChannelError('the answer is signed with another key');
  return tableOf(entries.slice(1));
}

function isTable(value: ControlValue | undefined): value is ControlTable {
  return value !== undefined && !Buffer.isBuffer(value) && !Array.isArray(value);
}

/** A string field of a table, or undefined. */
export function textOf(table: ControlValue | undefined, name: string): string | undefined {
  if (!isTable(table)) return undefined;
  const value = table[name];
  return Buffer.isBuffer(value) ? value.toString('utf8') : undefined;
}

/** Serials are unique per sender and second (the server refuses a repeat for 15 minutes). */
let serial = randomInt(1, 2 ** 31);

function request(data: ControlTable, nonce?: string): ControlTable {
  serial = (serial % 0xffff_fff0) + 1;
  const now = Math.floor(Date.now() / 1000);
  const control: ControlTable = {
    _ser: Buffer.from(String(serial)),
    _tim: Buffer.from(String(now)),
    _exp: Buffer.from(String(now + 60)),
  };
  if (nonce !== undefined) control._nonce = Buffer.from(nonce);
  return { _ctrl: control, _data: data };
}

/** What the server answered to a command. */
export interface ControlAnswer {
  /** `text`: what rndc prints on success (and, before an error, on failure). */
  text: string;
  /** `err`: set when the command failed. */
  error: string | undefined;
}

/**
 * The connection ended, or never began, before an answer; `reachable` once it had connected,
 * `timedOut` when the answer did not come within the time allowed.
 */
export class ControlConnectionError extends Error {
  override readonly name = 'ControlConnectionError';
  constructor(
    message: string,
    readonly reachable: boolean,
    readonly timedOut = false,
  ) {
    super(message);
  }
}

/** Reads length-prefixed frames from a socket, one at a time. */
class FrameReader {
  #buffered: Buffer = Buffer.alloc(0);
  #waiting: { resolve: (frame: Buffer) => void; reject: (error: Error) => void } | undefined;
  #failure: Error | undefined;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.#buffered = this.#buffered.length ? Buffer.concat([this.#buffered, chunk]) : chunk;
      this.#deliver();
    });
  }

  fail(error: Error): void {
    this.#failure ??= error;
    this.#waiting?.reject(this.#failure);
    this.#waiting = undefined;
  }

  next(): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#deliver();
    });
  }

  #deliver(): void {
    if (!this.#waiting) return;
    if (this.#buffered.length >= 4) {
      const length = this.#buffered.readUInt32BE(0);
      if (length > MAX_MESSAGE_BYTES) {
        this.fail(new ControlChannelError(`an answer of ${length} bytes, more than allowed`));
        return;
      }
      if (this.#buffered.length >= 4 + length) {
        const frame = this.#buffered.subarray(4, 4 + length);
        this.#buffered = this.#buffered.subarray(4 + length);
        const { resolve } = this.#waiting;
        this.#waiting = undefined;
        resolve(frame);
        return;
      }
    }
    if (this.#failure) this.fail(this.#failure);
  }
}

/**
 * Sends `command` (as rndc joins its arguments, e.g. `dnssec -status example.com`) and returns
 * the answer. Rejects with ControlConnectionError (connect failure, closed connection, timeout),
 * ControlChannelError (malformed or wrongly signed answer) or the signal's reason.
 */
export async function sendControlCommand(
  endpoint: ControlEndpoint,
  command: string,
  options: { timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<ControlAnswer> {
  const socket = new Socket();
  const frames = new FrameReader(socket);
  let connected = false;
  const ended = (error: Error) => {
    frames.fail(error);
    socket.destroy();
  };
  const timer = setTimeout(
    () => ended(new ControlConnectionError('no answer in time', connected, true)),
    options.timeoutMs,
  );
  const onAbort = () => ended(options.signal?.reason as Error);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  socket.on('error', (error: NodeJS.ErrnoException) =>
    ended(new ControlConnectionError(`connect failed: ${error.code ?? error.message}`, connected)),
  );
  socket.on('close', () =>
    ended(
      new ControlConnectionError(
        'the server closed the connection without an answer (a wrong key, an address the controls statement does not allow, or clocks apart)',
        true,
      ),
    ),
  );
  try {
    socket.connect(endpoint.port, endpoint.address, () => {
      connected = true;
    });
    socket.write(encodeMessage(request({ type: Buffer.from('null') }), endpoint.key));
    const greeting = decodeMessage(await frames.next(), endpoint.key);
    const nonce = textOf(greeting._ctrl, '_nonce');
    if (nonce === undefined) throw new ControlChannelError('the server sent no nonce');
    socket.write(encodeMessage(request({ type: Buffer.from(command) }, nonce), endpoint.key));
    const answer = decodeMessage(await frames.next(), endpoint.key);
    return { text: textOf(answer._data, 'text') ?? '', error: textOf(answer._data, 'err') };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    socket.destroy();
  }
}
