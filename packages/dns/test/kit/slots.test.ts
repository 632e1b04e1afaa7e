import { describe, expect, it } from 'vitest';
import { ConcurrencySlots } from '../../src/kit/slots.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ConcurrencySlots', () => {
  it('runs at most `limit` changes at once, the rest in order, and frees a slot on failure', async () => {
    const slots = new ConcurrencySlots(2);
    let running = 0;
    let highest = 0;
    const order: number[] = [];
    const releases: (() => void)[] = [];
    const change = (id: number, fail = false) =>
      slots.run(async () => {
        running += 1;
        highest = Math.max(highest, running);
        order.push(id);
        await new Promise<void>((resolve) => releases.push(resolve));
        running -= 1;
        if (fail) throw new Error(`change ${id} failed`);
        return id;
      });
    const results = [change(1, true), change(2), change(3), change(4)].map((promise) =>
      promise.catch((error: Error) => error.message),
    );
    await tick();
    expect(order).toEqual([1, 2]);
    expect(slots.load).toEqual({ running: 2, waiting: 2 });
    releases.shift()!();
    await tick();
    expect(order).toEqual([1, 2, 3]);
    while (releases.length > 0 || order.length < 4) {
      releases.shift()?.();
      await tick();
    }
    expect(await Promise.all(results)).toEqual(['change 1 failed', 2, 3, 4]);
    expect(highest).toBe(2);
    expect(slots.load).toEqual({ running: 0, waiting: 0 });
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new ConcurrencySlots(0)).toThrow(RangeError);
  });
});
