import { access, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADD_SIGNER_STEPS } from '@chorus/engine';
import { createSqliteEventLog } from '@chorus/event-log-sqlite';
import {
  observationStream,
  zoneStream,
  type ChorusEvent,
  type ObservationEvent,
  type ZoneEvent,
} from '@chorus/core';
import { runCli, type CliIo } from '@chorus/cli';

const ZONE = 'example.test.';
const T0 = Date.parse('2026-01-01T10:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const envelope = { schemaVersion: 1 as const, zone: ZONE, source: { kind: 'cli', id: 'test' } };

const zoneEvents: ZoneEvent[] = [
  {
    ...envelope,
    type: 'process-requested',
    occurredAt: at(0),
    data: { processId: 'p1', kind: 'add-signer', signerId: 'knot', requestedBy: 'test' },
  },
  {
    ...envelope,
    type: 'process-started',
    occurredAt: at(0),
    data: {
      processId: 'p1',
      kind: 'add-signer',
      signerId: 'knot',
      steps: [...ADD_SIGNER_STEPS],
      groupBefore: ['bind'],
      groupAfter: ['bind', 'knot'],
    },
  },
  {
    ...envelope,
    type: 'step-started',
    occurredAt: at(1),
    data: { processId: 'p1', stepIndex: 0, desired: {} },
  },
  {
    ...envelope,
    type: 'step-completed',
    occurredAt: at(4),
    data: { processId: 'p1', stepIndex: 0 },
  },
];

const observations: ObservationEvent[] = [
  {
    ...envelope,
    type: 'wire-version-observed',
    occurredAt: at(2),
    data: {
      provider: 'bind',
      server: '127.53.0.2#53',
      owner: ZONE,
      rrtype: 'DNSKEY',
      version: 'v1',
      rcode: 'NOERROR',
      ttl: 30,
      records: ['257 3 13 AAAA'],
      signedBy: [11111],
      keys: [{ keyTag: 11111, algorithm: 13, role: 'KSK', owner: 'bind' }],
    },
  },
  {
    ...envelope,
    type: 'validation-failed',
    occurredAt: at(3),
    data: { provider: 'bind', name: ZONE, rrtype: 'DNSKEY', detail: 'bogus', invariant: 'I2' },
  },
];

function fakeIo() {
  const out = { stdout: '', stderr: '' };
  const io: CliIo = {
    stdout: (text) => void (out.stdout += text),
    stderr: (text) => void (out.stderr += text),
  };
  return { io, out };
}

describe('chorus report', () => {
  let directory: string;
  let logFile: string;

  beforeAll(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-cli-report-'));
    logFile = path.join(directory, 'events.sqlite');
    const log = createSqliteEventLog<ChorusEvent>({ path: logFile });
    await log.append(zoneStream(ZONE), 0, zoneEvents);
    await log.append(observationStream(ZONE), 0, observations);
    await log.close();
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('writes the report and prints the path of report.html', async () => {
    const { io, out } = fakeIo();
    const outDir = path.join(directory, 'plain');
    const code = await runCli(['report', 'example.test', '--log', logFile, '--out', outDir], io);
    expect(out.stderr).toContain('[report]');
    expect(code).toBe(0);
    expect(out.stdout).toBe(`${path.join(outDir, 'report.html')}\n`);
    expect((await readdir(outDir)).sort()).toEqual([
      'process-1-add-signer-knot.svg',
      'report.html',
      'timeline.json',
    ]);
    const html = await readFile(path.join(outDir, 'report.html'), 'utf8');
    expect(html).toContain('Chorus timeline: example.test.');
    expect(html).toContain('class="glitch"');
  });

  it('prints the paths and the glitch count with --json', async () => {
    const { io, out } = fakeIo();
    const outDir = path.join(directory, 'json');
    const code = await runCli(['report', ZONE, '--log', logFile, '--out', outDir, '--json'], io);
    expect(code).toBe(0);
    const printed = JSON.parse(out.stdout) as {
      zone: string;
      html: string;
      json: string;
      svgs: { processId: string; kind: string; signerId: string; path: string }[];
      glitches: number;
    };
    expect(printed).toMatchObject({
      zone: ZONE,
      html: path.join(outDir, 'report.html'),
      json: path.join(outDir, 'timeline.json'),
      glitches: 1,
      svgs: [
        {
          processId: 'p1',
          kind: 'add-signer',
          signerId: 'knot',
          path: path.join(outDir, 'process-1-add-signer-knot.svg'),
        },
      ],
    });
    await access(printed.svgs[0]!.path);
    expect(await readFile(printed.svgs[0]!.path, 'utf8')).toMatch(/^<svg /);
  });

  it('says so and exits 1 for a zone without events', async () => {
    const { io, out } = fakeIo();
    const outDir = path.join(directory, 'none');
    const code = await runCli(['report', 'other.test', '--log', logFile, '--out', outDir], io);
    expect(code).toBe(1);
    expect(out.stderr).toContain('no events for zone other.test.');
    expect(out.stdout).toBe('');
    await expect(access(outDir)).rejects.toThrow();
  });

  it('refuses a missing log without creating it', async () => {
    const { io, out } = fakeIo();
    const missing = path.join(directory, 'missing.sqlite');
    const code = await runCli(['report', ZONE, '--log', missing], io);
    expect(code).toBe(1);
    expect(out.stderr).toContain(`cannot read the event log ${missing}: no such file`);
    await expect(access(missing)).rejects.toThrow();
  });

  it('refuses a file that is not an event log', async () => {
    const { io, out } = fakeIo();
    const junk = path.join(directory, 'junk.sqlite');
    await writeFile(
      junk,
      'this is not a database, just some text that is long enough\n'.repeat(20),
    );
    const code = await runCli(['report', ZONE, '--log', junk], io);
    expect(code).toBe(1);
    expect(out.stderr).toContain(`cannot read the event log ${junk}`);
  });

  it('needs a zone, and has help', async () => {
    const missing = fakeIo();
    expect(await runCli(['report', '--log', logFile], missing.io)).toBe(2);
    expect(missing.out.stderr).toContain('name the zone');
    const help = fakeIo();
    expect(await runCli(['report', '--help'], help.io)).toBe(0);
    expect(help.out.stdout).toContain('Usage: chorus report ZONE');
  });
});
