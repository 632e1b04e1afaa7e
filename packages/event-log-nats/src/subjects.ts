/**
 * Where things live on the NATS server: one JetStream stream (default `CHORUS`) whose subjects
 * are `<prefix>.<base64url(stream name)>`, one per event-log stream, and a KV bucket (default
 * `CHORUS_CONSUMERS`) whose keys are `base64url(consumer name)`.
 *
 * @module
 */
import { assertName, EventLogError } from '@chorus/core';

/** Default name of the JetStream stream that holds every event-log stream. */
export const DEFAULT_STREAM_NAME = 'CHORUS';
/** Default subject prefix: event-log stream `s` lives on `chorus.log.<base64url(s)>`. */
export const DEFAULT_SUBJECT_PREFIX = 'chorus.log';
/** Default KV bucket holding the committed positions of durable consumers. */
export const CONSUMERS_BUCKET = 'CHORUS_CONSUMERS';

/** JetStream stream, KV bucket and consumer names: letters, digits, `_` and `-`. */
const NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Subject prefixes: dot-separated tokens of letters, digits, `_` and `-` (no wildcards). */
const PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

function invalid(message: string): EventLogError {
  return new EventLogError('invalid-argument', message);
}

/** Throws unless `name` can name a JetStream stream or KV bucket. */
export function assertJetStreamName(name: unknown, what: string): string {
  if (typeof name !== 'string' || !NAME.test(name))
    throw invalid(`${what} must be 1–64 letters, digits, "_" or "-", got ${JSON.stringify(name)}`);
  return name;
}

/** Throws unless `prefix` is a literal subject prefix (tokens without wildcards). */
export function assertSubjectPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || !PREFIX.test(prefix))
    throw invalid(
      `subjectPrefix must be dot-separated tokens of letters, digits, "_" or "-", got ${JSON.stringify(prefix)}`,
    );
  return prefix;
}

/** base64url of the UTF-8 bytes, without padding: a valid subject token and KV key. */
export function encodeName(name: string): string {
  return Buffer.from(name, 'utf8').toString('base64url');
}

/** The name behind a token from {@link encodeName}, or undefined if it is not one. */
export function decodeName(token: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const name = Buffer.from(token, 'base64url').toString('utf8');
  return encodeName(name) === token ? name : undefined;
}

/**
 * The subject that holds event-log stream `stream`: `<prefix>.<base64url(utf8(stream))>`, no
 * padding. One subject per stream, so a server permission can grant appends to one stream only.
 *
 * @example
 * subjectForStream('zone/example.test'); // 'chorus.log.em9uZS9leGFtcGxlLnRlc3Q'
 */
export function subjectForStream(stream: string, prefix: string = DEFAULT_SUBJECT_PREFIX): string {
  return `${assertSubjectPrefix(prefix)}.${encodeName(assertName(stream, 'stream'))}`;
}

/** The event-log stream a subject holds, or undefined if the subject is not one of ours. */
export function streamForSubject(subject: string, prefix: string): string | undefined {
  if (!subject.startsWith(`${prefix}.`)) return undefined;
  return decodeName(subject.slice(prefix.length + 1));
}

/** The KV key of a durable consumer's committed position. */
export function consumerKey(consumer: string): string {
  return encodeName(assertName(consumer, 'consumer'));
}

/** The name of the JetStream stream behind a KV bucket. */
export function kvStreamName(bucket: string): string {
  return `KV_${bucket}`;
}
