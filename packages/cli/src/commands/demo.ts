/**
 * `chorus demo`: the migration demo. Brings the lab up, starts one sidecar process per signer on
 * the embedded event log, and migrates example.test from BIND alone to PowerDNS + Knot (add
 * PowerDNS, add Knot, remove BIND) while validating resolvers ask every provider several times a
 * second. Ends with a summary; fails if any validation failure was seen. The phases are in
 * demo/phases.ts.
 */
import path from 'node:path';
import type { EventLog, Observer, ProcessKind, ZoneEvent } from '@chorus/core';
import { stepsFor } from '@chorus/engine';
import {
  LabError,
  parseAlgorithm,
  parseDenial,
  parseRateLimits,
  type DenialMethod,
  type HostsMode,
  type LabAlgorithm,
  type ProviderRateLimits,
} from '@chorus/lab';
import { writeReport } from '@chorus/report';
import { expectPositionals, parseCommandArgs, UsageError } from '../args.js';
import { readZone } from '../coordination/event-log.js';
import { DEMO_HELP } from '../help.js';
import type { CliIo } from '../io.js';
import type { DemoObservers } from '../demo/observers.js';
import {
  checkParent,
  defineDemoZone,
  freshLab,
  openWhenRegistered,
  readThroughLogOutages,
  providersOf,
  runScenario,
  BOOTSTRAP_ZONE,
  SCENARIOS,
  startObservers,
  startSidecars,
  startTraffic,
  type DemoLab,
  type DemoParent,
  type Retirement,
  type Say,
  type Scenario,
  type ScenarioName,
} from '../demo/phases.js';
import { glitchCount, printDemoSummary, type DemoOutcome } from '../demo/print-summary.js';
import { stopSidecarProcess, type RunningSidecar } from '../demo/sidecars.js';
import { startDemoOwner, startPersonAtParent, type DemoOwner } from '../demo/model1.js';
import { summarizeZone } from '../demo/summary.js';
import type { TrafficMonitor } from '../demo/traffic.js';

interface DemoOptions {
  scenario: ScenarioName;
  rateLimits?: ProviderRateLimits;
  directory?: string;
  addressPrefix?: string;
  ttl?: number;
  skips: Record<ProcessKind, string[]>;
  json: boolean;
  extraObservers?: Observer<ZoneEvent>[];
  eventLog?: 'sqlite' | 'nats';
  hosts?: HostsMode;
  denial?: DenialMethod;
  algorithm?: LabAlgorithm;
  /** Who changes the parent: the lab's CDS/CSYNC scanner (default), or the fake registrar's API. */
  parent?: DemoParent;
  /** Model 1: the owner stops signing after the steps, until its signatures have lapsed. */
  ownerLapse?: boolean;
}

function parseParent(text: string): DemoParent {
  if (text === 'scanner' || text === 'registrar') return text;
  throw new UsageError(`--parent is scanner or registrar, not ${JSON.stringify(text)}`, 'demo');
}

function parseEventLogKind(text: string | undefined): 'sqlite' | 'nats' | undefined {
  if (text === undefined || text === 'sqlite' || text === 'nats') return text;
  throw new UsageError(`--event-log is sqlite or nats, not ${JSON.stringify(text)}`, 'demo');
}

function parseHosts(text: string): HostsMode {
  if (text === 'loopback' || text === 'netns') return text;
  throw new UsageError(`--hosts is loopback or netns, not ${JSON.stringify(text)}`, 'demo');
}

