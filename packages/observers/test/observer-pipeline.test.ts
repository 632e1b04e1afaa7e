import { describe, expect, it } from 'vitest';
import { createObserverPipeline } from '../src/pipeline.js';
import type { ChorusEventEnvelope, Observer } from '@chorus/core';

const event = (index: number): ChorusEventEnvelope => ({
  schemaVersion: 1,
  type: 'step-completed',
  zone: 'example.test.',
  occurredAt: new Date(1_800_000_000_000 + index * 1000).toISOString(),
  source: { kind: 'test', id: 'pipeline' },
});

function recorder(name: string): Observer & { seen: number[]; shutdowns: number } {
  const observer = {
    name,
    seen: [] as number[],
    shutdowns: 0,
    onEvent(received: ChorusEventEnvelope) {
      observer.seen.push(Date.parse(received.occurredAt) / 1000 - 1_800_000_000);
    },
    shutdown() {
      observer.shutdowns += 1;
      return Promise.resolve();
    },
  };
  return observer;
}

describe('the observer pipeline', () => {
  it('isolates observers that throw, reject or hang: the others get every event, in order', async () => {
    const healthy = recorder('healthy');
    const throwing: Observer = {
      name: 'throwing',
      onEvent: () => {
        throw new Error('deliberate failure');
      },
      shutdown: () => Promise.reject(new Error('cannot shut down either')),
    };
    const rejecting: Observer = {
      name: 'rejecting',
      onEvent: () => Promise.reject(new Error('async failure')),
    };
    const hanging: Observer = {
      name: 'hanging',
      onEvent: () => new Promise<void>(() => undefined),
    };
    const pipeline = createObserverPipeline([throwing, rejecting, hanging, healthy], {
      timeoutMs: 50,
    });
    for (let index = 0; index < 5; index += 1) pipeline.publish(event(index));
    await pipeline.forceFlush();
    expect(healthy.seen).toEqual([0, 1, 2, 3, 4]);
    const stats = pipeline.stats();
    expect(stats.throwing).toMatchObject({
      delivered: 5,
      failures: 5,
      timeouts: 0,
      lastError: 'deliberate failure',
    });
    expect(stats.rejecting).toMatchObject({
      delivered: 5,
      failures: 5,
      lastError: 'async failure',
    });
    expect(stats.hanging).toMatchObject({ delivered: 5, timeouts: 5, failures: 0 });
    expect(stats.healthy).toEqual({ delivered: 5, failures: 0, timeouts: 0 });
    await pipeline.shutdown();
    expect(healthy.shutdowns).toBe(1);
    expect(pipeline.stats().throwing!.failures).toBe(6); // the failing shutdown is counted too
  });

  it('gives each observer its own copy of an event', async () => {
    const mutating: Observer = {
      name: 'mutating',
      onEvent: (received) => {
        (received as { zone: string }).zone = 'mutated.';
      },
    };
    const zones: string[] = [];
    const reader: Observer = {
      name: 'reader',
      onEvent: (received) => void zones.push(received.zone),
    };
    const pipeline = createObserverPipeline([mutating, reader]);
    const original = event(0);
    pipeline.publish(original);
    await pipeline.shutdown();
    expect(zones).toEqual(['example.test.']);
    expect(original.zone).toBe('example.test.');
  });

  it('ignores events published after shutdown', async () => {
    const healthy = recorder('healthy');
    const pipeline = createObserverPipeline([healthy]);
    pipeline.publish(event(1));
    await pipeline.shutdown();
    pipeline.publish(event(2));
    expect(healthy.seen).toEqual([1]);
  });
});
