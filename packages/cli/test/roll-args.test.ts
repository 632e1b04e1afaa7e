import { describe, expect, it } from 'vitest';
import { runCli } from '@chorus/cli';
import { capture } from './capture.js';

// `chorus roll` checks the owner's new KSK before it opens any event log.

describe('chorus roll --new-owner-dnskey', () => {
  it('goes only with --ksk', async () => {
    const run = capture();
    const args = ['roll', 'owner.test', 'owner', '--zsk', '--new-owner-dnskey', '257 3 13 AAAA'];
    expect(await runCli(args, run.io)).toBe(2);
    expect(run.err()).toContain("--new-owner-dnskey goes with --ksk (the owner's KSK roll)");
  });

  it('refuses rdata that is no DNSKEY, quoting it', async () => {
    const run = capture();
    const args = ['roll', 'owner.test', 'owner', '--ksk', '--new-owner-dnskey', 'not a key'];
    expect(await runCli(args, run.io)).toBe(2);
    expect(run.err()).toContain('--new-owner-dnskey "not a key"');
  });
});
