import { spawn } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryEventLog, createSqliteEventLog } from '@chorus/event-log-sqlite';
import {
  createSigningEventLog,
  EventLogError,
  zoneEvent,
  zoneStream,
  type EventLog,
  type ProcessKind,
  type ZoneEvent,
} from '@chorus/core';
import { stepsFor } from '@chorus/engine';
import { ensureTrustKit, runCli, type CliIo } from '@chorus/cli';
import { loadEventKey } from '@chorus/sidecar';
import { describeEvent } from '../src/coordination/describe.js';
import { readZone } from '../src/coordination/event-log.js';
import { requestAndFollow } from '../src/coordination/follow.js';
import { zoneStatusLines } from '../src/commands/status.js';
import { capture } from './capture.js';

const ZONE = 'example.test.';
const source = { kind: 'sidecar', id: 'bind' };
const at = '2026-01-01T10:00:00.000Z';

/** A zone with bind registered and defined as its only signer. */
function definedZone(zone = ZONE): ZoneEvent[] {
  const signer = {
    id: 'bind',
    kind: 'bind',
    nameServerNames: ['ns1.example.test.'],
    endpoints: [{ address: '127.0.0.2', port: 53 }],
  };
  return [
    zoneEvent('signer-registered', { zone, source, occurredAt: at }, { signer }),
    zoneEvent(
      'zone-defined',
      { zone, source: { kind: 'cli', id: 'test' }, occurredAt: at },
      {
        parentZone: 'test.',
        signers: [signer],
        timing: {
          childPropagationSeconds: 1,
          parentPropagationSeconds: 1,
          safetyMarginSeconds: 1,
          maxZoneTtlSeconds: 30,
        },
        recordTtlSeconds: 30,
      },
    ),
  ];
}

/**
 * A log whose sidecar refuses each request right after the CLI's first read that follows it: the
 * refusal lands between two reads of a CLI that reads the zone state and its history separately.
 */
function refusingRightAfterRead(inner: EventLog<ZoneEvent>): EventLog<ZoneEvent> {
  let requested: ZoneEvent | undefined;
  return {
    ...inner,
    append: async (stream, expected, events) => {
      const result = await inner.append(stream, expected, events);
      requested = events.find((event) => event.type === 'process-requested') ?? requested;
      return result;
    },
    readStream: async (stream, options) => {
      const read = await inner.readStream(stream, options);
      if (requested?.type === 'process-requested') {
        const { processId, kind, signerId } = requested.data;
        requested = undefined;
        await inner.append(stream, await inner.streamVersion(stream), [
          zoneEvent(
            'process-blocked',
            { zone: ZONE, source },
            {
              processId,
              kind,
              signerId,
              reasons: [{ code: 'already-member', message: 'bind is already a member' }],
            },
          ),
        ]);
      }
      return read;
    },
    subscribe: (options) => inner.subscribe(options),
  };
}

describe('following a request', () => {
  it('ends with the refusal even when it lands between two reads (no hang)', async () => {
    const inner = createMemoryEventLog<ZoneEvent>();
    await inner.append(zoneStream(ZONE), 0, definedZone());
    const run = capture();
    const following = requestAndFollow(
      refusingRightAfterRead(inner),
      ZONE,
      'add-signer',
      'bind',
      run.io,
      { json: false, detach: false },
    );
    await expect(following).rejects.toThrow(/refused before any change/);
    expect(run.err()).toContain('REFUSED');
    await inner.close();
  }, 10_000);
});

/**
 * A log that loses its quorum as the request is appended: the append lands but reports a timeout,
 * and the next two reads fail as unavailable too.
 */
function losingQuorumAtTheRequest(inner: EventLog<ZoneEvent>): EventLog<ZoneEvent> {
  let failingReads = 0;
  const down = () =>
    new EventLogError('unavailable', 'event log unavailable: NATS at tls://n1 did not answer');
  return {
    ...inner,
    append: async (stream, expectedVersion, events) => {
      const result = await inner.append(stream, expectedVersion, events);
      if (events.some((event) => event.type === 'process-requested')) {
        failingReads = 2;
        throw down();
      }
      return result;
    },
    readStream: async (stream, options) => {
      if (failingReads > 0) {
        failingReads -= 1;
        throw down();
      }
      return inner.readStream(stream, options);
    },
    subscribe: (options) => inner.subscribe(options),
  };
}

