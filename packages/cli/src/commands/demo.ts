/**
 * `chorus demo`: the migration demo. Brings the lab up, starts one sidecar process per signer on
 * the embedded event log, and migrates example.test from BIND alone to PowerDNS + Knot (add
 * PowerDNS, add Knot, remove BIND) while validating resolvers ask every provider several times a
 * second. Ends with a summary; fails if any validation failure was seen.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { canonicalName, computeDs, dsIdentity } from '@chorus/dns';
import { createObserveOnlyParentChannel } from '@chorus/parent';
import { createSqliteEventLog } from '@chorus/event-log-sqlite';
import { defineZone, REMOVE_SIGNER_STEPS, stepsFor } from '@chorus/engine';
import { zoneStream, type Observer, type ProcessKind, type ZoneEvent } from '@chorus/core';
import { writeReport } from '@chorus/report';
import { labDown, labStatus, labStopServer, labUp, LabError, type LabStatus } from '@chorus/lab';
import { expectPositionals, parseCommandArgs, UsageError } from '../args.js';
import { DEMO_HELP } from '../help.js';
import { progressTo, type CliIo } from '../io.js';
import { readZone, requestAndFollow } from './coordination.js';
import {
  sidecarConfigFor,
  startSidecarProcess,
  stopSidecarProcess,
  type RunningSidecar,
} from '../demo/sidecars.js';
import { summarizeZone } from '../demo/summary.js';
import { TrafficMonitor } from '../demo/traffic.js';
import { startDemoObservers, type DemoObservers } from '../demo/observers.js';

const SIGNERS = ['bind', 'powerdns', 'knot'] as const;

async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new LabError(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** `KIND/STEP` values of --unsafe-skip-wait, checked against the steps that have waits. */
function parseSkips(values: readonly string[]): Record<ProcessKind, string[]> {
  const skips: Record<ProcessKind, string[]> = { 'add-signer': [], 'remove-signer': [] };
  const valid = (['add-signer', 'remove-signer'] as const).flatMap((kind) =>
    stepsFor(kind)
      .filter((step) => step.wait !== null)
      .map((step) => `${kind}/${step.name}`),
  );
  for (const value of values) {
    if (!valid.includes(value))
      throw new UsageError(
        `--unsafe-skip-wait takes KIND/STEP naming a step that has a wait, one of: ${valid.join(', ')}; not ${JSON.stringify(value)}`,
        'demo',
      );
    const [kind, step] = value.split('/') as [ProcessKind, string];
    skips[kind].push(step);
  }
  return skips;
}

function parseTtl(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 2 || value > 3600)
    throw new UsageError(
      `--ttl must be a whole number of seconds from 2 to 3600, not ${JSON.stringify(text)}`,
    );
  return value;
}

/** Step 5 of REMOVE-SIGNER (0-based 4): the leaving signer may stop serving. */
const RETIRE_STEP = REMOVE_SIGNER_STEPS.findIndex((step) => step.name === 'retire-leaving-signer');

