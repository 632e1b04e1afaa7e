import { describe, expect, it } from 'vitest';
import { sleepCapMs } from '../src/runtime.js';

describe('the zone loops’ safety-net sleep', () => {
  it('is 5 s while the zones are few', () => {
    expect(sleepCapMs(1)).toBe(5000);
    expect(sleepCapMs(500)).toBe(5000);
  });

  it('lengthens with the zones, so that idle loops read the log at most 100 times a second', () => {
    for (const zones of [1000, 10_000]) {
      const cap = sleepCapMs(zones);
      expect(zones / (cap / 1000), `${zones} zones`).toBeLessThanOrEqual(100);
    }
    expect(sleepCapMs(10_000)).toBe(100_000);
  });
});
