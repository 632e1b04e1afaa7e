/**
 * The phases of `chorus demo`, in order: a fresh lab, one sidecar per signer, the zone defined
 * with BIND alone, observers and resolver traffic, the migration, and the parent's final state.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  EventLogError,
  type ChorusEvent,
  type DnskeyData,
  type EventLog,
  type KeyRole,
  type Observer,
  type ProcessKind,
  type ZoneEvent,
} from '@chorus/core';
import { canonicalName, dsIdentity } from '@chorus/dns';
import {
  defineZone,
  expectedDsFor,
  OWNER_ID,
  REMOVE_SIGNER_STEPS,
  type ZoneState,
} from '@chorus/engine';
import { demoOwnerSection, ownerDsIdentities } from './model1.js';
import { openLabEventLog, writeOperatorLogFile } from './demo-log.js';
import {
  labDown,
  labStatus,
  labStopServer,
  labUp,
  LabError,
  type DenialMethod,
  type LabAlgorithm,
  type LabStatus,
  type ProviderId,
  type ProviderRateLimits,
  type HostsMode,
} from '@chorus/lab';
import { createObserveOnlyParentChannel } from '@chorus/parent';
import { appendToZone, readZone } from '../coordination/event-log.js';
import { kitOperatorLog, trustKitAt } from '../coordination/trust-kit.js';
import { requestAndFollow } from '../coordination/follow.js';
import { progressTo, type CliIo } from '../io.js';
import { startDemoObservers, type DemoObservers } from './observers.js';
import { sidecarConfigFor, startSidecarProcess, type RunningSidecar } from './sidecars.js';
import { primeAtWorstMoments } from './priming.js';
import { followServerRoll } from './server-roll.js';
import { stopThenUndo } from './stop-undo.js';
import { TrafficMonitor } from './traffic.js';

/** Every signer a demo scenario may use: the lab's servers and its SaaS provider fakes. */
export type DemoSignerId = 'bind' | 'powerdns' | 'knot' | ProviderId;

/** One process of a demo scenario: its kind, the signer, and for a roll the key role. */
export interface ScenarioStep {
  kind: ProcessKind;
  /** `owner`: model 1's zone owner (its KSK roll). */
  signerId: DemoSignerId | typeof OWNER_ID;
  role?: KeyRole;
  /** A roll the server begins on its own (rndc, outside Chorus): the key watch requests it. */
  begunByServer?: boolean;
  /** Stop the process once this step has started, then undo it (`chorus stop`, `chorus undo`). */
  stopAfter?: string;
  /** With `stopAfter`: false stops only, leaving the process where it stopped. */
  undo?: boolean;
}

const isTogether = (
  entry: ScenarioStep | readonly ScenarioStep[],
): entry is readonly ScenarioStep[] => Array.isArray(entry);

export interface Scenario {
  /** The signers that get a sidecar (BIND, the zone's first signer, always). */
  signers: readonly DemoSignerId[];
  /** In order; an array of steps runs together (processes on disjoint resources). */
  steps: readonly (ScenarioStep | readonly ScenarioStep[])[];
  /** The group at the end: the parent must hold exactly its DS and NS. */
  finalGroup: readonly DemoSignerId[];
  /** The group the zone is defined with (default: BIND alone). */
  initialGroup?: readonly DemoSignerId[];
  /**
   * RFC 9615: the zone starts delegated to `initialGroup` without DS, in a lab whose signers
   * serve signalling zones; until the bootstrap ends, answers without AD are not failures.
   */
  bootstrap?: true;
  /** Model 1: owner.test. under the lab's owner KSK (SoftHSM2), which the demo's owner signs with. */
  model1?: true;
}

const LAB_SIGNERS = ['bind', 'powerdns', 'knot'] as const;

/** The zone `--scenario bootstrap` takes from unsigned to a signed group of the three. */
export const BOOTSTRAP_ZONE = 'boot.test.';

