/**
 * Faults an operator must see, with real sidecar processes against the lab's stuck.test.:
 * - a signer whose TSIG secret is wrong cannot apply a step: the failure reaches the log, the
 *   process is held for the operator, and it resumes once the key is fixed and the sidecar restarted;
 * - a sidecar whose server address does not serve the zone refuses to start, naming the address;
 * - a server-timed signer whose pre-publication is too short for the group refuses to start;
 * - a registration that changes a member's endpoints is recorded with before and after;
 * - a request whose group has a dead endpoint is refused, naming it, instead of waiting forever.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createSqliteEventLog } from '@chorus/event-log-sqlite';
import { operatorLog, sidecarLog } from './helpers/trust.js';
import {
  DEFAULT_TIMING,
  defineZone,
  foldZone,
  type ProcessState,
  type ZoneState,
} from '@chorus/engine';
import { zoneEvent, zoneStream, type EventLog, type ZoneEvent } from '@chorus/core';
import {
  sidecarConfigFor,
  startSidecarProcess,
  stopSidecarProcess,
  type RunningSidecar,
} from '@chorus/cli';
import { STUCK_ZONE, endpoint, labServer, waitUntil } from '@chorus/lab/testing';
import { CLI_MAIN } from './helpers/cli.js';

const lab = inject('lab');
const zone = STUCK_ZONE;
const source = { kind: 'test', id: 'stuck-step' };
/** An address of the lab's loopback range on which nothing listens. */
const deadAddress = labServer(lab, 'bind').address.replace(/\.\d+$/, '.250');

const directories: string[] = [];
const running: RunningSidecar[] = [];
const logs: EventLog<ZoneEvent>[] = [];

