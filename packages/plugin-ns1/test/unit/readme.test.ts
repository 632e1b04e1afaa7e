import { readFile } from 'node:fs/promises';
import { capabilityTable } from '@chorus/core';
import { expect, test } from 'vitest';
import { ns1Capabilities } from '../../src/index.js';

test('README capability table matches capabilityTable(ns1Capabilities)', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const match = /<!-- capabilities:start -->\n([\s\S]*?)\n<!-- capabilities:end -->/.exec(readme);
  expect(match, 'README.md has the capabilities markers').not.toBeNull();
  expect(match![1]!.trim()).toBe(capabilityTable(ns1Capabilities));
});