/**
 * The demo's scenarios. `migration`: add PowerDNS, add Knot, remove BIND. `rollovers`: the group
 * of three, then a ZSK roll at Knot (server-timed), a KSK roll at PowerDNS through the parent
 * (held), then ZSK rolls at BIND (begun by BIND itself, followed) and Knot together. `held-roll`: BIND and PowerDNS, then
 * PowerDNS's ZSK roll; `held-ksk-roll`: the same with its KSK (the negative controls' short runs).
 * `saas`: BIND to deSEC + NS1 (the lab's provider fakes, each in front of a real PowerDNS), then
 * from deSEC to Knot; `saas-join`: only deSEC joining BIND (the short run for controls and quotas).
 * `bootstrap`: `boot.test`, delegated to all three without DS, bootstrapped (RFC 9615).
 * `model1`: owner.test. in model 1 at Knot + NS1; `model1-roll`: only Knot's ZSK roll there (the
 * short run for controls).
 */
export const SCENARIOS = {
  migration: {
    signers: LAB_SIGNERS,
    steps: [
      { kind: 'add-signer', signerId: 'powerdns' },
      { kind: 'add-signer', signerId: 'knot' },
      { kind: 'remove-signer', signerId: 'bind' },
    ],
    finalGroup: ['powerdns', 'knot'],
  },
  rollovers: {
    signers: LAB_SIGNERS,
    steps: [
      { kind: 'add-signer', signerId: 'powerdns' },
      { kind: 'add-signer', signerId: 'knot' },
      { kind: 'roll-zsk', signerId: 'knot', role: 'ZSK' },
      { kind: 'roll-ksk', signerId: 'powerdns', role: 'KSK' },
      [
        { kind: 'roll-zsk', signerId: 'bind', role: 'ZSK', begunByServer: true },
        { kind: 'roll-zsk', signerId: 'knot', role: 'ZSK' },
      ],
    ],
    finalGroup: ['bind', 'powerdns', 'knot'],
  },
  'held-roll': {
    signers: LAB_SIGNERS,
    steps: [
      { kind: 'add-signer', signerId: 'powerdns' },
      { kind: 'roll-zsk', signerId: 'powerdns', role: 'ZSK' },
    ],
    finalGroup: ['bind', 'powerdns'],
  },
  'held-ksk-roll': {
    signers: LAB_SIGNERS,
    steps: [
      { kind: 'add-signer', signerId: 'powerdns' },
      { kind: 'roll-ksk', signerId: 'powerdns', role: 'KSK' },
    ],
    finalGroup: ['bind', 'powerdns'],
  },
  'stop-undo': {
    signers: LAB_SIGNERS,
    steps: [
      { kind: 'add-signer', signerId: 'powerdns' },
      { kind: 'add-signer', signerId: 'knot', stopAfter: 'sync-ns' },
      { kind: 'remove-signer', signerId: 'bind', stopAfter: 'publish-csync' },
      {
        kind: 'roll-zsk',
        signerId: 'powerdns',
        role: 'ZSK',
        stopAfter: 'activate-successor',
      },
      { kind: 'roll-ksk', signerId: 'powerdns', role: 'KSK', stopAfter: 'sync-dnskeys' },
    ],
    finalGroup: ['bind', 'powerdns'],
  },
  bootstrap: {
    signers: LAB_SIGNERS,
    initialGroup: LAB_SIGNERS,
    steps: [{ kind: 'bootstrap', signerId: 'bind' }],
    finalGroup: LAB_SIGNERS,
    bootstrap: true,
  },
  'saas-join': {
    signers: ['bind', 'desec'],
    steps: [{ kind: 'add-signer', signerId: 'desec' }],
    finalGroup: ['bind', 'desec'],
  },
  model1: {
    signers: ['knot', 'ns1'],
    initialGroup: ['knot', 'ns1'],
    steps: [
      { kind: 'roll-zsk', signerId: 'knot', role: 'ZSK' },
      { kind: 'roll-ksk', signerId: 'owner', role: 'KSK' },
      { kind: 'remove-signer', signerId: 'ns1' },
      { kind: 'add-signer', signerId: 'ns1' },
    ],
    finalGroup: ['knot', 'ns1'],
    model1: true,
  },
  'model1-roll': {
    signers: ['knot', 'ns1'],
    initialGroup: ['knot', 'ns1'],
    steps: [{ kind: 'roll-zsk', signerId: 'knot', role: 'ZSK' }],
    finalGroup: ['knot', 'ns1'],
    model1: true,
  },
  saas: {
    signers: ['bind', 'desec', 'ns1', 'knot'],
    steps: [
      { kind: 'add-signer', signerId: 'desec' },
      { kind: 'add-signer', signerId: 'ns1' },
      { kind: 'remove-signer', signerId: 'bind' },
      { kind: 'add-signer', signerId: 'knot' },
      { kind: 'remove-signer', signerId: 'desec' },
    ],
    finalGroup: ['ns1', 'knot'],
  },
} as const satisfies Record<string, Scenario>;

