/**
 * The NATS permissions of an event-log client that is not an admin: it may append to its own
 * event-log streams and commit its own consumers, read everything, and never create, change,
 * purge or delete the JetStream stream or bucket.
 *
 * @module
 */
import {
  assertJetStreamName,
  assertSubjectPrefix,
  consumerKey,
  CONSUMERS_BUCKET,
  DEFAULT_STREAM_NAME,
  DEFAULT_SUBJECT_PREFIX,
  kvStreamName,
  subjectForStream,
} from './subjects.js';

/** Options of {@link clientPermissions}. */
export interface ClientPermissionsOptions {
  /** The event-log streams the client may append to (e.g. `zone/example.test`). */
  streams: readonly string[];
  /** The durable consumers whose positions the client may commit. */
  consumers: readonly string[];
  /** The JetStream stream (default `CHORUS`). */
  streamName?: string;
  /** The subject prefix (default `chorus.log`). */
  subjectPrefix?: string;
  /** The consumers' KV bucket (default `CHORUS_CONSUMERS`). */
  consumersBucket?: string;
  /** The client's inbox prefix, if it sets `inboxPrefix` (default `_INBOX`). */
  inboxPrefix?: string;
}

/** Allowed subjects for a nats-server `permissions` block. */
export interface ClientPermissions {
  publish: string[];
  subscribe: string[];
}

/**
 * The subjects a non-admin event-log client needs, for a nats-server `permissions` block
 * (`permissions: { publish: { allow: publish }, subscribe: { allow: subscribe } }`):
 *
 * - its streams' subjects (appends) and its consumers' KV keys (commits), nothing else to write;
 * - `$JS.API.STREAM.INFO` of the stream and the bucket (open, head of the log);
 * - `$JS.API.STREAM.MSG.GET` of both (a stream's last message, a consumer's position);
 * - `$JS.API.CONSUMER.CREATE`, `MSG.NEXT`, `INFO` and `DELETE` on the stream (the ephemeral,
 *   unacknowledged consumers that read and subscribe);
 * - subscribe to its inbox (`_INBOX.>`), where replies and consumer deliveries arrive.
 *
 * No `$JS.API.STREAM.CREATE/UPDATE/DELETE/PURGE`, `STREAM.MSG.DELETE` or `$JS.ACK` (the
 * consumers need no acks).
 */
export function clientPermissions(options: ClientPermissionsOptions): ClientPermissions {
  const stream = assertJetStreamName(options.streamName ?? DEFAULT_STREAM_NAME, 'streamName');
  const prefix = assertSubjectPrefix(options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX);
  const bucket = assertJetStreamName(
    options.consumersBucket ?? CONSUMERS_BUCKET,
    'consumersBucket',
  );
  const inbox = assertSubjectPrefix(options.inboxPrefix ?? '_INBOX');
  const kv = kvStreamName(bucket);
  const api = '$JS.API';
  return {
    publish: [
      ...options.streams.map((name) => subjectForStream(name, prefix)),
      ...options.consumers.map((name) => `$KV.${bucket}.${consumerKey(name)}`),
      `${api}.STREAM.INFO.${stream}`,
      `${api}.STREAM.INFO.${kv}`,
      `${api}.STREAM.MSG.GET.${stream}`,
      `${api}.STREAM.MSG.GET.${kv}`,
      `${api}.CONSUMER.CREATE.${stream}`,
      `${api}.CONSUMER.CREATE.${stream}.>`,
      `${api}.CONSUMER.MSG.NEXT.${stream}.*`,
      `${api}.CONSUMER.INFO.${stream}.*`,
      `${api}.CONSUMER.DELETE.${stream}.*`,
    ],
    subscribe: [`${inbox}.>`],
  };
}

/** A user of a nats-server `authorization` block. */
export interface NatsUser {
  user: string;
  password: string;
  /** Absent: everything is allowed (an admin). */
  permissions?: ClientPermissions;
}

/**
 * Renders an `authorization { users: [...] }` block for a nats-server configuration file (the
 * configuration format accepts JSON values, so names and subjects are JSON strings).
 */
export function natsAuthorizationConfig(users: readonly NatsUser[]): string {
  const rendered = users.map(({ user, password, permissions }) => {
    const entry: Record<string, unknown> = { user, password };
    if (permissions !== undefined)
      entry.permissions = {
        publish: { allow: permissions.publish },
        subscribe: { allow: permissions.subscribe },
      };
    return `    ${JSON.stringify(entry)}`;
  });
  return `authorization {\n  users: [\n${rendered.join(',\n')}\n  ]\n}`;
}
