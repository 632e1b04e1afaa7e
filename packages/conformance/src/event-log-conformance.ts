import {
  ChorusError,
  EventLogError,
  MAX_EVENTS_PER_APPEND,
  SecretInEventError,
  WrongExpectedVersionError,
  type EventLog,
  type RecordedEvent,
} from '@chorus/core';
import type {
  describe as vitestDescribe,
  expect as vitestExpect,
  test as vitestTest,
} from 'vitest';

// Narrative: hello, backend author. This suite is the definition of "works" for an EventLog
// backend: every backend runs it, so the memory log, the SQLite log and any later one are
// indistinguishable through the port (core/src/event-log/types.ts, docs/event-log.md). Each test
// opens a fresh, empty log through `create` and closes it at the end. Add your backend's own
// tests (durability, several processes, schema) beside it.
//
// Positions only promise to increase strictly (they may have gaps), so the suite compares them
// with each other and with what `readAll` returns; a backend that also promises 1, 2, 3 … sets
// `contiguousPositions` and gets the literal numbers checked too.

/** The events the suite appends: any plain-JSON object with a `type`. */
export interface ConformanceEvent {
  type: string;
  [field: string]: unknown;
}

export interface EventLogConformanceOptions {
  /** The backend's name, in the suite's title. */
  name: string;
  describe: typeof vitestDescribe;
  test: typeof vitestTest;
  expect: typeof vitestExpect;
  /** A fresh, empty log. Called once per test; the suite closes it. */
  create: () => EventLog<ConformanceEvent> | Promise<EventLog<ConformanceEvent>>;
  /**
   * The backend numbers events 1, 2, 3 … without gaps (memory, SQLite): the suite then also
   * checks the literal positions. Without it, only strictly increasing positions are required.
   */
  contiguousPositions?: boolean;
  /** A backend behind a server (NATS): how to take the server away and bring it back. */
  outage?: OutageHooks;
}

/**
 * What happens when the server is gone: the suite stops the server, expects every call to reject
 * with a retryable EventLogError `unavailable` ("event log unavailable: …") within
 * `failWithinMs`, starts it again, and expects calls and an open subscription to recover
 * (the subscription without `onError`) within `recoverWithinMs`.
 */
export interface OutageHooks {
  stopServer: () => Promise<void>;
  startServer: () => Promise<void>;
  /** Default 5000 ms. */
  failWithinMs?: number;
  /** Default 15000 ms. */
  recoverWithinMs?: number;
}

type Log = EventLog<ConformanceEvent>;

/** What each group of tests needs: the runner, and a way to run a body against a fresh log. */
interface Suite {
  test: typeof vitestTest;
  expect: typeof vitestExpect;
  /** A test with a fresh log; `timeoutMs` for a test that commits durably hundreds of times. */
  withLog: (name: string, body: (log: Log) => Promise<void> | void, timeoutMs?: number) => void;
  /** The backend promised gap-free positions (check literal numbers too). */
  contiguous: boolean;
}

const ev = (type: string, fields: Record<string, unknown> = {}): ConformanceEvent => ({
  type,
  ...fields,
});