afterAll(async () => {
  for (const sidecar of running) await stopSidecarProcess(sidecar);
  for (const log of logs) await log.close();
  if (!process.env.CHORUS_TEST_KEEP)
    for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

/** A fresh directory with its own event log: each scenario has a stream of its own. */
async function scenario(name: string) {
  const directory = await mkdtemp(path.join(os.tmpdir(), `chorus-stuck-${name}-`));
  directories.push(directory);
  const eventLogPath = path.join(directory, 'events.sqlite');
  const raw = createSqliteEventLog<ZoneEvent>({ path: eventLogPath });
  logs.push(raw);
  const log = operatorLog(raw, directory);
  const events = async () =>
    (await log.readStream(zoneStream(zone))).map((recorded) => recorded.event);
  const state = async (): Promise<ZoneState> => foldZone(zone, await events());
  type Config = ReturnType<typeof sidecarConfigFor>;
  const start = async (
    id: 'bind' | 'knot',
    adjust?: (config: Config) => void,
    where = directory,
  ) => {
    const config = {
      ...sidecarConfigFor(lab, labServer(lab, id), eventLogPath, zone),
      logLevel: 'debug',
    };
    adjust?.(config);
    const sidecar = await startSidecarProcess(where, config, { cliMain: CLI_MAIN });
    running.push(sidecar);
    return sidecar;
  };
  const registered = (...ids: string[]) =>
    waitUntil(`${ids.join(', ')} to register`, async () => {
      const current = await state();
      return ids.every((id) => (current.signers[id]?.keys.length ?? 0) > 0) ? current : undefined;
    });
  const define = async (signerIds: string[]) => {
    const current = await state();
    await log.append(zoneStream(zone), current.version, [
      defineZone(
        current,
        { source, now: new Date().toISOString() },
        {
          parentZone: lab.parentZone,
          signerIds,
          timing: { ...DEFAULT_TIMING, maxZoneTtlSeconds: lab.ttl },
          recordTtlSeconds: lab.ttl,
        },
      ),
    ]);
  };
  const request = async (
    processId: string,
    kind: 'add-signer' | 'remove-signer',
    signerId: string,
  ) => {
    const current = await state();
    await log.append(zoneStream(zone), current.version, [
      zoneEvent(
        'process-requested',
        { zone, source },
        { processId, kind, signerId, requestedBy: 'test' },
      ),
    ]);
  };
  const processNamed = (
    processId: string,
    what: string,
    done: (status: string, process: ProcessState) => boolean,
    timeoutMs?: number,
  ) =>
    waitUntil(
      `process ${processId} ${what}`,
      async () => {
        const current = await state();
        const process = current.processes.find((candidate) => candidate.id === processId);
        return process && done(process.status, process) ? { state: current, process } : undefined;
      },
      { timeoutMs },
    );
  return {
    directory,
    eventLogPath,
    log,
    raw,
    events,
    state,
    start,
    registered,
    define,
    request,
    processNamed,
  };
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('a signer whose TSIG secret is wrong', () => {
  let world: Awaited<ReturnType<typeof scenario>>;
  let keyFile: string;
  let rightKey: string;
  let wrongSecret: string;
  let knot: RunningSidecar;
  let restartKnot: () => Promise<void>;

  beforeAll(async () => {
    world = await scenario('tsig');
    // The knot sidecar reads its TSIG key from a copy the test can spoil and repair.
    rightKey = await readFile(labServer(lab, 'knot').tsig.keyFile, 'utf8');
    keyFile = path.join(world.directory, 'knot-tsig.key');
    await writeFile(keyFile, rightKey, { mode: 0o600 });
    wrongSecret = randomBytes(32).toString('base64');
    const withKeyCopy = (config: ReturnType<typeof sidecarConfigFor>) => {
      (config.signer.config as { tsigKeyFile?: string }).tsigKeyFile = keyFile;
    };
    await world.start('bind');
    knot = await world.start('knot', withKeyCopy);
    await world.registered('bind', 'knot');
    await world.define(['bind']);
    await writeFile(keyFile, rightKey.replace(/secret\s+"[^"]*"/, `secret "${wrongSecret}"`), {
      mode: 0o600,
    });
    restartKnot = async () => {
      await stopSidecarProcess(knot);
      knot = await world.start('knot', withKeyCopy);
    };
  }, 120_000);

  it(
    'records the failure, holds the process for the operator and stops retrying',
    { timeout: 120_000 },
    async () => {
      await world.request('stuck-1', 'add-signer', 'knot');
      // BIND applies the step beside the failing Knot; either may be recorded first.
      const { state, process } = await world.processNamed(
        'stuck-1',
        'to need the operator, with bind having applied the step',
        (status, current) => {
          if (status === 'blocked') throw new Error('the request was refused');
          return (
            status === 'needs-operator' && current.stepStates[0]?.reconciled.bind !== undefined
          );
        },
      );
      const failures = (await world.events()).filter(
        (event) => event.type === 'signer-apply-failed',
      );
      expect(failures).toHaveLength(1);
      const failure = failures[0]!;
      if (failure.type !== 'signer-apply-failed') throw new Error('unreachable');
      expect(failure.source).toEqual({ kind: 'sidecar', id: 'knot' });
      expect(failure.data).toMatchObject({
        processId: 'stuck-1',
        stepIndex: 0,
        signerId: 'knot',
        attempt: 1,
        error: { name: 'Chorus_TsigError', retryable: false },
      });
      expect(failure.data.error.message).toMatch(/BADSIG|BADKEY/);
      const secretOf = (text: string) => /secret\s+"([^"]*)"/.exec(text)![1]!;
      for (const secret of [wrongSecret, secretOf(rightKey)])
        expect(JSON.stringify(await world.events())).not.toContain(secret);

      // The fold shows who fails, why, and how often; the other signer applied the step.
      expect(process.signerFailures?.knot).toMatchObject({
        stepIndex: 0,
        errorName: 'Chorus_TsigError',
        retryable: false,
        attempts: 1,
      });
      expect(process.reasons?.[0]?.code).toBe('signer-apply-failed');
      expect(process.reasons?.[0]?.message).toMatch(/^knot cannot apply step 1 \(sync-dnskeys\)/);
      expect(Object.keys(process.stepStates[0]!.reconciled)).toEqual(['bind']);
      expect(state.activeProcess?.id).toBe('stuck-1');

      // A request made meanwhile is refused at once, naming the held process.
      await world.request('stuck-2', 'remove-signer', 'bind');
      const refused = await world.processNamed(
        'stuck-2',
        'to be answered',
        (status) => status !== 'requested',
      );
      expect(refused.process.status).toBe('blocked');
      expect(refused.process.reasons).toMatchObject([
        {
          code: 'process-in-flight',
          message: expect.stringMatching(/stuck-1.*needs the operator/),
        },
      ]);

      // The knot sidecar gave up instead of retrying in a loop.
      const lines = (await readFile(knot.logFile, 'utf8')).split('\n');
      expect(lines.filter((line) => line.includes('will try again'))).toEqual([]);
      expect(lines.filter((line) => line.includes('needs the operator'))).toHaveLength(1);
    },
  );

  it('resumes once the key is fixed and the sidecar restarted', { timeout: 120_000 }, async () => {
    await writeFile(keyFile, rightKey, { mode: 0o600 });
    await restartKnot();
    const { process } = await world.processNamed(
      'stuck-1',
      'to run again',
      (status) => status === 'running',
    );
    await waitUntil('knot to reconcile step 1', async () => {
      const current = (await world.state()).processes.find(
        (candidate) => candidate.id === 'stuck-1',
      )!;
      return current.stepStates[0]!.reconciled.knot ? true : undefined;
    });
    const resumed = (await world.state()).processes.find(
      (candidate) => candidate.id === 'stuck-1',
    )!;
    expect(process.status).toBe('running');
    expect(resumed.signerFailures).toBeUndefined();
    expect(resumed.reasons).toBeUndefined();
  });
});

