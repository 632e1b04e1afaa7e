import { readFile } from 'node:fs/promises';
import { capabilityTable } from '@chorus/core';
import { expect, test } from 'vitest';
import { powerdnsCapabilities, powerdnsCapabilitiesFor } from '../../src/index.js';

test('README capability table matches capabilityTable(powerdnsCapabilities)', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const match = /<!-- capabilities:start -->\n([\s\S]*?)\n<!-- capabilities:end -->/.exec(readme);
  expect(match, 'README.md has the capabilities markers').not.toBeNull();
  expect(match![1]!.trim()).toBe(capabilityTable(powerdnsCapabilities));
});

test('the README quotes the bootstrap-signal reason of a signer with signallingZone', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const match = /<!-- bootstrap-signal:start -->(.*?)<!-- bootstrap-signal:end -->/.exec(readme);
  expect(match?.[1]).toBe(powerdnsCapabilitiesFor(['powerdns.test.'])['bootstrap-signal']!.reason);
});
