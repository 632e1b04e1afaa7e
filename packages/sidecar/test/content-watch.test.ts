import dgram from 'node:dgram';
import { decodeMessage, encodeMessage } from '@chorus/dns';
import type { DnsRecord, Signer, ZoneContentDigest } from '@chorus/core';
import type { ZoneState } from '@chorus/engine';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ContentWatch, serialAfter } from '../src/content-watch.js';

const ZONE = 'example.test.';
const sockets: dgram.Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

/** The zone's SOA with `serial`. */
function soaRecord(serial: number): DnsRecord {
  return {
    name: ZONE,
    type: 'SOA',
    class: 'IN',
    ttl: 10,
    data: {
      mname: `ns.${ZONE}`,
      rname: `hostmaster.${ZONE}`,
      serial,
      refresh: 60,
      retry: 60,
      expire: 600,
      minimum: 10,
    },
  };
}

/** A UDP server on loopback that answers SOA for ZONE with `serial.value`. */
async function soaServer(serial: { value: number }) {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (datagram, peer) => {
    const request = decodeMessage(datagram);
    const answer = encodeMessage({
      ...request,
      flags: { ...request.flags, qr: true, aa: true },
      rcode: 'NOERROR',
      answers: [soaRecord(serial.value)],
    });
    socket.send(answer, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  sockets.push(socket);
  return { address: '127.0.0.1', port: socket.address().port };
}

/** A watch over a signer whose zone reads are counted; the log accepts every digest. */
async function watchWith(serial: { value: number }) {
  const server = await soaServer(serial);
  const reads = { count: 0 };
  const signer = {
    kind: 'test',
    nameServers: [server],
    capabilities: { 'content-read': { status: 'can', reason: 'test' } },
    readZoneContent: () => {
      reads.count += 1;
      return Promise.resolve([soaRecord(serial.value)]);
    },
  } as unknown as Signer;
  let recorded: ZoneContentDigest | undefined;
  const watch = new ContentWatch({
    signer,
    signerId: 'test',
    logger: pino({ level: 'silent' }),
    signal: new AbortController().signal,
    refresh: () =>
      Promise.resolve({
        signers: { test: recorded ? { content: recorded } : {} },
      } as unknown as ZoneState),
    appendContent: (_zone, _state, content) => {
      recorded = content;
      return Promise.resolve(true);
    },
  });
  return { watch, reads };
}

describe('the content watch around the sidecar’s own change', () => {
  it('reads nothing after a change that moved the serial by one', async () => {
    const serial = { value: 100 };
    const { watch, reads } = await watchWith(serial);
    await watch.readNow(ZONE);
    expect(reads.count).toBe(1);
    await watch.aroundOwnChange(ZONE, () => Promise.resolve(void (serial.value += 1)));
    await watch.round(ZONE);
    expect(reads.count).toBe(1);
  });

  it('reads again when someone else changed the zone during the change (serial moved by two)', async () => {
    const serial = { value: 100 };
    const { watch, reads } = await watchWith(serial);
    await watch.readNow(ZONE);
    await watch.aroundOwnChange(ZONE, () => Promise.resolve(void (serial.value += 2)));
    await watch.round(ZONE);
    expect(reads.count).toBe(2);
  });

  it('reads again when the zone had changed before the change began', async () => {
    const serial = { value: 100 };
    const { watch, reads } = await watchWith(serial);
    await watch.readNow(ZONE);
    serial.value += 1; // an operator's edit, not read yet
    await watch.aroundOwnChange(ZONE, () => Promise.resolve(void (serial.value += 1)));
    await watch.round(ZONE);
    expect(reads.count).toBe(2);
  });

  it('counts serials modulo 2^32', () => {
    expect(serialAfter(4_294_967_295)).toBe(0);
    expect(serialAfter(7)).toBe(8);
  });
});
