import { describe, expect, it } from 'vitest';
import {
  isObservationEvent,
  isZoneEvent,
  observationEvent,
  observationStream,
  zoneEvent,
  zoneStream,
  type ChorusEvent,
  type RecordedEvent,
  type SignerReference,
} from '@chorus/core';
import { DEFAULT_TIMING, foldZone } from '@chorus/engine';
import { createConsistencyObserver } from '../src/consistency-observer.js';
import type { InvariantInput } from '../src/invariants.js';
import { createZoneObservers, zoneGroup, type ZoneObserversLog } from '../src/zone-observers.js';

// The assembly learns the group from the engine's fold of the zone's stream, read from the log:
// no sampling happens with half a group. Providers here have no servers, so nothing goes on the wire.

const zone = 'example.test.';
const source = { kind: 'test', id: 'zone-observers' };
const signer = (id: string): SignerReference => ({
  id,
  kind: id,
  nameServerNames: [`ns.${id}.test.`],
  endpoints: [],
});

/** The log port over an array: enough for the assembly (it reads one stream and appends another). */
function arrayLog(): ZoneObserversLog & { streams: Map<string, ChorusEvent[]> } {
  const streams = new Map<string, ChorusEvent[]>();
  let position = 0;
  return {
    streams,
    append(stream, expected, events) {
      const list = streams.get(stream) ?? [];
      if (list.length !== expected) throw new Error('wrong expected version');
      list.push(...structuredClone(events));
      streams.set(stream, list);
      const positions = events.map(() => (position += 1));
      return Promise.resolve({ streamVersion: list.length, positions });
    },
    readStream(stream, options = {}) {
      const from = Math.max(1, options.fromVersion ?? 1);
      const recorded: RecordedEvent<ChorusEvent>[] = (streams.get(stream) ?? [])
        .slice(from - 1)
        .map((event, index) => ({
          position: 0,
          stream,
          streamVersion: from + index,
          recordedAt: event.occurredAt,
          event: structuredClone(event),
        }));
      return Promise.resolve(recorded);
    },
    streamVersion: (stream) => Promise.resolve(streams.get(stream)?.length ?? 0),
  };
}

const registered = (id: string) =>
  zoneEvent('signer-registered', { zone, source }, { signer: signer(id) });
const defined = zoneEvent(
  'zone-defined',
  { zone, source },
  {
    parentZone: 'test.',
    signers: [signer('bind')],
    timing: { ...DEFAULT_TIMING, childPropagationSeconds: 7, parentPropagationSeconds: 9 },
    recordTtlSeconds: 30,
  },
);

describe('isZoneEvent and isObservationEvent', () => {
  it('tell the two families apart by type', () => {
    const observed = observationEvent(
      'observer-summary',
      { zone, source },
      {
        observer: 'x',
        since: defined.occurredAt,
        probes: 0,
        resolverAnswers: 0,
        disagreements: 0,
        validationFailures: 0,
        invariantChecks: 0,
        violations: 0,
      },
    );
    expect([isZoneEvent(defined), isObservationEvent(defined)]).toEqual([true, false]);
    expect([isZoneEvent(observed), isObservationEvent(observed)]).toEqual([false, true]);
  });
});

