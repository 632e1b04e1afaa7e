/**
 * `zone define` with two or more signers adopts the group: checked on the wire first. Here every
 * address is a closed port on this host, so the adoption is refused with reasons (one per
 * address, and the parent), listed on stderr or as JSON, and nothing is appended. The rules
 * themselves are tested in packages/engine/test/adoption.test.ts; the adoption that succeeds in
 * test/adopt-group.test.ts, against a lab.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteEventLog } from '@chorus/event-log-sqlite';
import { createSigningEventLog, zoneEvent, zoneStream, type ZoneEvent } from '@chorus/core';
import { ensureTrustKit, runCli, type TrustKit } from '@chorus/cli';
import { loadEventKey } from '@chorus/sidecar';
import { capture } from './capture.js';

const ZONES = ['adopt.test.', 'other.test.'];
let directory: string;
let file: string;
let kit: TrustKit;
let closedPort: number;

const logArgs = () => ['--log', file, '--trust', kit.trustFile, '--key', kit.operatorKeyFile];
const parentArgs = () => ['--parent-server', `127.0.0.1:${closedPort}`];

/** A port nothing listens on: opened, then closed again. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function register(zone: string, id: string): ZoneEvent {
  return zoneEvent(
    'signer-registered',
    { zone, source: { kind: 'sidecar', id } },
    {
      signer: {
        id,
        kind: id,
        nameServerNames: [`ns.${id}.test.`],
        endpoints: [{ address: '127.0.0.1', port: closedPort }],
      },
    },
  );
}

async function streamVersion(zone: string): Promise<number> {
  const log = createSqliteEventLog<ZoneEvent>({ path: file });
  try {
    return await log.streamVersion(zoneStream(zone));
  } finally {
    await log.close();
  }
}

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-adopt-'));
  file = path.join(directory, 'events.sqlite');
  kit = ensureTrustKit(path.join(directory, 'kit'), ['bind', 'knot']);
  closedPort = await freePort();
  const log = createSqliteEventLog<ZoneEvent>({ path: file });
  for (const zone of ZONES)
    for (const id of ['bind', 'knot']) {
      const signed = createSigningEventLog(log, loadEventKey(kit.keyFileOf(id)));
      await signed.append(zoneStream(zone), await log.streamVersion(zoneStream(zone)), [
        register(zone, id),
      ]);
    }
  await log.close();
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('zone define adopting a group', () => {
  it('refuses a group it cannot see on the wire, listing every reason, and appends nothing', async () => {
    const before = await streamVersion('adopt.test.');
    const run = capture();
    const define = ['zone', 'define', 'adopt.test.', '--signer', 'bind', '--signer', 'knot'];
    expect(await runCli([...define, ...parentArgs(), ...logArgs()], run.io)).toBe(1);
    const text = run.err();
    expect(text).toContain('cannot adopt adopt.test. as signed by bind, knot');
    expect(text).toContain('nothing was recorded');
    expect(text).toContain(`[endpoint-unanswered] bind at 127.0.0.1:${closedPort}`);
    expect(text).toContain(`[endpoint-unanswered] knot at 127.0.0.1:${closedPort}`);
    expect(text).toContain('[parent-unobserved]');
    expect(await streamVersion('adopt.test.')).toBe(before);
  });

  it('prints the findings as JSON with --json', async () => {
    const run = capture();
    const define = ['zone', 'define', 'adopt.test.', '--signer', 'bind', '--signer', 'knot'];
    expect(await runCli([...define, ...parentArgs(), '--json', ...logArgs()], run.io)).toBe(1);
    const printed = JSON.parse(run.out()) as {
      zone: string;
      defined: boolean;
      findings: { code: string; message: string }[];
    };
    expect(printed).toMatchObject({ zone: 'adopt.test.', defined: false });
    expect(printed.findings.map((finding) => finding.code)).toEqual(
      expect.arrayContaining(['endpoint-unanswered', 'keys-unknown', 'parent-unobserved']),
    );
  });

  it('takes --parent-server as ADDR[:PORT] only', async () => {
    const run = capture();
    const define = ['zone', 'define', 'adopt.test.', '--signer', 'bind', '--signer', 'knot'];
    expect(await runCli([...define, '--parent-server', 'ns.test', ...logArgs()], run.io)).toBe(2);
    expect(run.err()).toContain('--parent-server needs an IP address');
  });

  it('says to give --parent-server when the system resolver cannot find the parent', async () => {
    const run = capture();
    // The parent "invalid." exists nowhere (RFC 6761): the lookup fails, whatever the resolver.
    const define = ['zone', 'define', 'adopt.test.', '--signer', 'bind', '--signer', 'knot'];
    expect(await runCli([...define, '--parent-zone', 'invalid.', ...logArgs()], run.io)).toBe(1);
    expect(run.err()).toContain('cannot find the nameservers of the parent zone invalid.');
    expect(run.err()).toContain('--parent-server ADDR[:PORT]');
  }, 20_000);

  it('names each zone of a group that is refused, with its findings', async () => {
    const group = capture();
    const signers = ['--signer', 'bind', '--signer', 'knot'];
    expect(await runCli(['group', 'define', 'pair', ...signers, ...logArgs()], group.io)).toBe(0);
    const run = capture();
    const define = ['zone', 'define', ...ZONES, '--group', 'pair', ...parentArgs()];
    expect(await runCli([...define, '--json', ...logArgs()], run.io)).toBe(1);
    const outcomes = run
      .out()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { zone: string; error?: string; findings?: unknown[] });
    expect(outcomes.map((outcome) => outcome.zone)).toEqual(ZONES);
    for (const outcome of outcomes) {
      expect(outcome.error).toContain(`cannot adopt ${outcome.zone}`);
      expect(outcome.findings?.length).toBeGreaterThan(0);
    }
    expect(await streamVersion('other.test.')).toBe(2);
  });
});
