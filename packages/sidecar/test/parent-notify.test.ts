import dgram from 'node:dgram';
import { decodeMessage, encodeMessage } from '@chorus/dns';
import type { DnsMessage, Rcode } from '@chorus/core';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ParentNotifier } from '../src/parent-notify.js';
import { recordingLogger } from './recording-logger.js';

/** A UDP scanner on loopback that records each NOTIFY and answers it with `rcode`. */
async function scanner(rcode: Rcode) {
  const received: DnsMessage[] = [];
  const socket = dgram.createSocket('udp4');
  socket.on('message', (datagram, peer) => {
    const request = decodeMessage(datagram);
    received.push(request);
    const answer = encodeMessage({ ...request, flags: { ...request.flags, qr: true }, rcode });
    socket.send(answer, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  sockets.push(socket);
  return { received, endpoint: { address: '127.0.0.1', port: socket.address().port } };
}

const sockets: dgram.Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

describe('ParentNotifier', () => {
  it('sends NOTIFY(CDS) and NOTIFY(CSYNC) to every target, once per step', async () => {
    const [first, second] = [await scanner('NOERROR'), await scanner('NOERROR')];
    const { logger, lines } = recordingLogger();
    const notifier = new ParentNotifier({
      targets: { kind: 'fixed', servers: [first.endpoint, second.endpoint] },
      logger,
      signal: new AbortController().signal,
    });
    const notifyOnce = async (zone: string, step: string, type: 'CDS' | 'CSYNC') =>
      notifier.notify(zone, step, type, await notifier.targetsFor(zone, type));
    await notifyOnce('Example.TEST', 'p1/3', 'CDS');
    expect(notifier.hasNotified('example.test', 'p1/3')).toBe(true);
    await notifyOnce('example.test.', 'p1/3', 'CDS');
    await vi.waitFor(() => expect(notifier.counts.sent).toBe(2));
    await notifyOnce('example.test.', 'p1/5', 'CSYNC');
    await vi.waitFor(() => expect(notifier.counts.sent).toBe(4));

    for (const { received } of [first, second]) {
      expect(received.map((message) => message.opcode)).toEqual(['NOTIFY', 'NOTIFY']);
      expect(received.map((message) => message.questions[0])).toEqual([
        { name: 'example.test.', type: 'CDS', class: 'IN' },
        { name: 'example.test.', type: 'CSYNC', class: 'IN' },
      ]);
    }
    expect(notifier.counts.failed).toBe(0);
    expect(lines).toEqual([]);
  });

  it('logs a refused NOTIFY as a warning and carries on', async () => {
    const refusing = await scanner('REFUSED');
    const { logger, lines } = recordingLogger();
    const notifier = new ParentNotifier({
      targets: { kind: 'fixed', servers: [refusing.endpoint] },
      logger,
      signal: new AbortController().signal,
    });
    const targets = await notifier.targetsFor('example.test.', 'CDS');
    expect(() => notifier.notify('example.test.', 'p1/3', 'CDS', targets)).not.toThrow();
    await vi.waitFor(() => expect(notifier.counts.failed).toBe(1));
    expect(notifier.counts.sent).toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ zone: 'example.test.', type: 'CDS' });
    expect(String(lines[0]!.reason)).toMatch(/REFUSED/);
    expect(String(lines[0]!.msg)).toMatch(/on its own schedule/);
  });

  it("tries a target's addresses in order until one acknowledges: one NOTIFY per target", async () => {
    const [refusing, live] = [await scanner('REFUSED'), await scanner('NOERROR')];
    const { logger, lines } = recordingLogger();
    const notifier = new ParentNotifier({
      targets: { kind: 'fixed', servers: [] },
      logger,
      signal: new AbortController().signal,
    });
    const target = { name: 'scanner.test.', addresses: [refusing.endpoint, live.endpoint] };
    notifier.notify('example.test.', 'p1/3', 'CDS', [target]);
    await vi.waitFor(() => expect(notifier.counts.sent).toBe(1));
    expect(refusing.received).toHaveLength(1);
    expect(live.received).toHaveLength(1);
    expect(notifier.counts.failed).toBe(0);
    expect(lines).toEqual([]);
  });

  it('sends nothing without targets', async () => {
    const notifier = new ParentNotifier({
      targets: { kind: 'fixed', servers: [] },
      logger: pino({ level: 'silent' }),
      signal: new AbortController().signal,
    });
    expect(notifier.enabled).toBe(false);
    expect(await notifier.targetsFor('example.test.', 'CDS')).toEqual([]);
    expect(notifier.counts).toEqual({ sent: 0, failed: 0, repeated: 0, dsyncLookups: 0 });
  });
  it('notifies a step still waiting again after 30 s, then after twice as long each time', async () => {
    const live = await scanner('NOERROR');
    const { logger, lines } = recordingLogger('info');
    const notifier = new ParentNotifier({
      targets: { kind: 'fixed', servers: [live.endpoint] },
      logger,
      signal: new AbortController().signal,
    });
    const zone = 'example.test.';
    const start = 1_000_000;
    notifier.notify(zone, 'p1/5', 'CSYNC', await notifier.targetsFor(zone, 'CSYNC'), start);
    await vi.waitFor(() => expect(live.received).toHaveLength(1));
    // Not yet, and never for another step (the controls).
    expect(notifier.notifyAgainIfDue(zone, 'p1/5', start + 29_999)).toBe(false);
    expect(notifier.notifyAgainIfDue(zone, 'p1/6', start + 60_000)).toBe(false);
    expect(notifier.notifyAgainIfDue(zone, 'p1/5', start + 30_000)).toBe(true);
    await vi.waitFor(() => expect(live.received).toHaveLength(2));
    expect(notifier.notifyAgainIfDue(zone, 'p1/5', start + 30_000 + 59_999)).toBe(false);
    expect(notifier.notifyAgainIfDue(zone, 'p1/5', start + 90_000)).toBe(true);
    await vi.waitFor(() => expect(live.received).toHaveLength(3));
    expect(live.received[2]!.questions[0]).toEqual({ name: zone, type: 'CSYNC', class: 'IN' });
    expect(notifier.counts).toMatchObject({ sent: 3, repeated: 2, failed: 0 });
    expect(
      lines.filter((line) => /notifying its scanner again/.test(String(line.msg))),
    ).toHaveLength(2);
  });

  it('waits at most 8 minutes between repeats', async () => {
    const live = await scanner('NOERROR');
    const { logger } = recordingLogger();
    const notifier = new ParentNotifier({
      targets: { kind: 'fixed', servers: [live.endpoint] },
      logger,
      signal: new AbortController().signal,
    });
    const targets = await notifier.targetsFor('example.test.', 'CDS');
    let now = 0;
    notifier.notify('example.test.', 'p1/3', 'CDS', targets, now);
    const gaps: number[] = [];
    for (let repeat = 0; repeat < 7; repeat += 1) {
      const sentAt = now;
      while (!notifier.notifyAgainIfDue('example.test.', 'p1/3', now)) now += 1_000;
      gaps.push((now - sentAt) / 1000);
    }
    expect(gaps).toEqual([30, 60, 120, 240, 480, 480, 480]);
  });
});
