/**
 * Persistent, pipelined TCP to each server (RFC 7766 §6.2): one connection per address and port,
 * many queries in flight on it, answers matched by message ID in any order. A connection closes
 * after `idleMs` without queries, and never keeps the process alive while idle. A connection
 * that fails rejects what is in flight with a retryable DnsNetworkError; the next query opens a
 * new one. This is what keeps a sidecar's wire checks from opening a connection per question.
 */
import net from 'node:net';
import {
  AbortError,
  DEFAULT_DNS_PORT,
  DnsNetworkError,
  DnsTimeoutError,
  DnsWireError,
} from '@chorus/core';
import type { NameServer } from '@chorus/core';
import { countCall } from './kit/tally.js';
import { describeServer, sendTcp, type SendOptions } from './transport.js';

const MAX_TCP_MESSAGE = 0xffff;
/** How long an unused connection stays open. Servers close idle ones too (BIND after 30 s). */
const DEFAULT_IDLE_MS = 2000;

interface Pending {
  resolve: (frame: Buffer) => void;
  reject: (error: Error) => void;
  accept: ((frame: Buffer) => boolean) | undefined;
  /** Sent on a connection that had answered before: a server that hung up meanwhile left it stale. */
  reused: boolean;
}

/**
 * The code of a query lost because the server closed the connection (or had closed it already):
 * it is sent once more on a fresh connection, as RFC 7766 §6.2.1 expects of clients.
 */
const STALE = 'ESTALE';

/** Counters for benchmarks: connections opened and queries sent over the pool. */
export interface TcpPoolStats {
  connections: number;
  queries: number;
}

const stats: TcpPoolStats = { connections: 0, queries: 0 };

export function tcpPoolStats(): TcpPoolStats {
  return { ...stats };
}

class PooledConnection {
  private readonly socket: net.Socket;
  private readonly pending = new Map<number, Pending>();
  private received = Buffer.alloc(0);
  private idleTimer: NodeJS.Timeout | undefined;
  private answered = 0;
  private corked = false;
  closed = false;

  constructor(
    private readonly server: NameServer,
    private readonly idleMs: number,
    private readonly onClosed: () => void,
  ) {
    stats.connections += 1;
    countCall('dns tcp connection');
    this.socket = net.connect({ host: server.address, port: server.port ?? DEFAULT_DNS_PORT });
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk) => this.onData(chunk));
    this.socket.on('error', (error: NodeJS.ErrnoException) => this.fail(error.code, error));
    // The server's FIN (`end`) already means no answer will come: stop using the connection.
    for (const event of ['end', 'close'] as const)
      this.socket.on(event, () => {
        // A server may answer one query per connection (RFC 7766 §6.2.1 lets it): stop pipelining.
        if (!this.closed && this.pending.size > 0)
          oneQueryPerConnection.set(describeServer(server), Date.now() + NO_REUSE_MS);
        this.fail(STALE, new Error('the server closed the connection'));
      });
  }

  /** True when a query with this ID can go out on this connection now. */
  canTake(id: number): boolean {
    return !this.closed && !this.pending.has(id);
  }

  send(request: Buffer, options: SendOptions): Promise<Buffer> {
    const id = request.readUInt16BE(0);
    stats.queries += 1;
    clearTimeout(this.idleTimer);
    this.socket.ref();
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        done();
        // A connection that stopped answering (a partition, a server gone silent) is not reused;
        // one that answered others but not this one does not pipeline: one query per connection.
        if (this.answered > 0)
          oneQueryPerConnection.set(describeServer(this.server), Date.now() + NO_REUSE_MS);
        this.retire();
        reject(
          new DnsTimeoutError({
            server: describeServer(this.server),
            timeoutMs: options.timeoutMs,
            attempts: 1,
            what: options.what,
          }),
        );
      }, options.timeoutMs);
      const onAbort = () => {
        done();
        reject(new AbortError(options.what, options.signal?.reason));
      };
      const done = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
        this.idleIfUnused();
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (frame) => (done(), resolve(frame)),
        reject: (error) => (done(), reject(error)),
        accept: options.accept,
        reused: this.answered > 0,
      });
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(request.length);
      this.write(Buffer.concat([prefix, request]));
    });
  }

  /** Queries asked in the same turn of the event loop leave in one write (a writev). */
  private write(frame: Buffer): void {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(frame);
  }

  private onData(chunk: Buffer): void {
    this.received = Buffer.concat([this.received, chunk]);
    while (this.received.length >= 2) {
      const length = this.received.readUInt16BE(0);
      if (this.received.length < 2 + length) return;
      const frame = Buffer.from(this.received.subarray(2, 2 + length));
      this.received = this.received.subarray(2 + length);
      if (frame.length < 2) continue;
      const waiting = this.pending.get(frame.readUInt16BE(0));
      if (!waiting || (waiting.accept && !waiting.accept(frame))) continue;
      this.answered += 1;
      waiting.resolve(frame);
    }
  }

  /** With nothing in flight: let the process exit, and close after `idleMs`. */
  private idleIfUnused(): void {
    if (this.pending.size > 0 || this.closed) return;
    this.socket.unref();
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.close(), this.idleMs);
    this.idleTimer.unref();
  }

  /** Sends nothing more on this connection; what is in flight may still be answered. */
  private retire(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    this.onClosed();
    this.socket.end();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    this.onClosed();
    this.socket.end();
    this.socket.unref();
  }

  private fail(code: string | undefined, cause: Error): void {
    const wasOpen = !this.closed;
    this.closed = true;
    clearTimeout(this.idleTimer);
    if (wasOpen) this.onClosed();
    this.socket.destroy();
    const label = describeServer(this.server);
    for (const waiting of [...this.pending.values()]) {
      // Sent before a hang-up, or on a connection the server closed meanwhile: try once more.
      const lost = waiting.reused ? STALE : code;
      waiting.reject(
        new DnsNetworkError({ server: label, code: lost, cause, what: 'a pooled TCP query' }),
      );
    }
  }
}