describe('the consistency observer learns the group', () => {
  it('in always mode, samples nothing before it knows a provider, then evaluates with the group and margins', async () => {
    const inputs: InvariantInput[] = [];
    const observer = createConsistencyObserver({
      zone,
      parentZone: 'test.',
      parentServers: [],
      providers: [],
      margins: { childSeconds: 1, parentSeconds: 1 },
      mode: 'always',
      intervalMs: 60_000,
      evaluate: (input) => {
        inputs.push(input);
        return [];
      },
    });
    // A registration alone teaches nothing: the group comes from the fold.
    await observer.onEvent?.(registered('knot'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(observer.stats().rounds).toBe(0);
    observer.learn({
      providers: [
        { id: 'knot', nameServerNames: ['ns.knot.test.'], servers: [] },
        { id: 'bind', nameServerNames: ['ns.bind.test.'], servers: [] },
      ],
      margins: { childSeconds: 7, parentSeconds: 9 },
    });
    await observer.checkOnce();
    expect(inputs[0]!.providers.map((provider) => provider.id)).toEqual(['knot', 'bind']);
    expect(inputs[0]!.margins).toEqual({ childSeconds: 7, parentSeconds: 9 });
    // The I9 grace for pre-published ZSKs: the default key watch 30 s + DprpC 7 s + 20 s.
    expect(inputs[0]!.prePublishGraceSeconds).toBe(57);
    observer.learn({
      providers: [],
      margins: { childSeconds: 7, parentSeconds: 9 },
      keyWatchSeconds: 2,
    });
    await observer.checkOnce();
    expect(inputs[1]!.prePublishGraceSeconds).toBe(29);
    await observer.shutdown?.();
  });

  it('passes a configured pre-publication grace as it is, and zoneGroup names the slowest key watch', async () => {
    const inputs: InvariantInput[] = [];
    const observer = createConsistencyObserver({
      zone,
      parentZone: 'test.',
      parentServers: [],
      providers: [{ id: 'bind', nameServerNames: ['ns.bind.test.'], servers: [] }],
      margins: { childSeconds: 1, parentSeconds: 1 },
      prePublishGraceSeconds: 5,
      evaluate: (input) => {
        inputs.push(input);
        return [];
      },
    });
    observer.learn({
      providers: [],
      margins: { childSeconds: 1, parentSeconds: 1 },
      keyWatchSeconds: 60,
    });
    await observer.checkOnce();
    expect(inputs.map((input) => input.prePublishGraceSeconds)).toEqual([5]);
    await observer.shutdown?.();

    const withWatch = (id: string, keyWatchSeconds?: number) =>
      zoneEvent(
        'signer-registered',
        { zone, source },
        {
          signer: { ...signer(id), ...(keyWatchSeconds === undefined ? {} : { keyWatchSeconds }) },
        },
      );
    expect(
      zoneGroup(foldZone(zone, [withWatch('knot', 5), withWatch('bind', 2)])).keyWatchSeconds,
    ).toBe(5);
    expect(
      zoneGroup(foldZone(zone, [withWatch('knot', 5), withWatch('bind')])).keyWatchSeconds,
    ).toBe(30);
    expect(zoneGroup(foldZone(zone, [])).keyWatchSeconds).toBeUndefined();
  });
});

describe('the model reaches the invariants', () => {
  const ownerKey = { flags: 257, protocol: 3, algorithm: 13, publicKey: 'AAAA' };
  const owner = { dnskeys: [ownerKey], signatureValiditySeconds: 86_400, refreshLeadSeconds: 600 };
  const withOwner = zoneEvent('zone-defined', { zone, source }, { ...defined.data, owner });

  it('zoneGroup: a zone with an owner is model 1 with its KSKs and refresh lead; without, model 2', () => {
    const group = zoneGroup(foldZone(zone, [withOwner]));
    expect(group.model).toBe(1);
    expect(group.owner).toEqual({ dnskeys: [ownerKey], refreshLeadSeconds: 600 });
    const plain = zoneGroup(foldZone(zone, [defined]));
    expect(plain.model).toBe(2);
    expect(plain.owner).toBeUndefined();
    // A later definition without an owner goes back to model 2.
    expect(zoneGroup(foldZone(zone, [withOwner, defined])).model).toBe(2);
  });

  it('the consistency observer passes the model and owner from its options, then from the learned group', async () => {
    const inputs: InvariantInput[] = [];
    const facts = { dnskeys: [ownerKey], refreshLeadSeconds: 600 };
    const observer = createConsistencyObserver({
      zone,
      parentZone: 'test.',
      parentServers: [],
      providers: [],
      margins: { childSeconds: 1, parentSeconds: 1 },
      model: 1,
      owner: facts,
      evaluate: (input) => {
        inputs.push(input);
        return [];
      },
    });
    await observer.checkOnce();
    // A group that does not name the model (an embedder's) keeps the options'.
    observer.learn({ providers: [], margins: { childSeconds: 1, parentSeconds: 1 } });
    await observer.checkOnce();
    observer.learn(zoneGroup(foldZone(zone, [defined])));
    await observer.checkOnce();
    observer.learn(zoneGroup(foldZone(zone, [withOwner])));
    await observer.checkOnce();
    expect(inputs.map((input) => [input.model, input.owner])).toEqual([
      [1, facts],
      [1, facts],
      [2, undefined],
      [1, facts],
    ]);
    await observer.shutdown?.();
  });
});

describe('createZoneObservers', () => {
  it('folds the whole stream at the first event, learns the group once the zone is defined, and writes totals', async () => {
    const log = arrayLog();
    await log.append(zoneStream(zone), 0, [registered('knot'), registered('bind')]);
    const observers = createZoneObservers({
      zone,
      log,
      source: { kind: 'observer', id: 'unit' },
      parentZone: 'test.',
      parentServers: [],
      consistency: { mode: 'always', intervalMs: 60_000 },
    });
    await observers.onEvent?.(registered('knot'));
    expect(Object.keys(observers.state().signers)).toEqual(['knot', 'bind']);
    expect(observers.stats().consistency?.rounds).toBe(0); // not defined yet: no group to watch
    await log.append(zoneStream(zone), 2, [defined]);
    // Events delivered again (a replay) do not fold twice: the log is the truth.
    await observers.onEvent?.(registered('bind'));
    await observers.onEvent?.(defined);
    expect(observers.state().version).toBe(3);
    await observers.start();
    expect(observers.stats().consistency?.rounds).toBeGreaterThan(0);
    await observers.shutdown();
    const recorded = log.streams.get(observationStream(zone)) ?? [];
    expect(recorded.map((event) => event.type)).toEqual(['observer-summary']);
    expect(recorded[0]).toMatchObject({
      source: { kind: 'observer', id: 'unit' },
      data: { observer: 'unit', violations: 0, validationFailures: 0 },
    });
  });
});