export type ScenarioName = keyof typeof SCENARIOS;

/** Propagation delays declared for the lab: loopback servers, a registry agent scanning each second. */
const MARGINS = { childSeconds: 1, parentSeconds: 2, safetySeconds: 1 };

/** Step 5 of REMOVE-SIGNER (0-based 4), in model 1 too: the leaving signer may stop serving. */
const RETIRE_STEP = REMOVE_SIGNER_STEPS.findIndex((step) => step.name === 'retire-leaving-signer');

export type Say = (line: string) => void;

/** Who changes the parent: the lab's CDS/CSYNC scanner, or the fake registrar's API. */
export type DemoParent = 'scanner' | 'registrar';

export interface DemoLab {
  status: LabStatus;
  zone: string;
  directory: string;
  /** What `--log` takes: the SQLite file, or (NATS) a file naming the cluster and the operator's credentials. */
  eventLogPath: string;
  /** The SQLite file, when the lab has no NATS cluster. */
  sqliteFile: string;
}

const serverOf = (status: LabStatus, id: string) =>
  status.servers.find((entry) => entry.id === id)!;

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

/**
 * `read`, again every 2 s while the event log is unavailable (a NATS cluster electing a leader
 * after a node came back), for at most `timeoutMs`; any other failure at once.
 */
