import { describe, expect, it } from 'vitest';
import { runCli } from '@chorus/cli';

// `lab up` options that are refused before anything is started.
async function run(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await runCli(args, {
    stdout: () => undefined,
    stderr: (chunk) => void (stderr += chunk),
  });
  return { code, stderr };
}

describe('chorus lab up --key-lifetimes', () => {
  it.each(['zsk=5x', 'csk=5m', '', 'zsk=1m,zsk=2m'])(
    'refuses %j as a usage error naming the option',
    async (value) => {
      const { code, stderr } = await run(['lab', 'up', '--key-lifetimes', value]);
      expect(code).toBe(2);
      expect(stderr).toMatch(/--key-lifetimes: invalid key lifetime/);
      expect(stderr).toContain('chorus lab up --help');
    },
  );

  it('is documented in the lab up help', async () => {
    let text = '';
    await runCli(['lab', 'up', '--help'], {
      stdout: (chunk) => void (text += chunk),
      stderr: () => undefined,
    });
    expect(text).toContain('--key-lifetimes zsk=DURATION,ksk=DURATION');
    expect(text).toContain('111 s for a ZSK');
  });
});

describe('chorus lab up --hosts', () => {
  it('refuses a mode it does not know, as a usage error', async () => {
    const { code, stderr } = await run(['lab', 'up', '--hosts', 'docker']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--hosts: invalid hosts "docker": expected loopback or netns/);
  });
});

describe('chorus lab up --denial and --algorithm', () => {
  it.each([
    ['--denial', 'nsec5', /--denial: invalid denial "nsec5": expected nsec \(default\) or nsec3/],
    [
      '--algorithm',
      '5',
      /--algorithm: invalid algorithm "5": expected 13 \(ECDSAP256SHA256, default\) or 8/,
    ],
  ])('refuses %s %s as a usage error naming the allowed values', async (option, value, message) => {
    const { code, stderr } = await run(['lab', 'up', option, value]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).toContain('chorus lab up --help');
  });

  it('is documented in the lab up help', async () => {
    let text = '';
    await runCli(['lab', 'up', '--help'], {
      stdout: (chunk) => void (text += chunk),
      stderr: () => undefined,
    });
    expect(text).toContain('--denial nsec|nsec3');
    expect(text).toContain('NSEC3PARAM 1 0 0 -');
    expect(text).toContain('--algorithm 13|8');
    expect(text).toContain('RSASHA256 with 2048-bit KSK and ZSK');
  });
});
