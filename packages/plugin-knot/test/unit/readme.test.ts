import { readFileSync } from 'node:fs';
import { capabilityTable } from '@chorus/core';
import { expect, test } from 'vitest';
import { knotCapabilities, knotCapabilitiesFor } from '../../src/capabilities.js';

test('README capability table matches capabilityTable(knotCapabilities)', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const match = /<!-- capabilities:start -->\n([\s\S]*?)\n<!-- capabilities:end -->/.exec(readme);
  expect(match, 'README.md has the capabilities markers').not.toBeNull();
  expect(match![1]!.trim()).toBe(capabilityTable(knotCapabilities));
});

test('every capability has a reason, and the empirical ones are dated', () => {
  for (const note of Object.values(knotCapabilities)) {
    expect(note.reason.length).toBeGreaterThan(20);
    if (/Knot 3\.2\.6/.test(note.reason))
      expect(note.reason).toMatch(/Last verified 20\d\d-\d\d-\d\d\)/);
  }
});

test('the README quotes the bootstrap-signal reason of a signer with signallingZone', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const match = /<!-- bootstrap-signal:start -->(.*?)<!-- bootstrap-signal:end -->/.exec(readme);
  expect(match?.[1]).toBe(knotCapabilitiesFor(['knot.test.'])['bootstrap-signal']!.reason);
});
