/**
 * The registry agent's NOTIFY receiver (RFC 9859 §4.3, RFC 1996): a UDP socket on the agent's
 * own lab address. A NOTIFY(CDS) or NOTIFY(CSYNC) for a zone the agent maintains is answered
 * NOERROR with AA and triggers a scan; a NOTIFY only triggers the normal checks, never bypasses
 * them. Other NOTIFYs get REFUSED, other opcodes NOTIMP, and undecodable datagrams no answer.
 */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { decodeMessage, encodeMessage, normalizeName } from '@chorus/dns';
import { DEFAULT_DNS_PORT, type DnsMessage, type NameServer, type Rcode } from '@chorus/core';
import { LabError } from './errors.js';

export interface NotifyNotice {
  zone: string;
  /** The question type: `CDS`, `CSYNC`, `SOA`… */
  type: string;
  /** `address:port` of the sender. */
  from: string;
}

export interface NotifyListener {
  /** The bound endpoint. */
  endpoint: NameServer;
  close(): Promise<void>;
}

function reply(request: DnsMessage, rcode: Rcode, authoritative: boolean): Buffer {
  return encodeMessage({
    id: request.id,
    opcode: request.opcode,
    flags: {
      qr: true,
      aa: authoritative,
      tc: false,
      rd: request.flags.rd,
      ra: false,
      ad: false,
      cd: false,
    },
    rcode,
    questions: request.questions.slice(0, 1),
    answers: [],
    authorities: [],
    additionals: [],
  });
}

/**
 * Listens for NOTIFY on `endpoint` (UDP). `onNotify` says whether the notice is accepted (then
 * the answer is NOERROR with AA, else REFUSED).
 */
export async function listenForNotify(
  endpoint: NameServer,
  onNotify: (notice: NotifyNotice) => boolean,
): Promise<NotifyListener> {
  const port = endpoint.port ?? DEFAULT_DNS_PORT;
  const socket = dgram.createSocket(isIPv6(endpoint.address) ? 'udp6' : 'udp4');
  socket.on('message', (datagram, peer) => {
    let request: DnsMessage;
    try {
      request = decodeMessage(datagram);
    } catch {
      return; // nothing sensible to answer
    }
    if (request.flags.qr) return; // a response, not a request
    let answer: Buffer;
    const question = request.questions[0];
    if (request.opcode !== 'NOTIFY') {
      answer = reply(request, request.opcode === 'QUERY' ? 'REFUSED' : 'NOTIMP', false);
    } else if (!question) {
      answer = reply(request, 'FORMERR', false);
    } else {
      let accepted: boolean;
      try {
        accepted = onNotify({
          zone: normalizeName(question.name),
          type: question.type,
          from: `${peer.address}:${peer.port}`,
        });
      } catch {
        accepted = false;
      }
      answer = reply(request, accepted ? 'NOERROR' : 'REFUSED', accepted);
    }
    socket.send(answer, peer.port, peer.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (error) =>
      reject(
        new LabError(
          `the registry agent cannot listen for NOTIFY on ${endpoint.address}:${port} (${error.message})`,
          { cause: error },
        ),
      ),
    );
    socket.bind(port, endpoint.address, () => resolve());
  });
  socket.on('error', () => undefined);
  return {
    endpoint: { address: endpoint.address, port },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
