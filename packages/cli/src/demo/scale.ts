/**
 * The scale run (`pnpm bench:scale`, a benchmark, not a test): a lab of N zones signed by BIND,
 * one group holding them all, and ADD-SIGNER of PowerDNS on every zone from one command
 * (`chorus signer add --group`). Measures the wall time against one zone's mandated waits, the
 * sidecars' CPU and memory per zone, apply failures, and PowerDNS's raw update rate in the same
 * run, so Chorus's rate is a ratio of what the server itself can take.
 */
import { open, readFile, stat } from 'node:fs/promises';
import { query, tallyDifference } from '@chorus/dns';
import { numberedZones } from '@chorus/lab';
import { zoneStream, type EventLog, type NameServer, type ZoneEvent } from '@chorus/core';
import type { ZoneState } from '@chorus/engine';
import type { ProcessState } from '@chorus/engine';
import { runCli } from '../cli.js';
import { readZone } from '../coordination/event-log.js';
import type { ZoneOutcome } from '../coordination/group-run.js';
import { trustKitAt } from '../coordination/trust-kit.js';
import type { CliIo } from '../io.js';
import { freshLab, openWhenRegistered, type DemoLab, type Say } from './phases.js';
import { measureBindRate, measurePowerDnsRate, type RawRate } from './raw-rate.js';
import {
  sidecarConfigFor,
  startSidecarProcess,
  stopSidecarProcess,
  type RunningSidecar,
} from './sidecars.js';

export interface ScaleOptions {
  zones: number;
  ttl: number;
  /** Zones in flight at once (`--parallel`). */
  parallel: number;
  /** ADD-SIGNER of PowerDNS (default), or a migration from BIND to PowerDNS (add, then remove). */
  process?: ScaleProcess;
  directory?: string;
  addressPrefix?: string;
  /** The parent's scan interval (the registry agent's); the lab's default (1 s) without it. */
  scanIntervalSeconds?: number;
  /** Whether the sidecars NOTIFY the parent's DSYNC target (default true). */
  parentNotify?: boolean;
}

export type ScaleProcess = 'add-signer' | 'migrate';

/** The process kinds each zone runs, in order. */
const KINDS_OF: Record<ScaleProcess, readonly string[]> = {
  'add-signer': ['add-signer'],
  migrate: ['add-signer', 'remove-signer'],
};

/** The one command that runs the process on every zone of the group. */
function groupCommand(process: ScaleProcess, parallel: number): string[] {
  const common = ['--parallel', String(parallel), '--json'];
  if (process === 'migrate')
    return ['migrate', '--group', 'scale', '--to', 'powerdns', '--from', 'bind', ...common];
  return ['signer', 'add', '--group', 'scale', 'powerdns', ...common];
}

/** A zone whose run did not complete: its `--json` outcome line, without the request. */
export type NotCompletedZone = Omit<ZoneOutcome, 'request'>;

/** The zones the group command's `--json` output reports as ended other than completed. */
export function notCompletedZonesOf(output: string): NotCompletedZone[] {
  const zones: NotCompletedZone[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const outcome = JSON.parse(line) as Partial<ZoneOutcome> & { summary?: unknown };
    if (outcome.summary !== undefined || !outcome.zone || !outcome.status) continue;
    if (outcome.status === 'completed' || outcome.status === 'already') continue;
    const { zone, status, processId, message } = outcome;
    zones.push({
      zone,
      status,
      ...(processId ? { processId } : {}),
      ...(message ? { message } : {}),
    });
  }
  return zones;
}

