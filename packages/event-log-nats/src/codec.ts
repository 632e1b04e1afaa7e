/**
 * One append is one JetStream message: the events as a JSON array, with headers
 * `Chorus-Log` (format, 1), `Chorus-Version` (the stream's version after the append) and
 * `Chorus-Previous` (the sequence of the stream's previous message, 0 for the first). The
 * events' positions are numbered inside the message: `(seq - 1) * 1024 + index + 1`.
 *
 * @module
 */
import type { MsgHdrs } from '@nats-io/transport-node';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { EventLogError, MAX_EVENTS_PER_APPEND, type RecordedEvent } from '@chorus/core';
import { streamForSubject } from './subjects.js';

/** The message format this code writes and reads. */
export const MESSAGE_FORMAT = '1';
export const HEADER_FORMAT = 'Chorus-Log';
export const HEADER_VERSION = 'Chorus-Version';
export const HEADER_PREVIOUS = 'Chorus-Previous';
export const HEADER_MSG_ID = 'Nats-Msg-Id';

/** Position slots per message: every append fits, so positions never collide. */
export const SLOTS_PER_MESSAGE = MAX_EVENTS_PER_APPEND;

/** The global position of event `index` of the message at stream sequence `seq`. */
export function positionOf(seq: number, index: number): number {
  return (seq - 1) * SLOTS_PER_MESSAGE + index + 1;
}

/** The first stream sequence that may hold an event after `position`. */
export function firstSeqAfter(position: number): number {
  return position === 0 ? 1 : Math.floor((position - 1) / SLOTS_PER_MESSAGE) + 1;
}

/** A stored message, from a consumer or a direct read. */
export interface RawMessage {
  seq: number;
  subject: string;
  headers: MsgHdrs | undefined;
  data: Uint8Array;
  /** The server's commit time, ISO 8601 with milliseconds. */
  recordedAt: string;
}

/** What a message says about itself, before its events are parsed. */
export interface MessageHead {
  seq: number;
  stream: string;
  /** The stream version of its last event. */
  version: number;
  /** The sequence of the stream's previous message (0 for the first). */
  previous: number;
  msgId: string | undefined;
}

/** The headers of a new append. */
export function appendHeaders(version: number, previous: number): MsgHdrs {
  const headers = natsHeaders();
  headers.set(HEADER_FORMAT, MESSAGE_FORMAT);
  headers.set(HEADER_VERSION, String(version));
  headers.set(HEADER_PREVIOUS, String(previous));
  return headers;
}

/** The payload of a new append: the events' JSON bodies as one JSON array. */
export function appendPayload(bodies: readonly string[]): Uint8Array {
  return Buffer.from(`[${bodies.join(',')}]`, 'utf8');
}

function corrupt(seq: number, what: string): EventLogError {
  return new EventLogError('corrupt', `message ${seq} of the event log ${what}`);
}

function headerInteger(message: RawMessage, name: string, min: number): number {
  const text = message.headers?.get(name) ?? '';
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min)
    throw corrupt(message.seq, `has no valid ${name} header`);
  return value;
}

/** Reads a message's headers; throws `corrupt` or `schema` for messages it cannot read. */
export function decodeHead(message: RawMessage, prefix: string): MessageHead {
  const stream = streamForSubject(message.subject, prefix);
  if (stream === undefined)
    throw corrupt(message.seq, `is on ${JSON.stringify(message.subject)}, not a stream subject`);
  const format = message.headers?.get(HEADER_FORMAT) ?? '';
  if (format !== MESSAGE_FORMAT)
    throw new EventLogError(
      'schema',
      `message ${message.seq} of the event log has format ${JSON.stringify(format)}, not ${MESSAGE_FORMAT}: written by another version of Chorus, or not by Chorus`,
    );
  const msgId = message.headers?.get(HEADER_MSG_ID);
  return {
    seq: message.seq,
    stream,
    version: headerInteger(message, HEADER_VERSION, 1),
    previous: headerInteger(message, HEADER_PREVIOUS, 0),
    msgId: msgId === '' ? undefined : msgId,
  };
}

/** Parses a message's events. */
export function decodeEvents<E>(message: RawMessage, head: MessageHead): RecordedEvent<E>[] {
  let events: unknown;
  try {
    events = JSON.parse(Buffer.from(message.data).toString('utf8'));
  } catch (error) {
    throw new EventLogError('corrupt', `message ${message.seq} of the event log is not JSON`, {
      cause: error,
    });
  }
  if (!Array.isArray(events) || events.length === 0 || events.length > SLOTS_PER_MESSAGE)
    throw corrupt(message.seq, 'does not hold an array of 1 to 1024 events');
  const first = head.version - events.length + 1;
  if (first < 1) throw corrupt(message.seq, 'holds more events than its version');
  return events.map((event: unknown, index) => ({
    position: positionOf(message.seq, index),
    stream: head.stream,
    streamVersion: first + index,
    recordedAt: message.recordedAt,
    event: event as E,
  }));
}

/** An RFC 3339 timestamp with nanoseconds (the server's), cut to milliseconds, as ISO 8601. */
export function isoFromRfc3339(timestamp: string): string {
  const millis = timestamp.replace(/(\.\d{3})\d+/, '$1');
  const date = new Date(millis);
  if (Number.isNaN(date.getTime()))
    throw new EventLogError('corrupt', `bad timestamp ${timestamp}`);
  return date.toISOString();
}

/** Nanoseconds since the epoch (as the consumer's reply subject carries them), as ISO 8601. */
export function isoFromNanos(nanos: bigint): string {
  return new Date(Number(nanos / 1_000_000n)).toISOString();
}
