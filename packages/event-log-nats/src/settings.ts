/**
 * The options of `createNatsEventLog`, checked, with the credentials read from their file.
 * Nothing here ever puts a password into a message.
 *
 * @module
 */
import { readFileSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import { assertInteger, EventLogError } from '@chorus/core';
import {
  assertJetStreamName,
  assertSubjectPrefix,
  CONSUMERS_BUCKET,
  DEFAULT_STREAM_NAME,
  DEFAULT_SUBJECT_PREFIX,
} from './subjects.js';

/** Options of {@link createNatsEventLog}. */
export interface NatsEventLogOptions {
  /** Server URLs, `nats://host:port` or `tls://host:port` (no credentials in them). */
  servers: readonly string[];
  /** User name; with `pass`. Or use `credentialsFile`. */
  user?: string;
  /** Password of `user`. Never logged nor shown in errors. */
  pass?: string;
  /** A file holding `user:password` on its first line, mode 0600 (or stricter). */
  credentialsFile?: string;
  /** TLS: the CA that signed the servers' certificates. Any `tls://` server requires TLS. */
  tls?: { caFile: string };
  /** The JetStream stream (default `CHORUS`). */
  streamName?: string;
  /** Subject prefix of the event-log streams (default `chorus.log`). */
  subjectPrefix?: string;
  /** KV bucket of the consumers' positions (default `CHORUS_CONSUMERS`). */
  consumersBucket?: string;
  /** Replicas of the stream and bucket, when `createStream` creates them (default 1). */
  replicas?: number;
  /**
   * Admin only: create the stream and the bucket if they are missing. Otherwise both must exist
   * and their absence is an EventLogError (`storage`).
   */
  createStream?: boolean;
  /** Receives connection changes, subscription retries and errors of subscriptions without `onError`. */
  logger?: Logger;
  /** How long one request to the server may take before `unavailable` (default 5000 ms). */
  requestTimeoutMs?: number;
  /** Pause between reconnection attempts (default 2000 ms). The client never stops trying. */
  reconnectWaitMs?: number;
  /** Inbox prefix of the connection (default `_INBOX`), matching {@link clientPermissions}. */
  inboxPrefix?: string;
  /** Connection name shown by the server's monitoring (default `chorus-event-log`). */
  name?: string;
}

/** The checked options. */
export interface Settings {
  servers: string[];
  /** The servers as shown in messages: `nats://h:p, tls://h:p`. */
  serversText: string;
  user: string | undefined;
  pass: string | undefined;
  tls: { caFile?: string } | undefined;
  streamName: string;
  subjectPrefix: string;
  consumersBucket: string;
  replicas: number;
  createStream: boolean;
  requestTimeoutMs: number;
  reconnectWaitMs: number;
  inboxPrefix: string | undefined;
  name: string;
  logger: Logger | undefined;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 5000;
const DEFAULT_RECONNECT_WAIT_MS = 2000;

function invalid(message: string): EventLogError {
  return new EventLogError('invalid-argument', message);
}

/** Checks one server URL; never echoes one that carries credentials. */
function checkServer(server: unknown): string {
  if (typeof server !== 'string' || server === '')
    throw invalid('servers must be non-empty strings');
  let url: URL;
  try {
    url = new URL(server.includes('://') ? server : `nats://${server}`);
  } catch {
    throw invalid(`server ${JSON.stringify(server)} is not a URL`);
  }
  if (url.username !== '' || url.password !== '')
    throw invalid('server URLs must not carry credentials: use user/pass or credentialsFile');
  if (url.protocol !== 'nats:' && url.protocol !== 'tls:')
    throw invalid(`server ${JSON.stringify(server)} must use nats:// or tls://`);
  return server;
}

/** Reads `user:password` from a file that only its owner can read. */
export function readCredentialsFile(path: string): { user: string; pass: string } {
  let mode: number;
  let text: string;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw invalid(
      `cannot read the credentials file ${path} (${typeof code === 'string' ? code : 'error'})`,
    );
  }
  if ((mode & 0o077) !== 0)
    throw invalid(
      `the credentials file ${path} is readable by group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}): chmod 600 it`,
    );
  const line = text.split(/\r?\n/, 1)[0] ?? '';
  const colon = line.indexOf(':');
  if (colon <= 0 || colon === line.length - 1)
    throw invalid(`the credentials file ${path} must hold "user:password" on its first line`);
  return { user: line.slice(0, colon), pass: line.slice(colon + 1) };
}

function credentialsOf(options: NatsEventLogOptions): { user?: string; pass?: string } {
  const { user, pass, credentialsFile } = options;
  if (credentialsFile !== undefined) {
    if (user !== undefined || pass !== undefined)
      throw invalid('give either credentialsFile or user/pass, not both');
    if (typeof credentialsFile !== 'string' || credentialsFile === '')
      throw invalid('credentialsFile must be a path');
    return readCredentialsFile(credentialsFile);
  }
  if ((user === undefined) !== (pass === undefined)) throw invalid('user and pass go together');
  if (user !== undefined && (typeof user !== 'string' || typeof pass !== 'string'))
    throw invalid('user and pass must be strings');
  return user === undefined ? {} : { user, pass };
}

function tlsOf(options: NatsEventLogOptions, servers: string[]): { caFile?: string } | undefined {
  const wantsTls = servers.some((server) => server.startsWith('tls://'));
  if (options.tls === undefined) return wantsTls ? {} : undefined;
  const { caFile } = options.tls;
  if (typeof caFile !== 'string' || caFile === '') throw invalid('tls.caFile must be a path');
  return { caFile };
}

function integerOption(value: number | undefined, what: string, fallback: number, min: number) {
  return value === undefined ? fallback : assertInteger(value, what, min);
}

/** Checks the options, reads the credentials file, fills in the defaults. */
export function settingsOf(options: NatsEventLogOptions): Settings {
  if (typeof options !== 'object' || options === null)
    throw invalid('createNatsEventLog needs an options object');
  if (!Array.isArray(options.servers) || options.servers.length === 0)
    throw invalid('servers must list at least one server URL');
  const servers = options.servers.map(checkServer);
  const { user, pass } = credentialsOf(options);
  const streamName = assertJetStreamName(options.streamName ?? DEFAULT_STREAM_NAME, 'streamName');
  const bucket = options.consumersBucket ?? CONSUMERS_BUCKET;
  return {
    servers,
    serversText: servers.join(', '),
    user,
    pass,
    tls: tlsOf(options, servers),
    streamName,
    subjectPrefix: assertSubjectPrefix(options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX),
    consumersBucket: assertJetStreamName(bucket, 'consumersBucket'),
    replicas: integerOption(options.replicas, 'replicas', 1, 1),
    createStream: options.createStream === true,
    requestTimeoutMs: integerOption(
      options.requestTimeoutMs,
      'requestTimeoutMs',
      DEFAULT_REQUEST_TIMEOUT_MS,
      1,
    ),
    reconnectWaitMs: integerOption(
      options.reconnectWaitMs,
      'reconnectWaitMs',
      DEFAULT_RECONNECT_WAIT_MS,
      1,
    ),
    inboxPrefix:
      options.inboxPrefix === undefined ? undefined : assertSubjectPrefix(options.inboxPrefix),
    name: options.name ?? 'chorus-event-log',
    logger: options.logger?.child({
      component: 'event-log',
      backend: 'nats',
      servers: servers.join(', '),
      stream: streamName,
    }),
  };
}