export interface ScaleReport {
  process: ScaleProcess;
  zones: number;
  parallel: number;
  labUpSeconds: number;
  completed: number;
  notCompleted: number;
  /** Each zone that did not complete: how it ended and why, as the group command said. */
  notCompletedZones: NotCompletedZone[];
  wallSeconds: number;
  /** The mandated waits of one zone's processes (the median zone). */
  oneZoneWaitsSeconds: number;
  sidecars: {
    id: string;
    cpuSecondsPerZone: number;
    rssKbPerZone: number;
    rssKb: number;
    /** Calls to servers during the run (`dns update`, `command rndc`, `http PATCH`…). */
    calls: Record<string, number>;
    /** V8 heap in use at the end of the run (live data and garbage not yet collected), KB. */
    heapUsedKb: number;
    /** V8 heap still in use after a full collection at the end: the state kept, KB. */
    retainedHeapKb: number;
  }[];
  applyFailures: number;
  /**
   * Zones whose delegation at the parent, read on the wire at the end, is exactly the group's:
   * one DS per member's KSK and the members' NS names. The others are listed by name.
   */
  parentRight: number;
  parentWrong: string[];
  /**
   * The check's negative control, on the first zone: the same parent data held against the group
   * without its last member must be judged wrong.
   */
  parentControlCaught: boolean;
  /** The raw update rates measured in the same run (see raw-rate.ts), and the slower of the two. */
  powerdnsRaw: RawRate;
  bindRaw: RawRate;
  slowestRaw: { server: 'bind' | 'powerdns'; changesPerSecond: number };
  /** The lab's registry agent (the parent's CDS/CSYNC scanner): its CPU over the run's wall time. */
  registryAgentCoreShare: number | null;
  /**
   * Where the host's CPU went during the run, in seconds: the group command (this process, which
   * folds every zone's events to follow them), each lab server and the registry agent. The run
   * shares two cores with all of them: wall time beyond the waits is roughly their sum over two.
   */
  hostCpuSeconds: {
    groupCommand: number;
    servers: Record<string, number>;
    registryAgent: number | null;
  };
  /**
   * Steps that wait for the parent (DS or NS): seconds from the step's start, with the CDS or
   * CSYNC served everywhere, until the parent served the group's DS or NS.
   */
  /**
   * Steps that waited for the parent, from the step's start (the group's CDS or CSYNC served
   * everywhere) to its post-condition (the parent's DS or NS right): all, and per kind.
   */
  /** `parent-notified` events in the log: each claims one parent step's NOTIFY. */
  parentNotifiedEvents: number;
  parentSteps: ParentStepFigures & { ds: ParentStepFigures; ns: ParentStepFigures };
  /** Chorus's zones per second beyond the mandated waits, over the slowest server's raw rate. */
  ratioToRaw: number | null;
}

const CLOCK_TICKS = 100;

/** User + system CPU seconds of a process so far (Linux /proc). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** CPU seconds so far of each lab nameserver that runs (by id). */
async function serverCpuSeconds(lab: DemoLab): Promise<Record<string, number>> {
  const entries = await Promise.all(
    lab.status.servers.map(async (server) => {
      const seconds = await cpuSeconds(server.pid).catch(() => undefined);
      return seconds === undefined ? [] : [[server.id, seconds] as const];
    }),
  );
  return Object.fromEntries(entries.flat());
}

/** Peak resident memory of a process, in KB (Linux /proc VmHWM). */
async function peakRssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

/** Mandated wait seconds of one process: each wait from its post-condition to notBefore. */
function mandatedWaits(process: ProcessState): number {
  return process.stepStates.reduce((sum, step) => {
    if (!step.wait || !step.postconditionMetAt) return sum;
    return sum + (Date.parse(step.wait.notBefore) - Date.parse(step.postconditionMetAt)) / 1000;
  }, 0);
}

export interface ParentStepFigures {
  count: number;
  medianSeconds: number;
  maxSeconds: number;
}

const PARENT_CHECKS: Readonly<Record<string, 'ds' | 'ns'>> = {
  'parent-ds-matches': 'ds',
  'parent-ns-matches': 'ns',
};

type ParentStepSeconds = { kind: 'ds' | 'ns'; seconds: number };

/** Seconds each step waiting for the parent took to see it change. */
function parentStepSeconds(process: ProcessState): ParentStepSeconds[] {
  return process.stepStates.flatMap((step, index) => {
    const kind = PARENT_CHECKS[process.steps[index]?.postcondition.kind ?? ''];
    if (!kind || !step.startedAt || !step.postconditionMetAt) return [];
    return [
      { kind, seconds: (Date.parse(step.postconditionMetAt) - Date.parse(step.startedAt)) / 1000 },
    ];
  });
}

