import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AbortError, DnsNetworkError, DnsTimeoutError } from '@chorus/core';
import { closeTcpPool, sendPooledTcp, tcpPoolStats } from '../src/index.js';

/** A DNS-over-TCP server on 127.0.0.1 that answers each query with its own bytes, QR set. */
async function echoServer(
  options: { reverse?: number; hangUp?: boolean; sequentialMs?: number } = {},
) {
  let connections = 0;
  let outstanding = 0;
  let mostOutstanding = 0;
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    connections += 1;
    sockets.push(socket);
    let received = Buffer.alloc(0);
    const held: Buffer[] = [];
    let answering = Promise.resolve();
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      while (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        const query = Buffer.from(received.subarray(2, 2 + received.readUInt16BE(0)));
        received = received.subarray(2 + query.length);
        if (options.hangUp) {
          socket.destroy();
          return;
        }
        query[2] = query[2]! | 0x80;
        const framed = Buffer.concat([
          Buffer.from([query.length >> 8, query.length & 0xff]),
          query,
        ]);
        if (options.sequentialMs !== undefined) {
          // One answer after another, each taking sequentialMs, like a busy server's TCP queue.
          outstanding += 1;
          mostOutstanding = Math.max(mostOutstanding, outstanding);
          answering = answering
            .then(() => new Promise((resolve) => setTimeout(resolve, options.sequentialMs)))
            .then(() => {
              outstanding -= 1;
              socket.write(framed);
            });
          continue;
        }
        held.push(framed);
        // Answer in reverse order once `reverse` queries are in, else at once.
        if (held.length >= (options.reverse ?? 1))
          for (const answer of held.splice(0).reverse()) socket.write(answer);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    endpoint: { address: '127.0.0.1', port },
    connections: () => connections,
    mostOutstanding: () => mostOutstanding,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function queryWithId(id: number): Buffer {
  const message = Buffer.alloc(12);
  message.writeUInt16BE(id, 0);
  return message;
}

const options = { timeoutMs: 2000, what: 'test query' };
const servers: { close: () => Promise<void> }[] = [];

afterEach(async () => {
  closeTcpPool();
  for (const server of servers.splice(0)) await server.close();
});

describe('the pooled TCP connection', () => {
  it('sends sequential queries to one server over one connection', async () => {
    const server = await echoServer();
    servers.push(server);
    const before = tcpPoolStats();
    for (let id = 1; id <= 5; id += 1) {
      const answer = await sendPooledTcp(server.endpoint, queryWithId(id), options);
      expect(answer.readUInt16BE(0)).toBe(id);
    }
    expect(server.connections()).toBe(1);
    expect(tcpPoolStats().queries - before.queries).toBe(5);
    expect(tcpPoolStats().connections - before.connections).toBe(1);
  });

  it('keeps at most 32 queries in flight to a server; the others wait unsent, their time-out not yet running', async () => {
    const server = await echoServer({ sequentialMs: 10 });
    servers.push(server);
    // 100 answers take 1 s in all; each query may take 500 ms once it is sent.
    const ids = Array.from({ length: 100 }, (_, index) => index + 1);
    const answers = await Promise.all(
      ids.map((id) =>
        sendPooledTcp(server.endpoint, queryWithId(id), { timeoutMs: 500, what: 'test query' }),
      ),
    );
    expect(answers.map((answer) => answer.readUInt16BE(0))).toEqual(ids);
    expect(server.mostOutstanding()).toBe(32);
    expect(server.connections()).toBe(1);
  });

  it('pipelines concurrent queries and matches answers that come back in another order', async () => {
    const server = await echoServer({ reverse: 3 });
    servers.push(server);
    const answers = await Promise.all(
      [11, 12, 13].map((id) => sendPooledTcp(server.endpoint, queryWithId(id), options)),
    );
    expect(answers.map((answer) => answer.readUInt16BE(0))).toEqual([11, 12, 13]);
    expect(server.connections()).toBe(1);
  });

  it('fails what is in flight when the server hangs up (retryable), then opens a new connection', async () => {
    const hangUp = await echoServer({ hangUp: true });
    servers.push(hangUp);
    const failed = await sendPooledTcp(hangUp.endpoint, queryWithId(7), options).catch(
      (error: unknown) => error,
    );
    expect(DnsNetworkError.isInstance(failed)).toBe(true);
    expect((failed as DnsNetworkError).isRetryable).toBe(true);
    // Sent once more on a fresh connection (RFC 7766 §6.2.1), which the server drops too.
    expect(hangUp.connections()).toBe(2);
    // From now on one query per connection, without a second try.
    await sendPooledTcp(hangUp.endpoint, queryWithId(8), options).catch(() => undefined);
    expect(hangUp.connections()).toBe(3);
  });

  it('closes an idle connection, and a new query opens another', async () => {
    const server = await echoServer();
    servers.push(server);
    await sendPooledTcp(server.endpoint, queryWithId(1), { ...options, idleMs: 50 });
    await new Promise((resolve) => setTimeout(resolve, 150));
    await sendPooledTcp(server.endpoint, queryWithId(2), options);
    expect(server.connections()).toBe(2);
  });

  it('aborts one query without disturbing the others, and retires a connection after a timeout', async () => {
    const server = await echoServer({ reverse: 2 });
    servers.push(server);
    const controller = new AbortController();
    const aborted = sendPooledTcp(server.endpoint, queryWithId(21), {
      ...options,
      signal: controller.signal,
    });
    controller.abort();
    await expect(aborted).rejects.toSatisfy((error: unknown) => AbortError.isInstance(error));
    // The server answers in pairs: 22 completes the pair with the aborted 21, whose answer is
    // dropped; 23 alone stays unanswered and times out, which retires the connection (and, as
    // the server answered others on it, stops pipelining to it): 24 goes out on a new one.
    const paired = await sendPooledTcp(server.endpoint, queryWithId(22), options);
    expect(paired.readUInt16BE(0)).toBe(22);
    const lonely = sendPooledTcp(server.endpoint, queryWithId(23), { ...options, timeoutMs: 100 });
    await expect(lonely).rejects.toSatisfy((error: unknown) => DnsTimeoutError.isInstance(error));
    await sendPooledTcp(server.endpoint, queryWithId(24), { ...options, timeoutMs: 100 }).catch(
      () => undefined,
    );
    expect(server.connections()).toBe(2);
  });

  it('sends a second query with an ID already in flight on a connection of its own', async () => {
    const server = await echoServer();
    servers.push(server);
    const answers = await Promise.all(
      [31, 31].map((id) => sendPooledTcp(server.endpoint, queryWithId(id), options)),
    );
    expect(answers.map((answer) => answer.readUInt16BE(0))).toEqual([31, 31]);
    expect(server.connections()).toBe(2);
  });
});

/**
 * A server that answers the first query of each connection and ignores the rest, then hangs up
 * after `hangUpAfterMs` (0: with the answer), as a proxy or a strict server may.
 */
async function firstQueryServer(hangUpAfterMs: number) {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    socket.on('error', () => undefined);
    socket.once('data', (chunk) => {
      const query = Buffer.from(chunk.subarray(2, 2 + chunk.readUInt16BE(0)));
      query[2] = query[2]! | 0x80;
      socket.write(Buffer.concat([chunk.subarray(0, 2), query]));
      setTimeout(() => socket.end(), hangUpAfterMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({ close: () => new Promise((resolve) => server.close(() => resolve())) });
  const port = (server.address() as net.AddressInfo).port;
  return { endpoint: { address: '127.0.0.1', port }, connections: () => connections };
}

describe('a server that answers one query per connection', () => {
  it('gets one query per connection once it hung up on pipelined ones', async () => {
    const { endpoint, connections } = await firstQueryServer(0);
    const first = await Promise.allSettled(
      [41, 42].map((id) => sendPooledTcp(endpoint, queryWithId(id), options)),
    );
    // 42 was pipelined behind 41 and lost when the server hung up: sent once more, alone.
    expect(first.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled']);
    const again = await Promise.all(
      [43, 44, 45].map((id) => sendPooledTcp(endpoint, queryWithId(id), options)),
    );
    expect(again.map((answer) => answer.readUInt16BE(0))).toEqual([43, 44, 45]);
    expect(connections()).toBe(5);
  });
});

describe('a connection the server closes after answering', () => {
  it('sends a query lost on it once more, on a fresh connection', async () => {
    const { endpoint, connections } = await firstQueryServer(100);
    expect((await sendPooledTcp(endpoint, queryWithId(51), options)).readUInt16BE(0)).toBe(51);
    expect((await sendPooledTcp(endpoint, queryWithId(52), options)).readUInt16BE(0)).toBe(52);
    expect(connections()).toBe(2);
  });
});
