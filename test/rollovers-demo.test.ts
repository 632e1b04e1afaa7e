/**
 * `chorus demo --scenario rollovers` on its own lab: the group of three, then a ZSK roll at Knot
 * (server-timed), PowerDNS (held) and BIND (server-timed), every resolver primed with the DNSKEY
 * RRsets as each roll starts. Glitch-free with every wait honoured; and the negative control,
 * (scenario held-roll: PowerDNS joins, then rolls), which skips the DNSKEY wait of ROLL-ZSK,
 * must be named by both observers as I3 at PowerDNS (held: its successor then signs at once). Unbound 1.17 itself heals this glitch:
 * on a signature by a key missing from its cached DNSKEY RRset it re-fetches the keys, and every
 * provider already serves the successor. So no real SERVFAIL is required here (measured: none in
 * 6,615 queries); the test prints the count.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { demoCommand, type CliIo } from '@chorus/cli';
import { labDown } from '@chorus/lab';

// CHORUS_TEST_ROLLOVERS_PREFIX lets several test runs share one machine without colliding.
const PREFIX = process.env.CHORUS_TEST_ROLLOVERS_PREFIX ?? '127.58.0';
const TTL = 10;
const DEMO_TIMEOUT_MS = 9 * 60_000;

interface DemoJson {
  ok: boolean;
  processes: { kind: string; signerId: string; steps: { name: string }[] }[];
  traffic: { queries: number; failures: { resolver: string; rcode: string }[] };
  observers: {
    violations: { invariant: string; providers: string[] }[];
    validationFailures: { provider?: string }[];
    disagreements: unknown[];
  };
  parent: { asExpected: boolean };
  report: string;
}

const directories: string[] = [];
afterAll(async () => {
  for (const directory of directories) {
    await labDown({ directory }).catch(() => undefined);
    await rm(directory, { recursive: true, force: true });
  }
});

async function runDemo(
  extra: string[],
): Promise<{ code: number; result: DemoJson; stderr: string }> {
  const directory = await mkdtemp(path.join(tmpdir(), 'chorus-rollovers-'));
  directories.push(directory);
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
  };
  try {
    const code = await demoCommand(
      ['--dir', directory, '--address-prefix', PREFIX, '--ttl', String(TTL), '--json', ...extra],
      io,
    );
    return { code, result: JSON.parse(stdout) as DemoJson, stderr };
  } finally {
    await labDown({ directory }).catch(() => undefined);
  }
}

const ROLLS = ['roll-zsk knot', 'roll-zsk powerdns', 'roll-zsk bind'];

describe('the rollovers demo, watched', () => {
  it(
    'rolls a ZSK at each of the three signers with no glitch and no resolver failure',
    async () => {
      const { code, result, stderr } = await runDemo(['--scenario', 'rollovers']);
      expect(result.processes.map((process) => `${process.kind} ${process.signerId}`)).toEqual([
        'add-signer powerdns',
        'add-signer knot',
        ...ROLLS,
      ]);
      expect(stderr).toContain('primed');
      expect(result.traffic.queries).toBeGreaterThan(1000);
      expect(result.traffic.failures).toEqual([]);
      expect(result.observers.violations).toEqual([]);
      expect(result.observers.validationFailures).toEqual([]);
      expect(result.observers.disagreements).toEqual([]);
      expect(result.parent.asExpected).toBe(true);
      expect(code).toBe(0);
      const html = await readFile(result.report, 'utf8');
      expect(html).toContain('roll-zsk');
    },
    DEMO_TIMEOUT_MS,
  );

  it(
    'negative control: skipping the DNSKEY wait of ROLL-ZSK is named I3 at PowerDNS by both observers',
    async () => {
      const { code, result } = await runDemo([
        '--scenario',
        'held-roll',
        '--unsafe-skip-wait',
        'roll-zsk/sync-dnskeys',
      ]);
      expect(code).toBe(1);
      // The held roll (PowerDNS) activates its successor while primed caches lack it.
      const servfails = result.traffic.failures.filter((failure) => failure.rcode === 'SERVFAIL');
      process.stderr.write(
        `[rollovers] negative control: ${servfails.length} SERVFAIL(s) from real resolvers in ${result.traffic.queries} queries\n`,
      );
      expect(
        result.observers.validationFailures.some((failure) => failure.provider === 'powerdns'),
      ).toBe(true);
      expect(
        result.observers.violations.some(
          (violation) => violation.invariant === 'I3' && violation.providers.includes('powerdns'),
        ),
      ).toBe(true);
      const html = await readFile(result.report, 'utf8');
      expect(html).toContain('SKIPPED');
    },
    DEMO_TIMEOUT_MS,
  );
});