/** Resolves once `predicate` holds, checking after every macrotask (fails after `ms`, 5 s). */
async function until(predicate: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** The positions of every event in the log, in order. */
async function positionsOf(log: Log): Promise<number[]> {
  return (await log.readAll()).map((e) => e.position);
}

/** Checks that `positions` are `count` positive integers in strictly increasing order. */
function expectIncreasing(expect: typeof vitestExpect, positions: number[], count: number): void {
  expect(positions).toHaveLength(count);
  positions.forEach((position, index) => {
    expect(Number.isSafeInteger(position) && position > 0).toBe(true);
    if (index > 0) expect(position).toBeGreaterThan(positions[index - 1]!);
  });
}

function appendAndRead({ withLog, expect, contiguous }: Suite): void {
  withLog('appends to a new stream and reads it back', async (log) => {
    expect(await log.streamVersion('zone/a.')).toBe(0);
    expect(await log.readStream('zone/a.')).toEqual([]);

    const result = await log.append('zone/a.', 0, [ev('created'), ev('signer-added')]);
    expect(result.streamVersion).toBe(2);
    expectIncreasing(expect, result.positions, 2);
    if (contiguous) expect(result.positions).toEqual([1, 2]);
    expect(await log.streamVersion('zone/a.')).toBe(2);

    const events = await log.readStream('zone/a.');
    const [first, second] = result.positions;
    expect(events.map((e) => [e.position, e.stream, e.streamVersion, e.event.type])).toEqual([
      [first, 'zone/a.', 1, 'created'],
      [second, 'zone/a.', 2, 'signer-added'],
    ]);
    for (const recorded of events) {
      expect(new Date(recorded.recordedAt).toISOString()).toBe(recorded.recordedAt);
    }
    // All events of one append share their commit time.
    expect(events[1]!.recordedAt).toBe(events[0]!.recordedAt);

    const third = await log.append('zone/a.', 2, [ev('third')]);
    expect(third.positions[0]).toBeGreaterThan(second!);
    const tail = await log.readStream('zone/a.', { fromVersion: 2 });
    expect(tail.map((e) => e.streamVersion)).toEqual([2, 3]);
    expect(tail.map((e) => e.position)).toEqual([second, third.positions[0]]);
    expect(await log.readStream('zone/a.', { fromVersion: 0 })).toHaveLength(3);
    expect(await log.readStream('zone/a.', { fromVersion: 9 })).toEqual([]);
  });

  withLog(
    'keeps streams isolated: versions, reads and expectations are per stream',
    async (log) => {
      await log.append('zone/a.', 0, [ev('a1'), ev('a2')]);
      await log.append('zone/b.', 0, [ev('b1')]);
      await log.append('zone/a.', 2, [ev('a3')]);
      expect(await log.streamVersion('zone/a.')).toBe(3);
      expect(await log.streamVersion('zone/b.')).toBe(1);
      expect((await log.readStream('zone/b.')).map((e) => e.event.type)).toEqual(['b1']);
      expect((await log.readStream('zone/a.')).map((e) => e.event.type)).toEqual([
        'a1',
        'a2',
        'a3',
      ]);
      // A stream name that is a prefix of another is a different stream.
      expect(await log.streamVersion('zone/a')).toBe(0);
    },
  );

  withLog('orders events totally across streams, in commit order', async (log) => {
    const versions = new Map<string, number>();
    const expected: string[] = [];
    const returned: number[] = [];
    for (let i = 0; i < 30; i++) {
      const stream = `zone/${'abc'[i % 3]!}.`;
      const version = versions.get(stream) ?? 0;
      returned.push(...(await log.append(stream, version, [ev(`e${i}`)])).positions);
      versions.set(stream, version + 1);
      expected.push(`e${i}`);
    }
    const all = await log.readAll();
    expect(all.map((e) => e.event.type)).toEqual(expected);
    expectIncreasing(expect, returned, 30);
    expect(all.map((e) => e.position)).toEqual(returned);
    if (contiguous) expect(returned).toEqual(expected.map((_, i) => i + 1));
  });
}

function optimisticConcurrency({ withLog, expect, contiguous }: Suite): void {
  withLog('rejects a stale expectedVersion and writes nothing', async (log) => {
    await log.append('zone/a.', 0, [ev('one'), ev('two')]);

    const stale = await rejection(log.append('zone/a.', 1, [ev('late'), ev('later')]));
    expect(WrongExpectedVersionError.isInstance(stale)).toBe(true);
    expect(ChorusError.isInstance(stale)).toBe(true);
    const error = stale as WrongExpectedVersionError;
    expect(error).toMatchObject({ stream: 'zone/a.', expected: 1, actual: 2, isRetryable: true });
    expect(error.message).toContain('zone/a.');

    // "Must not exist yet", "ahead of the stream" and "a stream that does not exist" are refused.
    const refusals = [
      log.append('zone/a.', 0, [ev('x')]),
      log.append('zone/a.', 7, [ev('x')]),
      log.append('zone/new.', 1, [ev('x')]),
    ];
    for (const refusal of refusals) {
      expect(WrongExpectedVersionError.isInstance(await rejection(refusal))).toBe(true);
    }
    expect((await log.readAll()).map((e) => e.event.type)).toEqual(['one', 'two']);
    expect(await log.streamVersion('zone/new.')).toBe(0);

    // Re-read, re-decide, retry: the next append at the real version succeeds.
    const version = await log.streamVersion('zone/a.');
    const before = await positionsOf(log);
    const retried = await log.append('zone/a.', version, [ev('three')]);
    expect(retried.streamVersion).toBe(3);
    expectIncreasing(expect, retried.positions, 1);
    expect(retried.positions[0]).toBeGreaterThan(before.at(-1)!);
    if (contiguous) expect(retried.positions).toEqual([3]);
  });

  withLog('lets exactly one of several concurrent appends at the same version win', async (log) => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        log.append('zone/race.', 0, [ev('step-completed', { i })]),
      ),
    );
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o) => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost.every((o) => WrongExpectedVersionError.isInstance(o.reason))).toBe(true);
    expect(await log.readStream('zone/race.')).toHaveLength(1);
  });
}