export async function demoCommand(
  args: string[],
  io: CliIo,
  options: { extraObservers?: Observer<ZoneEvent>[] } = {},
): Promise<number> {
  const { values, positionals } = parseCommandArgs('demo', args, {
    dir: { type: 'string' },
    'address-prefix': { type: 'string' },
    ttl: { type: 'string' },
    'unsafe-skip-wait': { type: 'string', multiple: true },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(DEMO_HELP);
    return 0;
  }
  expectPositionals(positionals, 0, 'demo');
  const ttl = values.ttl === undefined ? undefined : parseTtl(values.ttl);
  const skips = parseSkips(values['unsafe-skip-wait'] ?? []);
  const json = values.json === true;
  const directoryOption = values.dir === undefined ? {} : { directory: values.dir };
  const say = (line: string) => io.stderr(`[demo] ${line}\n`);
  const began = new Date();

  // 1. A fresh lab: the demo starts from example.test signed by BIND alone.
  const existing = await labStatus(directoryOption);
  if (existing) {
    say(`stopping the lab in ${existing.directory} to start the demo from a clean zone`);
    await labDown(directoryOption);
  }
  say('bringing the lab up');
  const status: LabStatus = await labUp({
    ...directoryOption,
    ...(values['address-prefix'] === undefined ? {} : { addressPrefix: values['address-prefix'] }),
    ...(ttl === undefined ? {} : { ttl }),
    onProgress: progressTo(io),
  });
  const zone = status.zones[0]!;
  const server = (id: string) => status.servers.find((entry) => entry.id === id)!;
  const demoDirectory = path.join(status.directory, 'demo');
  const eventLogPath = path.join(demoDirectory, 'events.sqlite');
  await rm(demoDirectory, { recursive: true, force: true });

  // 2. One sidecar process per signer, each with only its own server's credentials.
  const sidecars: RunningSidecar[] = [];
  let traffic: TrafficMonitor | undefined;
  let observers: DemoObservers | undefined;
  const log = () => createSqliteEventLog<ZoneEvent>({ path: eventLogPath });
  try {
    for (const id of SIGNERS) {
      const sidecar = await startSidecarProcess(
        demoDirectory,
        sidecarConfigFor(status, server(id), eventLogPath, zone),
      );
      sidecars.push(sidecar);
      say(`sidecar ${id} started, pid ${sidecar.pid}, log ${sidecar.logFile}`);
    }
    const events = await waitFor('the three sidecars to register', 30_000, async () => {
      for (const sidecar of sidecars) {
        try {
          process.kill(sidecar.pid, 0);
        } catch {
          throw new LabError(`the sidecar of ${sidecar.id} exited; see ${sidecar.logFile}`);
        }
      }
      try {
        const opened = log();
        const state = await readZone(opened, zone);
        const ready = SIGNERS.every((id) => (state.signers[id]?.keys.length ?? 0) > 0);
        return ready ? opened : (await opened.close(), undefined);
      } catch {
        return undefined;
      }
    });

    // 3. The group today: BIND alone. Waits come from the lab's TTLs and the agent's 1 s scans.
    const defined = await readZone(events, zone);
    await events.append(zoneStream(zone), defined.version, [
      defineZone(
        defined,
        { source: { kind: 'cli', id: 'demo' }, now: new Date().toISOString() },
        {
          parentZone: status.parentZone,
          signerIds: ['bind'],
          timing: {
            childPropagationSeconds: 1,
            parentPropagationSeconds: 2,
            safetyMarginSeconds: 1,
            maxZoneTtlSeconds: status.ttl,
          },
          recordTtlSeconds: status.ttl,
        },
      ),
    ]);
    say(`${zone} defined with bind as its only signer`);

    // 4. Independent observers, and validating resolvers asking every provider clients could reach.
    const margins = { childSeconds: 1, parentSeconds: 2 };
    const parentChannel = createObserveOnlyParentChannel({
      id: 'demo-parent',
      parentZone: status.parentZone,
      parentServers: [{ address: server('parent').address, port: server('parent').port }],
    });
    let stopping: Promise<unknown> | undefined;
    let current: { kind: ProcessKind; signerId: string } | undefined;
    observers = await startDemoObservers({
      status,
      zone,
      state: await readZone(events, zone),
      eventLogPath,
      zoneLog: events,
      margins,
      ...(options.extraObservers ? { extraObservers: options.extraObservers } : {}),
      onZoneEvent: (event) => {
        // The leaving provider switches its servers off as soon as Chorus says it may (§7.2 step 7).
        if (
          event.type === 'step-started' &&
          current?.kind === 'remove-signer' &&
          event.data.stepIndex === RETIRE_STEP
        ) {
          const leaving = current.signerId;
          say(`${leaving} may stop serving ${zone} now: stopping its server`);
          stopping = labStopServer({ directory: status.directory, server: leaving }).catch(
            (error: unknown) => say(`could not stop ${leaving}: ${String(error)}`),
          );
        }
      },
    });
    const resolver = (id: string) => status.resolvers.find((entry) => entry.id === id)!;
    const watching = observers;
    traffic = new TrafficMonitor({
      zone,
      ratePerSecond: 8,
      reachable: () => watching.reachable(),
      resolvers: [
        {
          id: 'resolver-delegation',
          endpoint: {
            address: resolver('resolver-delegation').address,
            port: resolver('resolver-delegation').port,
          },
        },
        ...SIGNERS.map((id) => ({
          id: `resolver-${id}`,
          endpoint: {
            address: resolver(`resolver-${id}`).address,
            port: resolver(`resolver-${id}`).port,
          },
          provider: id,
        })),
      ],
    });
    traffic.start();
    say(
      'observers sample every server each second; resolvers query www and a missing name 8 times a second each, through every provider clients could reach',
    );
    for (const [kind, steps] of Object.entries(skips))
      if (steps.length > 0)
        say(
          `UNSAFE: skipping the wait after ${steps.join(', ')} in every ${kind}: resolvers may fail, and the observers must say so`,
        );

    // 5. The migration: add PowerDNS, add Knot, remove BIND, one process at a time.
    for (const [kind, id] of [
      ['add-signer', 'powerdns'],
      ['add-signer', 'knot'],
      ['remove-signer', 'bind'],
    ] as const) {
      say(`${kind} ${id}`);
      current = { kind, signerId: id };
      await requestAndFollow(events, zone, kind, id, io, {
        json: false,
        detach: false,
        unsafeSkipWaits: skips[kind],
      });
    }
    current = undefined;
    await stopping;
    // Caches of the last changes run out before the verdict: the observers keep watching.
    const tail = (ttl ?? 30) + margins.parentSeconds + 1;
    say(`watching ${tail} s more, until every cache of the last change has run out`);
    await new Promise((resolve) => setTimeout(resolve, tail * 1000));
    const report = await traffic.stop();
    traffic = undefined;
    const observed = await observers.stop();
    observers = undefined;

    // 6. The summary, and the timeline report.
    const final = await readZone(events, zone);
    const processes = summarizeZone(final, began.toISOString());
    const delegation = await parentChannel.getDelegation(zone, {});
    const expectedDs = ['powerdns', 'knot']
      .flatMap((id) =>
        final.signers[id]!.keys.filter((key) => key.role !== 'ZSK').map((key) =>
          dsIdentity(computeDs(zone, key.dnskey, 2)),
        ),
      )
      .sort();
    const servedDs = (delegation.ds?.records ?? []).map(dsIdentity).sort();
    const servedNs = (delegation.ns?.records ?? []).map(canonicalName).sort();
    const expectedNs = ['powerdns', 'knot']
      .map((id) => canonicalName(server(id).nameserverName))
      .sort();
    say('writing the timeline report');
    const written = await writeReport({
      log: events,
      zone,
      outDir: path.join(demoDirectory, 'report'),
    });
    const total = processes.reduce((sum, process) => sum + process.seconds, 0);
    const waits = processes.reduce((sum, process) => sum + process.mandatedWaitSeconds, 0);
    const parent = processes.reduce((sum, process) => sum + process.parentSeconds, 0);
    const out = (line: string) => (json ? io.stderr(line) : io.stdout(line));
    out('\nMigration of example.test from BIND to PowerDNS + Knot\n');
    for (const process of processes) {
      out(
        `  ${process.kind} ${process.signerId}: ${process.seconds.toFixed(1)} s, of which ${process.mandatedWaitSeconds.toFixed(1)} s mandated waits\n`,
      );
      for (const step of process.steps)
        out(
          `    ${step.name.padEnd(22)} ${step.seconds.toFixed(1).padStart(6)} s${step.wait ? `   wait ${step.wait}` : ''}\n`,
        );
    }
    out(
      `\n  total ${total.toFixed(1)} s: mandated waits ${waits.toFixed(1)} s (${((waits / total) * 100).toFixed(0)} %), waiting for the parent ${parent.toFixed(1)} s, everything else ${(total - waits - parent).toFixed(1)} s\n`,
    );
    out(
      `  validating resolvers: ${report.queries} queries in ${report.seconds.toFixed(0)} s (${Object.entries(
        report.perResolver,
      )
        .map(([id, entry]) => `${id} ${entry.queries}`)
        .join(', ')})\n`,
    );
    out(`  resolver failures while clients could reach the provider: ${report.failures.length}\n`);
    for (const failure of report.failures.slice(0, 10))
      out(
        `    ${failure.at} ${failure.resolver} ${failure.name} ${failure.rcode}${failure.authenticated ? '' : ' (not authenticated)'}\n`,
      );
    const byInvariant = countBy(observed.violations.map((violation) => violation.invariant));
    out(
      `  consistency observer: ${observed.consistency.checks} checks of I1–I9, ${observed.violations.length} violation(s)${
        observed.violations.length > 0
          ? ` (${Object.entries(byInvariant)
              .map(([id, count]) => `${id} ×${count}`)
              .join(', ')})`
          : ''
      }\n`,
    );
    for (const violation of observed.violations.slice(0, 10))
      out(`    ${violation.at} ${violation.invariant} ${violation.detail}\n`);
    out(
      `  validation observer: ${observed.validation.probes} probes, ${observed.validation.verdicts} verdicts, ${observed.validation.resolverAnswers} resolver answers; ${observed.validationFailures.length} failure(s), ${observed.disagreements.length} disagreement(s) with unbound\n`,
    );
    for (const failure of observed.validationFailures.slice(0, 10))
      out(`    ${failure.at} ${failure.provider ?? failure.resolver ?? ''} ${failure.detail}\n`);
    for (const disagreement of observed.disagreements.slice(0, 10))
      out(`    ${disagreement.at} ${disagreement.resolver ?? ''} ${disagreement.detail}\n`);
    const failedObservers = Object.entries(observed.pipeline).filter(
      ([, entry]) => entry.failures + entry.timeouts > 0,
    );
    for (const [name, entry] of failedObservers)
      out(
        `  observer ${name} failed ${entry.failures + entry.timeouts} time(s) (${entry.lastError ?? ''}); the pipeline went on\n`,
      );
    out(
      `  parent DS: ${servedDs.length} record(s) ${JSON.stringify(servedDs) === JSON.stringify(expectedDs) ? '= the KSKs of PowerDNS and Knot' : '≠ expected!'}\n`,
    );
    out(`  parent NS: ${servedNs.join(' ')}\n`);
    out(`\nTimeline report: ${written.html}\n`);
    out(
      `The event log is ${eventLogPath} ("chorus events ${zone} --log ${eventLogPath}"). The lab keeps running; stop it with: chorus lab down${values.dir === undefined ? '' : ` --dir ${values.dir}`}\n`,
    );
    await events.close();
    const glitches =
      report.failures.length + observed.violations.length + observed.validationFailures.length;
    const parentRight =
      JSON.stringify(servedDs) === JSON.stringify(expectedDs) &&
      JSON.stringify(servedNs) === JSON.stringify(expectedNs);
    const ok = glitches === 0 && observed.disagreements.length === 0 && parentRight;
    if (json)
      io.stdout(
        `${JSON.stringify(
          {
            ok,
            unsafeSkipWaits: skips,
            processes,
            traffic: report,
            observers: observed,
            parent: { ds: servedDs, ns: servedNs, asExpected: parentRight },
            report: written.html,
            eventLog: eventLogPath,
          },
          null,
          2,
        )}\n`,
      );
    if (!ok)
      io.stderr(
        `[demo] FAILED: ${glitches} glitch(es), ${observed.disagreements.length} disagreement(s) with unbound${parentRight ? '' : ', and the parent does not hold exactly the new group'}\n`,
      );
    return ok ? 0 : 1;
  } finally {
    await traffic?.stop();
    await observers?.stop().catch(() => undefined);
    for (const sidecar of sidecars) await stopSidecarProcess(sidecar);
  }
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