describe('requesting while the log does not answer', () => {
  it('says so, waits, and appends the request once even when a timed-out append had landed', async () => {
    const inner = createMemoryEventLog<ZoneEvent>();
    await inner.append(zoneStream(ZONE), 0, definedZone());
    const sidecar = answerRequests(inner, ({ processId, kind, signerId }) => [
      zoneEvent(
        'process-blocked',
        { zone: ZONE, source },
        {
          processId,
          kind,
          signerId,
          reasons: [{ code: 'already-member', message: 'bind is already a member' }],
        },
      ),
    ]);
    const run = capture();
    const following = requestAndFollow(
      losingQuorumAtTheRequest(inner),
      ZONE,
      'add-signer',
      'bind',
      run.io,
      { json: false, detach: false },
    );
    await expect(following).rejects.toThrow(/refused before any change/);
    expect(run.err()).toContain(
      'event log unavailable: NATS at tls://n1 did not answer; waiting until it answers',
    );
    const requests = (await inner.readStream(zoneStream(ZONE))).filter(
      ({ event }) => event.type === 'process-requested',
    );
    expect(requests).toHaveLength(1);
    await sidecar.close();
    await inner.close();
  }, 20_000);
});

/** A fake sidecar: answers each request with the events `respond` gives, in one append. */
function answerRequests(
  log: EventLog<ZoneEvent>,
  respond: (request: { processId: string; kind: ProcessKind; signerId: string }) => ZoneEvent[],
) {
  return log.subscribe({
    streamPrefix: zoneStream(ZONE),
    onEvent: async ({ event, streamVersion }) => {
      if (event.type !== 'process-requested') return;
      await log.append(zoneStream(ZONE), streamVersion, respond(event.data));
    },
  });
}

const step = (type: 'step-started' | 'step-completed', processId: string, stepIndex: number) =>
  type === 'step-started'
    ? zoneEvent(type, { zone: ZONE, source }, { processId, stepIndex, desired: {} })
    : zoneEvent(type, { zone: ZONE, source }, { processId, stepIndex });

function started(processId: string, kind: ProcessKind, signerId: string): ZoneEvent {
  return zoneEvent(
    'process-started',
    { zone: ZONE, source },
    {
      processId,
      kind,
      signerId,
      steps: [...stepsFor(kind)],
      groupBefore: ['bind'],
      groupAfter: kind === 'add-signer' ? ['bind', signerId] : [],
    },
  );
}

describe('following a process to its end', () => {
  it('ends, naming the signer and its error, when the process needs the operator', async () => {
    const log = createMemoryEventLog<ZoneEvent>();
    await log.append(zoneStream(ZONE), 0, definedZone());
    const sidecar = answerRequests(log, ({ processId, kind, signerId }) => [
      started(processId, kind, signerId),
      step('step-started', processId, 0),
      zoneEvent(
        'signer-apply-failed',
        { zone: ZONE, source: { kind: 'sidecar', id: 'knot' } },
        {
          processId,
          stepIndex: 0,
          signerId: 'knot',
          attempt: 3,
          error: { name: 'Chorus_TsigError', message: 'BADSIG from 127.0.0.4', retryable: false },
        },
      ),
    ]);
    const run = capture();
    await expect(
      requestAndFollow(log, ZONE, 'add-signer', 'knot', run.io, { json: false, detach: false }),
    ).rejects.toThrow(/needs the operator:\n.*knot failing at step 1: \[Chorus_TsigError\] BADSIG/);
    expect(run.err()).toContain('knot FAILED to apply (attempt 3)');
    const status = capture();
    expect(await statusOf(log, status.io)).toContain('NEEDS THE OPERATOR');
    await sidecar.close();
    await log.close();
  }, 10_000);

  it('says plainly, and in the JSON stream, when the leaving signer may stop serving', async () => {
    const log = createMemoryEventLog<ZoneEvent>();
    await log.append(zoneStream(ZONE), 0, definedZone());
    const retire = stepsFor('remove-signer').findIndex((s) => s.name === 'retire-leaving-signer');
    const sidecar = answerRequests(log, ({ processId, kind, signerId }) => [
      started(processId, kind, signerId),
      ...Array.from({ length: retire }, (_, index) => [
        step('step-started', processId, index),
        step('step-completed', processId, index),
      ]).flat(),
      step('step-started', processId, retire),
      zoneEvent(
        'process-failed',
        { zone: ZONE, source },
        { processId, reason: { code: 'test', message: 'stop here' } },
      ),
    ]);
    const plain = capture();
    await expect(
      requestAndFollow(log, ZONE, 'remove-signer', 'bind', plain.io, {
        json: false,
        detach: false,
      }),
    ).rejects.toThrow(/failed/);
    expect(plain.err()).toContain('>>> bind may stop serving now');
    const json = capture();
    await expect(
      requestAndFollow(log, ZONE, 'remove-signer', 'bind', json.io, { json: true, detach: false }),
    ).rejects.toThrow(/failed/);
    const notices = json
      .out()
      .split('\n')
      .filter((line) => line.includes('"notice"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(notices.at(-1)).toMatchObject({
      notice: 'leaving-signer',
      signerId: 'bind',
      mayStopServingNow: true,
    });
    await sidecar.close();
    await log.close();
  }, 10_000);
});

