import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { capabilityTable } from '@chorus/core';
import { bindCapabilities, bindCapabilitiesFor } from '../../src/index.js';

describe('README', () => {
  it('README capability table matches capabilityTable(bindCapabilities)', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const match = /<!-- capabilities:start -->\n([\s\S]*?)\n<!-- capabilities:end -->/.exec(readme);
    expect(match, 'README.md needs the capabilities markers').not.toBeNull();
    expect(match![1]!.trim()).toBe(capabilityTable(bindCapabilities));
  });

  it('gives every capability a reason, and dates the empirical ones', () => {
    for (const note of Object.values(bindCapabilities)) {
      expect(note.reason.length).toBeGreaterThan(20);
      // Only what Chorus has not built yet, or not configured, is not a measurement of BIND.
      if (/in Chorus yet|no signallingZone configured/.test(note.reason)) continue;
      // A concurrency limit is a tuning value with its reasoning, not a measurement.
      if (note.limit !== undefined) continue;
      expect(note.reason).toMatch(/Last verified 2026-1[12]-\d\d with BIND 9\.18\.49/);
    }
  });

  it('quotes the bootstrap-signal reason of a signer with signallingZone, dated', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const match = /<!-- bootstrap-signal:start -->(.*?)<!-- bootstrap-signal:end -->/.exec(readme);
    const note = bindCapabilitiesFor(['bind.test.'])['bootstrap-signal']!;
    expect(match?.[1]).toBe(note.reason);
    expect(note.reason).toMatch(/Last verified 2026-12-\d\d with BIND 9\.18\.49/);
  });

  it('declares the three roll capabilities', () => {
    expect(bindCapabilities['key-roll']?.status).toBe('can');
    expect(bindCapabilities['key-hold-published']?.status).toBe('cannot');
    expect(bindCapabilities['algorithm-roll']?.status).toBe('cannot');
  });
});
