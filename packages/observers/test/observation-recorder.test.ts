import { describe, expect, it } from 'vitest';
import { EventLogError, type ObservationEvent } from '@chorus/core';
import { createObservationRecorder, type ObservationLog } from '../src/observation-recorder.js';

// The recorder appends to a log other writers share: a busy database or a concurrent writer is
// retried; what cannot be recorded is reported, never dropped silently.

const zone = 'example.test.';
const source = { kind: 'test', id: 'recorder' };
const summary = {
  observer: 'recorder',
  since: '2026-01-01T00:00:00.000Z',
  probes: 1,
  resolverAnswers: 1,
  disagreements: 0,
  validationFailures: 0,
  invariantChecks: 1,
  violations: 0,
};

/** A log whose appends fail with the given errors first, then succeed. */
function failingLog(failures: Error[]): ObservationLog & { appended: ObservationEvent[] } {
  const appended: ObservationEvent[] = [];
  return {
    appended,
    streamVersion: () => Promise.resolve(appended.length),
    append(_stream, _expected, events) {
      const failure = failures.shift();
      if (failure) return Promise.reject(failure);
      appended.push(...events);
      return Promise.resolve({ streamVersion: appended.length, positions: [appended.length] });
    },
  };
}

describe('observation recorder', () => {
  it('retries a busy log until the event is recorded', async () => {
    const log = failingLog([
      new EventLogError('busy', 'locked'),
      new EventLogError('busy', 'locked'),
    ]);
    const reported: unknown[] = [];
    const recorder = createObservationRecorder(log, zone, source, {
      onError: (error) => reported.push(error),
    });
    recorder.summary(summary);
    await recorder.flush();
    expect(log.appended.map((event) => event.type)).toEqual(['observer-summary']);
    expect(reported).toEqual([]);
    expect(recorder.errors).toEqual([]);
  });

  it('negative control: a failure that is not retryable is reported at once, with the event type', async () => {
    const failure = new EventLogError('corrupt', 'not a database');
    const log = failingLog([failure]);
    const reported: [unknown, string][] = [];
    const recorder = createObservationRecorder(log, zone, source, {
      onError: (error, type) => reported.push([error, type]),
    });
    recorder.summary(summary);
    await recorder.flush();
    expect(log.appended).toEqual([]);
    expect(reported).toEqual([[failure, 'observer-summary']]);
    expect(recorder.errors).toEqual([failure]);
  });
});
