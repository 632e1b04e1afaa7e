import net from 'node:net';
import { decodeMessage, describeServer, encodeMessage } from '@chorus/dns';
import type { ApexSnapshot, DnsRecord, NameServer, Signer, ZoneContentDigest } from '@chorus/core';
import type { ZoneState } from '@chorus/engine';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ContentWatch, serialAfter } from '../src/content-watch.js';

const ZONE = 'example.test.';
const servers: net.Server[] = [];
const connections: net.Socket[] = [];
afterEach(async () => {
  for (const socket of connections.splice(0)) socket.destroy();
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  );
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

/** The answer to one query: ZONE's SOA with `serial.value`. */
function soaAnswer(query: Buffer, serial: { value: number }): Buffer {
  const request = decodeMessage(query);
  return encodeMessage({
    ...request,
    flags: { ...request.flags, qr: true, aa: true },
    rcode: 'NOERROR',
    answers: [soaRecord(serial.value)],
  });
}

/** A TCP server on loopback (length-prefixed, several queries per connection) answering SOA. */
async function soaServer(serial: { value: number }): Promise<NameServer> {
  const server = net.createServer((socket) => {
    connections.push(socket);
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const length = pending.readUInt16BE(0);
        const answer = soaAnswer(pending.subarray(2, 2 + length), serial);
        pending = pending.subarray(2 + length);
        const prefix = Buffer.alloc(2);
        prefix.writeUInt16BE(answer.length);
        socket.write(Buffer.concat([prefix, answer]));
      }
    });
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { address: '127.0.0.1', port: (server.address() as net.AddressInfo).port };
}

/** An apex read of ZONE at `serial`, as `server` served it. */
function apexAt(server: NameServer, serial: number): ApexSnapshot {
  const soa = soaRecord(serial);
  return {
    zone: ZONE,
    server: describeServer(server),
    soa: { name: ZONE, type: 'SOA', class: 'IN', ttl: 10, records: [soa.data], signatures: [] },
    ns: null,
    dnskey: null,
    cds: null,
    cdnskey: null,
    csync: null,
  } as ApexSnapshot;
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
  return { watch, reads, server };
}

describe('the content watch after the sidecar’s own change', () => {
  it('reads nothing after a change that moved the serial by one', async () => {
    const serial = { value: 100 };
    const { watch, reads, server } = await watchWith(serial);
    await watch.readNow(ZONE);
    expect(reads.count).toBe(1);
    serial.value += 1;
    watch.ownChangeApplied(ZONE, apexAt(server, 100), apexAt(server, 101));
    await watch.round(ZONE);
    expect(reads.count).toBe(1);
  });

  it('reads again after a change it was not told of (the control)', async () => {
    const serial = { value: 100 };
    const { watch, reads } = await watchWith(serial);
    await watch.readNow(ZONE);
    serial.value += 1;
    await watch.round(ZONE);
    expect(reads.count).toBe(2);
  });

  it('reads again when someone else changed the zone during the change (serial moved by two)', async () => {
    const serial = { value: 100 };
    const { watch, reads, server } = await watchWith(serial);
    await watch.readNow(ZONE);
    serial.value += 2;
    watch.ownChangeApplied(ZONE, apexAt(server, 100), apexAt(server, 102));
    await watch.round(ZONE);
    expect(reads.count).toBe(2);
  });

  it('reads again when the zone had changed before the change began', async () => {
    const serial = { value: 100 };
    const { watch, reads, server } = await watchWith(serial);
    await watch.readNow(ZONE);
    serial.value += 2; // an operator's edit, not read yet, then the sidecar's change
    watch.ownChangeApplied(ZONE, apexAt(server, 101), apexAt(server, 102));
    await watch.round(ZONE);
    expect(reads.count).toBe(2);
  });

  it('ignores apex reads from another server than the one it watches', async () => {
    const serial = { value: 100 };
    const { watch, reads } = await watchWith(serial);
    await watch.readNow(ZONE);
    serial.value += 1;
    const elsewhere = { address: '127.0.0.9', port: 53 };
    watch.ownChangeApplied(ZONE, apexAt(elsewhere, 100), apexAt(elsewhere, 101));
    await watch.round(ZONE);
    expect(reads.count).toBe(2);
  });

  it('counts serials modulo 2^32', () => {
    expect(serialAfter(4_294_967_295)).toBe(0);
    expect(serialAfter(7)).toBe(8);
  });
});
