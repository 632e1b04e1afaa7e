import { createHmac } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AbortError,
  DnsNetworkError,
  DnsResponseError,
  DnsTimeoutError,
  DnsWireError,
  TsigError,
  type DnsMessage,
  type DnsRecord,
  type Rcode,
} from '@chorus/core';
import { transferZone, transferZoneDetailed } from '../src/axfr.js';
import { createTsigKey, signMessage } from '../src/tsig.js';
import { decodeMessage, encodeMessage, NO_FLAGS } from '../src/wire.js';

// A stand-in server that replays canned answer messages: it tests the client's framing and
// termination, not any real nameserver (the BIND lab tests do that).

const ZONE = 'example.test.';
const soa = (serial: number): DnsRecord => ({
  name: ZONE,
  type: 'SOA',
  class: 'IN',
  ttl: 300,
  data: {
    mname: 'ns1.example.test.',
    rname: 'hostmaster.example.test.',
    serial,
    refresh: 3600,
    retry: 600,
    expire: 86400,
    minimum: 60,
  },
});
const ns: DnsRecord = { name: ZONE, type: 'NS', class: 'IN', ttl: 300, data: 'ns1.example.test.' };
const a = (name: string, address: string): DnsRecord => ({
  name,
  type: 'A',
  class: 'IN',
  ttl: 300,
  data: address,
});
const txt: DnsRecord = { name: `txt.${ZONE}`, type: 'TXT', class: 'IN', ttl: 60, data: ['hello'] };

interface Reply {
  answers: DnsRecord[];
  rcode?: Rcode;
}

function answer(request: DnsMessage, reply: Reply, first: boolean): Omit<DnsMessage, 'tsig'> {
  return {
    id: request.id,
    opcode: 'QUERY',
    flags: { ...NO_FLAGS, qr: true, aa: true },
    rcode: reply.rcode ?? 'NOERROR',
    questions: first ? request.questions : [],
    answers: reply.answers,
    authorities: [],
    additionals: [],
  };
}

function framed(message: Buffer): Buffer {
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(message.length);
  return Buffer.concat([prefix, message]);
}

type Script = (request: DnsMessage, socket: net.Socket, raw: Buffer) => void;

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  );
});

