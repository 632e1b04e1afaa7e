/**
 * The observers watching the real migration demo (BIND → PowerDNS + Knot) on its own lab:
 * glitch-free with every wait honoured, even with an observer that throws on every event; and
 * the two negative controls, each skipping one mandated wait, where the consistency observer and
 * the validation observer must both catch and name the glitch, and the timeline must show it.
 */
import { readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemoOnOwnLab } from './helpers/demo.js';
import type { Observer, ZoneEvent } from '@chorus/core';
import { labDown } from '@chorus/lab';

// CHORUS_TEST_OBSERVERS_PREFIX lets several test runs share one machine without colliding.
const PREFIX = process.env.CHORUS_TEST_OBSERVERS_PREFIX ?? '127.57.0';
// A short TTL keeps each migration near 100 s; every wait and cache window scales with it.
const TTL = 10;
const DEMO_TIMEOUT_MS = 6 * 60_000;

interface DemoJson {
  ok: boolean;
  processes: { kind: string; signerId: string; steps: { name: string; wait?: string }[] }[];
  traffic: { queries: number; failures: { resolver: string }[] };
  observers: {
    consistency: { checks: number };
    validation: { probes: number; resolverAnswers: number; verdicts: number };
    violations: { invariant: string; providers: string[]; detail: string }[];
    validationFailures: { provider?: string; resolver?: string; detail: string }[];
    disagreements: { detail: string }[];
    pipeline: Record<string, { delivered: number; failures: number }>;
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

/** Glitch markers drawn in the timeline's SVG pictures, by file name. */
async function glitchMarkers(reportHtml: string): Promise<Record<string, number>> {
  const directory = path.dirname(reportHtml);
  const markers: Record<string, number> = {};
  for (const file of (await readdir(directory)).filter((name) => name.endsWith('.svg')))
    markers[file] =
      (await readFile(path.join(directory, file), 'utf8')).split('data-glitch=').length - 1;
  return markers;
}

function runDemo(
  extra: string[],
  extraObservers: Observer<ZoneEvent>[] = [],
): Promise<{ code: number; result: DemoJson; stderr: string }> {
  return runDemoOnOwnLab<DemoJson>({
    name: 'observers',
    prefix: PREFIX,
    ttl: TTL,
    args: extra,
    extraObservers,
    directories,
  });
}

describe('the migration demo, watched', () => {
  it(
    'is glitch-free with every wait honoured, and an observer that throws cannot stop it',
    async () => {
      let thrown = 0;
      const throwing: Observer<ZoneEvent> = {
        name: 'always-throws',
        onEvent() {
          thrown += 1;
          throw new Error('this observer fails on purpose');
        },
      };
      const { code, result, stderr } = await runDemo([], [throwing]);
      expect(result.processes.map((process) => `${process.kind} ${process.signerId}`)).toEqual([
        'add-signer powerdns',
        'add-signer knot',
        'remove-signer bind',
      ]);
      expect(thrown).toBeGreaterThan(20);
      expect(result.observers.pipeline['always-throws']!.failures).toBe(thrown);
      expect(stderr).toContain('observer always-throws failed');
      // The watchers really watched: samples, probes and resolver answers throughout.
      expect(result.observers.consistency.checks).toBeGreaterThan(60);
      expect(result.observers.validation.probes).toBeGreaterThan(60);
      expect(result.observers.validation.resolverAnswers).toBeGreaterThan(400);
      expect(result.traffic.queries).toBeGreaterThan(1000);
      expect(result.observers.violations).toEqual([]);
      expect(result.observers.validationFailures).toEqual([]);
      expect(result.observers.disagreements).toEqual([]);
      expect(result.traffic.failures).toEqual([]);
      expect(result.parent.asExpected).toBe(true);
      expect(code).toBe(0);
      const html = await readFile(result.report, 'utf8');
      expect(html).toContain('add-signer');
      expect(html).toContain('remove-signer');
      const markers = await glitchMarkers(result.report);
      expect(Object.keys(markers)).toHaveLength(3);
      expect(Object.values(markers)).toEqual([0, 0, 0]);
    },
    DEMO_TIMEOUT_MS,
  );

  it(
    'negative control (a): skipping the DNSKEY wait before NS publication in ADD-SIGNER is caught as I2/I3 by both observers',
    async () => {
      const { code, result } = await runDemo(['--unsafe-skip-wait', 'add-signer/await-parent-ds']);
      expect(code).toBe(1);
      const joiners = ['powerdns', 'knot'];
      const invariants = result.observers.violations.filter(
        (violation) =>
          (violation.invariant === 'I3' || violation.invariant === 'I2') &&
          violation.providers.some((provider) => joiners.includes(provider)),
      );
      expect(invariants.length).toBeGreaterThan(0);
      expect(result.observers.violations.some((violation) => violation.invariant === 'I3')).toBe(
        true,
      );
      const failures = result.observers.validationFailures.filter(
        (failure) => failure.provider !== undefined && joiners.includes(failure.provider),
      );
      expect(failures.length).toBeGreaterThan(0);
      expect(failures.some((failure) => failure.detail.includes('a resolver holding'))).toBe(true);
      expect(result.observers.disagreements).toEqual([]);
      const html = await readFile(result.report, 'utf8');
      expect(html).toContain('SKIPPED');
      expect(html).toContain('I3');
      const markers = await glitchMarkers(result.report);
      expect(markers['process-1-add-signer-powerdns.svg']).toBeGreaterThan(0);
      expect(markers['process-2-add-signer-knot.svg']).toBeGreaterThan(0);
    },
    DEMO_TIMEOUT_MS,
  );

  it(
    'negative control (b): skipping the NS wait before the leaving signer stops in REMOVE-SIGNER is caught as I1 by both observers',
    async () => {
      const { code, result } = await runDemo([
        '--unsafe-skip-wait',
        'remove-signer/await-parent-ns',
      ]);
      expect(code).toBe(1);
      const unreachable = result.observers.violations.filter(
        (violation) => violation.invariant === 'I1' && violation.providers.includes('bind'),
      );
      expect(unreachable.length).toBeGreaterThan(0);
      const failures = result.observers.validationFailures.filter(
        (failure) => failure.provider === 'bind',
      );
      expect(failures.length).toBeGreaterThan(0);
      expect(result.observers.disagreements).toEqual([]);
      // The joins kept their waits: nothing went wrong before the removal.
      expect(
        result.observers.violations.filter((violation) => !violation.providers.includes('bind')),
      ).toEqual([]);
      const html = await readFile(result.report, 'utf8');
      expect(html).toContain('SKIPPED');
      expect(html).toContain('I1');
      const markers = await glitchMarkers(result.report);
      expect(markers['process-3-remove-signer-bind.svg']).toBeGreaterThan(0);
    },
    DEMO_TIMEOUT_MS,
  );
});
