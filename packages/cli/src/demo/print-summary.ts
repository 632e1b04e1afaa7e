/** The demo's closing summary, for people: processes, waits, traffic, observers and the parent. */
import type { DemoObserverReport } from './observers.js';
import type { ParentCheck } from './phases.js';
import type { ProcessSummary } from './summary.js';
import type { TrafficReport } from './traffic.js';

export interface DemoOutcome {
  processes: ProcessSummary[];
  traffic: TrafficReport;
  observed: DemoObserverReport;
  parent: ParentCheck;
  reportHtml: string;
  eventLogPath: string;
  zone: string;
  /** What the run did, as the summary's heading. */
  title?: string;
}

type Out = (line: string) => void;

const SHOWN = 10;

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

function printProcesses(out: Out, processes: readonly ProcessSummary[]): void {
  if (processes.length === 0) {
    out('  no process ran');
    return;
  }
  for (const process of processes) {
    out(
      `  ${process.kind} ${process.signerId}: ${process.seconds.toFixed(1)} s, of which ${process.mandatedWaitSeconds.toFixed(1)} s mandated waits`,
    );
    for (const step of process.steps)
      out(
        `    ${step.name.padEnd(22)} ${step.seconds.toFixed(1).padStart(6)} s${step.wait ? `   wait ${step.wait}` : ''}`,
      );
  }
  const sum = (pick: (process: ProcessSummary) => number) =>
    processes.reduce((total, process) => total + pick(process), 0);
  const total = sum((process) => process.seconds);
  const waits = sum((process) => process.mandatedWaitSeconds);
  const parent = sum((process) => process.parentSeconds);
  out(
    `\n  total ${total.toFixed(1)} s: mandated waits ${waits.toFixed(1)} s (${((waits / total) * 100).toFixed(0)} %), waiting for the parent ${parent.toFixed(1)} s, everything else ${(total - waits - parent).toFixed(1)} s`,
  );
}

function printTraffic(out: Out, traffic: TrafficReport): void {
  const perResolver = Object.entries(traffic.perResolver)
    .map(([id, entry]) => `${id} ${entry.queries}`)
    .join(', ');
  out(
    `  validating resolvers: ${traffic.queries} queries in ${traffic.seconds.toFixed(0)} s (${perResolver})`,
  );
  if (traffic.insecure > 0)
    out(
      `  insecure answers (no AD) before the bootstrap's DS reached every cache: ${traffic.insecure}`,
    );
  out(`  resolver failures while clients could reach the provider: ${traffic.failures.length}`);
  for (const failure of traffic.failures.slice(0, SHOWN))
    out(
      `    ${failure.at} ${failure.resolver} ${failure.name} ${failure.rcode}${failure.authenticated ? '' : ' (not authenticated)'}`,
    );
}

function printObservers(out: Out, observed: DemoObserverReport): void {
  const byInvariant = Object.entries(countBy(observed.violations.map((entry) => entry.invariant)))
    .map(([id, count]) => `${id} ×${count}`)
    .join(', ');
  out(
    `  consistency observer: ${observed.consistency.checks} checks of I1–I9, ${observed.violations.length} violation(s)${byInvariant ? ` (${byInvariant})` : ''}`,
  );
  for (const violation of observed.violations.slice(0, SHOWN))
    out(`    ${violation.at} ${violation.invariant} ${violation.detail}`);
  const validation = observed.validation;
  out(
    `  validation observer: ${validation.probes} probes, ${validation.verdicts} verdicts, ${validation.resolverAnswers} resolver answers; ${observed.validationFailures.length} failure(s), ${observed.disagreements.length} disagreement(s) with unbound`,
  );
  for (const failure of observed.validationFailures.slice(0, SHOWN))
    out(`    ${failure.at} ${failure.provider ?? failure.resolver ?? ''} ${failure.detail}`);
  for (const disagreement of observed.disagreements.slice(0, SHOWN))
    out(`    ${disagreement.at} ${disagreement.resolver ?? ''} ${disagreement.detail}`);
  for (const [name, entry] of Object.entries(observed.pipeline)) {
    const failed = entry.failures + entry.timeouts;
    if (failed > 0)
      out(
        `  observer ${name} failed ${failed} time(s) (${entry.lastError ?? ''}); the pipeline went on`,
      );
  }
}

/** Prints the whole summary, one line at a time. */
export function printDemoSummary(
  out: Out,
  outcome: DemoOutcome,
  labDirectoryOption?: string,
): void {
  out(`\n${outcome.title ?? 'Migration of example.test from BIND to PowerDNS + Knot'}`);
  printProcesses(out, outcome.processes);
  printTraffic(out, outcome.traffic);
  printObservers(out, outcome.observed);
  const { parent } = outcome;
  out(
    `  parent DS: ${parent.ds.length} record(s) ${parent.dsAsExpected ? `= the CDS of ${parent.dsOf}` : '≠ expected!'}`,
  );
  out(`  parent NS: ${parent.ns.join(' ')}`);
  out(`\nTimeline report: ${outcome.reportHtml}`);
  out(
    `The event log is ${outcome.eventLogPath} ("chorus events ${outcome.zone} --log ${outcome.eventLogPath}"). The lab keeps running; stop it with: chorus lab down${labDirectoryOption === undefined ? '' : ` --dir ${labDirectoryOption}`}`,
  );
}

/** Glitches: resolver failures, invariant violations and validation failures. */
export function glitchCount(outcome: DemoOutcome): number {
  return (
    outcome.traffic.failures.length +
    outcome.observed.violations.length +
    outcome.observed.validationFailures.length
  );
}
