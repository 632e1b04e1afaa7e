/**
 * The control channel client against the lab's real named: the same answers as the rndc
 * program, and the real server's refusals (wrong key, nothing listening) as typed errors.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { pino } from 'pino';
import { describe, expect, inject, it } from 'vitest';
import { SignerCommandError } from '@chorus/core';
import { CONFORMANCE_ZONE, labServer } from '@chorus/lab/testing';
import { Rndc } from '../../src/rndc.js';
import { bindConfigFor, rndcKeyFile, wrongKeyFile } from './helpers.js';

const lab = inject('lab');
const logger = pino({ level: 'silent' });
const { rndc: viaConf } = bindConfigFor(lab, 'bind');
const bind = labServer(lab, 'bind');
const port = bind.control.kind === 'rndc' ? bind.control.port : 953;

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('rndc over the control channel (real named)', () => {
  const channel = new Rndc(viaConf, logger);
  const program = new Rndc({ ...viaConf, client: 'program' }, logger);

  it('is the default, and reads rndc.conf with its include as the program does', () => {
    expect(channel.usesChannel).toBe(true);
    expect(program.usesChannel).toBe(false);
  });

  it('answers dnssec -status and zonestatus as the rndc program does', async () => {
    expect(await channel.dnssecStatus(CONFORMANCE_ZONE)).toEqual(
      await program.dnssecStatus(CONFORMANCE_ZONE),
    );
    const [overChannel, overProgram] = await Promise.all([
      channel.zoneStatus(CONFORMANCE_ZONE),
      program.zoneStatus(CONFORMANCE_ZONE),
    ]);
    expect(overChannel).toEqual(overProgram);
    expect(overChannel.name).toBe(CONFORMANCE_ZONE.replace(/\.$/, ''));
  });

  it("passes the server's error as the program does (exit 1, the server's text)", async () => {
    const error = await failureOf(channel.zoneStatus('no-such-zone.test.'));
    expect(SignerCommandError.isInstance(error)).toBe(true);
    expect((error as SignerCommandError).exitCode).toBe(1);
    expect((error as SignerCommandError).stderr).toMatch(/no matching zone/);
  });

  it('is refused by named with a wrong key: not retryable, and the secret appears nowhere', async () => {
    const keyFile = wrongKeyFile(rndcKeyFile(lab, 'bind'), 'rndc.key');
    const secret = /secret\s+"([^"]+)"/.exec(readFileSync(keyFile, 'utf8'))![1]!;
    const wrong = new Rndc({ address: bind.address, port, keyFile }, logger);
    const error = await failureOf(wrong.dnssecStatus(CONFORMANCE_ZONE));
    expect(SignerCommandError.isInstance(error)).toBe(true);
    expect((error as SignerCommandError).isRetryable).toBe(false);
    expect((error as Error).message).toMatch(/wrong key/);
    expect(`${(error as Error).message}\n${(error as Error).stack}`).not.toContain(secret);
    // Control: the right key file at the same address works.
    const right = new Rndc(
      { address: bind.address, port, keyFile: rndcKeyFile(lab, 'bind') },
      logger,
    );
    expect((await right.dnssecStatus(CONFORMANCE_ZONE)).keys.length).toBeGreaterThan(0);
  });

  it('calls a port where nothing listens retryable', async () => {
    const closed = new Rndc(
      { address: bind.address, port: 9, keyFile: rndcKeyFile(lab, 'bind') },
      logger,
    );
    const error = await failureOf(closed.run(['status']));
    expect(SignerCommandError.isInstance(error)).toBe(true);
    expect((error as SignerCommandError).isRetryable).toBe(true);
    expect((error as Error).message).toMatch(/connect failed: ECONNREFUSED/);
  });

  it('calls a server that takes the connection and never answers timed out, and retryable', async () => {
    const held: Socket[] = [];
    const silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port: silentPort } = silent.address() as { port: number };
    try {
      const mute = new Rndc(
        {
          address: '127.0.0.1',
          port: silentPort,
          keyFile: rndcKeyFile(lab, 'bind'),
          timeoutMs: 300,
        },
        logger,
      );
      const error = await failureOf(mute.run(['status']));
      expect(SignerCommandError.isInstance(error)).toBe(true);
      expect((error as SignerCommandError).timedOut).toBe(true);
      expect((error as SignerCommandError).isRetryable).toBe(true);
      expect((error as Error).message).toMatch(/timed out.*no answer in time/);
      expect(held.length).toBe(1);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
