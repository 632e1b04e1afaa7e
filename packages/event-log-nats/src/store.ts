/**
 * The JetStream side of the NATS event log: the connection, the stream and the consumers'
 * bucket, and the few primitives the log is built from (a stream's last message, a message by
 * sequence, a bounded read through an ephemeral consumer, an append, a consumer's position).
 * Every call fails fast with `unavailable` while the connection is down.
 *
 * @module
 */
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StoredMsg,
  type StreamInfo,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import {
  connect,
  nanos,
  nuid,
  type MsgHdrs,
  type NatsConnection,
  type TlsOptions,
} from '@nats-io/transport-node';
import { isIP } from 'node:net';
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import { ChorusError, EventLogError } from '@chorus/core';
import { apiCode, JS_CODES, toEventLogError, unavailable } from './errors.js';
import { isoFromNanos, isoFromRfc3339, type RawMessage } from './codec.js';
import type { Settings } from './settings.js';
import { kvStreamName } from './subjects.js';

/** Messages fetched per pull while reading. */
const FETCH_BATCH = 256;
/** An ephemeral reader left behind by a crashed client disappears after this long. */
const READER_INACTIVE_MS = 60_000;

function fromStored(message: StoredMsg): RawMessage {
  return {
    seq: message.seq,
    subject: message.subject,
    headers: message.header,
    data: message.data,
    recordedAt: isoFromRfc3339(message.timestamp),
  };
}

/** A message delivered by a consumer, as a RawMessage. */
export function fromDelivered(message: JsMsg): RawMessage {
  return {
    seq: message.seq,
    subject: message.subject,
    headers: message.headers,
    data: message.data,
    recordedAt: isoFromNanos(message.timestampNanos),
  };
}

/** The result of an append's publish. */
export interface PublishAck {
  seq: number;
  duplicate: boolean;
}

/** Options of {@link NatsStore.readMessages}. */
export interface ReadMessagesOptions {
  startSeq: number;
  /** A subject or a wildcard (`chorus.log.>`). */
  filter: string;
  /** Stop after this sequence (inclusive). */
  lastSeq?: number;
}

export class NatsStore {
  readonly settings: Settings;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  private readonly jsm: JetStreamManager;
  private readonly kv: KV;
  private connected = true;
  private closed = false;
  private readonly reconnectListeners = new Set<() => void>();

  private constructor(settings: Settings, nc: NatsConnection, jsm: JetStreamManager, kv: KV) {
    this.settings = settings;
    this.nc = nc;
    this.jsm = jsm;
    this.js = jetstream(nc, { timeout: settings.requestTimeoutMs });
    this.kv = kv;
    void this.watchStatus();
  }

  /** Connects, checks (or, for an admin, creates) the stream and the bucket. */
  static async open(settings: Settings): Promise<NatsStore> {
    const nc = await connectTo(settings);
    try {
      const jsm = await jetstreamManager(nc, {
        timeout: settings.requestTimeoutMs,
        checkAPI: false,
      });
      await ensureStream(settings, jsm);
      const kv = await openBucket(settings, nc, jsm);
      return new NatsStore(settings, nc, jsm, kv);
    } catch (error) {
      await nc.close().catch(() => undefined);
      throw toEventLogError('cannot open the event log', error, context(settings));
    }
  }

  /** Throws `closed` after close, `unavailable` while disconnected. */
  ensureReady(): void {
    if (this.closed) throw new EventLogError('closed', 'the event log is closed');
    if (!this.connected || this.nc.isClosed())
      throw unavailable(this.settings.serversText, 'is not reachable (reconnecting)');
  }