function readAll({ withLog, expect, contiguous }: Suite): void {
  withLog('pages with afterPosition and limit, and filters by stream prefix', async (log) => {
    await log.append('zone/a.', 0, [ev('a1'), ev('a2')]);
    await log.append('other/x', 0, [ev('x1')]);
    await log.append('zone/b.', 0, [ev('b1')]);
    await log.append('other/x', 1, [ev('x2')]);
    await log.append('zone/a.', 2, [ev('a3')]);

    const pages: string[][] = [];
    let after = 0;
    for (;;) {
      const page = await log.readAll({ afterPosition: after, limit: 2 });
      if (page.length === 0) break;
      pages.push(page.map((e) => e.event.type));
      after = page.at(-1)!.position;
    }
    expect(pages).toEqual([
      ['a1', 'a2'],
      ['x1', 'b1'],
      ['x2', 'a3'],
    ]);

    const all = await log.readAll();
    const at = (type: string) => all.find((e) => e.event.type === type)!.position;
    expect(pages.flat()).toEqual(all.map((e) => e.event.type));
    const zones = await log.readAll({ streamPrefix: 'zone/' });
    expect(zones.map((e) => e.event.type)).toEqual(['a1', 'a2', 'b1', 'a3']);
    expect(zones.map((e) => e.position)).toEqual([at('a1'), at('a2'), at('b1'), at('a3')]);
    if (contiguous) expect(zones.map((e) => e.position)).toEqual([1, 2, 4, 6]);
    const zonePage = await log.readAll({
      streamPrefix: 'zone/',
      afterPosition: at('a2'),
      limit: 1,
    });
    expect(zonePage.map((e) => e.event.type)).toEqual(['b1']);
    const middle = await log.readAll({ afterPosition: at('x1'), limit: 2 });
    expect(middle.map((e) => e.event.type)).toEqual(['b1', 'x2']);
    expect(await log.readAll({ streamPrefix: 'nothing/' })).toEqual([]);
    expect(await log.readAll({ streamPrefix: '' })).toHaveLength(6);
    expect(await log.readAll({ afterPosition: at('a3') })).toEqual([]);
    expect(await log.readAll({ afterPosition: at('a3') + 100 })).toEqual([]);
  });
}

function consumers({ withLog, expect, contiguous }: Suite): void {
  withLog(
    'stores consumer positions, allows rewinds, refuses positions past the end',
    async (log) => {
      expect(await log.consumerPosition('sidecar-bind')).toBe(0);
      const past0 = await rejection(log.commitConsumer('sidecar-bind', 1));
      expect(EventLogError.isInstance(past0) && past0.kind).toBe('invalid-argument');
      await log.commitConsumer('sidecar-bind', 0);
      const { positions } = await log.append('zone/a.', 0, [ev('1'), ev('2'), ev('3')]);
      const [p1, p2, p3] = positions as [number, number, number];
      if (contiguous) expect(positions).toEqual([1, 2, 3]);
      await log.commitConsumer('sidecar-bind', p2);
      expect(await log.consumerPosition('sidecar-bind')).toBe(p2);
      expect(await log.consumerPosition('sidecar-knot')).toBe(0);
      await log.commitConsumer('sidecar-bind', p1);
      expect(await log.consumerPosition('sidecar-bind')).toBe(p1);
      await log.commitConsumer('sidecar-bind', p3);
      expect(await log.consumerPosition('sidecar-bind')).toBe(p3);
      await log.commitConsumer('sidecar-bind', p1);

      const past = await rejection(log.commitConsumer('sidecar-bind', p3 + 1));
      expect(EventLogError.isInstance(past) && past.kind).toBe('invalid-argument');
      const negative = await rejection(log.commitConsumer('sidecar-bind', -1));
      expect(EventLogError.isInstance(negative) && negative.kind).toBe('invalid-argument');
      expect(await log.consumerPosition('sidecar-bind')).toBe(p1);
    },
  );
}

