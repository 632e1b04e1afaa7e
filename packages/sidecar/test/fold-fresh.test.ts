import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ChorusEvent, RecordedEvent, ZoneEvent } from '@chorus/core';
import { applyZoneEvent, emptyZoneState, foldZone, ZoneStreamError } from '@chorus/engine';
import { foldFresh, StepChangeTally } from '../src/fold-fresh.js';

// The stream of a real `chorus demo` migration (the engine's recorded fixture).
const events = JSON.parse(
  readFileSync(
    new URL('../../engine/test/fixtures/coordination/demo-migration.json', import.meta.url),
    'utf8',
  ),
) as ZoneEvent[];
const ZONE = 'example.test.';

function recorded(from: number, to: number): RecordedEvent<ChorusEvent>[] {
  return events.slice(from, to).map((event, index) => ({
    position: from + index + 1,
    stream: `zone:${ZONE}`,
    streamVersion: from + index + 1,
    recordedAt: event.occurredAt,
    event,
  }));
}

describe('foldFresh: events a refresh read', () => {
  it('folds each event once when reads overlap, and ends where a fold of the stream ends', () => {
    const seen: string[] = [];
    const note = (event: ZoneEvent) => seen.push(`${event.type}@${event.occurredAt}`);
    const first = foldFresh(emptyZoneState(ZONE), recorded(0, 80), note);
    // A second refresh read from version 60 before the first one stored its state.
    const second = foldFresh(first, recorded(60, events.length), note);

    expect(seen).toHaveLength(events.length);
    expect(new Set(seen).size).toBe(new Set(events.map((e) => `${e.type}@${e.occurredAt}`)).size);
    expect(JSON.stringify(second)).toBe(JSON.stringify(foldZone(ZONE, events)));
  });

  it('returns the state it was given when nothing read is new', () => {
    const state = foldFresh(emptyZoneState(ZONE), recorded(0, 40));
    expect(foldFresh(state, recorded(10, 40))).toBe(state);
  });

  it('is needed: folding the overlap again is refused by the fold (control)', () => {
    const first = foldFresh(emptyZoneState(ZONE), recorded(0, 80));
    expect(() =>
      recorded(60, 80).reduce((state, one) => applyZoneEvent(state, one.event as ZoneEvent), first),
    ).toThrow(ZoneStreamError);
  });
});

describe('StepChangeTally', () => {
  it('adds within a step, starts again at a new step, and keeps one entry per zone', () => {
    const tally = new StepChangeTally();
    expect(tally.add('a.test.', 'p/0', 2)).toBe(2);
    expect(tally.add('a.test.', 'p/0', 0)).toBe(2);
    expect(tally.add('a.test.', 'p/1', 1)).toBe(1);
    expect(tally.add('a.test.', 'p/0', 3)).toBe(3);
    for (let step = 0; step < 100; step += 1) tally.add('b.test.', `q/${step}`, 1);
    expect(tally.size).toBe(2);
  });
});