describe('following one of two processes that run together', () => {
  it('prints only its own events and those about no process, not the other process’s', async () => {
    const log = createMemoryEventLog<ZoneEvent>();
    await log.append(zoneStream(ZONE), 0, definedZone());
    // Another process is in flight when the request comes; its steps go on meanwhile.
    await log.append(zoneStream(ZONE), 2, [started('other-roll', 'roll-zsk', 'bind')]);
    const sidecar = answerRequests(log, ({ processId, kind, signerId }) => [
      started(processId, kind, signerId),
      step('step-started', 'other-roll', 0),
      step('step-started', processId, 0),
      zoneEvent(
        'process-failed',
        { zone: ZONE, source },
        { processId, reason: { code: 'test', message: 'stop here' } },
      ),
    ]);
    const run = capture();
    await expect(
      requestAndFollow(log, ZONE, 'roll-ksk', 'knot', run.io, { json: true, detach: false }),
    ).rejects.toThrow(/failed/);
    const printed = run
      .out()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { event: ZoneEvent });
    const processIds = printed.map(({ event }) =>
      'processId' in event.data ? event.data.processId : '',
    );
    expect(printed.map(({ event }) => event.type)).toEqual([
      'process-requested',
      'process-started',
      'step-started',
      'process-failed',
    ]);
    expect(processIds).not.toContain('other-roll');
    await sidecar.close();
    await log.close();
  }, 10_000);
});

/** The status lines of the example zone, from a memory log. */
async function statusOf(log: EventLog<ZoneEvent>, io: CliIo): Promise<string> {
  const state = await readZone(log, ZONE);
  io.stdout(zoneStatusLines(state).join('\n'));
  return zoneStatusLines(state).join('\n');
}

describe('the status of a zone', () => {
  it('shows a pending request, a failing signer and a changed registration', async () => {
    const log = createMemoryEventLog<ZoneEvent>();
    const [registered, defined] = definedZone();
    await log.append(zoneStream(ZONE), 0, [registered!, defined!]);
    const moved = {
      id: 'bind',
      kind: 'bind',
      nameServerNames: ['ns1.example.test.'],
      endpoints: [{ address: '127.0.0.99', port: 53 }],
    };
    await log.append(zoneStream(ZONE), 2, [
      zoneEvent('signer-registered', { zone: ZONE, source }, { signer: moved }),
      zoneEvent(
        'process-requested',
        { zone: ZONE, source: { kind: 'cli', id: 'alice' } },
        { processId: 'p1', kind: 'add-signer', signerId: 'knot', requestedBy: 'alice' },
      ),
    ]);
    const pending = await statusOf(log, capture().io);
    expect(pending).toContain('pending: add-signer knot requested by alice');
    expect(pending).toContain('127.0.0.2#53 → 127.0.0.99#53');
    await log.append(zoneStream(ZONE), 4, [
      started('p1', 'add-signer', 'knot'),
      step('step-started', 'p1', 0),
      zoneEvent(
        'signer-apply-failed',
        { zone: ZONE, source: { kind: 'sidecar', id: 'knot' } },
        {
          processId: 'p1',
          stepIndex: 0,
          signerId: 'knot',
          attempt: 7,
          error: { name: 'Chorus_SignerCommandError', message: 'timed out', retryable: true },
        },
      ),
    ]);
    const failing = await statusOf(log, capture().io);
    expect(failing).toContain('add-signer knot: step 1/');
    expect(failing).toMatch(
      /knot failing at step 1: \[Chorus_SignerCommandError\] timed out \(7 attempt\(s\).*retrying\)/,
    );
    expect(failing).not.toContain('STOP requested');
    await log.append(zoneStream(ZONE), 7, [
      zoneEvent(
        'process-stop-requested',
        { zone: ZONE, source: { kind: 'cli', id: 'alice' } },
        { processId: 'p1', requestedBy: 'alice', reason: 'wrong signer' },
      ),
    ]);
    const stopping = await statusOf(log, capture().io);
    expect(stopping).toMatch(
      /STOP requested by alice at .* \(wrong signer\): it ends at its next safe point/,
    );
    await log.close();
  });
});

