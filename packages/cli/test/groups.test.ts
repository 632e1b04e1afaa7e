/**
 * Groups through the CLI: define a group, define its zones in one command, run one request on
 * every zone from one process (paced by --parallel), sum it up in `status --group`, and ignore
 * group events no trusted operator signed. The sidecars' answers are written by a responder that
 * signs as the sidecars do: blocked for one zone, started and completed for the others.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteEventLog } from '@chorus/event-log-sqlite';
import {
  createSigningEventLog,
  groupEvent,
  groupStream,
  zoneEvent,
  zoneStream,
  type EventLog,
  type GroupEvent,
  type ZoneEvent,
} from '@chorus/core';
import { foldZone, stepsFor } from '@chorus/engine';
import { ensureTrustKit, notCompletedZonesOf, runCli, type TrustKit } from '@chorus/cli';
import { loadEventKey } from '@chorus/sidecar';
import { capture } from './capture.js';

const ZONES = ['a.test.', 'b.test.', 'c.test.'];
const source = (id: string) => ({ kind: 'sidecar', id });

let directory: string;
let file: string;
let kit: TrustKit;

const logArgs = () => ['--log', file, '--trust', kit.trustFile, '--key', kit.operatorKeyFile];

function register(zone: string, id: string): ZoneEvent {
  return zoneEvent(
    'signer-registered',
    { zone, source: source(id) },
    {
      signer: {
        id,
        kind: id,
        nameServerNames: [`ns.${id}.test.`],
        endpoints: [{ address: '127.0.0.9', port: 53 }],
      },
    },
  );
}

/** Answers every request in the log as bind's sidecar would: `refuse` zones blocked, others done. */
async function answerRequests(log: EventLog<ZoneEvent>, refuse: string[]): Promise<number> {
  const asBind = createSigningEventLog(log, loadEventKey(kit.keyFileOf('bind')));
  let answered = 0;
  for (const zone of ZONES) {
    const events = await log.readStream(zoneStream(zone));
    const state = foldZone(
      zone,
      events.map((recorded) => recorded.event),
    );
    for (const request of state.pendingRequests) {
      const { processId, kind, signerId } = request;
      const fields = { zone, source: source('bind') };
      const answer = refuse.includes(zone)
        ? [
            zoneEvent('process-blocked', fields, {
              processId,
              kind,
              signerId,
              reasons: [{ code: 'content-mismatch', message: `${signerId} serves other content` }],
            }),
          ]
        : [
            zoneEvent('process-started', fields, {
              processId,
              kind,
              signerId,
              steps: [...stepsFor(kind)],
              groupBefore: state.members,
              groupAfter: [...state.members, signerId],
            }),
            zoneEvent('process-completed', fields, {
              processId,
              groupAfter: [...state.members, signerId],
            }),
          ];
      await asBind.append(zoneStream(zone), state.version, answer);
      answered += 1;
    }
  }
  return answered;
}

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-groups-'));
  file = path.join(directory, 'events.sqlite');
  kit = ensureTrustKit(path.join(directory, 'kit'), ['bind', 'knot']);
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

