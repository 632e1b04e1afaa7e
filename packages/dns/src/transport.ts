import dgram from 'node:dgram';
import net from 'node:net';
import {
  AbortError,
  DEFAULT_DNS_PORT,
  DnsNetworkError,
  DnsTimeoutError,
  DnsWireError,
  type NameServer,
} from '@chorus/core';

/** Largest DNS message over TCP (two-octet length prefix). */
const MAX_TCP_MESSAGE = 0xffff;

export function describeServer(server: NameServer): string {
  const port = server.port ?? DEFAULT_DNS_PORT;
  return net.isIPv6(server.address) ? `[${server.address}]:${port}` : `${server.address}:${port}`;
}

export interface SendOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Used in error messages, e.g. "www.example.test. A". */
  what: string;
  /** Accepts a datagram as the answer to our request (ID and QR checks). Others are ignored. */
  accept?: (datagram: Buffer) => boolean;
}

function validateAddress(server: NameServer, what: string): void {
  if (net.isIP(server.address) === 0) {
    throw new DnsNetworkError({
      server: server.address,
      code: 'EINVALIDADDRESS',
      what,
      cause: new Error('not an IP address literal'),
    });
  }
}

/** Sends one datagram and waits for a matching one. */
export function sendUdp(
  server: NameServer,
  request: Buffer,
  options: SendOptions,
): Promise<Buffer> {
  validateAddress(server, options.what);
  const label = describeServer(server);
  return new Promise<Buffer>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new AbortError(options.what, options.signal.reason));
      return;
    }
    const socket = dgram.createSocket(net.isIPv6(server.address) ? 'udp6' : 'udp4');
    let settled = false;
    const finish = (error: Error | null, value?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.close();
      if (error) reject(error);
      else resolve(value!);
    };
    const onAbort = () => finish(new AbortError(options.what, options.signal?.reason));
    const timer = setTimeout(
      () =>
        finish(
          new DnsTimeoutError({
            server: label,
            timeoutMs: options.timeoutMs,
            attempts: 1,
            what: options.what,
          }),
        ),
      options.timeoutMs,
    );
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (error: NodeJS.ErrnoException) =>
      finish(
        new DnsNetworkError({ server: label, code: error.code, cause: error, what: options.what }),
      ),
    );
    socket.on('message', (datagram) => {
      if (options.accept && !options.accept(datagram)) return;
      finish(null, datagram);
    });
    // connect() makes ICMP port-unreachable surface as ECONNREFUSED instead of a silent timeout.
    socket.connect(server.port ?? DEFAULT_DNS_PORT, server.address, () => {
      socket.send(request, (error) => {
        if (error)
          finish(
            new DnsNetworkError({
              server: label,
              code: (error as NodeJS.ErrnoException).code,
              cause: error,
              what: options.what,
            }),
          );
      });
    });
  });
}

/** Sends one message over a fresh TCP connection and reads one length-prefixed answer. */
export async function sendTcp(
  server: NameServer,
  request: Buffer,
  options: SendOptions,
): Promise<Buffer> {
  let answer: Buffer | undefined;
  await streamTcp(server, request, {
    ...options,
    onFrame: (frame) => {
      if (options.accept && !options.accept(frame)) return false;
      answer = frame;
      return true;
    },
  });
  return answer!;
}

export interface StreamOptions extends Omit<SendOptions, 'accept'> {
  /** Called with each length-prefixed message; true ends the exchange. May throw to fail it. */
  onFrame: (frame: Buffer) => boolean;
}

function tcpRequest(request: Buffer): Buffer {
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(request.length);
  return Buffer.concat([prefix, request]);
}

/**
 * Sends one message over a fresh TCP connection and hands each length-prefixed message of the
 * answer stream to `onFrame` until it returns true. `timeoutMs` bounds the wait for each message.
 * The connection closing first is a retryable DnsNetworkError.
 */
export function streamTcp(
  server: NameServer,
  request: Buffer,
  options: StreamOptions,
): Promise<void> {
  validateAddress(server, options.what);
  const label = describeServer(server);
  if (request.length > MAX_TCP_MESSAGE) {
    return Promise.reject(
      new DnsWireError(`message of ${request.length} octets is too large for TCP`),
    );
  }
  return new Promise<void>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new AbortError(options.what, options.signal.reason));
      return;
    }
    const socket = net.connect({ host: server.address, port: server.port ?? DEFAULT_DNS_PORT });
    let settled = false;
    let received = Buffer.alloc(0);
    let timer: NodeJS.Timeout | undefined;
    const finish = (error: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    const onAbort = () => finish(new AbortError(options.what, options.signal?.reason));
    const onTimeout = () =>
      finish(
        new DnsTimeoutError({
          server: label,
          timeoutMs: options.timeoutMs,
          attempts: 1,
          what: options.what,
        }),
      );
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(onTimeout, options.timeoutMs);
    };
    /** Passes complete frames on; true when the exchange is over. */
    const drain = (): boolean => {
      while (received.length >= 2) {
        const length = received.readUInt16BE(0);
        if (received.length < 2 + length) return false;
        const frame = Buffer.from(received.subarray(2, 2 + length));
        received = received.subarray(2 + length);
        arm();
        if (options.onFrame(frame)) return true;
      }
      return false;
    };
    arm();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (error: NodeJS.ErrnoException) =>
      finish(
        new DnsNetworkError({ server: label, code: error.code, cause: error, what: options.what }),
      ),
    );
    socket.on('connect', () => socket.write(tcpRequest(request)));
    socket.on('data', (chunk) => {
      if (settled) return;
      received = Buffer.concat([received, chunk]);
      try {
        if (drain()) finish(null);
      } catch (error) {
        finish(error as Error);
      }
    });
    socket.on('end', () =>
      finish(
        new DnsNetworkError({
          server: label,
          code: 'ECONNRESET',
          what: options.what,
          cause: new Error('connection closed before a complete answer'),
        }),
      ),
    );
  });
}
