import { callTally } from '@chorus/dns';
import { describe, expect, it } from 'vitest';
import { KEY_WATCH_GRACE_MS, KeyWatchLag, pauseBeforeNextRead } from '../src/key-watch-lag.js';
import { recordingLogger } from './recording-logger.js';

const lateCount = () => callTally()['key watch late'] ?? 0;

describe('KeyWatchLag', () => {
  it('counts a read later than the period plus grace, and not one on time', () => {
    const { logger, lines } = recordingLogger();
    const lag = new KeyWatchLag(logger, () => 0);
    const before = lateCount();
    expect(lag.observe('a.test.', 10_000, 10_000)).toBe(false);
    expect(lag.observe('a.test.', 10_000 + KEY_WATCH_GRACE_MS, 10_000)).toBe(false);
    expect(lateCount()).toBe(before);
    expect(lines).toEqual([]);

    expect(lag.observe('a.test.', 10_000 + KEY_WATCH_GRACE_MS + 1, 10_000)).toBe(true);
    expect(lateCount()).toBe(before + 1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ zone: 'a.test.', lateReads: 1, periodSeconds: 10 });
    expect(String(lines[0]!.msg)).toMatch(/key watch is behind its period/);
  });

  it('warns at most once a minute, with the late reads and the worst gap since the last warning', () => {
    const { logger, lines } = recordingLogger();
    let now = 0;
    const lag = new KeyWatchLag(logger, () => now);
    lag.observe('a.test.', 15_000, 10_000);
    now = 30_000;
    lag.observe('b.test.', 40_000, 10_000);
    lag.observe('c.test.', 12_000, 10_000);
    expect(lines).toHaveLength(1);
    now = 60_000;
    lag.observe('d.test.', 20_000, 10_000);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ zone: 'd.test.', lateReads: 3, worstSeconds: 40 });
  });
});

describe('pauseBeforeNextRead', () => {
  /** When each read starts, for rounds that take `roundMs`, pausing as `pause` says after each. */
  function readStarts(pause: (readAt: number, now: number) => number, roundMs: number) {
    const starts: number[] = [];
    let now = 0;
    for (let round = 0; round < 4; round += 1) {
      starts.push(now);
      now += roundMs;
      now += pause(starts.at(-1)!, now);
    }
    return starts;
  }

  it('starts reads one period apart however long a round takes, so none is late', () => {
    const { logger } = recordingLogger();
    const lag = new KeyWatchLag(logger, () => 0);
    const starts = readStarts((readAt, now) => pauseBeforeNextRead(readAt, 30_000, now), 3_000);
    expect(starts).toEqual([0, 30_000, 60_000, 90_000]);
    const gaps = starts.slice(1).map((start, index) => start - starts[index]!);
    expect(gaps.map((gap) => lag.observe('a.test.', gap, 30_000))).toEqual([false, false, false]);
  });

  it('the control: a whole period after each round makes every read late by the round', () => {
    const { logger } = recordingLogger();
    const lag = new KeyWatchLag(logger, () => 0);
    const starts = readStarts(() => 30_000, 3_000);
    const gaps = starts.slice(1).map((start, index) => start - starts[index]!);
    expect(gaps.map((gap) => lag.observe('a.test.', gap, 30_000))).toEqual([true, true, true]);
  });

  it('reads at once after a round longer than the period, and waits a period before the first', () => {
    expect(pauseBeforeNextRead(0, 30_000, 45_000)).toBe(0);
    expect(pauseBeforeNextRead(undefined, 30_000, 45_000)).toBe(30_000);
  });
});