function subscribeDelivery({ withLog, expect, contiguous }: Suite): void {
  withLog('delivers existing events in order, resolves ready, then live events', async (log) => {
    await log.append('zone/a.', 0, [ev('a1'), ev('a2')]);
    await log.append('zone/b.', 0, [ev('b1')]);
    const seen: RecordedEvent<ConformanceEvent>[] = [];
    const subscription = log.subscribe({ onEvent: (e) => void seen.push(e) });
    await subscription.ready;
    expect(seen.map((e) => e.event.type)).toEqual(['a1', 'a2', 'b1']);

    await log.append('zone/a.', 2, [ev('a3'), ev('a4')]);
    await log.append('zone/c.', 0, [ev('c1')]);
    await until(() => seen.length === 6, 'live events');
    expect(seen.map((e) => e.event.type)).toEqual(['a1', 'a2', 'b1', 'a3', 'a4', 'c1']);
    expect(seen).toEqual(await log.readAll());
    if (contiguous) expect(seen.map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6]);
    await subscription.close();
  });

  withLog(
    'honours afterPosition and streamPrefix, awaits async handlers one at a time',
    async (log) => {
      const { positions } = await log.append('zone/a.', 0, [ev('a1'), ev('a2')]);
      await log.append('other/x', 0, [ev('x1')]);
      await log.append('zone/b.', 0, [ev('b1')]);
      const seen: string[] = [];
      let running = 0;
      let overlap = false;
      const subscription = log.subscribe({
        afterPosition: positions[0],
        streamPrefix: 'zone/',
        onEvent: async (e) => {
          running++;
          overlap ||= running > 1;
          await pause(3);
          seen.push(e.event.type);
          running--;
        },
      });
      await subscription.ready;
      expect(seen).toEqual(['a2', 'b1']);
      await log.append('other/x', 1, [ev('x2')]);
      await log.append('zone/b.', 1, [ev('b2'), ev('b3')]);
      await until(() => seen.length === 4, 'filtered live events');
      expect(seen).toEqual(['a2', 'b1', 'b2', 'b3']);
      expect(overlap).toBe(false);
      await subscription.close();
    },
  );

  withLog('validates its options synchronously', (log) => {
    const bad = [
      {},
      { onEvent: 'nope' },
      { onEvent: () => undefined, consumer: '' },
      { onEvent: () => undefined, afterPosition: -1 },
      { onEvent: () => undefined, afterPosition: 1.5 },
    ];
    for (const options of bad) {
      let thrown: unknown;
      try {
        log.subscribe(options as never);
      } catch (error) {
        thrown = error;
      }
      expect(EventLogError.isInstance(thrown) && thrown.kind).toBe('invalid-argument');
    }
  });
}

/**
 * Subscribes `consumer`, waits until it has caught up, and returns the positions it received and
 * the position it had committed by then.
 */
async function catchUp(log: Log, consumer: string, afterPosition?: number) {
  const positions: number[] = [];
  const subscription = log.subscribe({
    consumer,
    ...(afterPosition === undefined ? {} : { afterPosition }),
    onEvent: (e) => void positions.push(e.position),
  });
  await subscription.ready;
  const committed = await log.consumerPosition(consumer);
  await subscription.close();
  return { positions, committed };
}