export async function readThroughLogOutages<T>(
  what: string,
  say: Say,
  read: () => Promise<T>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await read();
    } catch (error) {
      if (!EventLogError.isInstance(error) || !error.isRetryable || Date.now() > deadline)
        throw error;
      say(`${what}: ${error.message}; trying again in 2 s`);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

/** The provider fakes a scenario's signers need. */
export function providersOf(signers: readonly DemoSignerId[]): ProviderId[] {
  return signers.filter((id): id is ProviderId => id === 'desec' || id === 'ns1');
}

/** 1. A fresh lab: the demo starts from example.test signed by BIND alone. */
export async function freshLab(
  options: {
    directory?: string;
    addressPrefix?: string;
    ttl?: number;
    keyLifetimes?: { zskSeconds?: number; kskSeconds?: number };
    providers?: ProviderId[];
    rateLimits?: ProviderRateLimits;
    eventLog?: 'sqlite' | 'nats';
    hosts?: HostsMode;
    denial?: DenialMethod;
    algorithm?: LabAlgorithm;
    zones?: string[];
    /** The registry agent's scan interval; the lab's default without it. */
    scanIntervalMs?: number;
    /** `registrar`: the fake registrar instead of the registry agent. */
    parent?: DemoParent;
    /** RFC 9615: signalling zones, and this zone delegated without DS (the demo's zone). */
    bootstrapZone?: string;
    /** Model 1: the lab's owner.test. (Knot and, when started, the NS1 fake) is the demo's zone. */
    owner?: boolean;
  },
  io: CliIo,
  say: Say,
): Promise<DemoLab> {
  const directoryOption = options.directory === undefined ? {} : { directory: options.directory };
  const existing = await labStatus(directoryOption);
  if (existing) {
    say(`stopping the lab in ${existing.directory} to start the demo from a clean zone`);
    await labDown(directoryOption);
  }
  say('bringing the lab up');
  const status = await labUp({
    ...directoryOption,
    ...(options.addressPrefix === undefined ? {} : { addressPrefix: options.addressPrefix }),
    ...(options.ttl === undefined ? {} : { ttl: options.ttl }),
    ...(options.keyLifetimes === undefined ? {} : { keyLifetimes: options.keyLifetimes }),
    ...(options.providers?.length ? { providers: options.providers } : {}),
    ...(options.rateLimits ? { rateLimits: options.rateLimits } : {}),
    ...(options.eventLog ? { eventLog: options.eventLog } : {}),
    ...(options.hosts ? { hosts: options.hosts } : {}),
    ...(options.denial ? { denial: options.denial } : {}),
    ...(options.algorithm ? { algorithm: options.algorithm } : {}),
    ...(options.zones ? { zones: options.zones } : {}),
    ...(options.scanIntervalMs ? { registryAgent: { intervalMs: options.scanIntervalMs } } : {}),
    ...(options.parent === 'registrar' ? { registrar: true, registryAgent: false } : {}),
    ...(options.bootstrapZone ? { signalling: true, insecureZones: [options.bootstrapZone] } : {}),
    ...(options.owner ? { owner: true } : {}),
    onProgress: progressTo(io),
  });
  const directory = path.join(status.directory, 'demo');
  await rm(directory, { recursive: true, force: true });
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const sqliteFile = path.join(directory, 'events.sqlite');
  // With NATS, what --log takes is a file naming the cluster and the operator's credentials.
  const eventLogPath = await writeOperatorLogFile(
    status,
    sqliteFile,
    path.join(directory, 'event-log.json'),
  );
  if (status.eventLog.kind === 'nats')
    say(`the event log is the lab's NATS cluster (${status.eventLog.servers.join(', ')})`);
  const zone = options.bootstrapZone
    ? status.insecureZones[0]!
    : options.owner
      ? status.owner!.zone
      : status.zones[0]!;
  return { status, zone, directory, eventLogPath, sqliteFile };
}

/** 2. One sidecar process per signer, each with only its own server's credentials. */
export async function startSidecars(
  lab: DemoLab,
  signers: readonly DemoSignerId[],
  sidecars: RunningSidecar[],
  say: Say,
  options: { unsafeAllowSkipWaits?: boolean } = {},
): Promise<void> {
  if (options.unsafeAllowSkipWaits)
    say('UNSAFE: the sidecars accept requests that skip waits (negative control)');
  for (const id of signers) {
    const config = sidecarConfigFor(
      lab.status,
      serverOf(lab.status, id),
      lab.sqliteFile,
      lab.zone,
      options,
    );
    const { namespace } = serverOf(lab.status, id);
    const sidecar = await startSidecarProcess(lab.directory, config, { namespace });
    sidecars.push(sidecar);
    say(
      `sidecar ${id} started, pid ${sidecar.pid}${namespace === undefined ? '' : ` in ${namespace}`}, log ${sidecar.logFile}`,
    );
  }
}

function expectAlive(sidecars: readonly RunningSidecar[]): void {
  for (const sidecar of sidecars) {
    try {
      process.kill(sidecar.pid, 0);
    } catch {
      throw new LabError(`the sidecar of ${sidecar.id} exited; see ${sidecar.logFile}`);
    }
  }
}

/** The event log, once every sidecar has registered its signer and keys. */
export function openWhenRegistered(
  lab: DemoLab,
  sidecars: readonly RunningSidecar[],
  options: { allowUnsafeSkipWaits?: boolean; timeoutMs?: number } = {},
): Promise<EventLog<ZoneEvent>> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return waitFor(`the ${sidecars.length} sidecars to register`, timeoutMs, async () => {
    expectAlive(sidecars);
    try {
      const opened = kitOperatorLog(
        await openLabEventLog<ZoneEvent>(lab.status, lab.sqliteFile, 'operator'),
        trustKitAt(lab.directory),
        options.allowUnsafeSkipWaits ? { allowUnsafeSkipWaits: true } : {},
      );
      const state = await readZone(opened, lab.zone);
      const ready = sidecars.every(({ id }) => (state.signers[id]?.keys.length ?? 0) > 0);
      return ready ? opened : (await opened.close(), undefined);
    } catch {
      return undefined;
    }
  });
}