describe('who records a step', () => {
  it('names the scribe of a step due to start, and says when nobody recorded it in time', async () => {
    const log = createMemoryEventLog<ZoneEvent>();
    await log.append(zoneStream(ZONE), 0, [...definedZone(), started('p1', 'add-signer', 'knot')]);
    const state = await readZone(log, ZONE);
    const startedAt = Date.parse(state.processes[0]!.startedAt);
    const soon = zoneStatusLines(state, new Date(startedAt + 2_000)).join('\n');
    expect(soon).toContain('about to start');
    expect(soon).toContain('(the sidecar of knot records it)');
    expect(soon).not.toContain('is one running?');
    const late = zoneStatusLines(state, new Date(startedAt + 60_000)).join('\n');
    expect(late).toMatch(
      /due since \d\d:\d\d:\d\d, not recorded: the sidecar of knot records it, and after 10 s any sidecar of the zone; is one running\?/,
    );
    await log.append(zoneStream(ZONE), 3, [step('step-started', 'p1', 0)]);
    const running = zoneStatusLines(await readZone(log, ZONE), new Date(startedAt + 60_000));
    expect(running.join('\n')).not.toContain('is one running?');
    await log.close();
  });
});

describe('describing events', () => {
  it('names a step once, even without the state that knows its name', () => {
    const line = describeEvent(
      zoneEvent(
        'step-started',
        { zone: ZONE, source, occurredAt: at },
        { processId: 'p', stepIndex: 0, desired: {} },
      ),
    );
    expect(line).toContain('step 1 started');
    expect(line).not.toMatch(/step 1 step/);
  });
});