function durableConsumers({ withLog, expect, contiguous }: Suite): void {
  withLog('resumes a durable consumer after its committed position', async (log) => {
    await log.append('zone/a.', 0, [ev('1'), ev('2'), ev('3')]);
    const first = await positionsOf(log);
    expect(await catchUp(log, 'sidecar')).toEqual({ positions: first, committed: first[2] });

    await log.append('zone/a.', 3, [ev('4'), ev('5')]);
    const all = await positionsOf(log);
    if (contiguous) expect(all).toEqual([1, 2, 3, 4, 5]);
    expect(await catchUp(log, 'sidecar')).toEqual({ positions: all.slice(3), committed: all[4] });

    // afterPosition beyond the committed position wins; a lower one does not rewind.
    await log.commitConsumer('sidecar', all[0]!);
    expect((await catchUp(log, 'sidecar', all[2])).positions).toEqual(all.slice(3));
    // A rewound consumer replays from just after its position.
    await log.commitConsumer('sidecar', all[1]!);
    expect(await catchUp(log, 'sidecar')).toEqual({ positions: all.slice(2), committed: all[4] });
  });

  withLog(
    'stops at a failing handler without skipping: at least once after a crash',
    async (log) => {
      const { positions: before } = await log.append('zone/a.', 0, [ev('1'), ev('2')]);
      const errors: unknown[] = [];
      const crash = new Error('sidecar crashed while handling event 3');
      const handled: number[] = [];
      const failing = log.subscribe({
        consumer: 'fragile',
        onEvent: (e) => {
          if (e.event.type === '3') throw crash;
          handled.push(e.position);
        },
        onError: (error) => errors.push(error),
      });
      await failing.ready;
      await log.append('zone/a.', 2, [ev('3'), ev('4')]);
      await until(() => errors.length === 1, 'the handler error');
      expect(errors).toEqual([crash]);
      expect(handled).toEqual(before);
      expect(await log.consumerPosition('fragile')).toBe(before[1]);

      // The stopped subscription delivers nothing more.
      await log.append('zone/a.', 4, [ev('5')]);
      await pause(20);
      expect(handled).toEqual(before);
      await failing.close();

      // The restarted consumer gets event 3 again, then the rest.
      const rest = (await positionsOf(log)).slice(2);
      if (contiguous) expect(rest).toEqual([3, 4, 5]);
      expect(await catchUp(log, 'fragile')).toEqual({ positions: rest, committed: rest[2] });
    },
  );

  withLog('rejects ready when the handler fails while catching up', async (log) => {
    await log.append('zone/a.', 0, [ev('1'), ev('2')]);
    const boom = new Error('boom');
    const errors: unknown[] = [];
    const subscription = log.subscribe({
      onEvent: async () => Promise.reject(boom),
      onError: (error) => errors.push(error),
    });
    await expect(subscription.ready).rejects.toBe(boom);
    expect(errors).toEqual([boom]);
    await subscription.close();
  });
}

function closing({ withLog, expect }: Suite): void {
  withLog('closes subscriptions, refuses further calls, and is idempotent', async (log) => {
    const { positions } = await log.append('zone/a.', 0, [ev('1')]);
    const seen: number[] = [];
    const subscription = log.subscribe({ onEvent: (e) => void seen.push(e.position) });
    await subscription.ready;
    await subscription.close();
    await subscription.close();
    await log.append('zone/a.', 1, [ev('2')]);
    await pause(20);
    expect(seen).toEqual(positions);

    const live = log.subscribe({ onEvent: (e) => void seen.push(e.position) });
    await live.ready;
    await log.close();
    await log.close();

    const calls: Promise<unknown>[] = [
      log.append('zone/a.', 2, [ev('3')]),
      log.readStream('zone/a.'),
      log.readAll(),
      log.streamVersion('zone/a.'),
      log.consumerPosition('c'),
      log.commitConsumer('c', 0),
    ];
    for (const call of calls) {
      const error = await rejection(call);
      expect(EventLogError.isInstance(error) && error.kind).toBe('closed');
      expect((error as EventLogError).isRetryable).toBe(false);
    }
    expect(() => log.subscribe({ onEvent: () => undefined })).toThrow(/closed/);
    await live.close();
  });

  withLog('does not commit an event whose handler was still running at close', async (log) => {
    const { positions } = await log.append('zone/a.', 0, [ev('1'), ev('2')]);
    let release: () => void = () => undefined;
    const started: number[] = [];
    const subscription = log.subscribe({
      consumer: 'slow',
      onEvent: async (e) => {
        started.push(e.position);
        if (e.event.type === '2') await new Promise<void>((resolve) => (release = resolve));
      },
    });
    await until(() => started.length === 2, 'the slow handler');
    await subscription.close();
    release();
    await pause(10);
    expect(started).toEqual(positions);
    expect(await log.consumerPosition('slow')).toBe(positions[0]);
  });
}

const SECRET_CASES: [ConformanceEvent, string][] = [
  [ev('x', { signer: { tsigSecret: 'c2VjcmV0LXZhbHVlLTE=' } }), 'events[1].signer.tsigSecret'],
  [
    ev('x', { headers: [{}, { Authorization: 'Bearer zzz-value-2' }] }),
    'events[1].headers[1].Authorization',
  ],
  [ev('x', { API_KEY: 'value-3' }), 'events[1].API_KEY'],
  [ev('x', { 'x-api-key': 'value-4' }), 'events[1]["x-api-key"]'],
  [
    ev('x', { nested: { deeper: { privateKey: 'value-5' } } }),
    'events[1].nested.deeper.privateKey',
  ],
  [ev('x', { passphrase: 'value-6' }), 'events[1].passphrase'],
  [ev('x', { rndcPassword: 'value-7' }), 'events[1].rndcPassword'],
  [ev('x', { desecToken: 'value-8' }), 'events[1].desecToken'],
  [ev('x', { private_key: 'value-9' }), 'events[1].private_key'],
];