/** `KIND/STEP` values of --unsafe-skip-wait, checked against the steps that have waits. */
function parseSkips(values: readonly string[]): Record<ProcessKind, string[]> {
  const skips: Record<ProcessKind, string[]> = {
    'add-signer': [],
    'remove-signer': [],
    'roll-zsk': [],
    'roll-ksk': [],
    'roll-algorithm': [],
    bootstrap: [],
  };
  const valid = (
    ['add-signer', 'remove-signer', 'roll-zsk', 'roll-ksk', 'bootstrap'] as const
  ).flatMap((kind) =>
    [...new Set([...stepsFor(kind), ...stepsFor(kind, 'held', 1)])]
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

function parseScenario(text: string | undefined): ScenarioName {
  if (text === undefined) return 'migration';
  if (!Object.hasOwn(SCENARIOS, text))
    throw new UsageError(
      `--scenario is one of ${Object.keys(SCENARIOS).join(', ')}, not ${JSON.stringify(text)}`,
      'demo',
    );
  return text as ScenarioName;
}

function parseTtl(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 2 || value > 3600)
    throw new UsageError(
      `--ttl must be a whole number of seconds from 2 to 3600, not ${JSON.stringify(text)}`,
      'demo',
    );
  return value;
}

/** The options, or undefined when --help was asked for (and printed). */
function parseDemoOptions(args: string[], io: CliIo): DemoOptions | undefined {
  const { values, positionals } = parseCommandArgs('demo', args, {
    dir: { type: 'string' },
    'address-prefix': { type: 'string' },
    ttl: { type: 'string' },
    scenario: { type: 'string' },
    'unsafe-skip-wait': { type: 'string', multiple: true },
    'unsafe-owner-lapse': { type: 'boolean' },
    'rate-limit': { type: 'string' },
    'event-log': { type: 'string' },
    hosts: { type: 'string' },
    denial: { type: 'string' },
    algorithm: { type: 'string' },
    parent: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(DEMO_HELP);
    return undefined;
  }
  expectPositionals(positionals, 0, 'demo');
  return {
    scenario: parseScenario(values.scenario),
    ...(values.dir === undefined ? {} : { directory: values.dir }),
    ...(values['address-prefix'] === undefined ? {} : { addressPrefix: values['address-prefix'] }),
    ...(values.ttl === undefined ? {} : { ttl: parseTtl(values.ttl) }),
    skips: parseSkips(values['unsafe-skip-wait'] ?? []),
    ...(values['unsafe-owner-lapse'] ? { ownerLapse: ownerLapseOption(values.scenario) } : {}),
    ...(values['rate-limit'] === undefined
      ? {}
      : { rateLimits: parseDemoRateLimits(values['rate-limit']) }),
    json: values.json === true,
    ...(values['event-log'] === undefined
      ? {}
      : { eventLog: parseEventLogKind(values['event-log'])! }),
    ...(values.hosts === undefined ? {} : { hosts: parseHosts(values.hosts) }),
    ...(values.denial === undefined
      ? {}
      : { denial: demoLabOption(values.denial, 'denial', parseDenial) }),
    ...(values.algorithm === undefined
      ? {}
      : { algorithm: demoLabOption(values.algorithm, 'algorithm', parseAlgorithm) }),
    ...(values.parent === undefined ? {} : { parent: parseParent(values.parent) }),
  };
}

/** `--unsafe-owner-lapse` is model 1's negative control. */
function ownerLapseOption(scenario: string | undefined): true {
  if (scenario !== 'model1' && scenario !== 'model1-roll')
    throw new UsageError('--unsafe-owner-lapse goes with --scenario model1 or model1-roll', 'demo');
  return true;
}

/** A lab option parsed by the lab's own parser; its LabError becomes a usage error. */
function demoLabOption<T>(text: string, name: string, parse: (text: string) => T): T {
  try {
    return parse(text);
  } catch (error) {
    if (LabError.isInstance(error)) throw new UsageError(`--${name}: ${error.message}`, 'demo');
    throw error;
  }
}

/** `--rate-limit`: the lab's form (`desec.write=1/8s`); a malformed value is a usage error. */
function parseDemoRateLimits(text: string): ProviderRateLimits {
  return demoLabOption(text, 'rate-limit', parseRateLimits);
}

function warnUnsafe(skips: Record<ProcessKind, string[]>, say: Say): void {
  for (const [kind, steps] of Object.entries(skips))
    if (steps.length > 0)
      say(
        `UNSAFE: skipping the wait after ${steps.join(', ')} in every ${kind}: resolvers may fail, and the observers must say so`,
      );
}

/** What runs while the demo does, stopped in any case at the end. */
interface Running {
  sidecars: RunningSidecar[];
  traffic?: TrafficMonitor;
  observers?: DemoObservers;
  /** Model 1: the owner and the person at the parent. */
  model1?: { owner: DemoOwner; person: { stop(): Promise<void> } };
}

async function startModel1Roles(lab: DemoLab, log: EventLog<ZoneEvent>, say: Say) {
  const owner = await startDemoOwner(lab.status, log, say);
  const person = startPersonAtParent(lab.status, log, lab.zone, say);
  say('the person at the parent (played by the demo) makes each DS change Chorus shows');
  await untilOwnerSigned(log, lab.zone);
  return { owner, person };
}

/** The first steps need the owner's first set in the log: it follows the members' plans. */
async function untilOwnerSigned(log: EventLog<ZoneEvent>, zone: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await readZone(log, zone)).ownerSigned) {
    if (Date.now() > deadline)
      throw new LabError(
        `the owner signed no DNSKEY RRset of ${zone} within 60 s: the members' planned ZSKs are not all in the log (see the sidecars' logs)`,
      );
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function stopModel1Roles(running: Running): Promise<void> {
  const roles = running.model1;
  running.model1 = undefined;
  await roles?.person.stop();
  await roles?.owner.stop();
}

/** The owner's refresh: it re-signs the unchanged set before its signatures run out. */
async function untilRefreshed(log: EventLog<ZoneEvent>, lab: DemoLab, say: Say): Promise<void> {
  const since = new Date().toISOString();
  const state = await readZone(log, lab.zone);
  const seconds = state.owner!.signatureValiditySeconds;
  say(`waiting for the owner's refresh (at most ${seconds} s)`);
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const signed = (await readZone(log, lab.zone)).ownerSigned;
    if (signed?.reason === 'refresh' && signed.signedAt > since) return;
    if (Date.now() > deadline)
      throw new LabError(`the owner did not refresh ${lab.zone} within ${seconds} s`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** The negative control: the owner stops signing until its signatures have expired everywhere. */
async function lapseOnPurpose(lab: DemoLab, owner: DemoOwner, say: Say): Promise<void> {
  const seconds = lab.status.ttl * 20;
  say(
    `UNSAFE: the owner stops signing for ${seconds} s: its signatures lapse, and resolvers must fail`,
  );
  owner.pause();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  owner.resume();
}

/** Phases 3 to 6 on the registered log: define, watch, migrate, and gather the outcome. */
async function runMigration(
  lab: DemoLab,
  log: EventLog<ZoneEvent>,
  running: Running,
  options: DemoOptions & { io: CliIo; say: Say; began: string },
): Promise<DemoOutcome> {
  const { say } = options;
  const scenario: Scenario = SCENARIOS[options.scenario];
  const model1 = scenario.model1 === true;
  await defineDemoZone(log, lab, say, scenario.initialGroup, model1);
  const retirement: Retirement = {};
  const observers = await startObservers(lab, log, retirement, {
    ...options,
    signers: scenario.signers,
  });
  running.observers = observers;
  // A bootstrap starts insecure: answers without AD are expected until its DS is in every cache.
  let insecureAllowed = scenario.bootstrap === true;
  running.traffic = startTraffic(lab, observers, () => insecureAllowed);
  say(
    'observers sample every server each second; resolvers query www and a missing name 8 times a second each, through every provider clients could reach',
  );
  warnUnsafe(options.skips, say);
  if (model1) running.model1 = await startModel1Roles(lab, log, say);
  await runScenario(log, lab, retirement, {
    ...options,
    // The lapse control skips the rolls: the owner stops signing after its first set.
    scenario: options.ownerLapse ? { ...scenario, steps: [] } : scenario,
    ...(running.model1 ? { ownerKsk: running.model1.owner.successor } : {}),
    afterSteps: () => void (insecureAllowed = false),
  });
  if (running.model1 && options.ownerLapse) await lapseOnPurpose(lab, running.model1.owner, say);
  else if (running.model1) await untilRefreshed(log, lab, say);
  await stopModel1Roles(running);
  const traffic = await running.traffic.stop();
  running.traffic = undefined;
  const observed = await observers.stop();
  running.observers = undefined;
  // The log may still be recovering from an outage the run went through (nats-faults).
  const final = await readThroughLogOutages('reading the final state', say, () =>
    readZone(log, lab.zone),
  );
  const parent = await checkParent(lab, final, scenario.finalGroup, model1);
  say('writing the timeline report');
  const written = await readThroughLogOutages('writing the timeline report', say, () =>
    writeReport({ log, zone: lab.zone, outDir: path.join(lab.directory, 'report') }),
  );
  return {
    processes: summarizeZone(final, options.began),
    traffic,
    observed,
    parent,
    reportHtml: written.html,
    eventLogPath: lab.eventLogPath,
    zone: lab.zone,
    ...(model1
      ? {
          title: `Model 1 of ${lab.zone}: Knot and NS1 under the owner's KSK (SoftHSM2)${options.ownerLapse ? ', left to lapse' : ''}`,
        }
      : {}),
  };
}

/** The verdict: exit 0 only without glitches or disagreements, and with the parent as expected. */
function conclude(outcome: DemoOutcome, options: DemoOptions, io: CliIo): number {
  const out = (line: string) => (options.json ? io.stderr(`${line}\n`) : io.stdout(`${line}\n`));
  printDemoSummary(out, outcome, options.directory);
  const glitches = glitchCount(outcome);
  const disagreements = outcome.observed.disagreements.length;
  const ok = glitches === 0 && disagreements === 0 && outcome.parent.asExpected;
  if (options.json) {
    const { ds, ns, asExpected } = outcome.parent;
    const summary = {
      ok,
      unsafeSkipWaits: options.skips,
      processes: outcome.processes,
      traffic: outcome.traffic,
      observers: outcome.observed,
      parent: { ds, ns, asExpected },
      report: outcome.reportHtml,
      eventLog: outcome.eventLogPath,
    };
    io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
  }
  if (!ok)
    io.stderr(
      `[demo] FAILED: ${glitches} glitch(es), ${disagreements} disagreement(s) with unbound${outcome.parent.asExpected ? '' : ', and the parent does not hold exactly the new group'}\n`,
    );
  return ok ? 0 : 1;
}

async function stopEverything(running: Running, say: Say): Promise<void> {
  await stopModel1Roles(running).catch(() => undefined);
  await running.traffic?.stop();
  await running.observers?.stop().catch(() => undefined);
  await Promise.all(
    running.sidecars.map(async (sidecar) => {
      if ((await stopSidecarProcess(sidecar)) === 'killed')
        say(`the sidecar of ${sidecar.id} did not exit within 10 s of SIGTERM: killed`);
    }),
  );
}

export async function demoCommand(
  args: string[],
  io: CliIo,
  extra: { extraObservers?: Observer<ZoneEvent>[] } = {},
): Promise<number> {
  const parsed = parseDemoOptions(args, io);
  if (!parsed) return 0;
  const options = { ...parsed, ...extra };
  const say: Say = (line) => io.stderr(`[demo] ${line}\n`);
  const began = new Date().toISOString();
  const { signers } = SCENARIOS[options.scenario];
  const bootstrap = 'bootstrap' in SCENARIOS[options.scenario];
  const model1 = 'model1' in SCENARIOS[options.scenario];
  const lab = await freshLab(
    {
      ...options,
      providers: providersOf(signers),
      ...(bootstrap ? { bootstrapZone: BOOTSTRAP_ZONE } : {}),
      ...(model1 ? { owner: true } : {}),
    },
    io,
    say,
  );
  const running: Running = { sidecars: [] };
  let log: EventLog<ZoneEvent> | undefined;
  try {
    const unsafe = Object.values(options.skips).some((steps) => steps.length > 0);
    await startSidecars(lab, signers, running.sidecars, say, { unsafeAllowSkipWaits: unsafe });
    log = await openWhenRegistered(lab, running.sidecars, { allowUnsafeSkipWaits: unsafe });
    const outcome = await runMigration(lab, log, running, { ...options, io, say, began });
    return conclude(outcome, options, io);
  } finally {
    await stopEverything(running, say);
    await log?.close();
  }
}
