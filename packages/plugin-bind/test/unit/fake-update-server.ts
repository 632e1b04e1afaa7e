/** A TCP listener on loopback that records DNS UPDATEs and answers each with a TSIG-signed rcode. */
import net from 'node:net';
import type { DnsMessage, NameServer, Rcode } from '@chorus/core';
import { decodeMessage, encodeMessage, signMessage, type TsigKey } from '@chorus/dns';

export interface FakeUpdateServer {
  server: NameServer;
  /** Every UPDATE received, decoded. */
  received: DnsMessage[];
  close(): Promise<void>;
}

function framed(bytes: Buffer): Buffer {
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(bytes.length);
  return Buffer.concat([prefix, bytes]);
}

function answer(request: DnsMessage, rcode: Rcode, key: TsigKey): Buffer {
  const unsigned = encodeMessage({
    id: request.id,
    opcode: 'UPDATE',
    flags: { qr: true, aa: false, tc: false, rd: false, ra: false, ad: false, cd: false },
    rcode,
    questions: request.questions,
    answers: [],
    authorities: [],
    additionals: [],
  });
  const requestMac = Buffer.from(request.tsig!.data.mac, 'base64');
  return signMessage(unsigned, key, { requestMac }).bytes;
}

/** Answers every UPDATE with `rcode`, signed with `key`, until closed. */
export async function startFakeUpdateServer(
  key: TsigKey,
  rcode: Rcode = 'NOERROR',
): Promise<FakeUpdateServer> {
  const received: DnsMessage[] = [];
  const sockets = new Set<net.Socket>();
  const listener = net.createServer((socket) => {
    sockets.add(socket);
    let buffer = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 2 && buffer.length >= 2 + buffer.readUInt16BE(0)) {
        const request = decodeMessage(buffer.subarray(2, 2 + buffer.readUInt16BE(0)));
        buffer = buffer.subarray(2 + buffer.readUInt16BE(0));
        received.push(request);
        socket.write(framed(answer(request, rcode, key)));
      }
    });
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return {
    server: { address: '127.0.0.1', port: (listener.address() as net.AddressInfo).port },
    received,
    // The kit pools TCP connections: closing them here ends the test at once.
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        listener.close(() => resolve());
      }),
  };
}
