import { describe, expect, it } from 'vitest';
import { scanSchedule } from '../src/registry-agent.js';

describe('the registry agent schedule', () => {
  it('scans each zone every interval while the zones are few', () => {
    expect(scanSchedule(1, 1000)).toEqual({ periodMs: 1000, tickMs: 1000, zonesPerTick: 1 });
    expect(scanSchedule(10, 1000)).toEqual({ periodMs: 1000, tickMs: 100, zonesPerTick: 1 });
  });

  it('never runs more than maxScansPerSecond scans a second: many zones are scanned less often', () => {
    for (const zones of [50, 200, 1000, 10_000]) {
      const schedule = scanSchedule(zones, 1000, 50);
      const perSecond = (schedule.zonesPerTick * 1000) / schedule.tickMs;
      expect(perSecond, `${zones} zones`).toBeLessThanOrEqual(50);
      // Every zone still comes round once per period.
      expect((schedule.periodMs / schedule.tickMs) * schedule.zonesPerTick).toBeGreaterThanOrEqual(
        zones * 0.99,
      );
    }
    expect(scanSchedule(10_000, 1000, 50).periodMs).toBe(200_000);
  });
});
