/**
 * Observers configured in a real `chorus sidecar` process (docs/sidecar.md) against the lab's
 * example.test. in its steady state (BIND alone, delegated and with its DS at the parent): they
 * sample, validate and record into the observation stream, and find nothing wrong, also when the
 * observing sidecar starts against a zone already defined, whose stream registers another signer
 * first (the group comes from the fold: no false I1 at start-up). The negative
 * control gives the validator a trust anchor that matches nothing: every verdict is bogus, and
 * the recorded stream must say so, and name the disagreement with unbound.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_TIMING, defineZone, foldZone } from '@chorus/engine';
import { createSqliteEventLog } from '@chorus/event-log-sqlite';
import { operatorLog, sidecarLog } from './helpers/trust.js';
import {
  isObservationEvent,
  isZoneEvent,
  observationStream,
  zoneEvent,
  zoneStream,
  type ChorusEvent,
  type EventLog,
  type ObservationEvent,
} from '@chorus/core';
import { sidecarConfigFor, startSidecarProcess, stopSidecarProcess } from '@chorus/cli';
import { endpoint, labResolver, labServer } from '@chorus/lab/testing';

const lab = inject('lab');
const zone = 'example.test.';
const directories: string[] = [];

afterAll(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

const trustAnchorText = (digest?: string) =>
  lab.trustAnchor.ds.map(
    (ds) => `${ds.keyTag} ${ds.algorithm} ${ds.digestType} ${digest ?? ds.digest}`,
  );

async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Reads the zone's stream from the log and folds it. */
async function readState(log: EventLog<ChorusEvent>) {
  const events = (await log.readStream(zoneStream(zone))).map((recorded) => recorded.event);
  return foldZone(zone, events.filter(isZoneEvent));
}

/** Waits until BIND's sidecar has registered with its keys, then defines the zone with BIND alone. */
async function defineWithBind(log: EventLog<ChorusEvent>): Promise<void> {
  await until('the sidecar to register', async () => {
    const state = await readState(log);
    if ((state.signers.bind?.keys.length ?? 0) === 0) return undefined;
    if (!state.defined)
      await log.append(zoneStream(zone), state.version, [
        defineZone(
          state,
          { source: { kind: 'test', id: 'sidecar-observers' }, now: new Date().toISOString() },
          {
            parentZone: lab.parentZone,
            signerIds: ['bind'],
            timing: DEFAULT_TIMING,
            recordTtlSeconds: lab.ttl,
          },
        ),
      ]);
    return true;
  });
}

/**
 * Runs a BIND sidecar with observers until its validator has probed a few times; returns the
 * observation stream. With `restart`, the zone is first defined by a sidecar without observers
 * (Knot registered before BIND, as a candidate that is no member), and the observing sidecar
 * starts against that steady zone.
 */
/** Waits until `text` appears in the file (at most 60 s). */
async function untilLogged(file: string, text: string): Promise<void> {
  for (let waited = 0; waited < 60_000; waited += 250) {
    const content = await readFile(file, 'utf8').catch(() => '');
    if (content.includes(text)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${file} never said "${text}"`);
}

async function observe(
  trustAnchor: string[],
  options: { restart?: boolean } = {},
): Promise<ObservationEvent[]> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-sidecar-observers-'));
  directories.push(directory);
  const eventLogPath = path.join(directory, 'events.sqlite');
  const resolver = endpoint(labResolver(lab, 'resolver-delegation'));
  const plain = sidecarConfigFor(lab, labServer(lab, 'bind'), eventLogPath, zone);
  const config = {
    ...plain,
    observers: {
      consistency: { intervalMs: 500 },
      validation: {
        trustAnchor,
        resolvers: [{ id: 'resolver-delegation', address: resolver.address, port: resolver.port }],
        intervalMs: 500,
      },
    },
  };
  const raw = createSqliteEventLog<ChorusEvent>({ path: eventLogPath });
  const log = operatorLog(raw, directory);
  if (options.restart) {
    const knot = labServer(lab, 'knot');
    await sidecarLog(raw, directory, 'knot').append(zoneStream(zone), 0, [
      zoneEvent(
        'signer-registered',
        { zone, source: { kind: 'sidecar', id: 'knot' } },
        {
          signer: {
            id: 'knot',
            kind: 'knot',
            nameServerNames: [knot.nameserverName],
            endpoints: [endpoint(knot)],
          },
        },
      ),
    ]);
    const first = await startSidecarProcess(path.join(directory, 'first'), plain);
    try {
      await defineWithBind(log);
    } finally {
      await stopSidecarProcess(first);
    }
  }
  const sidecar = await startSidecarProcess(directory, config);
  try {
    await defineWithBind(log);
    // Several rounds of sampling and probing after the group is known, counted from the moment
    // the sidecar runs (on a loaded machine its start alone can take seconds).
    await untilLogged(sidecar.logFile, 'sidecar started');
    await new Promise((resolve) => setTimeout(resolve, 5000));
  } finally {
    await stopSidecarProcess(sidecar);
  }
  const events = (await log.readStream(observationStream(zone)))
    .map((recorded) => recorded.event)
    .filter(isObservationEvent);
  await log.close();
  return events;
}

describe('observers in a sidecar', () => {
  it('sample, validate and record the steady state, and find nothing wrong', async () => {
    const events = await observe(trustAnchorText());
    const versions = events.filter((event) => event.type === 'wire-version-observed');
    const seen = new Set(versions.map((event) => `${event.data.provider} ${event.data.rrtype}`));
    expect(seen).toContain('parent DS');
    expect(seen).toContain('parent NS');
    expect(seen).toContain('bind DNSKEY');
    const dnskey = versions.find(
      (event) => event.data.provider === 'bind' && event.data.rrtype === 'DNSKEY',
    )!;
    expect(dnskey.data.keys?.map((key) => key.role).sort()).toEqual(['KSK', 'ZSK']);
    expect(events.filter((event) => event.type === 'invariant-violated')).toEqual([]);
    expect(events.filter((event) => event.type === 'validation-failed')).toEqual([]);
    expect(events.filter((event) => event.type === 'validator-disagreed')).toEqual([]);
  }, 60_000);

  it('started against a steady zone, learn the whole group before the first round: no false I1', async () => {
    // The zone's stream registers Knot (a candidate, not a member) before BIND. An observer that
    // sampled at the first registration saw BIND's NS name at the parent as a stranger (I1).
    const events = await observe(trustAnchorText(), { restart: true });
    const versions = events.filter((event) => event.type === 'wire-version-observed');
    const providers = new Set(versions.map((event) => event.data.provider));
    expect([...providers].sort()).toEqual(['bind', 'knot', 'parent']);
    expect(events.filter((event) => event.type === 'invariant-violated')).toEqual([]);
    expect(events.filter((event) => event.type === 'validation-failed')).toEqual([]);
    const summary = events.find((event) => event.type === 'observer-summary');
    expect(summary?.data).toMatchObject({ observer: 'bind', violations: 0, validationFailures: 0 });
    expect(summary!.data.invariantChecks).toBeGreaterThan(0);
  }, 90_000);

  it('negative control: a trust anchor that matches nothing is recorded as failures and a disagreement', async () => {
    const events = await observe(trustAnchorText('00'.repeat(32)));
    const failures = events.filter((event) => event.type === 'validation-failed');
    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0]!.data).toMatchObject({ provider: 'bind', invariant: 'I2' });
    expect(failures[0]!.data.detail).toContain(`DNSKEY RRset of ${lab.parentZone}`);
    expect(events.some((event) => event.type === 'validator-disagreed')).toBe(true);
  }, 60_000);
});
