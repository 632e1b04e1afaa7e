import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, DnsNetworkError, DnsTimeoutError, DnsWireError } from '@chorus/core';
import { query } from '../src/query.js';

// Misbehaving servers for the client's failure paths. They stand in for broken peers, not for
// any real nameserver: the real servers are exercised in the integration tests.
let silent: dgram.Socket;
let garbage: dgram.Socket;
let wrongQuestion: dgram.Socket;
const port = (socket: dgram.Socket) => socket.address().port;

beforeAll(async () => {
  const bind = (socket: dgram.Socket) =>
    new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  silent = dgram.createSocket('udp4');
  garbage = dgram.createSocket('udp4');
  wrongQuestion = dgram.createSocket('udp4');
  garbage.on('message', (request, peer) => {
    // Right ID and QR bit, then nonsense counts: must become DnsWireError.
    const reply = Buffer.from([
      request[0]!,
      request[1]!,
      0x84,
      0x00,
      0x00,
      0x01,
      0x00,
      0x05,
      0,
      0,
      0,
      0,
      0xff,
    ]);
    garbage.send(reply, peer.port, peer.address);
  });
  wrongQuestion.on('message', (request, peer) => {
    const reply = Buffer.from(request);
    reply[2] = 0x84;
    reply[13] = 0x79; // first letter of the question name changes
    wrongQuestion.send(reply, peer.port, peer.address);
  });
  await Promise.all([bind(silent), bind(garbage), bind(wrongQuestion)]);
});

afterAll(() => {
  silent.close();
  garbage.close();
  wrongQuestion.close();
});

describe('query client failure paths', () => {
  it('times out with a retryable DnsTimeoutError after every attempt', async () => {
    const error = await query(
      { address: '127.0.0.1', port: port(silent) },
      'example.test.',
      'SOA',
      { timeoutMs: 100, retries: 1 },
    ).catch((caught: unknown) => caught);
    expect(DnsTimeoutError.isInstance(error)).toBe(true);
    expect((error as DnsTimeoutError).attempts).toBe(2);
    expect((error as DnsTimeoutError).isRetryable).toBe(true);
  });

  it('reports an unreachable server as a retryable DnsNetworkError', async () => {
    const closed = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => closed.bind(0, '127.0.0.1', resolve));
    const closedPort = closed.address().port;
    closed.close();
    const error = await query({ address: '127.0.0.1', port: closedPort }, 'example.test.', 'SOA', {
      retries: 0,
    }).catch((caught: unknown) => caught);
    expect(DnsNetworkError.isInstance(error)).toBe(true);
    expect((error as DnsNetworkError).code).toBe('ECONNREFUSED');
  });

  it('turns a garbage answer into DnsWireError', async () => {
    await expect(
      query({ address: '127.0.0.1', port: port(garbage) }, 'example.test.', 'SOA'),
    ).rejects.toThrow(DnsWireError);
  });

  it('rejects an answer to a different question', async () => {
    await expect(
      query({ address: '127.0.0.1', port: port(wrongQuestion) }, 'example.test.', 'SOA'),
    ).rejects.toThrow(/different question/);
  });

  it('stops at once when the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 50);
    const error = await query(
      { address: '127.0.0.1', port: port(silent) },
      'example.test.',
      'SOA',
      { timeoutMs: 5000, signal: controller.signal },
    ).catch((caught: unknown) => caught);
    expect(AbortError.isInstance(error)).toBe(true);
    expect(Date.now() - started).toBeLessThan(4000);
    await expect(
      query({ address: '127.0.0.1', port: port(silent) }, 'x.test.', 'A', {
        signal: AbortSignal.abort(),
      }),
    ).rejects.toThrow(/aborted/);
  });

  it('refuses a server that is not an IP literal', async () => {
    await expect(query({ address: 'ns.example.test' }, 'x.test.', 'A')).rejects.toThrow(
      DnsNetworkError,
    );
  });
});
