/** A TCP nameserver on loopback that serves an apex: enough for readApexFromServer. */
import net from 'node:net';
import type { DnskeyData, DnsMessage, DnsRecord, NameServer, Rcode } from '@chorus/core';
import { decodeMessage, encodeMessage } from '@chorus/dns';

export interface FakeNameserver {
  server: NameServer;
  close(): Promise<void>;
}

export interface ApexContent {
  zone: string;
  dnskeys: DnskeyData[];
  /** More records served, by owner and type. */
  records?: DnsRecord[];
  /** Answer every query with this rcode (and no AA) instead, e.g. REFUSED. */
  rcode?: Rcode;
}

function answersFor(content: ApexContent, name: string, type: string): DnsRecord[] {
  if (name.toLowerCase() !== content.zone.toLowerCase())
    return (content.records ?? []).filter(
      (record) => record.name.toLowerCase() === name.toLowerCase() && record.type === type,
    );
  const record = (data: unknown, recordType: string) =>
    ({ name: content.zone, type: recordType, class: 'IN', ttl: 3600, data }) as DnsRecord;
  switch (type) {
    case 'SOA':
      return [
        record(
          {
            mname: `ns1.${content.zone}`,
            rname: `hostmaster.${content.zone}`,
            serial: 1,
            refresh: 3600,
            retry: 600,
            expire: 604800,
            minimum: 3600,
          },
          'SOA',
        ),
      ];
    case 'NS':
      return [record('ns1.desec.test.', 'NS')];
    case 'DNSKEY':
      return content.dnskeys.map((key) => record(key, 'DNSKEY'));
    default:
      return [];
  }
}

function reply(request: DnsMessage, content: ApexContent): Buffer {
  const question = request.questions[0]!;
  return encodeMessage({
    id: request.id,
    opcode: 'QUERY',
    flags: {
      qr: true,
      aa: content.rcode === undefined,
      tc: false,
      rd: false,
      ra: false,
      ad: false,
      cd: false,
    },
    rcode: content.rcode ?? 'NOERROR',
    questions: request.questions,
    answers: content.rcode === undefined ? answersFor(content, question.name, question.type) : [],
    authorities: [],
    additionals: [],
  });
}

export async function startFakeNameserver(content: ApexContent): Promise<FakeNameserver> {
  const server = net.createServer((socket) => {
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 2 && buffer.length >= 2 + buffer.readUInt16BE(0)) {
        const length = buffer.readUInt16BE(0);
        const bytes = reply(decodeMessage(buffer.subarray(2, 2 + length)), content);
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
