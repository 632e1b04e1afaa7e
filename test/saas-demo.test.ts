/**
 * `chorus demo --scenario saas` on its own lab with the provider fakes: example.test moves from
 * BIND to deSEC + NS1, then from deSEC to Knot, every write going through the fakes' REST APIs
 * to the real PowerDNS behind each, watched by the observers and validating resolvers. Then the
 * short saas-join run twice: once as the negative control (the DS wait skipped: named glitches,
 * exit 1), once under a tightened deSEC write quota (the process waits for it, says so, and
 * completes). Each fake's request log must never show more requests than its limits allow.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemoOnOwnLab } from './helpers/demo.js';
import { labDown } from '@chorus/lab';
import {
  DESEC_RATE_LIMITS,
  NS1_RATE_LIMITS,
  verifyRequestLog,
  type DesecRateLimits,
  type RequestRecord,
} from '@chorus/provider-fakes';

// CHORUS_TEST_SAAS_PREFIX lets several test runs share one machine without colliding.
const PREFIX = process.env.CHORUS_TEST_SAAS_PREFIX ?? '127.65.0';
const TTL = 10;
const DEMO_TIMEOUT_MS = 9 * 60_000;

interface DemoJson {
  ok: boolean;
  processes: { kind: string; signerId: string; endedAt?: string; status?: string }[];
  traffic: { queries: number; failures: { resolver: string; rcode: string }[] };
  observers: {
    violations: { invariant: string; providers: string[] }[];
    validationFailures: { provider?: string }[];
    disagreements: unknown[];
  };
  parent: { asExpected: boolean; ds: string[]; ns: string[] };
  report: string;
}

const directories: string[] = [];
afterAll(async () => {
  for (const directory of directories) {
    await labDown({ directory }).catch(() => undefined);
    await rm(directory, { recursive: true, force: true });
  }
});

function runDemo(
  extra: string[],
): Promise<{ code: number; result: DemoJson; stderr: string; directory: string }> {
  return runDemoOnOwnLab<DemoJson>({
    name: 'saas',
    prefix: PREFIX,
    ttl: TTL,
    args: extra,

    directories,
  });
}

/** What a fake recorded: one JSON line per request its API answered. */
async function requestsOf(directory: string, provider: 'desec' | 'ns1'): Promise<RequestRecord[]> {
  const text = await readFile(path.join(directory, `${provider}-api`, 'requests.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as RequestRecord);
}

const writes = (records: readonly RequestRecord[]) =>
  records.filter((record) => record.method !== 'GET' && record.status < 400);

describe('the SaaS demo, watched', () => {
  it(
    'moves example.test from BIND to deSEC + NS1, then from deSEC to Knot, with no glitch and within both APIs’ limits',
    async () => {
      const { code, result, directory } = await runDemo(['--scenario', 'saas']);
      expect(result.processes.map((process) => `${process.kind} ${process.signerId}`)).toEqual([
        'add-signer desec',
        'add-signer ns1',
        'remove-signer bind',
        'add-signer knot',
        'remove-signer desec',
      ]);
      expect(result.traffic.queries).toBeGreaterThan(1000);
      expect(result.traffic.failures).toEqual([]);
      expect(result.observers.violations).toEqual([]);
      expect(result.observers.validationFailures).toEqual([]);
      expect(result.observers.disagreements).toEqual([]);
      expect(result.parent.ns).toEqual(['ns.knot.test.', 'ns.ns1.test.']);
      expect(result.parent.asExpected).toBe(true);
      expect(code).toBe(0);
      const html = await readFile(result.report, 'utf8');
      expect(html).toContain('desec');
      expect(html).toContain('ns1');

      const desec = await requestsOf(directory, 'desec');
      const ns1 = await requestsOf(directory, 'ns1');
      expect(verifyRequestLog(desec, DESEC_RATE_LIMITS)).toEqual([]);
      expect(verifyRequestLog(ns1, NS1_RATE_LIMITS)).toEqual([]);
      // deSEC takes one atomic bulk write per change, never one request per record.
      expect(writes(desec).every((record) => record.method === 'PATCH')).toBe(true);
      process.stderr.write(
        `[saas] deSEC: ${desec.length} requests, ${writes(desec).length} writes; NS1: ${ns1.length} requests, ${writes(ns1).length} writes; ${result.traffic.queries} resolver queries\n`,
      );
    },
    DEMO_TIMEOUT_MS,
  );

  it(
    'negative control: skipping the DS wait when deSEC joins is named by the observers, and the demo fails',
    async () => {
      const { code, result } = await runDemo([
        '--scenario',
        'saas-join',
        '--unsafe-skip-wait',
        'add-signer/await-parent-ds',
      ]);
      expect(code).toBe(1);
      expect(
        result.observers.violations.some(
          (violation) =>
            ['I2', 'I3'].includes(violation.invariant) && violation.providers.includes('desec'),
        ),
      ).toBe(true);
      expect(result.observers.validationFailures.length).toBeGreaterThan(0);
    },
    DEMO_TIMEOUT_MS,
  );

  it(
    'waits for a tightened deSEC write quota, says so, never exceeds it, and completes',
    async () => {
      const tight: DesecRateLimits = {
        ...DESEC_RATE_LIMITS,
        perDomainWrite: [{ limit: 1, periodSeconds: 6 }],
      };
      const { result, stderr, directory } = await runDemo([
        '--scenario',
        'saas-join',
        '--rate-limit',
        'desec.write=1/6s',
      ]);
      expect(result.processes).toHaveLength(1);
      expect(result.processes[0]!.endedAt).toBeDefined();
      expect(result.parent.asExpected).toBe(true);
      expect(result.traffic.failures).toEqual([]);
      expect(result.observers.validationFailures).toEqual([]);
      // The sidecar met the quota, waited for the time the API gave, and said so.
      expect(stderr).toMatch(
        /desec FAILED to apply .*HTTP 429.*rate limit or quota: next attempt at/,
      );
      const desec = await requestsOf(directory, 'desec');
      expect(desec.some((record) => record.status === 429)).toBe(true);
      expect(verifyRequestLog(desec, tight)).toEqual([]);
      // Negative control: the same log breaks a limit tighter than the one the fake enforced.
      const tighter: DesecRateLimits = {
        ...tight,
        perDomainWrite: [{ limit: 1, periodSeconds: 60 }],
      };
      expect(verifyRequestLog(desec, tighter).length).toBeGreaterThan(0);
    },
    DEMO_TIMEOUT_MS,
  );
});
