import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createTsigKey,
  query,
  readTsigKeyFile,
  sendNotify,
  sendUpdate,
  UpdateBuilder,
  type TsigKey,
} from '@chorus/dns';
import { DnsResponseError, TsigError, type DnsRecord, type NameServer } from '@chorus/core';

// The toolkit against the lab's real BIND signer: a TSIG-signed UPDATE changes the zone, the
// query client reads the change back, and every TSIG failure is a typed error.
const lab = inject('lab');
const bind = lab.servers.find((server) => server.id === 'bind')!;
const zone = lab.zones[0]!;
const server: NameServer = { address: bind.address, port: bind.port };
let key: TsigKey;

function txtRecord(owner: string, text: string): DnsRecord {
  return { name: owner, type: 'TXT', class: 'IN', ttl: lab.ttl, data: [text] };
}

beforeAll(async () => {
  key = await readTsigKeyFile(bind.tsig.keyFile);
});

describe('TSIG UPDATE against BIND', () => {
  it('adds a record, reads it back signed, and deletes it again', async () => {
    const owner = `toolkit-${randomBytes(4).toString('hex')}.${zone}`;
    const text = `added by the toolkit at ${new Date().toISOString()}`;
    await sendUpdate(
      server,
      new UpdateBuilder(zone)
        .requireRRsetExists(zone, 'SOA')
        .requireNameAbsent(owner)
        .add(txtRecord(owner, text)),
      { tsig: key },
    );

    const readBack = await query(server, owner, 'TXT');
    expect(readBack.rcode).toBe('NOERROR');
    expect(readBack.flags.aa).toBe(true);
    expect(readBack.answers[0]?.records).toEqual([[text]]);
    expect(readBack.answers[0]?.ttl).toBe(lab.ttl);
    expect(readBack.answers[0]?.signatures.length).toBeGreaterThan(0); // BIND signed it on the fly

    await sendUpdate(server, new UpdateBuilder(zone).deleteRecord(txtRecord(owner, text)), {
      tsig: key,
    });
    expect((await query(server, owner, 'TXT')).rcode).toBe('NXDOMAIN');
  });

  it('refuses a wrong secret with a typed TSIG error and leaves the zone unchanged', async () => {
    const owner = `wrong-secret-${randomBytes(4).toString('hex')}.${zone}`;
    const wrong = createTsigKey({
      name: key.name,
      algorithm: key.algorithm,
      secret: randomBytes(32).toString('base64'),
    });
    const error = await sendUpdate(
      server,
      new UpdateBuilder(zone).add(txtRecord(owner, 'must not appear')),
      { tsig: wrong },
    ).catch((caught: unknown) => caught);
    expect(TsigError.isInstance(error)).toBe(true);
    expect((error as TsigError).failure).toBe('BADSIG');
    expect((error as TsigError).side).toBe('server-rejected-request');
    expect((error as Error).message).toMatch(/TSIG/);
    expect((error as Error).message).not.toContain(wrong.secret);
    expect((await query(server, owner, 'TXT')).rcode).toBe('NXDOMAIN');
  });

  it('reports an unknown key name as BADKEY', async () => {
    const unknown = createTsigKey({
      name: 'no-such-key',
      algorithm: 'hmac-sha256',
      secret: key.secret,
    });
    await expect(
      sendUpdate(server, new UpdateBuilder(zone).add(txtRecord(`x.${zone}`, 'x')), {
        tsig: unknown,
      }),
    ).rejects.toMatchObject({ failure: 'BADKEY' });
  });

  it('fails a prerequisite with a typed, non-retryable rcode error', async () => {
    const error = await sendUpdate(
      server,
      new UpdateBuilder(zone)
        .requireNameInUse(`absent-${randomBytes(4).toString('hex')}.${zone}`)
        .add(txtRecord(`y.${zone}`, 'y')),
      { tsig: key },
    ).catch((caught: unknown) => caught);
    expect(DnsResponseError.isInstance(error)).toBe(true);
    expect((error as DnsResponseError).rcode).toBe('NXDOMAIN');
    expect((error as DnsResponseError).isRetryable).toBe(false);
  });

  it('sends a NOTIFY that BIND acknowledges', async () => {
    await expect(sendNotify(server, zone, 'SOA', { tsig: key })).resolves.toMatchObject({
      server: expect.stringContaining(bind.address) as unknown,
    });
  });
});

describe("verification of BIND's response TSIG", () => {
  // A TCP relay in front of the real BIND. When `corrupt` is set it flips one bit of the MAC in
  // BIND's signed response, which the client must detect; unmodified, the same path succeeds.
  let relay: net.Server;
  let corrupt = false;
  const relayServer = (): NameServer => ({
    address: '127.0.0.1',
    port: (relay.address() as net.AddressInfo).port,
  });

  beforeAll(async () => {
    relay = net.createServer((client) => {
      const upstream = net.connect({ host: bind.address, port: bind.port });
      client.on('data', (chunk) => upstream.write(chunk));
      let received = Buffer.alloc(0);
      upstream.on('data', (chunk) => {
        received = Buffer.concat([received, chunk]);
        if (received.length < 2 || received.length < 2 + received.readUInt16BE(0)) return;
        const frame = Buffer.from(received);
        // MAC ends 6 octets before the end: original ID, error and other-length follow it.
        if (corrupt) frame[frame.length - 7]! ^= 0x01;
        client.end(frame);
      });
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  });

  afterAll(() => new Promise<void>((resolve) => relay.close(() => resolve())));

  it('accepts the untouched response and rejects one flipped bit', async () => {
    const owner = `relay-${randomBytes(4).toString('hex')}.${zone}`;
    corrupt = false;
    await sendUpdate(relayServer(), new UpdateBuilder(zone).add(txtRecord(owner, 'via relay')), {
      tsig: key,
      retries: 0,
    });
    corrupt = true;
    const error = await sendUpdate(
      relayServer(),
      new UpdateBuilder(zone).deleteRecord(txtRecord(owner, 'via relay')),
      { tsig: key, retries: 0 },
    ).catch((caught: unknown) => caught);
    expect(TsigError.isInstance(error)).toBe(true);
    expect((error as TsigError).side).toBe('response-verification');
    expect((error as TsigError).failure).toBe('BADSIG');
    corrupt = false;
    await sendUpdate(relayServer(), new UpdateBuilder(zone).deleteRRset(owner, 'TXT'), {
      tsig: key,
      retries: 0,
    });
  });
});