/** 3. The group today (BIND alone, unless told). Waits come from the lab's TTLs and the agent's 1 s scans. */
export async function defineDemoZone(
  log: EventLog<ZoneEvent>,
  lab: DemoLab,
  say: Say,
  signerIds: readonly string[] = ['bind'],
  model1 = false,
) {
  const owner = model1 ? demoOwnerSection(lab.status) : undefined;
  await appendToZone(log, lab.zone, (state) =>
    defineZone(
      state,
      { source: { kind: 'cli', id: 'demo' }, now: new Date().toISOString() },
      {
        parentZone: lab.status.parentZone,
        signerIds,
        timing: {
          childPropagationSeconds: MARGINS.childSeconds,
          parentPropagationSeconds: MARGINS.parentSeconds,
          safetyMarginSeconds: MARGINS.safetySeconds,
          maxZoneTtlSeconds: lab.status.ttl,
        },
        recordTtlSeconds: lab.status.ttl,
        ...(owner ? { owner } : {}),
      },
    ),
  );
  if (owner)
    say(
      `${lab.zone} defined in model 1 with ${signerIds.join(', ')}: the owner's signatures last ${owner.signatureValiditySeconds} s, refreshed with ${owner.refreshLeadSeconds} s (plus transit) left`,
    );
  else
    say(
      signerIds.length === 1
        ? `${lab.zone} defined with ${signerIds[0]} as its only signer`
        : `${lab.zone} defined with ${signerIds.join(', ')}, not yet signed at the parent`,
    );
}

/** The process in flight, which tells the watchers when the leaving provider may switch off. */
export interface Retirement {
  current?: { kind: ProcessKind; signerId: string };
  stopping?: Promise<unknown>;
  /** Signers that join again later in the scenario: they keep their servers when they leave. */
  rejoining?: readonly string[];
}

/** The leaving provider switches its servers off as soon as Chorus says it may (§7.2 step 7). */
function retireOnCue(lab: DemoLab, retirement: Retirement, say: Say) {
  return (event: ZoneEvent) => {
    const current = retirement.current;
    if (event.type !== 'step-started' || current?.kind !== 'remove-signer') return;
    if (event.data.stepIndex !== RETIRE_STEP) return;
    if (retirement.rejoining?.includes(current.signerId))
      return say(
        `${current.signerId} may stop serving ${lab.zone} now; it keeps serving, to join again later`,
      );
    say(`${current.signerId} may stop serving ${lab.zone} now: stopping its server`);
    retirement.stopping = labStopServer({
      directory: lab.status.directory,
      server: current.signerId,
    }).catch((error: unknown) => say(`could not stop ${current.signerId}: ${String(error)}`));
  };
}

/** 4. Independent observers. */
export function startObservers(
  lab: DemoLab,
  log: EventLog<ZoneEvent>,
  retirement: Retirement,
  options: {
    signers: readonly DemoSignerId[];
    extraObservers?: Observer<ZoneEvent>[];
    say: Say;
  },
): Promise<DemoObservers> {
  return startDemoObservers({
    status: lab.status,
    zone: lab.zone,
    signerIds: options.signers,
    openLog: () => openLabEventLog<ChorusEvent>(lab.status, lab.sqliteFile, 'observer'),
    zoneLog: log,
    ...(options.extraObservers ? { extraObservers: options.extraObservers } : {}),
    onZoneEvent: both(
      retireOnCue(lab, retirement, options.say),
      primeAtWorstMoments(lab, options.say),
    ),
  });
}

/**
 * 4. Every validating resolver, 8 times a second: the delegation-following one, the one behind a
 * non-validating cache, and each pinned one while clients could reach its provider.
 */
export function startTraffic(
  lab: DemoLab,
  observers: DemoObservers,
  insecureAllowed?: () => boolean,
): TrafficMonitor {
  const traffic = new TrafficMonitor({
    zone: lab.zone,
    ratePerSecond: 8,
    reachable: () => observers.reachable(),
    ...(insecureAllowed ? { insecureAllowed } : {}),
    resolvers: lab.status.resolvers
      .filter((resolver) => resolver.validates)
      .map((resolver) => ({
        id: resolver.id,
        endpoint: { address: resolver.address, port: resolver.port },
        ...(resolver.mode === 'forced-signer' ? { provider: resolver.target.server } : {}),
      })),
  });
  traffic.start();
  return traffic;
}

