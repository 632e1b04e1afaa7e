// One behaviour suite for every EventLog backend: the memory log and the SQLite log must be
// indistinguishable through the port.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  ChorusError,
  EventLogError,
  SecretInEventError,
  WrongExpectedVersionError,
  assertNoSecrets,
  assertPlainJson,
  type EventLog,
  type RecordedEvent,
} from '@chorus/core';
import { createMemoryEventLog } from '../src/memory-event-log.js';
import { createSqliteEventLog } from '../src/sqlite-event-log.js';

interface TestEvent {
  type: string;
  [field: string]: unknown;
}

const dir = mkdtempSync(join(tmpdir(), 'chorus-event-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileCounter = 0;

const backends: { name: string; open: () => EventLog<TestEvent> }[] = [
  { name: 'memory', open: () => createMemoryEventLog<TestEvent>() },
  {
    name: 'sqlite',
    open: () => createSqliteEventLog<TestEvent>({ path: join(dir, `log-${++fileCounter}.db`) }),
  },
];

const ev = (type: string, fields: Record<string, unknown> = {}): TestEvent => ({ type, ...fields });

/** Resolves once `predicate` holds, checking after every macrotask (fails after 5 s). */
async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe.each(backends)('EventLog behaviour: $name', ({ open }) => {
  const opened: EventLog<TestEvent>[] = [];
  const fresh = (): EventLog<TestEvent> => {
    const log = open();
    opened.push(log);
    return log;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((log) => log.close()));
  });

  describe('append and read', () => {
    it('appends to a new stream and reads it back', async () => {
      const log = fresh();
      expect(await log.streamVersion('zone/a.')).toBe(0);
      expect(await log.readStream('zone/a.')).toEqual([]);

      const result = await log.append('zone/a.', 0, [ev('created'), ev('signer-added')]);
      expect(result).toEqual({ streamVersion: 2, positions: [1, 2] });
      expect(await log.streamVersion('zone/a.')).toBe(2);

      const events = await log.readStream('zone/a.');
      expect(events.map((e) => [e.position, e.stream, e.streamVersion, e.event.type])).toEqual([
        [1, 'zone/a.', 1, 'created'],
        [2, 'zone/a.', 2, 'signer-added'],
      ]);
      for (const recorded of events)
        expect(new Date(recorded.recordedAt).toISOString()).toBe(recorded.recordedAt);

      await log.append('zone/a.', 2, [ev('third')]);
      const tail = await log.readStream('zone/a.', { fromVersion: 2 });
      expect(tail.map((e) => e.streamVersion)).toEqual([2, 3]);
      expect(await log.readStream('zone/a.', { fromVersion: 0 })).toHaveLength(3);
      expect(await log.readStream('zone/a.', { fromVersion: 9 })).toEqual([]);
    });

    it('keeps streams isolated: versions, reads and expectations are per stream', async () => {
      const log = fresh();
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
    });

    it('orders events totally across streams, in commit order', async () => {
      const log = fresh();
      const versions = new Map<string, number>();
      const expected: string[] = [];
      for (let i = 0; i < 30; i++) {
        const stream = `zone/${'abc'[i % 3]!}.`;
        const version = versions.get(stream) ?? 0;
        await log.append(stream, version, [ev(`e${i}`)]);
        versions.set(stream, version + 1);
        expected.push(`e${i}`);
      }
      const all = await log.readAll();
      expect(all.map((e) => e.event.type)).toEqual(expected);
      expect(all.map((e) => e.position)).toEqual(expected.map((_, i) => i + 1));
    });
  });

  describe('optimistic concurrency', () => {
    it('rejects a stale expectedVersion and writes nothing', async () => {
      const log = fresh();
      await log.append('zone/a.', 0, [ev('one'), ev('two')]);

      const stale = await rejection(log.append('zone/a.', 1, [ev('late'), ev('later')]));
      expect(WrongExpectedVersionError.isInstance(stale)).toBe(true);
      expect(ChorusError.isInstance(stale)).toBe(true);
      const error = stale as WrongExpectedVersionError;
      expect(error).toMatchObject({ stream: 'zone/a.', expected: 1, actual: 2, isRetryable: true });
      expect(error.message).toContain('zone/a.');

      // "Must not exist yet" and "ahead of the stream" are refused too.
      expect(
        WrongExpectedVersionError.isInstance(await rejection(log.append('zone/a.', 0, [ev('x')]))),
      ).toBe(true);
      expect(
        WrongExpectedVersionError.isInstance(await rejection(log.append('zone/a.', 7, [ev('x')]))),
      ).toBe(true);
      expect(
        WrongExpectedVersionError.isInstance(
          await rejection(log.append('zone/new.', 1, [ev('x')])),
        ),
      ).toBe(true);

      expect((await log.readAll()).map((e) => e.event.type)).toEqual(['one', 'two']);
      expect(await log.streamVersion('zone/new.')).toBe(0);

      // Re-read, re-decide, retry: the next append at the real version succeeds.
      const version = await log.streamVersion('zone/a.');
      expect(await log.append('zone/a.', version, [ev('three')])).toEqual({
        streamVersion: 3,
        positions: [3],
      });
    });

    it('lets exactly one of several concurrent appends at the same version win', async () => {
      const log = fresh();
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
  });

  describe('readAll', () => {
    it('pages with afterPosition and limit, and filters by stream prefix', async () => {
      const log = fresh();
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

      const zones = await log.readAll({ streamPrefix: 'zone/' });
      expect(zones.map((e) => e.event.type)).toEqual(['a1', 'a2', 'b1', 'a3']);
      expect(zones.map((e) => e.position)).toEqual([1, 2, 4, 6]);
      const zonePage = await log.readAll({ streamPrefix: 'zone/', afterPosition: 2, limit: 1 });
      expect(zonePage.map((e) => e.event.type)).toEqual(['b1']);
      expect(await log.readAll({ streamPrefix: 'nothing/' })).toEqual([]);
      expect(await log.readAll({ streamPrefix: '' })).toHaveLength(6);
      expect(await log.readAll({ afterPosition: 6 })).toEqual([]);
      expect(await log.readAll({ afterPosition: 100 })).toEqual([]);
    });
  });

  describe('consumers', () => {
    it('stores consumer positions, allows rewinds, refuses positions past the end', async () => {
      const log = fresh();
      expect(await log.consumerPosition('sidecar-bind')).toBe(0);
      await log.append('zone/a.', 0, [ev('1'), ev('2'), ev('3')]);
      await log.commitConsumer('sidecar-bind', 2);
      expect(await log.consumerPosition('sidecar-bind')).toBe(2);
      expect(await log.consumerPosition('sidecar-knot')).toBe(0);
      await log.commitConsumer('sidecar-bind', 1);
      expect(await log.consumerPosition('sidecar-bind')).toBe(1);

      const past = await rejection(log.commitConsumer('sidecar-bind', 4));
      expect(EventLogError.isInstance(past) && past.kind).toBe('invalid-argument');
      const negative = await rejection(log.commitConsumer('sidecar-bind', -1));
      expect(EventLogError.isInstance(negative) && negative.kind).toBe('invalid-argument');
      expect(await log.consumerPosition('sidecar-bind')).toBe(1);
    });
  });

  describe('subscribe', () => {
    it('delivers existing events in order, resolves ready, then delivers live events', async () => {
      const log = fresh();
      await log.append('zone/a.', 0, [ev('a1'), ev('a2')]);
      await log.append('zone/b.', 0, [ev('b1')]);
      const seen: RecordedEvent<TestEvent>[] = [];
      const subscription = log.subscribe({ onEvent: (e) => void seen.push(e) });
      await subscription.ready;
      expect(seen.map((e) => e.event.type)).toEqual(['a1', 'a2', 'b1']);

      await log.append('zone/a.', 2, [ev('a3'), ev('a4')]);
      await log.append('zone/c.', 0, [ev('c1')]);
      await until(() => seen.length === 6, 'live events');
      expect(seen.map((e) => e.event.type)).toEqual(['a1', 'a2', 'b1', 'a3', 'a4', 'c1']);
      expect(seen.map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6]);
      await subscription.close();
    });

    it('honours afterPosition and streamPrefix, and awaits async handlers one at a time', async () => {
      const log = fresh();
      await log.append('zone/a.', 0, [ev('a1'), ev('a2')]);
      await log.append('other/x', 0, [ev('x1')]);
      await log.append('zone/b.', 0, [ev('b1')]);
      const seen: string[] = [];
      let running = 0;
      let overlap = false;
      const subscription = log.subscribe({
        afterPosition: 1,
        streamPrefix: 'zone/',
        onEvent: async (e) => {
          running++;
          overlap ||= running > 1;
          await new Promise((resolve) => setTimeout(resolve, 3));
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
    });

    it('resumes a durable consumer after its committed position', async () => {
      const log = fresh();
      await log.append('zone/a.', 0, [ev('1'), ev('2'), ev('3')]);
      const first: number[] = [];
      const one = log.subscribe({
        consumer: 'sidecar',
        onEvent: (e) => void first.push(e.position),
      });
      await one.ready;
      expect(first).toEqual([1, 2, 3]);
      await until(() => first.length === 3, 'first delivery');
      expect(await log.consumerPosition('sidecar')).toBe(3);
      await one.close();

      await log.append('zone/a.', 3, [ev('4'), ev('5')]);
      const second: number[] = [];
      const two = log.subscribe({
        consumer: 'sidecar',
        onEvent: (e) => void second.push(e.position),
      });
      await two.ready;
      expect(second).toEqual([4, 5]);
      expect(await log.consumerPosition('sidecar')).toBe(5);
      await two.close();

      // afterPosition beyond the committed position wins; a lower one does not rewind.
      const third: number[] = [];
      await log.commitConsumer('sidecar', 1);
      const three = log.subscribe({
        consumer: 'sidecar',
        afterPosition: 3,
        onEvent: (e) => void third.push(e.position),
      });
      await three.ready;
      expect(third).toEqual([4, 5]);
      await three.close();
    });

    it('stops at a failing handler without skipping: at least once after the crash', async () => {
      const log = fresh();
      await log.append('zone/a.', 0, [ev('1'), ev('2')]);
      const errors: unknown[] = [];
      const crash = new Error('sidecar crashed while handling event 3');
      const handled: number[] = [];
      const failing = log.subscribe({
        consumer: 'fragile',
        onEvent: (e) => {
          if (e.position === 3) throw crash;
          handled.push(e.position);
        },
        onError: (error) => errors.push(error),
      });
      await failing.ready;
      await log.append('zone/a.', 2, [ev('3'), ev('4')]);
      await until(() => errors.length === 1, 'the handler error');
      expect(errors).toEqual([crash]);
      expect(handled).toEqual([1, 2]);
      expect(await log.consumerPosition('fragile')).toBe(2);

      // The stopped subscription delivers nothing more.
      await log.append('zone/a.', 4, [ev('5')]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(handled).toEqual([1, 2]);
      await failing.close();

      // The restarted consumer gets event 3 again, then the rest.
      const again: number[] = [];
      const resumed = log.subscribe({
        consumer: 'fragile',
        onEvent: (e) => void again.push(e.position),
      });
      await resumed.ready;
      expect(again).toEqual([3, 4, 5]);
      expect(await log.consumerPosition('fragile')).toBe(5);
      await resumed.close();
    });

    it('rejects ready when the handler fails while catching up', async () => {
      const log = fresh();
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

    it('validates its options synchronously', () => {
      const log = fresh();
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
  });

  describe('close', () => {
    it('closes subscriptions, refuses further calls, and is idempotent', async () => {
      const log = fresh();
      await log.append('zone/a.', 0, [ev('1')]);
      const seen: number[] = [];
      const subscription = log.subscribe({ onEvent: (e) => void seen.push(e.position) });
      await subscription.ready;
      await subscription.close();
      await subscription.close();
      await log.append('zone/a.', 1, [ev('2')]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(seen).toEqual([1]);

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

    it('does not commit an event whose handler was still running at close', async () => {
      const log = fresh();
      await log.append('zone/a.', 0, [ev('1'), ev('2')]);
      let release: () => void = () => undefined;
      const started: number[] = [];
      const subscription = log.subscribe({
        consumer: 'slow',
        onEvent: async (e) => {
          started.push(e.position);
          if (e.position === 2) await new Promise<void>((resolve) => (release = resolve));
        },
      });
      await until(() => started.length === 2, 'the slow handler');
      await subscription.close();
      release();
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await log.consumerPosition('slow')).toBe(1);
    });
  });

  describe('secrets never enter the log', () => {
    it('refuses secret-looking keys at any depth, naming the path and never the value', async () => {
      const log = fresh();
      await log.append('zone/a.', 0, [ev('ok')]);
      const cases: [TestEvent, string][] = [
        [
          ev('x', { signer: { tsigSecret: 'c2VjcmV0LXZhbHVlLTE=' } }),
          'events[1].signer.tsigSecret',
        ],
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
      for (const [bad, path] of cases) {
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
      await log.append('zone/a.', 1, [
        ev('dnskey-published', { publicKey: 'AwEAAa…', keyTag: 12345, tsigKeyName: 'k.' }),
      ]);
    });

    it('exports the check for callers', () => {
      expect(() => assertNoSecrets({ a: [{ token: 'abc' }] })).toThrow(/\$\.a\[0\]\.token/);
      expect(() => assertNoSecrets({ a: [{ token: 'abc' }] }, 'desired')).toThrow(
        /desired\.a\[0\]\.token/,
      );
      expect(() => assertNoSecrets({ publicKey: 'x', ds: [{ digest: 'ab' }] })).not.toThrow();
      expect(() => assertNoSecrets('password')).not.toThrow();
      const cyclic: Record<string, unknown> = { a: 1 };
      cyclic.self = cyclic;
      expect(() => assertNoSecrets(cyclic)).not.toThrow();
    });
  });

  describe('plain JSON', () => {
    it('round-trips JSON values and isolates stored events from callers', async () => {
      const log = fresh();
      const original: TestEvent = {
        type: 'everything',
        schemaVersion: 1,
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        text: 'Zürich ✓ 🔑 "quoted" \\ \n',
        numbers: [0, -1, 1.5, 2 ** 53 - 1, 1e-9],
        flags: [true, false, null],
        nested: { empty: {}, list: [[], [{}]] },
      };
      await log.append('zone/a.', 0, [original, ev('second')]);
      original.text = 'mutated after append';
      const [read] = await log.readStream('zone/a.');
      expect(read!.event).toEqual({ ...original, text: 'Zürich ✓ 🔑 "quoted" \\ \n' });
      read!.event.type = 'mutated after read';
      const [again] = await log.readStream('zone/a.');
      expect(again!.event.type).toBe('everything');
    });

    it('refuses values JSON cannot carry, naming the path', async () => {
      const log = fresh();
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
        const error = await rejection(log.append('zone/a.', 0, [bad as TestEvent]));
        expect(EventLogError.isInstance(error) && error.kind).toBe('invalid-argument');
        expect((error as Error).message).toMatch(message);
      }
      expect(await log.readAll()).toEqual([]);
      expect(() => assertPlainJson({ a: [1, 'b', null, { c: true }] })).not.toThrow();
      const shared = { s: 1 };
      expect(() => assertPlainJson({ a: shared, b: shared })).not.toThrow();
    });

    it('validates stream names, versions and read options', async () => {
      const log = fresh();
      const invalid: Promise<unknown>[] = [
        log.append('', 0, [ev('x')]),
        log.append('zone\n', 0, [ev('x')]),
        log.append(42 as unknown as string, 0, [ev('x')]),
        log.append('zone/a.', -1, [ev('x')]),
        log.append('zone/a.', 1.5, [ev('x')]),
        log.append('zone/a.', Number.NaN, [ev('x')]),
        log.append('zone/a.', '0' as unknown as number, [ev('x')]),
        log.append('zone/a.', 0, []),
        log.append('zone/a.', 0, 'x' as unknown as TestEvent[]),
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
  });
});