  /** Runs a server call, mapping its failures (and a close meanwhile) to EventLogErrors. */
  async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    this.ensureReady();
    try {
      return await fn();
    } catch (error) {
      throw this.failure(what, error);
    }
  }

  /** Maps a failure of `what` to an EventLogError. */
  failure(what: string, error: unknown): ChorusError {
    if (this.closed) return new EventLogError('closed', 'the event log is closed');
    if (ChorusError.isInstance(error)) return error;
    if (!this.connected || this.nc.isClosed())
      return unavailable(this.settings.serversText, `went away (${what})`, error);
    return toEventLogError(what, error, context(this.settings));
  }

  /** The last message on `subject`, if any. */
  lastMessage(subject: string): Promise<RawMessage | undefined> {
    return this.call('cannot read a stream', async () => {
      const found = await this.jsm.streams.getMessage(this.settings.streamName, {
        last_by_subj: subject,
      });
      return found === null ? undefined : fromStored(found);
    });
  }

  /** The message at `seq`, if any. */
  messageAt(seq: number): Promise<RawMessage | undefined> {
    return this.call('cannot read a message', async () => {
      const found = await this.jsm.streams.getMessage(this.settings.streamName, { seq });
      return found === null ? undefined : fromStored(found);
    });
  }

  /** The stream's state: how many messages and the last sequence. */
  streamState(): Promise<StreamInfo['state']> {
    return this.call(
      'cannot read the stream',
      async () => (await this.jsm.streams.info(this.settings.streamName)).state,
    );
  }

  /**
   * The messages matching `filter` from `startSeq` on, in order, through an ephemeral consumer
   * that the read deletes at the end (or the server after a minute, if the client died).
   */
  async *readMessages(options: ReadMessagesOptions): AsyncGenerator<RawMessage> {
    const info = await this.call('cannot read events', () =>
      this.jsm.consumers.add(this.settings.streamName, {
        name: `chorus_read_${nuid.next()}`,
        filter_subject: options.filter,
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: options.startSeq,
        ack_policy: AckPolicy.None,
        mem_storage: true,
        num_replicas: 1,
        inactive_threshold: nanos(READER_INACTIVE_MS),
      }),
    );
    const consumer = this.js.consumers.getConsumerFromInfo(info);
    try {
      let remaining = info.num_pending;
      let delivered = 0;
      while (remaining > 0) {
        const batch = Math.min(remaining, FETCH_BATCH);
        const messages = await this.call('cannot read events', () =>
          consumer.fetch({
            max_messages: batch,
            expires: Math.max(1000, this.settings.requestTimeoutMs),
          }),
        );
        let received = 0;
        try {
          for await (const message of messages) {
            received++;
            if (message.info.deliverySequence !== ++delivered)
              throw unavailable(this.settings.serversText, 'dropped messages of a read; retry');
            remaining = message.info.pending;
            if (options.lastSeq !== undefined && message.seq > options.lastSeq) return;
            yield fromDelivered(message);
          }
        } catch (error) {
          throw this.failure('cannot read events', error);
        }
        if (received < batch && remaining > 0)
          throw unavailable(this.settings.serversText, 'did not deliver a read in time');
      }
    } finally {
      consumer.delete().catch(() => undefined);
    }
  }

  /** Publishes an append with its optimistic-concurrency expectation and message ID. */
  publish(
    subject: string,
    payload: Uint8Array,
    headers: MsgHdrs,
    msgID: string,
    lastSequence: number,
  ): Promise<PublishAck | 'conflict'> {
    return this.call('cannot append', async () => {
      try {
        const ack = await this.js.publish(subject, payload, {
          headers,
          msgID,
          expect: { lastSequence, streamName: this.settings.streamName },
        });
        return { seq: ack.seq, duplicate: ack.duplicate };
      } catch (error) {
        // Another writer appended to the stream since we read its last message.
        if (apiCode(error) === JS_CODES.wrongLastSequence) return 'conflict';
        throw error;
      }
    });
  }

  /** The largest payload the server accepts, in bytes. */
  get maxPayload(): number {
    return this.nc.info?.max_payload ?? 1024 * 1024;
  }

  /** A consumer's committed position (0 if none). */
  consumerPosition(key: string): Promise<number> {
    return this.call('cannot read a consumer position', async () => {
      const entry = await this.kv.get(key);
      if (entry === null || entry.operation !== 'PUT') return 0;
      const text = entry.string();
      const position = /^\d+$/.test(text) ? Number(text) : Number.NaN;
      if (!Number.isSafeInteger(position))
        throw new EventLogError('corrupt', `consumer position ${JSON.stringify(text)} is not one`);
      return position;
    });
  }

  /** Stores a consumer's position. */
  async commitConsumer(key: string, position: number): Promise<void> {
    await this.call('cannot commit a consumer position', () => this.kv.put(key, String(position)));
  }

  /** Calls `listener` after each reconnection, until the returned function is called. */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => void this.reconnectListeners.delete(listener);
  }

  /** Closes the connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.nc.close().catch(() => undefined);
  }

  /** Tracks whether the connection is up, and logs its changes. */
  private async watchStatus(): Promise<void> {
    const logger = this.settings.logger;
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') {
        this.connected = false;
        logger?.warn({ server: status.server }, 'NATS connection lost; reconnecting');
      } else if (status.type === 'reconnect') {
        this.connected = true;
        logger?.info({ server: status.server }, 'NATS connection restored');
        for (const listener of [...this.reconnectListeners]) listener();
      } else if (status.type === 'error') {
        logger?.warn({ err: status.error }, 'NATS reported an error');
      }
    }
  }
}

