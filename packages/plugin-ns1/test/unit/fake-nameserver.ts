/** A TCP nameserver on loopback that answers authoritatively from a list of records. */
import net from 'node:net';
import type { DnsMessage, DnsRecord, NameServer } from '@chorus/core';
import { decodeMessage, encodeMessage } from '@chorus/dns';

export interface FakeNameserver {
  server: NameServer;
  close(): Promise<void>;
}

function reply(request: DnsMessage, records: readonly DnsRecord[]): Buffer {
  const question = request.questions[0]!;
  const answers = records.filter(
    (record) =>
      record.name.toLowerCase() === question.name.toLowerCase() && record.type === question.type,
  );
  return encodeMessage({
    id: request.id,
    opcode: 'QUERY',
    flags: { qr: true, aa: true, tc: false, rd: false, ra: false, ad: false, cd: false },
    rcode: 'NOERROR',
    questions: request.questions,
    answers,
    authorities: [],
    additionals: [],
  });
}

/** Serves `records` (NODATA for anything else) until closed. */
export async function startFakeNameserver(records: readonly DnsRecord[]): Promise<FakeNameserver> {
  const server = net.createServer((socket) => {
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 2 && buffer.length >= 2 + buffer.readUInt16BE(0)) {
        const length = buffer.readUInt16BE(0);
        const bytes = reply(decodeMessage(buffer.subarray(2, 2 + length)), records);
        buffer = buffer.subarray(2 + length);
        const prefix = Buffer.alloc(2);
        prefix.writeUInt16BE(bytes.length);
        socket.write(Buffer.concat([prefix, bytes]));
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server: { address: '127.0.0.1', port: (server.address() as net.AddressInfo).port },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}