const connections = new Map<string, PooledConnection>();
/** Servers that closed a connection with queries in flight: until when each gets fresh ones. */
const oneQueryPerConnection = new Map<string, number>();
/** How long a server that hung up on pipelined queries is sent one query per connection. */
const NO_REUSE_MS = 60_000;

function reuses(key: string): boolean {
  const until = oneQueryPerConnection.get(key);
  if (until === undefined) return true;
  if (until > Date.now()) return false;
  oneQueryPerConnection.delete(key);
  return true;
}

/**
 * Queries in flight to one server at most: the rest wait here, in order, and their time-out
 * starts when they are sent. A server answers a connection's queries one after another, so a
 * thousand zones' checks sent at once would otherwise time out in the server's queue.
 */
const MAX_IN_FLIGHT_PER_SERVER = 32;

interface ServerSlots {
  inFlight: number;
  waiting: (() => void)[];
}

const serverSlots = new Map<string, ServerSlots>();

function slotsOf(key: string): ServerSlots {
  let slots = serverSlots.get(key);
  if (!slots) serverSlots.set(key, (slots = { inFlight: 0, waiting: [] }));
  return slots;
}

/** Hands the slot to the next waiting query, or frees it. */
function releaser(key: string, slots: ServerSlots): () => void {
  return () => {
    const next = slots.waiting.shift();
    if (next) return next();
    slots.inFlight -= 1;
    if (slots.inFlight === 0 && serverSlots.get(key) === slots) serverSlots.delete(key);
  };
}

/** Waits for a slot to the server, or rejects when `signal` fires first. */
function waitForSlot(key: string, signal: AbortSignal | undefined, what: string) {
  const slots = slotsOf(key);
  return new Promise<() => void>((resolve, reject) => {
    const onAbort = () => {
      slots.waiting.splice(slots.waiting.indexOf(go), 1);
      reject(new AbortError(what, signal?.reason));
    };
    const go = () => {
      signal?.removeEventListener('abort', onAbort);
      resolve(releaser(key, slots));
    };
    slots.waiting.push(go);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Sends one message over the server's pooled TCP connection and resolves with the answer that
 * carries its ID (and passes `accept`). Rejects like a fresh connection would: DnsTimeoutError,
 * a retryable DnsNetworkError when the connection fails, AbortError. At most
 * MAX_IN_FLIGHT_PER_SERVER queries are in flight to one server; the others wait their turn.
 */
export function sendPooledTcp(
  server: NameServer,
  request: Buffer,
  options: SendOptions & { idleMs?: number; staleRetried?: boolean },
): Promise<Buffer> {
  if (options.signal?.aborted)
    return Promise.reject(new AbortError(options.what, options.signal.reason));
  const key = describeServer(server);
  const slots = slotsOf(key);
  const send = (release: () => void) => sendInSlot(server, request, options).finally(release);
  if (slots.inFlight < MAX_IN_FLIGHT_PER_SERVER) {
    slots.inFlight += 1;
    return send(releaser(key, slots));
  }
  return waitForSlot(key, options.signal, options.what).then(send);
}

function sendInSlot(
  server: NameServer,
  request: Buffer,
  options: SendOptions & { idleMs?: number; staleRetried?: boolean },
): Promise<Buffer> {
  if (options.signal?.aborted)
    return Promise.reject(new AbortError(options.what, options.signal.reason));
  if (request.length > MAX_TCP_MESSAGE || request.length < 12)
    return Promise.reject(
      new DnsWireError(`message of ${request.length} octets cannot go over TCP`),
    );
  const key = describeServer(server);
  if (!reuses(key)) return sendTcp(server, request, options);
  let connection = connections.get(key);
  // Another query with this ID is in flight on the connection: this one goes on its own.
  if (connection && !connection.closed && !connection.canTake(request.readUInt16BE(0)))
    return sendTcp(server, request, options);
  if (!connection || connection.closed) {
    const fresh = new PooledConnection(server, options.idleMs ?? DEFAULT_IDLE_MS, () => {
      if (connections.get(key) === fresh) connections.delete(key);
    });
    connections.set(key, fresh);
    connection = fresh;
  }
  return connection.send(request, options).catch((error: unknown) => {
    // Lost on a connection the server had closed meanwhile: once more, on a fresh one.
    if (DnsNetworkError.isInstance(error) && error.code === STALE && !options.staleRetried)
      return sendInSlot(server, request, { ...options, staleRetried: true });
    throw error;
  });
}

/** Closes every pooled connection (tests, and a process about to exit). */
export function closeTcpPool(): void {
  for (const connection of [...connections.values()]) connection.close();
  oneQueryPerConnection.clear();
}