function secrets({ withLog, expect, contiguous }: Suite): void {
  withLog(
    'refuses secret-looking keys at any depth, naming the path, never the value',
    async (log) => {
      await log.append('zone/a.', 0, [ev('ok')]);
      for (const [bad, path] of SECRET_CASES) {
        const error = await rejection(log.append('zone/a.', 1, [ev('fine'), bad]));
        expect(SecretInEventError.isInstance(error)).toBe(true);
        const secretError = error as SecretInEventError;
        expect(secretError.path).toBe(path);
        expect(secretError.isRetryable).toBe(false);
        expect(secretError.message).toContain(path);
        expect(secretError.message).not.toMatch(/value-\d|c2VjcmV0/);
        expect(JSON.stringify(secretError)).not.toMatch(/value-\d|c2VjcmV0/);
      }
      expect(await log.streamVersion('zone/a.')).toBe(1);

      // Public DNS data is fine.
      const published = ev('dnskey-published', {
        publicKey: 'AwEAAa…',
        keyTag: 12345,
        tsigKeyName: 'k.',
      });
      const result = await log.append('zone/a.', 1, [published]);
      expect(result.streamVersion).toBe(2);
      expectIncreasing(expect, result.positions, 1);
      if (contiguous) expect(result.positions).toEqual([2]);
    },
  );
}

function plainJson({ withLog, expect }: Suite): void {
  withLog('round-trips JSON values and isolates stored events from callers', async (log) => {
    const text = 'Zürich ✓ 🔑 "quoted" \\ \n';
    const original: ConformanceEvent = {
      type: 'everything',
      schemaVersion: 1,
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      text,
      numbers: [0, -1, 1.5, 2 ** 53 - 1, 1e-9],
      flags: [true, false, null],
      nested: { empty: {}, list: [[], [{}]] },
    };
    await log.append('zone/a.', 0, [original, ev('second')]);
    original.text = 'mutated after append';
    const [read] = await log.readStream('zone/a.');
    expect(read!.event).toEqual({ ...original, text });
    read!.event.type = 'mutated after read';
    const [again] = await log.readStream('zone/a.');
    expect(again!.event.type).toBe('everything');
  });

  withLog('refuses values JSON cannot carry, naming the path', async (log) => {
    const cyclic: Record<string, unknown> = { type: 'cyclic' };
    cyclic.self = { back: cyclic };
    const sparse: unknown[] = [1];
    sparse[2] = 3;
    const cases: [unknown, RegExp][] = [
      [{ type: 'x', missing: undefined }, /events\[0\]\.missing is a undefined/],
      [{ type: 'x', fn: () => 1 }, /events\[0\]\.fn is a function/],
      [{ type: 'x', big: 10n }, /events\[0\]\.big is a bigint/],
      [{ type: 'x', n: Number.NaN }, /events\[0\]\.n is NaN/],
      [{ type: 'x', n: Infinity }, /events\[0\]\.n is Infinity/],
      [{ type: 'x', when: new Date(0) }, /events\[0\]\.when is a Date/],
      [{ type: 'x', map: new Map() }, /events\[0\]\.map is a Map/],
      [{ type: 'x', list: sparse }, /events\[0\]\.list\[1\] is a hole/],
      [{ type: 'x', sym: Symbol('s') }, /events\[0\]\.sym is a symbol/],
      [cyclic, /events\[0\]\.self\.back is a circular reference/],
      [undefined, /events\[0\] is a undefined/],
    ];
    for (const [bad, message] of cases) {
      const error = await rejection(log.append('zone/a.', 0, [bad as ConformanceEvent]));
      expect(EventLogError.isInstance(error) && error.kind).toBe('invalid-argument');
      expect((error as Error).message).toMatch(message);
    }
    expect(await log.readAll()).toEqual([]);
  });
}