function context(settings: Settings) {
  return { servers: settings.serversText, secret: settings.pass };
}

/**
 * TLS options. nats.js hands no server name to TLS for an IP address (Node then checks the
 * certificate against "localhost"), so for that case a certificate valid for one of the
 * configured IP servers is accepted; it must still chain to the CA.
 */
function tlsOptions(
  settings: Settings,
): TlsOptions & Pick<ConnectionOptions, 'checkServerIdentity'> {
  const ips = settings.servers
    .map((server) => new URL(server.includes('://') ? server : `nats://${server}`).hostname)
    .map((host) => host.replace(/^\[(.*)\]$/, '$1'))
    .filter((host) => isIP(host) !== 0);
  return {
    ...settings.tls,
    checkServerIdentity: (host, cert) => {
      const error = checkServerIdentity(host, cert);
      if (error === undefined || host !== 'localhost') return error;
      return ips.some((ip) => checkServerIdentity(ip, cert) === undefined) ? undefined : error;
    },
  };
}

/** Opens the connection: reconnects forever, requests time out after `requestTimeoutMs`. */
async function connectTo(settings: Settings): Promise<NatsConnection> {
  try {
    return await connect({
      servers: settings.servers,
      ...(settings.user === undefined ? {} : { user: settings.user, pass: settings.pass }),
      ...(settings.tls === undefined ? {} : { tls: tlsOptions(settings) }),
      ...(settings.inboxPrefix === undefined ? {} : { inboxPrefix: settings.inboxPrefix }),
      name: settings.name,
      timeout: settings.requestTimeoutMs,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: settings.reconnectWaitMs,
      pingInterval: 15_000,
      maxPingOut: 2,
    });
  } catch (error) {
    throw toEventLogError('cannot connect', error, context(settings));
  }
}

/** Checks that the stream exists and holds our subjects; an admin creates it if missing. */
async function ensureStream(settings: Settings, jsm: JetStreamManager): Promise<void> {
  const { streamName, subjectPrefix, createStream, replicas, serversText } = settings;
  const subjects = `${subjectPrefix}.>`;
  let info: StreamInfo;
  try {
    info = await jsm.streams.info(streamName);
  } catch (error) {
    if (apiCode(error) !== JS_CODES.streamNotFound) throw error;
    if (!createStream)
      throw new EventLogError(
        'storage',
        `cannot open the event log: NATS at ${serversText} has no JetStream stream ${streamName}; an admin creates it (createStream: true)`,
      );
    info = await jsm.streams.add({
      name: streamName,
      subjects: [subjects],
      storage: 'file',
      retention: 'limits',
      discard: 'old',
      num_replicas: replicas,
      deny_delete: true,
      deny_purge: true,
      description: 'Chorus event log: one subject per event-log stream',
    });
    settings.logger?.info({ replicas }, 'created the JetStream stream');
  }
  if (!info.config.subjects?.includes(subjects))
    throw new EventLogError(
      'storage',
      `cannot open the event log: JetStream stream ${streamName} does not hold ${subjects} (it holds ${(info.config.subjects ?? []).join(', ')})`,
    );
}

/** Opens the consumers' bucket; an admin creates it if missing. */
async function openBucket(
  settings: Settings,
  nc: NatsConnection,
  jsm: JetStreamManager,
): Promise<KV> {
  const { consumersBucket, createStream, replicas, serversText } = settings;
  const kvm = new Kvm(jetstream(nc, { timeout: settings.requestTimeoutMs }));
  if (createStream) await kvm.create(consumersBucket, { history: 1, replicas, storage: 'file' });
  try {
    await jsm.streams.info(kvStreamName(consumersBucket));
  } catch (error) {
    if (apiCode(error) !== JS_CODES.streamNotFound) throw error;
    throw new EventLogError(
      'storage',
      `cannot open the event log: NATS at ${serversText} has no KV bucket ${consumersBucket}; an admin creates it (createStream: true)`,
    );
  }
  return kvm.open(consumersBucket, { allow_direct: false });
}
