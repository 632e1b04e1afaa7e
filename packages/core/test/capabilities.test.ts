// Capability notes, the unlisted-means-cannot rule, and the README table.
import { describe, expect, it } from 'vitest';
import {
  can,
  canAtOnce,
  cannot,
  concurrentChangeLimit,
  capabilityStatus,
  capabilityTable,
  SIGNER_CAPABILITIES,
  unimplemented,
  type SignerCapabilities,
} from '../src/index.js';

describe('capability notes', () => {
  it('carry the status and the reason, and a link only when given', () => {
    expect(can('the API does it')).toStrictEqual({ status: 'can', reason: 'the API does it' });
    expect(cannot('no such API')).toStrictEqual({ status: 'cannot', reason: 'no such API' });
    expect(unimplemented('later')).toStrictEqual({ status: 'unimplemented', reason: 'later' });
    expect(can('see', 'https://example.test/a')).toStrictEqual({
      status: 'can',
      reason: 'see',
      link: 'https://example.test/a',
    });
    expect(cannot('see', 'https://example.test/b').link).toBe('https://example.test/b');
    expect(unimplemented('see', 'https://example.test/c').link).toBe('https://example.test/c');
    expect(Object.keys(cannot('plain'))).not.toContain('link');
  });
});

describe('capabilityStatus', () => {
  it('returns the declared status and counts an unlisted capability as cannot', () => {
    const capabilities: SignerCapabilities = {
      'key-list': can('keymgr list'),
      'csync-publish': unimplemented('not yet'),
      'apex-ns-manage': cannot('the server owns the NS set'),
    };
    expect(capabilityStatus(capabilities, 'key-list')).toBe('can');
    expect(capabilityStatus(capabilities, 'csync-publish')).toBe('unimplemented');
    expect(capabilityStatus(capabilities, 'apex-ns-manage')).toBe('cannot');
    expect(capabilityStatus(capabilities, 'dnskey-import-foreign')).toBe('cannot');
    expect(capabilityStatus({}, 'own-cds-publish')).toBe('cannot');
  });
});

describe('SIGNER_CAPABILITIES', () => {
  it('is sorted and has no duplicates', () => {
    expect([...SIGNER_CAPABILITIES]).toEqual([...new Set(SIGNER_CAPABILITIES)].sort());
  });
});

describe('capabilityTable', () => {
  it('has one row per capability, in list order, with the status and the reason', () => {
    const table = capabilityTable({
      'key-list': can('keymgr list', 'https://example.test/keymgr'),
      'csync-publish': unimplemented('needs a | b'),
      'apex-ns-manage': cannot('fixed NS'),
    });
    const lines = table.split('\n');
    expect(lines.slice(0, 2)).toEqual(['| capability | status | reason |', '| --- | --- | --- |']);
    const rows = lines.slice(2);
    expect(rows).toHaveLength(SIGNER_CAPABILITIES.length);
    expect(rows.map((row) => /^\| `([^`]+)` \|/.exec(row)?.[1])).toEqual([...SIGNER_CAPABILITIES]);
    const row = (capability: string) => rows.find((line) => line.startsWith(`| \`${capability}\``));
    expect(row('key-list')).toBe(
      '| `key-list` | ✅ can | keymgr list ([link](https://example.test/keymgr)) |',
    );
    expect(row('csync-publish')).toBe('| `csync-publish` | 🚧 unimplemented | needs a \\| b |');
    expect(row('apex-ns-manage')).toBe('| `apex-ns-manage` | ❌ cannot | fixed NS |');
    expect(row('dnskey-import-foreign')).toBe(
      '| `dnskey-import-foreign` | ❌ cannot | not declared |',
    );
  });
});

describe('concurrent-changes', () => {
  it('carries a positive integer limit, shown in the table; undeclared means one at a time', () => {
    expect(canAtOnce(4, 'named applies updates per zone')).toStrictEqual({
      status: 'can',
      reason: 'named applies updates per zone',
      limit: 4,
    });
    expect(() => canAtOnce(0, 'none')).toThrow(RangeError);
    expect(() => canAtOnce(1.5, 'half')).toThrow(RangeError);
    expect(concurrentChangeLimit({ 'concurrent-changes': canAtOnce(4, 'why') })).toBe(4);
    expect(concurrentChangeLimit({})).toBe(1);
    expect(concurrentChangeLimit({ 'concurrent-changes': cannot('one writer') })).toBe(1);
    expect(capabilityTable({ 'concurrent-changes': canAtOnce(4, 'why') })).toContain(
      '| `concurrent-changes` | ✅ can (4 at once) | why |',
    );
  });
});