function argumentChecks({ withLog, expect }: Suite): void {
  withLog('validates stream names, versions and read options', async (log) => {
    const invalid: Promise<unknown>[] = [
      log.append('', 0, [ev('x')]),
      log.append('zone\n', 0, [ev('x')]),
      log.append(42 as unknown as string, 0, [ev('x')]),
      log.append('zone/a.', -1, [ev('x')]),
      log.append('zone/a.', 1.5, [ev('x')]),
      log.append('zone/a.', Number.NaN, [ev('x')]),
      log.append('zone/a.', '0' as unknown as number, [ev('x')]),
      log.append('zone/a.', 0, []),
      log.append('zone/a.', 0, 'x' as unknown as ConformanceEvent[]),
      log.readStream(''),
      log.readStream('zone/a.', { fromVersion: -2 }),
      log.readAll({ limit: 0 }),
      log.readAll({ afterPosition: 0.5 }),
      log.streamVersion(''),
      log.consumerPosition(''),
      log.commitConsumer('c', 1.5),
    ];
    for (const call of invalid) {
      const error = await rejection(call);
      expect(EventLogError.isInstance(error) && error.kind).toBe('invalid-argument');
    }
    expect(await log.readAll()).toEqual([]);
  });
}

function limits({ withLog, expect, contiguous }: Suite): void {
  withLog(
    `refuses an append of more than ${MAX_EVENTS_PER_APPEND} events, takes one of exactly that many`,
    async (log) => {
      const batch = (n: number) => Array.from({ length: n }, (_, i) => ev('bulk', { i }));
      const tooMany = await rejection(log.append('zone/big.', 0, batch(MAX_EVENTS_PER_APPEND + 1)));
      expect(EventLogError.isInstance(tooMany) && tooMany.kind).toBe('invalid-argument');
      expect((tooMany as Error).message).toContain(String(MAX_EVENTS_PER_APPEND));
      expect(await log.readAll()).toEqual([]);

      const full = await log.append('zone/big.', 0, batch(MAX_EVENTS_PER_APPEND));
      expect(full.streamVersion).toBe(MAX_EVENTS_PER_APPEND);
      expectIncreasing(expect, full.positions, MAX_EVENTS_PER_APPEND);
      const next = await log.append('zone/big.', MAX_EVENTS_PER_APPEND, batch(1));
      expect(next.positions[0]).toBeGreaterThan(full.positions.at(-1)!);
      expect(await positionsOf(log)).toEqual([...full.positions, ...next.positions]);
      if (contiguous) expect(next.positions).toEqual([MAX_EVENTS_PER_APPEND + 1]);
    },
  );

  withLog(
    'holds a large stream: 2,000 events, read whole, from a version and in pages',
    async (log) => {
      const total = 2000;
      let version = 0;
      const append = async (count: number) => {
        const events = Array.from({ length: count }, (_, i) => ev('bulk', { n: version + i + 1 }));
        version = (await log.append('zone/large.', version, events)).streamVersion;
      };
      await append(1000);
      await log.append('other/noise', 0, [ev('noise')]);
      while (version < total) await append(version < 1500 ? 20 : 1);
      expect(await log.streamVersion('zone/large.')).toBe(total);

      const whole = await log.readStream('zone/large.');
      expect(whole.map((e) => e.streamVersion)).toEqual(whole.map((_, i) => i + 1));
      expect(whole.map((e) => e.event.n)).toEqual(whole.map((_, i) => i + 1));
      const positions = whole.map((e) => e.position);
      expectIncreasing(expect, positions, total);
      for (const fromVersion of [1990, 1490, 2]) {
        const tail = await log.readStream('zone/large.', { fromVersion });
        expect(tail).toEqual(whole.slice(fromVersion - 1));
      }

      const pages: RecordedEvent<ConformanceEvent>[][] = [];
      let after = 0;
      for (;;) {
        const page = await log.readAll({ afterPosition: after, limit: 150, streamPrefix: 'zone/' });
        if (page.length === 0) break;
        expect(page.length).toBeLessThanOrEqual(150);
        pages.push(page);
        after = page.at(-1)!.position;
      }
      expect(pages).toHaveLength(Math.ceil(total / 150));
      expect(pages.flat()).toEqual(whole);
      const rest = await log.readAll({ afterPosition: positions[1499] });
      expect(rest).toEqual(whole.slice(1500));
      if (contiguous) expect(whole.at(-1)!.position).toBe(total + 1);

      let handled = 0;
      const subscription = log.subscribe({
        consumer: 'large',
        streamPrefix: 'zone/',
        onEvent: (e) => {
          expect(e.streamVersion).toBe(++handled);
        },
      });
      await subscription.ready;
      await subscription.close();
      expect(handled).toBe(total);
      expect(await log.consumerPosition('large')).toBe(whole.at(-1)!.position);
    },
    // About 525 commits, each durable (fsynced): a busy disk can take well over 5 s.
    60_000,
  );
}

