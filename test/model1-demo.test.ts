/**
 * `chorus demo --scenario model1` on its own lab: Knot and the NS1 fake serve owner.test. under
 * one DNSKEY RRset the owner signs with a KSK in the lab's SoftHSM2 token. Knot's ZSK rolls
 * (M1-ZSK), the owner's KSK rolls (M1-KSK, the demo playing the person at the parent), and the
 * owner refreshes its signatures, watched by the observers and validating resolvers: no glitch.
 * Negative control: the owner left to lapse on purpose, which real resolvers fail on and I8 names.
 */
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { labDown } from '@chorus/lab';
import { runDemoOnOwnLab } from './helpers/demo.js';

// CHORUS_TEST_MODEL1_DEMO_PREFIX lets several test runs share one machine without colliding.
const PREFIX = process.env.CHORUS_TEST_MODEL1_DEMO_PREFIX ?? '127.83.0';
const TTL = 5;
const DEMO_TIMEOUT_MS = 8 * 60_000;

interface DemoJson {
  ok: boolean;
  processes: { kind: string; signerId: string; status?: string }[];
  traffic: { queries: number; failures: { resolver: string; rcode: string }[] };
  observers: {
    violations: { invariant: string; providers: string[]; detail: string }[];
    validationFailures: { provider?: string; detail: string }[];
    disagreements: unknown[];
  };
  parent: { asExpected: boolean; ds: string[]; ns: string[] };
}

const directories: string[] = [];
afterAll(async () => {
  for (const directory of directories) {
    await labDown({ directory }).catch(() => undefined);
    await rm(directory, { recursive: true, force: true });
  }
});

const runDemo = (extra: string[] = [], scenario = 'model1') =>
  runDemoOnOwnLab<DemoJson>({
    name: scenario,
    prefix: PREFIX,
    ttl: TTL,
    args: ['--scenario', scenario, ...extra],
    directories,
  });

describe('the model-1 demo, watched', () => {
  it(
    "rolls Knot's ZSK and the owner's KSK, has NS1 leave and join again, and refreshes the owner's signatures, with no glitch",
    async () => {
      const { code, result, stderr } = await runDemo();
      expect(result.processes.map((process) => `${process.kind} ${process.signerId}`)).toEqual([
        'roll-zsk knot',
        'roll-ksk owner',
        'remove-signer ns1',
        'add-signer ns1',
      ]);
      // M1-REMOVE and M1-ADD: the owner signs NS1's ZSK out, then in again; NS1 keeps its server.
      expect(stderr).toMatch(/ns1 may stop serving owner\.test\. now; it keeps serving/);
      expect(stderr).toMatch(/owner: signed the DNSKEY RRset \(refresh\)/);
      expect(stderr).toMatch(/the person at the parent: added DS owner\.test\. /);
      expect(result.traffic.queries).toBeGreaterThan(1000);
      expect(result.traffic.failures).toEqual([]);
      expect(result.observers.violations).toEqual([]);
      expect(result.observers.validationFailures).toEqual([]);
      expect(result.observers.disagreements).toEqual([]);
      expect(result.parent.ds).toHaveLength(1);
      expect(result.parent.ns).toEqual(['ns.knot.test.', 'ns.ns1.test.']);
      expect(result.parent.asExpected).toBe(true);
      expect(code).toBe(0);
    },
    DEMO_TIMEOUT_MS,
  );

  it(
    "negative control: Knot's successor signing before every cache holds the owner's set with it (--unsafe-skip-wait roll-zsk/push-owner-set) is named, and the demo fails",
    async () => {
      const { code, result } = await runDemo(
        ['--unsafe-skip-wait', 'roll-zsk/push-owner-set'],
        'model1-roll',
      );
      expect(code).toBe(1);
      expect(result.processes.map((process) => `${process.kind} ${process.signerId}`)).toEqual([
        'roll-zsk knot',
      ]);
      const named = [
        ...result.observers.violations.map((violation) => violation.detail),
        ...result.observers.validationFailures.map((failure) => failure.detail),
      ];
      expect(
        named.filter((text) => /cannot validate|not in the DNSKEY RRset/.test(text)),
        JSON.stringify(named.slice(0, 5)),
      ).not.toEqual([]);
    },
    DEMO_TIMEOUT_MS,
  );

  it(
    'negative control: the owner left to lapse is named by I8 before expiry, then real resolvers fail, and the demo fails',
    async () => {
      const { code, result } = await runDemo(['--unsafe-owner-lapse']);
      expect(code).toBe(1);
      const late = result.observers.violations.filter((violation) =>
        /the refresh is late or did not reach/.test(violation.detail),
      );
      expect(late.map((violation) => violation.providers[0]).sort()).toEqual(['knot', 'ns1']);
      expect(result.traffic.failures.some((failure) => failure.rcode === 'SERVFAIL')).toBe(true);
      expect(
        result.observers.validationFailures.some((failure) =>
          /signature expired/.test(failure.detail),
        ),
      ).toBe(true);
    },
    DEMO_TIMEOUT_MS,
  );
});