describe('coordination commands on a log', () => {
  let directory: string;
  let logFile: string;

  beforeAll(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-cli-coordination-'));
    logFile = path.join(directory, 'events.sqlite');
    const log = createSqliteEventLog<ZoneEvent>({ path: logFile });
    await log.append(zoneStream(ZONE), 0, definedZone());
    await log.close();
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it.each([
    ['zone', 'define', 'example.test. extra', '--signer', 'bind'],
    ['zone', 'define', 'exa;mple.test.', '--signer', 'bind'],
    ['events', 'example .test.'],
    ['status', 'example.test. extra'],
    ['signer', 'add', 'example.test. extra', 'knot'],
    ['migrate', 'example.test. extra', '--to', 'knot'],
    ['bootstrap', 'example.test. extra', '--signer', 'bind'],
    ['report', 'example.test. extra'],
  ])('refuses a zone name with spaces, ";" or trailing words: %s %s %s', async (...args) => {
    const run = capture();
    expect(await runCli([...args, '--log', logFile], run.io)).toBe(2);
    expect(run.err()).toMatch(/invalid zone name/);
  });

  it('bootstraps a defined zone only as defined, and an undefined one only with its signers', async () => {
    const other = capture();
    const code = await runCli(['bootstrap', ZONE, '--signer', 'knot', '--log', logFile], other.io);
    expect(code).toBe(1);
    expect(other.err()).toContain('already defined with bind, not knot');
    const unnamed = capture();
    expect(await runCli(['bootstrap', 'new.test.', '--log', logFile], unnamed.io)).toBe(2);
    expect(unnamed.err()).toContain('name its signers with --signer');
  });

  it('says which zones exist when asked for events of an unknown zone', async () => {
    const run = capture();
    expect(await runCli(['events', 'nosuch.test.', '--log', logFile], run.io)).toBe(1);
    expect(run.err()).toContain('no zone nosuch.test.');
    expect(run.err()).toContain('example.test.');
  });

  it('refuses a stream name where a zone is expected, listing the zones', async () => {
    const run = capture();
    expect(await runCli(['events', `observations/${ZONE}`, '--log', logFile], run.io)).toBe(2);
    expect(run.err()).toContain('example.test.');
  });

  it('says which zones exist when asked for the status of an unknown zone', async () => {
    const run = capture();
    expect(await runCli(['status', 'nosuch.test.', '--log', logFile], run.io)).toBe(1);
    expect(run.err()).toContain('example.test.');
  });

  it('says the log holds no zone, and exits 1, on an empty log', async () => {
    const empty = path.join(directory, 'empty.sqlite');
    await createSqliteEventLog<ZoneEvent>({ path: empty }).close();
    const run = capture();
    expect(await runCli(['status', '--log', empty], run.io)).toBe(1);
    expect(run.err()).toContain('no zone');
  });

  it('leaves no file behind when the log does not exist', async () => {
    const missing = path.join(directory, 'missing.sqlite');
    const run = capture();
    expect(
      await runCli(['zone', 'define', 'shop.test.', '--signer', 'bind', '--log', missing], run.io),
    ).toBe(1);
    expect(run.err()).toContain('no event log');
    await expect(access(missing)).rejects.toThrow();
  });

  it('refuses to define a zone with a server-timed signer whose pre-publication is too short, naming the setting', async () => {
    const file = path.join(directory, 'short-pre-publication.sqlite');
    const log = createSqliteEventLog<ZoneEvent>({ path: file });
    const register = (id: string, prePublicationSeconds: number) =>
      zoneEvent(
        'signer-registered',
        { zone: 'roll.test.', source: { kind: 'sidecar', id }, occurredAt: at },
        {
          signer: {
            id,
            kind: 'knot',
            nameServerNames: [`ns.${id}.test.`],
            endpoints: [{ address: '127.0.0.4', port: 53 }],
            rollover: {
              mode: 'server-timed',
              prePublicationSeconds,
              settings: `dnskey-ttl 30 + propagation-delay ${prePublicationSeconds - 30}`,
              settingToRaise: 'propagation-delay in Knot policy chorus',
            },
            keyWatchSeconds: 2,
          },
        },
      );
    const kit = ensureTrustKit(path.join(directory, 'short-pre-publication'), ['short', 'long']);
    const asSidecar = (id: string) => createSigningEventLog(log, loadEventKey(kit.keyFileOf(id)));
    await asSidecar('short').append(zoneStream('roll.test.'), 0, [register('short', 30)]);
    await asSidecar('long').append(zoneStream('roll.test.'), 1, [register('long', 40)]);
    await log.close();
    const define = (signer: string, signed = true) => [
      'zone',
      'define',
      'roll.test.',
      '--signer',
      signer,
      '--record-ttl',
      '30',
      '--log',
      file,
      '--trust',
      kit.trustFile,
      ...(signed ? ['--key', kit.operatorKeyFile] : []),
    ];
    const unsigned = capture();
    expect(await runCli(define('long', false), unsigned.io)).toBe(2);
    expect(unsigned.err()).toContain('sign what you append: give your operator key with --key');
    const refused = capture();
    expect(await runCli(define('short'), refused.io)).toBe(1);
    expect(refused.err()).toContain('short pre-publishes a new key for 30 s');
    expect(refused.err()).toContain('Raise propagation-delay in Knot policy chorus');
    // The control: a signer that pre-publishes long enough is accepted.
    const accepted = capture();
    expect(await runCli(define('long'), accepted.io)).toBe(0);
  });

  it('gives the status as JSON with pending requests and registration changes', async () => {
    const run = capture();
    expect(await runCli(['status', ZONE, '--json', '--log', logFile], run.io)).toBe(0);
    const [zone] = JSON.parse(run.out()) as Record<string, unknown>[];
    expect(zone).toMatchObject({
      zone: ZONE,
      members: ['bind'],
      pendingRequests: [],
      registrationChanges: [],
    });
  });

  it('shows the status of a known zone (the control)', async () => {
    const run = capture();
    expect(await runCli(['status', '--log', logFile], run.io)).toBe(0);
    expect(run.out()).toContain('example.test.  group: bind');
  });
});

describe('the built CLI', () => {
  const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

  it('exits quietly when its reader goes away (EPIPE, as in "chorus --help | head -0")', async () => {
    const child = spawn(process.execPath, [main, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  }, 30_000);
});

describe('the history of an adopted zone', () => {
  it('says the group was adopted as it stood, and whose NS names are whose', () => {
    const [, defined] = definedZone();
    const adopted = {
      ...defined!,
      data: {
        ...(defined as Extract<ZoneEvent, { type: 'zone-defined' }>).data,
        adopted: {
          observedAt: at,
          parentServers: ['127.53.0.1:53'],
          nameServers: { bind: ['ns1.example.test.'], powerdns: ['ns.powerdns.test.'] },
        },
      },
    } as ZoneEvent;
    expect(describeEvent(adopted)).toMatch(
      /defined with bind \(parent test\.\), adopted as it stood on the wire at \S+ \(bind: ns1\.example\.test\.; powerdns: ns\.powerdns\.test\.\)$/,
    );
    expect(describeEvent(defined!)).not.toMatch(/adopted/);
  });
});