const both =
  (...handlers: ((event: ZoneEvent) => void)[]) =>
  (event: ZoneEvent) => {
    for (const handler of handlers) handler(event);
  };

/** 5. The scenario, in order (steps given together run together); then the caches of the last change run out. */
export async function runScenario(
  log: EventLog<ZoneEvent>,
  lab: DemoLab,
  retirement: Retirement,
  options: {
    scenario: Scenario;
    skips: Record<ProcessKind, string[]>;
    io: CliIo;
    say: Say;
    /** Called once every step has ended, before the last caches run out. */
    afterSteps?: () => void;
    /** Model 1: the owner's new KSK, for the step that rolls it. */
    ownerKsk?: DnskeyData;
  },
): Promise<void> {
  retirement.rejoining = options.scenario.finalGroup;
  for (const entry of options.scenario.steps) {
    const together: readonly ScenarioStep[] = isTogether(entry) ? entry : [entry];
    options.say(
      together
        .map(
          ({ kind, signerId, begunByServer }) =>
            `${kind} ${signerId}${begunByServer ? ' (begun by the server itself, outside Chorus)' : ''}`,
        )
        .join(' and, at once, '),
    );
    retirement.current = together[0];
    await Promise.all(
      together.map(({ kind, signerId, role, begunByServer, stopAfter, undo }) =>
        stopAfter
          ? stopThenUndo(
              log,
              lab.zone,
              {
                kind,
                signerId,
                stopAfter,
                ...(role ? { role } : {}),
                ...(undo === false ? { undo } : {}),
              },
              options.io,
              options.say,
              (undo) => void (retirement.current = undo),
            )
          : begunByServer && role
            ? followServerRoll(log, lab, { signerId, role }, options.io)
            : requestAndFollow(log, lab.zone, kind, signerId, options.io, {
                json: false,
                detach: false,
                unsafeSkipWaits: options.skips[kind],
                ...(role ? { role } : {}),
                ...(signerId === OWNER_ID && options.ownerKsk
                  ? { ownerKsk: options.ownerKsk }
                  : {}),
              }),
      ),
    );
  }
  retirement.current = undefined;
  options.afterSteps?.();
  await retirement.stopping;
  const tail = lab.status.ttl + MARGINS.parentSeconds + 1;
  options.say(`watching ${tail} s more, until every cache of the last change has run out`);
  await new Promise((resolve) => setTimeout(resolve, tail * 1000));
}

export interface ParentCheck {
  /** The group the parent should delegate to at the end. */
  finalGroup: string[];
  ds: string[];
  ns: string[];
  /** Whose keys the DS must name, in words. */
  dsOf: string;
  dsAsExpected: boolean;
  asExpected: boolean;
}

/** 6. Does the parent hold exactly the final group's DS and NS? */
export async function checkParent(
  lab: DemoLab,
  final: ZoneState,
  finalGroup: readonly string[],
  model1 = false,
): Promise<ParentCheck> {
  const parent = serverOf(lab.status, 'parent');
  const channel = createObserveOnlyParentChannel({
    id: 'demo-parent',
    parentZone: lab.status.parentZone,
    parentServers: [{ address: parent.address, port: parent.port }],
  });
  const delegation = await channel.getDelegation(lab.zone, {});
  const expectedDs = model1
    ? ownerDsIdentities(final)
    : expectedDsFor(final, finalGroup).map(dsIdentity).sort();
  const ds = (delegation.ds?.records ?? []).map(dsIdentity).sort();
  const ns = (delegation.ns?.records ?? []).map(canonicalName).sort();
  const expectedNs = finalGroup
    .map((id) => canonicalName(serverOf(lab.status, id).nameserverName))
    .sort();
  const dsAsExpected = JSON.stringify(ds) === JSON.stringify(expectedDs);
  return {
    finalGroup: [...finalGroup],
    ds,
    ns,
    dsOf: model1 ? "the owner's KSK" : `the KSKs of ${finalGroup.join(' and ')}`,
    dsAsExpected,
    asExpected: dsAsExpected && JSON.stringify(ns) === JSON.stringify(expectedNs),
  };
}