describe('groups', () => {
  it('defines a group, then its zones in one command with its signers and timing', async () => {
    const define = capture();
    expect(
      await runCli(
        ['group', 'define', 'customers', '--signer', 'bind', '--record-ttl', '30', ...logArgs()],
        define.io,
      ),
    ).toBe(0);
    expect(define.out()).toContain('group customers: signers bind');
    const zones = capture();
    expect(
      await runCli(['zone', 'define', ...ZONES, '--group', 'customers', ...logArgs()], zones.io),
    ).toBe(0);
    expect(zones.out()).toContain('group customers: 3 zone(s) in the group, 0 not defined');
    const show = capture();
    expect(await runCli(['group', 'show', 'customers', '--json', ...logArgs()], show.io)).toBe(0);
    expect(JSON.parse(show.out())).toMatchObject({
      signers: ['bind'],
      recordTtlSeconds: 30,
      zones: ZONES,
      refused: [],
      verified: true,
    });
  });

  it('ignores a group event that no trusted operator signed, and says so', async () => {
    const log = createSqliteEventLog<ZoneEvent>({ path: file });
    const groups = log as unknown as EventLog<GroupEvent>;
    const version = await groups.streamVersion(groupStream('customers'));
    const forged = groupEvent(
      'group-zones-added',
      { group: 'customers', source: { kind: 'cli', id: 'mallory' } },
      { zones: ['evil.test.'] },
    );
    await groups.append(groupStream('customers'), version, [forged]);
    await log.close();
    const show = capture();
    expect(await runCli(['group', 'show', 'customers', ...logArgs()], show.io)).toBe(0);
    expect(show.out()).toContain('3 zone(s)');
    expect(show.out()).not.toContain('evil.test.');
    expect(show.out()).toMatch(/SECURITY: refused group-zones-added at version \d+: unsigned/);
    // The control: read without a trust file, nothing is verified and the forged zone counts.
    const unverified = capture();
    expect(await runCli(['group', 'show', 'customers', '--log', file], unverified.io)).toBe(0);
    expect(unverified.out()).toContain('evil.test.');
    expect(unverified.out()).toContain('NOT VERIFIED');
  });

  it('skips zones where the request is already so', async () => {
    const run = capture();
    expect(
      await runCli(['signer', 'add', '--group', 'customers', 'bind', ...logArgs()], run.io),
    ).toBe(0);
    expect(run.out()).toContain('group customers: 0 completed, 3 already so, 0 not completed');
  });

  it('runs one request on every zone, paced, and names the zone that was refused', async () => {
    const run = capture();
    const running = runCli(
      ['signer', 'add', '--group', 'customers', 'knot', '--parallel', '2', '--json', ...logArgs()],
      run.io,
    );
    const log = createSqliteEventLog<ZoneEvent>({ path: file });
    let answered = 0;
    let firstWave = -1;
    for (let round = 0; answered < 3 && round < 200; round += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const now = await answerRequests(log, ['b.test.']);
      if (now > 0 && firstWave < 0) firstWave = now;
      answered += now;
    }
    await log.close();
    expect(await running).toBe(1);
    // --parallel 2: the first wave holds two of the three zones.
    expect(firstWave).toBeLessThanOrEqual(2);
    const lines = run
      .out()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const outcomes = Object.fromEntries(
      lines.filter((line) => 'zone' in line).map((line) => [line.zone, line.status]),
    );
    expect(outcomes).toEqual({
      'a.test.': 'completed',
      'b.test.': 'blocked',
      'c.test.': 'completed',
    });
    expect(lines.at(-1)).toMatchObject({ summary: { zones: 3, completed: 2, failed: 1 } });
    // What bench:scale prints of the same output: the blocked zone with its reason, no other.
    expect(notCompletedZonesOf(run.out())).toEqual([
      {
        zone: 'b.test.',
        status: 'blocked',
        processId: expect.any(String) as string,
        message: expect.stringContaining('[content-mismatch]') as string,
      },
    ]);

    const status = capture();
    expect(await runCli(['status', '--group', 'customers', ...logArgs()], status.io)).toBe(0);
    expect(status.out()).toContain('group customers: 3 zone(s)');
    expect(status.out()).toMatch(/\s3 {2}idle/);
    expect(status.out()).toContain('1 failure(s):');
    expect(status.out()).toContain('b.test.: add-signer knot blocked: [content-mismatch]');
  }, 60_000);

  it('refuses a bad group name and an unknown group clearly', async () => {
    const bad = capture();
    expect(await runCli(['group', 'show', '../x', ...logArgs()], bad.io)).toBe(2);
    expect(bad.err()).toContain('expected a group name');
    const unknown = capture();
    expect(await runCli(['status', '--group', 'nobody', ...logArgs()], unknown.io)).toBe(1);
    expect(unknown.err()).toContain('no group nobody in the log');
  });
});
