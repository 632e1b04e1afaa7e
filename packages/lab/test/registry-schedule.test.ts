import { describe, expect, it } from 'vitest';
import { labScanPeriodMs, maxScansPerSecondOf, scanSchedule } from '../src/registry-agent.js';

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

  it('scans at 10 a second when NOTIFY makes the schedule a backstop, 50 without, as configured when set', () => {
    const notify = { address: '127.0.0.60' };
    expect(maxScansPerSecondOf({ notify })).toBe(10);
    expect(maxScansPerSecondOf({ notify: null })).toBe(50);
    expect(maxScansPerSecondOf({ notify, maxScansPerSecond: 200 })).toBe(200);
    const notifyAt = { address: '127.0.0.60', port: 53 };
    // The lab's agent listens for NOTIFY: 1,000 zones come round every 100 s, 10 every second.
    expect(
      labScanPeriodMs({
        zones: Array.from({ length: 1000 }, String),
        intervalMs: 1000,
        ...notifyAt,
      }),
    ).toBe(100_000);
    expect(
      labScanPeriodMs({ zones: Array.from({ length: 10 }, String), intervalMs: 1000, ...notifyAt }),
    ).toBe(1000);
  });
});