function parentStepFigures(steps: readonly ParentStepSeconds[]): ParentStepFigures {
  const seconds = steps.map((step) => step.seconds);
  return {
    count: seconds.length,
    medianSeconds: median(seconds),
    maxSeconds: seconds.reduce((most, value) => Math.max(most, value), 0),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Starts the sidecars of BIND and PowerDNS, each for every zone of the lab. */
async function startScaleSidecars(
  lab: DemoLab,
  options: Pick<ScaleOptions, 'parentNotify'>,
  say: Say,
): Promise<RunningSidecar[]> {
  const sidecars: RunningSidecar[] = [];
  for (const id of ['bind', 'powerdns']) {
    const server = lab.status.servers.find((entry) => entry.id === id)!;
    const config = {
      ...sidecarConfigFor(lab.status, server, lab.sqliteFile, lab.zone, {
        parentNotify: options.parentNotify ?? true,
      }),
      zones: lab.status.zones,
      // info: the sidecar answers SIGUSR2 with a `call tally` line.
      logLevel: 'info',
      // BIND rolls on its own: every zone read every 10 s, or at 50 zones a second (the default)
      // when there are more; the lab's BIND pre-publishes for longer than that period (see
      // refuseShortPrePublication). PowerDNS never rolls by itself: a sidecar's default (30 s).
      keyWatchSeconds: id === 'bind' ? 10 : 30,
    };
    sidecars.push(await startSidecarProcess(lab.directory, config));
    say(`sidecar ${id} started for ${lab.status.zones.length} zone(s)`);
  }
  return sidecars;
}

interface TallyLine {
  calls: Record<string, number>;
  memory: { rss: number; heapUsed: number; external: number };
  retainedHeap: number;
}

/** The sidecar's call tally and memory now: sends SIGUSR2 and reads the `call tally` line it logs. */
async function callTallyOf(sidecar: RunningSidecar): Promise<TallyLine> {
  const offset = (await stat(sidecar.logFile)).size;
  process.kill(sidecar.pid, 'SIGUSR2');
  for (let waited = 0; waited < 30_000; waited += 200) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const file = await open(sidecar.logFile, 'r');
    try {
      const { size } = await file.stat();
      const buffer = Buffer.alloc(size - offset);
      await file.read(buffer, 0, buffer.length, offset);
      for (const line of buffer.toString('utf8').split('\n')) {
        if (!line.includes('"call tally"')) continue;
        return JSON.parse(line) as TallyLine;
      }
    } finally {
      await file.close();
    }
  }
  throw new Error(`the sidecar of ${sidecar.id} logged no call tally within 30 s of SIGUSR2`);
}

/** Whether the parent's DS and NS for the zone, on the wire, are exactly what its group needs. */
async function parentDelegationRight(parent: NameServer, state: ZoneState): Promise<boolean> {
  const members = state.members.map((id) => state.signers[id]!);
  const wantedDs = members
    .flatMap((signer) => signer.keys.filter((key) => key.role !== 'ZSK'))
    .map((key) => key.keyTag)
    .sort();
  const wantedNs = members.flatMap((signer) => signer.nameServerNames).sort();
  const ds = await query(parent, state.zone, 'DS', { transport: 'tcp' });
  const ns = await query(parent, state.zone, 'NS', { transport: 'tcp' });
  const servedDs = (ds.answers.find((set) => set.type === 'DS')?.records ?? [])
    .map((record) => (record as { keyTag: number }).keyTag)
    .sort();
  const servedNs = (ns.authorities.find((set) => set.type === 'NS')?.records ?? [])
    .map((record) => record as string)
    .sort();
  return (
    JSON.stringify(servedDs) === JSON.stringify(wantedDs) &&
    JSON.stringify(servedNs) === JSON.stringify(wantedNs)
  );
}

/** Waits until every zone has both signers registered with keys. */
async function untilAllRegistered(log: EventLog<ZoneEvent>, zones: readonly string[], say: Say) {
  const started = performance.now();
  for (const zone of zones) {
    for (;;) {
      const state = await readZone(log, zone);
      if (['bind', 'powerdns'].every((id) => (state.signers[id]?.keys.length ?? 0) > 0)) break;
      if (performance.now() - started > 30 * 60_000)
        throw new Error(`the sidecars did not register ${zone} within 30 min`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  say(`every zone registered after ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** Runs a chorus command in this process, as an operator would type it. */
async function chorus(args: string[], lab: DemoLab, say: Say, worstCode = 0): Promise<string> {
  const kit = trustKitAt(lab.directory);
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => {
      stderr += text;
      say(text.trimEnd());
    },
  };
  const code = await runCli(
    [...args, '--log', lab.sqliteFile, '--trust', kit.trustFile, '--key', kit.operatorKeyFile],
    io,
  );
  if (code > worstCode)
    throw new Error(`chorus ${args.join(' ')} exited ${code}: ${stderr.trim()}`);
  return stdout;
}

export async function runScale(options: ScaleOptions, io: CliIo): Promise<ScaleReport> {
  const say: Say = (line) => io.stderr(`[scale ${options.zones}] ${line}\n`);
  const zones = numberedZones(options.zones);
  const labStarted = performance.now();
  const { scanIntervalSeconds } = options;
  const lab = await freshLab(
    {
      ...options,
      zones,
      ...(scanIntervalSeconds ? { scanIntervalMs: scanIntervalSeconds * 1000 } : {}),
    },
    io,
    say,
  );
  const labUpSeconds = (performance.now() - labStarted) / 1000;
  const sidecars = await startScaleSidecars(lab, options, say);
  const stopOnSignal = stopSidecarsOnSignal(sidecars, lab.status.directory, io);
  let log: EventLog<ZoneEvent> | undefined;
  try {
    // Thousands of zones: the sidecars register 16 at a time, the demo zone among the first.
    log = await openWhenRegistered(lab, sidecars, {
      timeoutMs: 30_000 + 100 * zones.length,
    });
    await untilAllRegistered(log, zones, say);
    const ttl = String(lab.status.ttl);
    await chorus(
      [
        'group',
        'define',
        'scale',
        '--signer',
        'bind',
        '--record-ttl',
        ttl,
        '--max-zone-ttl',
        ttl,
        '--child-propagation',
        '1',
        '--parent-propagation',
        '2',
        '--safety-margin',
        '1',
      ],
      lab,
      say,
    );
    await chorus(['zone', 'define', ...zones, '--group', 'scale'], lab, say);
    const before = await Promise.all(sidecars.map((sidecar) => cpuSeconds(sidecar.pid)));
    const agentPid = lab.status.registryAgent?.pid;
    const agentBefore = agentPid ? await cpuSeconds(agentPid) : undefined;
    const callsBefore = await Promise.all(sidecars.map(callTallyOf));
    const serversBefore = await serverCpuSeconds(lab);
    const commandBefore = process.cpuUsage();
    const started = performance.now();
    const kind = options.process ?? 'add-signer';
    const output = await chorus(groupCommand(kind, options.parallel), lab, say, 1);
    const wallSeconds = (performance.now() - started) / 1000;
    const commandCpu = process.cpuUsage(commandBefore);
    const serversAfter = await serverCpuSeconds(lab);
    const after = await Promise.all(sidecars.map((sidecar) => cpuSeconds(sidecar.pid)));
    const agentCpu =
      agentPid && agentBefore !== undefined ? (await cpuSeconds(agentPid)) - agentBefore : null;
    const registryAgentCoreShare = agentCpu === null ? null : agentCpu / wallSeconds;
    const callsAfter = await Promise.all(sidecars.map(callTallyOf));
    const summary = (
      JSON.parse(output.trim().split('\n').at(-1)!) as {
        summary: { completed: number; failed: number };
      }
    ).summary;
    const parentSeconds: ParentStepSeconds[] = [];
    const completedWaits = (
      await Promise.all(
        zones.map(async (zone) => {
          const { processes } = await readZone(log!, zone);
          const runs = KINDS_OF[kind].map((runKind) => processes.find((p) => p.kind === runKind));
          const done = runs.every((run) => run?.status === 'completed');
          for (const run of runs) if (run) parentSeconds.push(...parentStepSeconds(run));
          return done ? runs.reduce((sum, run) => sum + mandatedWaits(run!), 0) : undefined;
        }),
      )
    ).filter((waits): waits is number => waits !== undefined);
    let applyFailures = 0;
    let parentNotifiedEvents = 0;
    for (const zone of zones)
      for (const { event } of await log.readStream(zoneStream(zone))) {
        if (event.type === 'signer-apply-failed') applyFailures += 1;
        if (event.type === 'parent-notified') parentNotifiedEvents += 1;
      }
    const oneZoneWaitsSeconds = median(completedWaits);
    const parentServer = lab.status.servers.find((server) => server.id === 'parent')!;
    const parentWrong: string[] = [];
    for (const zone of zones)
      if (!(await parentDelegationRight(parentServer, await readZone(log, zone))))
        parentWrong.push(zone);
    const first = await readZone(log, zones[0]!);
    const parentControlCaught = !(await parentDelegationRight(parentServer, {
      ...first,
      members: first.members.slice(0, -1),
    }));
    const powerdnsRaw = await measurePowerDnsRate(lab.status, zones, say);
    const bindRaw = await measureBindRate(lab.status, zones, say);
    const slowestRaw =
      bindRaw.changesPerSecond < powerdnsRaw.changesPerSecond
        ? { server: 'bind' as const, changesPerSecond: bindRaw.changesPerSecond }
        : { server: 'powerdns' as const, changesPerSecond: powerdnsRaw.changesPerSecond };
    const beyondWaits = wallSeconds - oneZoneWaitsSeconds;
    return {
      process: kind,
      zones: options.zones,
      parallel: options.parallel,
      labUpSeconds,
      completed: summary.completed,
      notCompleted: summary.failed,
      notCompletedZones: notCompletedZonesOf(output),
      wallSeconds,
      oneZoneWaitsSeconds,
      sidecars: await Promise.all(
        sidecars.map(async (sidecar, index) => {
          const rssKb = await peakRssKb(sidecar.pid);
          return {
            id: sidecar.id,
            cpuSecondsPerZone: (after[index]! - before[index]!) / zones.length,
            rssKbPerZone: rssKb / zones.length,
            rssKb,
            calls: tallyDifference(callsAfter[index]!.calls, callsBefore[index]!.calls),
            heapUsedKb: Math.round(callsAfter[index]!.memory.heapUsed / 1024),
            retainedHeapKb: Math.round(callsAfter[index]!.retainedHeap / 1024),
          };
        }),
      ),
      applyFailures,
      parentNotifiedEvents,
      parentRight: zones.length - parentWrong.length,
      parentWrong,
      parentControlCaught,
      registryAgentCoreShare,
      hostCpuSeconds: {
        groupCommand: (commandCpu.user + commandCpu.system) / 1e6,
        servers: Object.fromEntries(
          Object.entries(serversAfter).map(([id, seconds]) => [
            id,
            seconds - (serversBefore[id] ?? 0),
          ]),
        ),
        registryAgent: agentCpu,
      },
      parentSteps: {
        ...parentStepFigures(parentSeconds),
        ds: parentStepFigures(parentSeconds.filter((step) => step.kind === 'ds')),
        ns: parentStepFigures(parentSeconds.filter((step) => step.kind === 'ns')),
      },
      powerdnsRaw,
      bindRaw,
      slowestRaw,
      ratioToRaw: beyondWaits > 0 ? zones.length / beyondWaits / slowestRaw.changesPerSecond : null,
    };
  } finally {
    stopOnSignal();
    for (const sidecar of sidecars) await stopSidecarProcess(sidecar);
    await log?.close();
  }
}

/**
 * Until the returned function is called, SIGINT or SIGTERM stops the sidecars (by PID) and ends
 * the bench, leaving the lab up for inspection: sidecars left running would act on the next lab
 * at the same addresses.
 */
function stopSidecarsOnSignal(
  sidecars: readonly RunningSidecar[],
  directory: string,
  io: CliIo,
): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    for (const sidecar of sidecars) {
      try {
        process.kill(sidecar.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    io.stderr(
      `bench:scale: ${signal}: sidecars ${sidecars.map((sidecar) => sidecar.pid).join(', ')} stopped; the lab is still up: chorus lab down --dir ${directory}\n`,
    );
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