describe('a sidecar whose server address does not serve the zone', () => {
  it(
    'refuses to start, naming the address, and registers nothing',
    { timeout: 60_000 },
    async () => {
      const world = await scenario('dead-address');
      const sidecar = await world.start('knot', (config) => {
        (config.signer.config as { server: { address: string } }).server.address = deadAddress;
      });
      await waitUntil(
        'the sidecar to exit',
        () => Promise.resolve(isAlive(sidecar.pid) ? undefined : true),
        { timeoutMs: 30_000 },
      );
      const output = await readFile(sidecar.logFile, 'utf8');
      expect(output).toContain(
        `the signer's address ${deadAddress}:${labServer(lab, 'knot').port} does not serve ${zone}`,
      );
      expect(await world.events()).toEqual([]);
    },
  );
});

describe('a server-timed signer whose pre-publication is too short for the group', () => {
  it(
    'refuses to start in the defined zone, naming the setting to raise, and appends nothing',
    { timeout: 90_000 },
    async () => {
      const world = await scenario('short-pre-publication');
      // Positive control: with the lab's key watch (2 s) BIND's pre-publication is long enough.
      const first = await world.start('bind');
      await world.registered('bind');
      await world.define(['bind']);
      await stopSidecarProcess(first);
      const before = (await world.state()).version;
      // A key watch of an hour: the group would learn of BIND's new keys long after they sign.
      const sidecar = await world.start('bind', (config) => {
        config.keyWatchSeconds = 3600;
      });
      await waitUntil(
        'the sidecar to exit',
        () => Promise.resolve(isAlive(sidecar.pid) ? undefined : true),
        { timeoutMs: 60_000 },
      );
      const output = await readFile(sidecar.logFile, 'utf8');
      expect(output).toContain('pre-publishes a new key for');
      expect(output).toMatch(/Raise publish-safety[^"]* by at least \d+ s/);
      expect(output).toContain('key watch 3600 s');
      expect((await world.state()).version).toBe(before);
    },
  );
});

describe('a stop during start-up', () => {
  it('is a clean exit (0), not a death by signal', { timeout: 60_000 }, async () => {
    const world = await scenario('stop-during-start');
    // An address that takes queries and never answers: the start-up probe waits for it.
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, deadAddress, resolve));
    const silentTcp = createServer(() => undefined);
    await new Promise<void>((resolve) =>
      silentTcp.listen(silent.address().port, deadAddress, resolve),
    );
    const config = sidecarConfigFor(lab, labServer(lab, 'knot'), world.eventLogPath, zone);
    (config.signer.config as { server: { address: string; port: number } }).server = {
      address: deadAddress,
      port: silent.address().port,
    };
    const configFile = path.join(world.directory, 'stop-during-start.json');
    await writeFile(configFile, JSON.stringify(config), { mode: 0o600 });
    const child = spawn(process.execPath, [CLI_MAIN, 'sidecar', '--config', configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let logged = '';
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stdout.on('data', (chunk: Buffer) => (logged += chunk.toString('utf8')));
    const finished = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    // The sidecar logs its event key once it is composed (its stop handler is in place by then);
    // the probe of the dead address then takes seconds: stop while it is under way.
    for (let waited = 0; !logged.includes('event key loaded') && waited < 30_000; waited += 50)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(logged, output).toContain('event key loaded');
    await new Promise((resolve) => setTimeout(resolve, 500));
    child.kill('SIGTERM');
    const { code, signal } = await finished;
    silent.close();
    silentTcp.close();
    expect({ code, signal }, output).toEqual({ code: 0, signal: null });
    expect(output).not.toContain('following');
    expect(await world.events()).toEqual([]);
  });
});

describe('a registration that changes a member of the group', () => {
  it('is recorded with what it replaces, and listed in the fold', { timeout: 90_000 }, async () => {
    const world = await scenario('re-registration');
    const knot = await world.start('knot');
    await world.registered('knot');
    await world.define(['knot']);
    await stopSidecarProcess(knot);
    // Restarted with the address (and TSIG key) of another Knot that also serves the zone, a
    // trap server: the probe passes, but the group's view of a member changes, and that must
    // not be silent.
    const knotServer = endpoint(labServer(lab, 'knot'));
    const other = labServer(lab, 'knot-full-management');
    const otherServer = endpoint(other);
    await world.start(
      'knot',
      (config) => {
        const signer = config.signer.config as { server: { address: string }; tsigKeyFile: string };
        signer.server.address = otherServer.address;
        signer.tsigKeyFile = other.tsig.keyFile;
      },
      path.join(world.directory, 'restarted'),
    );
    const state = await waitUntil('the new registration', async () => {
      const current = await world.state();
      return current.registrationChanges?.length ? current : undefined;
    });
    expect(state.registrationChanges).toMatchObject([
      {
        signerId: 'knot',
        by: 'knot',
        changed: ['endpoints'],
        member: true,
        before: { endpoints: [knotServer] },
        after: { endpoints: [otherServer] },
      },
    ]);
    const registration = (await world.events())
      .filter((event) => event.type === 'signer-registered')
      .at(-1)!;
    expect(registration.data).toMatchObject({
      signer: { endpoints: [otherServer] },
      before: { endpoints: [knotServer] },
    });
  });
});

describe('a request whose group has an endpoint that does not answer', () => {
  it(
    'is refused, naming the signer and its address, instead of waiting unanswered',
    { timeout: 90_000 },
    async () => {
      const world = await scenario('dead-member');
      await world.start('bind');
      const registered = await world.registered('bind');
      // powerdns as an earlier sidecar registered it, at an address where nothing answers now.
      const asPowerdns = sidecarLog(world.raw, world.directory, 'powerdns');
      await asPowerdns.append(zoneStream(zone), registered.version, [
        zoneEvent(
          'signer-registered',
          { zone, source: { kind: 'sidecar', id: 'powerdns' } },
          {
            signer: {
              id: 'powerdns',
              kind: 'powerdns',
              nameServerNames: [labServer(lab, 'powerdns').nameserverName],
              endpoints: [{ address: deadAddress, port: labServer(lab, 'powerdns').port }],
            },
          },
        ),
      ]);
      await world.define(['bind', 'powerdns']);
      await world.request('dead-1', 'remove-signer', 'powerdns');
      const { process } = await world.processNamed(
        'dead-1',
        'to be answered',
        (status) => status !== 'requested',
        45_000,
      );
      expect(process.status).toBe('blocked');
      expect(process.reasons).toContainEqual({
        code: 'not-observed',
        message: expect.stringMatching(
          new RegExp(
            `^powerdns could not be observed on the wire: .*${deadAddress.replaceAll('.', '\\.')}`,
          ),
        ),
      });
    },
  );
});
