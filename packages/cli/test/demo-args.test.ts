import { describe, expect, it } from 'vitest';
import { runCli } from '@chorus/cli';
import { capture } from './capture.js';

// `chorus demo` checks its options before it touches the lab: a wrong value starts nothing.

describe('chorus demo options', () => {
  it('refuses --unsafe-skip-wait naming a step without a wait, listing the ones that have one', async () => {
    const run = capture();
    expect(await runCli(['demo', '--unsafe-skip-wait', 'add-signer/sync-ns'], run.io)).toBe(2);
    expect(run.err()).toContain('--unsafe-skip-wait takes KIND/STEP');
    expect(run.err()).toContain('add-signer/await-parent-ds');
    expect(run.err()).toContain('remove-signer/await-parent-ns');
    expect(run.err()).not.toContain('[lab]');
  });

  it('refuses --hosts other than loopback or netns', async () => {
    const run = capture();
    expect(await runCli(['demo', '--hosts', 'vm'], run.io)).toBe(2);
    expect(run.err()).toContain('--hosts is loopback or netns, not "vm"');
    expect(run.err()).not.toContain('[lab]');
  });

  it('refuses a TTL out of range', async () => {
    const run = capture();
    expect(await runCli(['demo', '--ttl', '1'], run.io)).toBe(2);
    expect(run.err()).toContain('--ttl must be a whole number of seconds from 2 to 3600');
  });

  it.each([
    ['--denial', 'nsec4', '--denial: invalid denial "nsec4": expected nsec (default) or nsec3'],
    ['--algorithm', '14', '--algorithm: invalid algorithm "14": expected 13 (ECDSAP256SHA256'],
  ])('refuses %s %s before it touches the lab', async (option, value, message) => {
    const run = capture();
    expect(await runCli(['demo', option, value], run.io)).toBe(2);
    expect(run.err()).toContain(message);
    expect(run.err()).not.toContain('[lab]');
  });

  it('documents --denial and --algorithm in --help', async () => {
    const run = capture();
    expect(await runCli(['demo', '--help'], run.io)).toBe(0);
    expect(run.out()).toContain('--denial nsec|nsec3');
    expect(run.out()).toContain('--algorithm 13|8');
  });

  it('documents the unsafe option in --help (the control: help runs nothing)', async () => {
    const run = capture();
    expect(await runCli(['demo', '--help'], run.io)).toBe(0);
    expect(run.out()).toContain('--unsafe-skip-wait KIND/STEP');
    expect(run.out()).toContain('UNSAFE');
  });
});