/** A server on 127.0.0.1 that runs `script` once it has read the request. */
async function serve(script: Script): Promise<{ address: string; port: number }> {
  const server = net.createServer((socket) => {
    let received = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 2 || received.length < 2 + received.readUInt16BE(0)) return;
      const raw = received.subarray(2, 2 + received.readUInt16BE(0));
      script(decodeMessage(raw), socket, raw);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { address: '127.0.0.1', port: (server.address() as net.AddressInfo).port };
}

/** Replays `replies` as separate messages, then closes the connection when `end` is set. */
function replay(replies: Reply[], options: { end?: boolean; chunk?: number } = {}): Script {
  return (request, socket) => {
    const bytes = Buffer.concat(
      replies.map((reply, index) => framed(encodeMessage(answer(request, reply, index === 0)))),
    );
    const size = options.chunk ?? bytes.length;
    for (let offset = 0; offset < bytes.length; offset += size)
      socket.write(bytes.subarray(offset, offset + size));
    if (options.end) socket.end();
  };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('transferZone', () => {
  it('reads a transfer spread over several messages and stops at the closing SOA', async () => {
    const server = await serve(
      replay([
        { answers: [soa(7), ns, a(`www.${ZONE}`, '192.0.2.1')] },
        { answers: [txt] },
        { answers: [soa(7)] },
      ]),
    );
    const records = await transferZone(server, ZONE, { timeoutMs: 2000 });
    expect(records.map((record) => `${record.name} ${record.type}`)).toEqual([
      `${ZONE} SOA`,
      `${ZONE} NS`,
      `www.${ZONE} A`,
      `txt.${ZONE} TXT`,
    ]);
  });

  it('reassembles messages split across TCP segments', async () => {
    const hosts = Array.from({ length: 50 }, (_, index) =>
      a(`h${index}.${ZONE}`, `192.0.2.${index}`),
    );
    const server = await serve(replay([{ answers: [soa(1), ...hosts, soa(1)] }], { chunk: 7 }));
    expect(await transferZone(server, ZONE)).toHaveLength(51);
  });

  it('rejects REFUSED with a non-retryable error that names the server, the zone and the fix', async () => {
    const server = await serve(replay([{ answers: [], rcode: 'REFUSED' }]));
    const error = await failure(transferZone(server, ZONE));
    expect(DnsResponseError.isInstance(error)).toBe(true);
    const refused = error as DnsResponseError;
    expect(refused.rcode).toBe('REFUSED');
    expect(refused.isRetryable).toBe(false);
    expect(refused.message).toContain(`127.0.0.1:${server.port}`);
    expect(refused.message).toContain(ZONE);
    expect(refused.message).toContain('transfer ACL');
  });

  it('rejects a connection closed before the closing SOA instead of returning part of the zone', async () => {
    const server = await serve(
      replay([{ answers: [soa(3), ns] }, { answers: [txt] }], { end: true }),
    );
    const error = await failure(transferZone(server, ZONE));
    expect(DnsNetworkError.isInstance(error)).toBe(true);
    expect((error as DnsNetworkError).isRetryable).toBe(true);
  });

  it('rejects a transfer that does not begin with the SOA', async () => {
    const server = await serve(replay([{ answers: [ns, soa(1)] }]));
    expect(DnsWireError.isInstance(await failure(transferZone(server, ZONE)))).toBe(true);
  });

  it('rejects a closing SOA with another serial', async () => {
    const server = await serve(replay([{ answers: [soa(1), ns] }, { answers: [soa(2)] }]));
    const error = await failure(transferZone(server, ZONE));
    expect(DnsWireError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('serial 2');
  });

  it('rejects an answer to another request ID', async () => {
    const server = await serve((request, socket) =>
      socket.write(
        framed(
          encodeMessage(answer({ ...request, id: request.id ^ 1 }, { answers: [soa(1)] }, true)),
        ),
      ),
    );
    expect(DnsWireError.isInstance(await failure(transferZone(server, ZONE)))).toBe(true);
  });

  it('rejects with AbortError when the signal fires mid-transfer', async () => {
    const server = await serve(replay([{ answers: [soa(5), ns] }]));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await failure(transferZone(server, ZONE, { signal: controller.signal }));
    expect(AbortError.isInstance(error)).toBe(true);
  });

  it('rejects with AbortError before connecting when the signal has already fired', async () => {
    const error = await failure(
      transferZone({ address: '127.0.0.1', port: 9 }, ZONE, { signal: AbortSignal.abort() }),
    );
    expect(AbortError.isInstance(error)).toBe(true);
  });

  it('times out with a retryable DnsTimeoutError when the server goes silent', async () => {
    const server = await serve(replay([{ answers: [soa(5)] }]));
    const error = await failure(transferZone(server, ZONE, { timeoutMs: 150 }));
    expect(DnsTimeoutError.isInstance(error)).toBe(true);
    expect((error as DnsTimeoutError).isRetryable).toBe(true);
  });

  it('reports a refused connection as a retryable DnsNetworkError', async () => {
    const closed = await serve(() => undefined);
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const error = await failure(transferZone(closed, ZONE));
    expect(DnsNetworkError.isInstance(error)).toBe(true);
    expect((error as DnsNetworkError).code).toBe('ECONNREFUSED');
    expect((error as DnsNetworkError).isRetryable).toBe(true);
  });

  describe('with TSIG', () => {
    const secret = Buffer.alloc(32, 0x5a).toString('base64');
    const key = createTsigKey({ name: 'xfr', algorithm: 'hmac-sha256', secret });
    const otherKey = createTsigKey({ name: 'xfr', algorithm: 'hmac-sha256', secret: 'AAAA' });

    /**
     * A later message signed as RFC 8945 §5.3.1 says, written out here from the RFC: HMAC over the
     * prior MAC (length first), the unsigned messages since, this message, then only the timers.
     */
    function signLater(message: Buffer, priorMac: Buffer, unsignedSince: Buffer[]) {
      const timeSigned = Math.floor(Date.now() / 1000);
      const timers = Buffer.alloc(8);
      timers.writeUIntBE(timeSigned, 0, 6);
      timers.writeUInt16BE(300, 6);
      const length = Buffer.alloc(2);
      length.writeUInt16BE(priorMac.length);
      const mac = createHmac('sha256', Buffer.from(secret, 'base64'))
        .update(Buffer.concat([length, priorMac, ...unsignedSince, message, timers]))
        .digest();
      // signMessage lays out the record; its MAC is replaced by the chained one.
      const laidOut = signMessage(message, key, { timeSigned }).bytes;
      const macOffset = laidOut.lastIndexOf(signMessage(message, key, { timeSigned }).mac);
      mac.copy(laidOut, macOffset);
      return { bytes: laidOut, mac };
    }

    type Part = { answers: DnsRecord[]; sign: boolean; tamper?: boolean };

    /** The first message signed over the request MAC, then `later` signed or not as told. */
    const signedStream =
      (signingKey: typeof key, later: Part[]): Script =>
      (request, socket) => {
        expect(request.tsig?.keyName).toBe('xfr.');
        const requestMac = Buffer.from(request.tsig!.data.mac, 'base64');
        const first = encodeMessage(answer(request, { answers: [soa(9), ns] }, true));
        const signedFirst = signMessage(first, signingKey, { requestMac });
        socket.write(framed(signedFirst.bytes));
        let priorMac = signedFirst.mac;
        let unsigned: Buffer[] = [];
        for (const part of later) {
          const message = encodeMessage(answer(request, { answers: part.answers }, false));
          let bytes = message;
          if (part.sign) {
            const signed = signLater(message, priorMac, unsigned);
            [bytes, priorMac, unsigned] = [signed.bytes, signed.mac, []];
          } else unsigned.push(message);
          if (part.tamper) {
            bytes = Buffer.from(bytes);
            const at = bytes.indexOf(Buffer.from([192, 0, 2, 1]));
            bytes[at] = bytes[at]! ^ 1; // 192.0.2.1 -> 193.0.2.1
          }
          socket.write(framed(bytes));
        }
      };
    const www = a(`www.${ZONE}`, '192.0.2.1');

    it('verifies every message of a transfer signed message by message', async () => {
      const server = await serve(
        signedStream(key, [
          { answers: [www], sign: true },
          { answers: [txt], sign: true },
          { answers: [soa(9)], sign: true },
        ]),
      );
      const transfer = await transferZoneDetailed(server, ZONE, { tsig: key });
      expect(transfer.records).toHaveLength(4);
      expect(transfer).toMatchObject({ messages: 4, verifiedMessages: 4 });
    });

    it('accepts unsigned messages covered by the next signed one', async () => {
      const server = await serve(
        signedStream(key, [
          { answers: [www], sign: false },
          { answers: [txt], sign: false },
          { answers: [soa(9)], sign: true },
        ]),
      );
      const transfer = await transferZoneDetailed(server, ZONE, { tsig: key });
      expect(transfer).toMatchObject({ messages: 4, verifiedMessages: 2 });
    });

    it('rejects a changed message in the middle of the transfer (BADSIG)', async () => {
      for (const sign of [true, false]) {
        const server = await serve(
          signedStream(key, [
            { answers: [www], sign, tamper: true },
            { answers: [soa(9)], sign: true },
          ]),
        );
        const error = await failure(transferZone(server, ZONE, { tsig: key }));
        expect(TsigError.isInstance(error), `signed: ${sign}`).toBe(true);
        expect((error as TsigError).failure).toBe('BADSIG');
      }
    });

    it('rejects a transfer whose last message is unsigned', async () => {
      const server = await serve(
        signedStream(key, [
          { answers: [www], sign: true },
          { answers: [soa(9)], sign: false },
        ]),
      );
      const error = await failure(transferZone(server, ZONE, { tsig: key }));
      expect(TsigError.isInstance(error)).toBe(true);
      expect((error as TsigError).failure).toBe('UNSIGNED');
    });

    it('rejects a first answer signed with another secret', async () => {
      const server = await serve(signedStream(otherKey, [{ answers: [soa(9)], sign: true }]));
      const error = await failure(transferZone(server, ZONE, { tsig: key }));
      expect(TsigError.isInstance(error)).toBe(true);
    });
  });
});