/** A call of every kind, for the outage checks. */
function everyCall(log: Log): [string, () => Promise<unknown>][] {
  return [
    ['append', () => log.append('zone/outage-probe.', 0, [ev('during')])],
    ['readStream', () => log.readStream('zone/a.')],
    ['readAll', () => log.readAll()],
    ['streamVersion', () => log.streamVersion('zone/a.')],
    ['consumerPosition', () => log.consumerPosition('c')],
    ['commitConsumer', () => log.commitConsumer('c', 0)],
  ];
}

/** Retries `call` until it resolves (or `ms` pass), as a caller would after `unavailable`. */
async function retrying<T>(call: () => Promise<T>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!ChorusError.isInstance(error) || !error.isRetryable || Date.now() > deadline)
        throw error;
      await pause(50);
    }
  }
}

function outage(hooks: OutageHooks) {
  const failWithinMs = hooks.failWithinMs ?? 5000;
  const recoverWithinMs = hooks.recoverWithinMs ?? 15_000;
  return ({ withLog, expect }: Suite): void => {
    withLog(
      'server gone: every call rejects as unavailable in time, then calls and subscriptions recover',
      async (log) => {
        await log.append('zone/a.', 0, [ev('before')]);
        const seen: string[] = [];
        const errors: unknown[] = [];
        const subscription = log.subscribe({
          consumer: 'outage',
          streamPrefix: 'zone/a.',
          onEvent: (e) => void seen.push(e.event.type),
          onError: (error) => errors.push(error),
        });
        await subscription.ready;
        await hooks.stopServer();
        try {
          for (const [name, call] of everyCall(log)) {
            const started = Date.now();
            const error = await rejection(call());
            expect([name, EventLogError.isInstance(error) && error.kind]).toEqual([
              name,
              'unavailable',
            ]);
            expect((error as EventLogError).isRetryable).toBe(true);
            expect((error as Error).message).toMatch(/^event log unavailable: /);
            expect(Date.now() - started).toBeLessThan(failWithinMs);
          }
        } finally {
          await hooks.startServer();
        }
        // Retrying recovers once the server is back; the subscription resumes on its own.
        const after = await retrying(
          () => log.append('zone/a.', 1, [ev('after')]),
          recoverWithinMs,
        );
        expect(after.streamVersion).toBe(2);
        await until(() => seen.length === 2, 'the subscription to resume', recoverWithinMs);
        expect(seen).toEqual(['before', 'after']);
        expect(errors).toEqual([]);
        expect(await log.consumerPosition('outage')).toBe(after.positions[0]);
        await subscription.close();
      },
    );
  };
}

const groups: [string, (suite: Suite) => void][] = [
  ['append and read', appendAndRead],
  ['optimistic concurrency', optimisticConcurrency],
  ['readAll', readAll],
  ['consumers', consumers],
  ['subscribe', subscribeDelivery],
  ['durable consumers', durableConsumers],
  ['close', closing],
  ['secrets never enter the log', secrets],
  ['plain JSON', plainJson],
  ['argument checks', argumentChecks],
  ['limits and large streams', limits],
];

/**
 * Registers the EventLog contract suite under the caller's runner, for one backend.
 *
 * @example
 * eventLogConformance({ name: 'memory', describe, test, expect, create: () => createMemoryEventLog(), contiguousPositions: true });
 */
export function eventLogConformance(options: EventLogConformanceOptions): void {
  const { describe, test, expect, create } = options;
  const contiguous = options.contiguousPositions === true;
  const withLog: Suite['withLog'] = (name, body, timeoutMs) =>
    test(
      name,
      async () => {
        const log = await create();
        try {
          await body(log);
        } finally {
          await log.close();
        }
      },
      timeoutMs,
    );
  describe(`EventLog conformance: ${options.name}`, () => {
    const all =
      options.outage === undefined
        ? groups
        : [...groups, ['outage', outage(options.outage)] as const];
    for (const [title, register] of all) {
      describe(title, () => register({ test, expect, withLog, contiguous }));
    }
  });
}
