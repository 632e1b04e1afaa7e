import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '@chorus/dns';
import { runCli, type CliIo } from '@chorus/cli';

// A real UDP socket that answers every query with an empty NOERROR and records its RD bit.
async function recordingServer(): Promise<{ socket: Socket; port: number; rd: boolean[] }> {
  const socket = createSocket('udp4');
  const rd: boolean[] = [];
  socket.on('message', (packet, peer) => {
    const request = decodeMessage(packet);
    rd.push(request.flags.rd);
    const answer = encodeMessage({
      ...request,
      flags: { ...request.flags, qr: true, aa: true },
      rcode: 'NOERROR',
      answers: [],
      authorities: [],
      additionals: [],
    });
    socket.send(answer, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: socket.address().port, rd };
}

const quiet: CliIo = { stdout: () => undefined, stderr: () => undefined };
let server: Awaited<ReturnType<typeof recordingServer>> | undefined;
afterEach(() => server?.socket.close());

describe('chorus query --server', () => {
  it('asks the server directly, without recursion (RD=0)', async () => {
    server = await recordingServer();
    const code = await runCli(
      ['query', 'www.example.test', 'A', '--server', `127.0.0.1:${server.port}`, '--json'],
      quiet,
    );
    expect(code).toBe(0);
    expect(server.rd).toEqual([false]);
  });

  it('sets RD with --recurse (the control: the bit is seen when sent)', async () => {
    server = await recordingServer();
    const code = await runCli(
      ['query', 'www.example.test', '--server', `127.0.0.1:${server.port}`, '--recurse', '--json'],
      quiet,
    );
    expect(code).toBe(0);
    expect(server.rd).toEqual([true]);
  });
});
