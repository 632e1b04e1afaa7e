/**
 * `lab up`, `lab status`, `lab restart` and `lab down`: the orchestration. The layout is in
 * plan.ts, the files in prepare.ts and the per-server modules; this file guards against a
 * running lab, starts everything in parallel, waits until each server serves signed data and
 * each resolver validates, records the state, restarts servers on their existing files, and
 * stops exactly what it started.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SignedDnskeySnapshot } from '@chorus/core';
import {
  BROKEN_ZONE,
  defaultLabDirectory,
  PARENT_ZONE,
  resolveLabConfig,
  type LabOptions,
} from './config.js';
import { LabError } from './errors.js';
import { createHosts, removeHosts, requireNamespaces } from './hosts.js';
import { addLoopbackAliases, removeLoopbackAliases } from './loopback.js';
import {
  busyNatsEndpoints,
  NATS_PROGRAMS,
  natsMetaLeader,
  natsNodeCheck,
  natsNodes,
  prepareNats,
  removeNatsFiles,
  startNatsNode,
} from './nats.js';
import { createNatsStream } from './nats-stream.js';
import { planLab } from './plan.js';
import { ownerProviderApis, publishOwnerDnskeys } from './owner-providers.js';
import { prepareLab } from './prepare.js';
import { providerApiCheck, startProviderApi, stopProviderApi } from './provider-apis.js';
import {
  isRegistrarRunning,
  prepareRegistrar,
  registrarCheck,
  startRegistrar,
  stopRegistrar,
} from './registrar.js';
import { checkPrograms } from './programs.js';
import {
  ensurePidFile,
  isRunning,
  startDaemon,
  stopProcess,
  type StopOutcome,
} from './processes.js';
import {
  allOf,
  answersDns,
  resolvesCheck,
  signedZonesCheck,
  signingCheck,
  waitUntilReady,
  type CheckResult,
} from './readiness.js';
import { labScanPeriodMs } from './registry-agent.js';
import {
  isRegistryAgentRunning,
  startRegistryAgent,
  stopRegistryAgent,
} from './registry-agent-process.js';
import { programPath, type Programs } from './server-kind.js';
import {
  controlCheck,
  controlSockets,
  daemonArguments,
  LAB_PROGRAMS,
  serverKind,
} from './server-kinds.js';
import {
  readState,
  recordProcesses,
  refreshLiveness,
  removeState,
  stateFilePath,
  writeState,
} from './state.js';
import type {
  LabNatsNode,
  LabProviderApi,
  LabRegistrar,
  LabRegistryAgent,
  LabResolver,
  LabServer,
  LabStatus,
  NatsNodeId,
  ServerId,
} from './types.js';

const MARKER_FILE_NAME = '.chorus-lab';
/** sockaddr_un.sun_path is 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;
/** How long servers get to serve signed data: 20 s, and 50 ms more per zone (each signs them all). */
function defaultReadyTimeoutMs(zoneCount: number): number {
  return 20_000 + 50 * zoneCount;
}

/** What stopping or restarting a process by PID needs: the PID, its program and PID file. */
interface LabProcess {
  id: string;
  pid: number;
  alive: boolean;
  binary: string;
  pidFile: string;
  /** Its own directory, which its command line names (see `isRunning`). */
  directory: string;
}

export interface UpOptions extends LabOptions {
  /** Receives one human-readable line per step (the CLI writes them to stderr). */
  onProgress?: (line: string) => void;
  /** Where to look for the programs. Default PATH plus the sbin directories. */
  searchPath?: string;
  readyTimeoutMs?: number;
  /**
   * The command that runs the registry agent; `--dir <lab>` is appended. Default: this Node
   * binary with the lab package's `dist/registry-agent-main.js`. The CLI passes its own
   * `chorus lab registry-agent`.
   */
  registryAgentCommand?: readonly string[];
}

/** `up` deletes the directory's content, so it must be missing, empty or a lab directory. */
async function checkDirectoryIsOurs(directory: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new LabError(`cannot use ${directory} as the lab directory`, { cause: error });
  }
  const isLabDirectory =
    entries.includes(MARKER_FILE_NAME) || entries.includes(path.basename(stateFilePath(directory)));
  if (entries.length > 0 && !isLabDirectory) {
    throw new LabError(
      `${directory} is not empty and is not a Chorus lab directory; \`lab up\` would delete its content, so choose another --dir`,
    );
  }
}

/** Empties the (checked) lab directory and marks it as ours. */
async function prepareDirectory(directory: string): Promise<void> {
  await checkDirectoryIsOurs(directory);
  await mkdir(directory, { recursive: true });
  const entries = await readdir(directory);
  await Promise.all(
    entries.map((entry) => rm(path.join(directory, entry), { recursive: true, force: true })),
  );
  await writeFile(
    path.join(directory, MARKER_FILE_NAME),
    'This directory belongs to `chorus lab`: every `chorus lab up` deletes and regenerates its content.\n',
  );
}

function checkSocketPaths(status: LabStatus): void {
  const sockets = [...status.servers, ...status.resolvers].flatMap(controlSockets);
  const tooLong = sockets.find((socket) => Buffer.byteLength(socket) > MAX_SOCKET_PATH);
  if (tooLong) {
    throw new LabError(
      `the lab directory path is too long for unix control sockets (${tooLong}); use a shorter --dir`,
    );
  }
}

/** Addresses that need a loopback alias (named listens only on configured addresses). */
function aliasedAddresses(servers: readonly LabServer[]): string[] {
  return servers
    .filter((server) => serverKind(server).needsLoopbackAlias && server.namespace === undefined)
    .map((server) => server.address);
}

function describe(entry: LabServer | LabResolver): string {
  return `${entry.id} (${entry.software} ${entry.version}) on ${entry.address}:${entry.port}`;
}

/** `algorithm 8 (RSASHA256), NSEC3 1 0 0 -`. */
function signingSummary(status: LabStatus): string {
  const denial = status.denial === 'nsec3' ? `NSEC3 ${status.nsec3param ?? ''}` : 'NSEC';
  return `algorithm ${status.algorithm} (${status.algorithmName}), ${denial}`;
}

/** `, insecure zones boot.test., signalling zones bind.test. …`, or nothing without them. */
function optionalZonesSummary(status: LabStatus): string {
  const insecure = status.insecureZones;
  const signalling = status.signalling.map((entry) => entry.zone);
  return [
    ...(insecure.length > 0 ? [`, insecure zones ${zoneList(insecure)}`] : []),
    ...(signalling.length > 0 ? [`, signalling zones ${signalling.join(' ')}`] : []),
  ].join('');
}

/** Zones for a progress or status line: all of a few, or the first and last of many with their count. */
export function zoneList(zones: readonly string[]): string {
  if (zones.length <= 6) return zones.join(' ');
  return `${zones.slice(0, 2).join(' ')} … ${zones.at(-1)} (${zones.length} zones)`;
}

function seconds(milliseconds: number): string {
  return `${(milliseconds / 1000).toFixed(2)} s`;
}

/**
 * Refuses to start over a live lab; cleans up a state file whose processes are all dead.
 */
async function refuseRunningLab(directory: string, programs: Programs): Promise<void> {
  const previous = await readState(directory);
  if (!previous) return;
  await refreshAll(previous);
  const processes = [
    ...previous.servers,
    ...previous.resolvers,
    ...(previous.registryAgent ? [previous.registryAgent] : []),
    ...previous.providers,
    ...(previous.registrar ? [previous.registrar] : []),
    ...natsNodes(previous),
  ];
  const alive = processes.filter((entry) => entry.alive);
  if (alive.length > 0) {
    const list = alive.map((entry) => `${entry.id} pid ${entry.pid}`).join(', ');
    throw new LabError(
      `a lab is already running in ${directory} (${alive.length} of ${processes.length} processes alive: ${list}); stop it first with: chorus lab down --dir ${directory}`,
    );
  }
  // A dead lab: drop its loopback aliases unless something answers there now.
  const free: string[] = [];
  for (const address of previous.loopbackAliases) {
    if (!(await answersDns({ address, port: previous.port }))) free.push(address);
  }
  await removeLoopbackAliases(programPath(programs, 'ip'), free);
  await removeHosts(previous.hosts);
  await removeState(directory);
}

async function refuseBusyAddresses(status: LabStatus): Promise<void> {
  const endpoints = [
    ...status.servers,
    ...status.resolvers,
    ...(status.registryAgent ? [status.registryAgent] : []),
  ]
    // A namespace of its own (`--hosts netns`) is checked when it is made.
    .filter((entry) => entry.namespace === undefined)
    .map((entry) => ({
      id: entry.id,
      address: entry.address,
      port: entry.port,
    }));
  const [answering, natsBusy] = await Promise.all([
    Promise.all(
      endpoints.map(async (endpoint) => ((await answersDns(endpoint)) ? endpoint : undefined)),
    ),
    status.eventLog.kind === 'nats' ? busyNatsEndpoints(status.eventLog) : [],
  ]);
  const busy = answering.filter((endpoint) => endpoint !== undefined);
  const dns = busy.map(
    (endpoint) => `${endpoint.address}:${endpoint.port} (planned for ${endpoint.id})`,
  );
  const what = [
    ...(dns.length > 0 ? [`DNS on ${dns.join(', ')}`] : []),
    ...(natsBusy.length > 0 ? [`TCP on ${natsBusy.join(', ')}`] : []),
  ];
  if (what.length > 0) {
    throw new LabError(
      `something already answers ${what.join(' and ')}; another lab or server runs there. Stop it (chorus lab down --dir <its dir>) or use another --address-prefix`,
    );
  }
}

/** The lab's programs, and the NATS cluster's with `--event-log nats`, all named if missing. */
function checkLabPrograms(eventLog: LabStatus['eventLog']['kind'], searchPath?: string) {
  const nats = eventLog === 'nats' ? Object.keys(NATS_PROGRAMS) : [];
  return checkPrograms([...LAB_PROGRAMS, ...nats], {
    ...(searchPath === undefined ? {} : { searchPath }),
    debianPackages: NATS_PROGRAMS,
  });
}

/** Stops everything in `entries` that is still ours; used by `down` and by a failed `up`. */
async function stopAll(entries: readonly LabProcess[]) {
  return Promise.all(
    entries.map(async (entry) => ({
      id: entry.id,
      pid: entry.pid,
      outcome:
        entry.pid > 0
          ? await stopProcess(entry.pid, entry.binary, { within: entry.directory })
          : 'not-running',
    })),
  );
}

function watch(entry: LabServer | LabResolver) {
  return {
    label: describe(entry),
    pid: entry.pid,
    program: entry.binary,
    logFile: entry.logFile,
    directory: entry.directory,
  };
}

/**
 * Waits until each server answers its zones signed and its control endpoint works, and passes
 * `extraCheck` when given (up: the lab's algorithm and denial).
 */
async function waitForServers(
  servers: readonly LabServer[],
  programs: Programs,
  deadline: number,
  report: (server: LabServer) => void,
  extraCheck?: (server: LabServer) => () => Promise<CheckResult>,
): Promise<void> {
  await Promise.all(
    servers.map(async (server) => {
      const check = allOf(
        signedZonesCheck(server, server.zones),
        ...(extraCheck ? [extraCheck(server)] : []),
        controlCheck(server, programs),
      );
      await waitUntilReady(watch(server), check, deadline);
      report(server);
    }),
  );
}

function describeNatsNode(node: LabNatsNode): string {
  return `${node.id} (nats-server ${node.version}) on ${node.address}:${node.clientPort}`;
}

/** Waits until each NATS node is healthy and sees the JetStream meta leader of all of them. */
async function waitForNatsNodes(
  nodes: readonly LabNatsNode[],
  clusterSize: number,
  deadline: number,
  report: (node: LabNatsNode) => Promise<void>,
): Promise<void> {
  await Promise.all(
    nodes.map(async (node) => {
      const watched = {
        label: describeNatsNode(node),
        pid: node.pid,
        program: node.binary,
        logFile: node.logFile,
        directory: node.directory,
      };
      await waitUntilReady(watched, natsNodeCheck(node, clusterSize), deadline);
      await report(node);
    }),
  );
}

/** With `--event-log nats`: waits for the cluster, then creates the stream as `admin`. */
async function startNatsEventLog(
  status: LabStatus,
  deadline: number,
  progress: (line: string) => void,
  since: number,
): Promise<void> {
  const eventLog = status.eventLog;
  if (eventLog.kind !== 'nats') return;
  await waitForNatsNodes(eventLog.nodes, eventLog.nodes.length, deadline, async (node) =>
    progress(
      `ready: ${describeNatsNode(node)} (TLS), JetStream meta leader ${await natsMetaLeader(node)}, after ${seconds(performance.now() - since)}`,
    ),
  );
  const stream = await createNatsStream(eventLog, deadline);
  const peers = [
    stream.cluster?.leader,
    ...(stream.cluster?.replicas ?? []).map((peer) => peer.name),
  ];
  progress(
    `ready: NATS stream ${stream.config.name} (${stream.config.subjects.join(' ')}) with ${stream.config.num_replicas} replicas on ${peers.join(' ')}, after ${seconds(performance.now() - since)}`,
  );
}

/** Starts the registry agent and records its PID (so that `down` finds it whatever happens next). */
async function spawnAgent(agent: LabRegistryAgent, status: LabStatus): Promise<void> {
  agent.pid = await startRegistryAgent(agent);
  agent.alive = true;
  await writeState(status);
}

/** Waits until the registry agent answers on its NOTIFY address. */
async function waitForAgent(agent: LabRegistryAgent, deadline: number): Promise<void> {
  await waitUntilReady(
    {
      label: `registry-agent (node) on ${agent.address}:${agent.port}`,
      pid: agent.pid,
      program: agent.binary,
      logFile: agent.logFile,
    },
    async () =>
      (await answersDns({ address: agent.address, port: agent.port }))
        ? { ready: true }
        : { ready: false, reason: 'it does not answer on its NOTIFY address yet' },
    deadline,
  );
}

/** Starts every provider fake (their PowerDNS serves by now), recording PIDs at once. */
async function spawnProviderApis(status: LabStatus): Promise<void> {
  await Promise.all(
    status.providers.map(async (api) => {
      api.pid = await startProviderApi(api);
      api.alive = true;
    }),
  );
  await writeState(status);
}

/** Waits until a provider fake answers its health check. */
async function waitForProviderApi(api: LabProviderApi, deadline: number): Promise<void> {
  await waitUntilReady(
    {
      label: `${api.id} (node) on ${api.address}:${api.port}`,
      pid: api.pid,
      program: api.binary,
      logFile: api.logFile,
    },
    providerApiCheck(api),
    deadline,
  );
}

function stopProviderApis(status: LabStatus) {
  return Promise.all(
    status.providers.map(async (api) => ({
      id: api.id,
      pid: api.pid,
      outcome: await stopProviderApi(api),
    })),
  );
}

/** Starts the fake registrar (the parent serves by now) and records its PID at once. */
async function spawnRegistrar(registrar: LabRegistrar, status: LabStatus): Promise<void> {
  registrar.pid = await startRegistrar(registrar);
  registrar.alive = true;
  await writeState(status);
}

/** Waits until the fake registrar answers its health check. */
async function waitForRegistrar(registrar: LabRegistrar, deadline: number): Promise<void> {
  await waitUntilReady(
    {
      label: `registrar (node) on ${registrar.address}:${registrar.port}`,
      pid: registrar.pid,
      program: registrar.binary,
      logFile: registrar.logFile,
    },
    registrarCheck(registrar),
    deadline,
  );
}

/** Stops the lab's fake registrar by PID (only if the PID still runs it). */
async function stopLabRegistrar(status: LabStatus) {
  const registrar = status.registrar;
  if (!registrar) return null;
  return {
    pid: registrar.pid,
    outcome: registrar.pid > 0 ? await stopRegistrar(registrar) : ('not-running' as const),
  };
}

/**
 * The state's liveness with the fake registrar's too (state.ts predates it): `alive` by its exact
 * command line, and `running` only while it runs. A state file from before it has none.
 */
async function refreshAll(status: LabStatus): Promise<LabStatus> {
  await refreshLiveness(status);
  status.registrar ??= null;
  if (status.registrar) {
    status.registrar.alive = isRegistrarRunning(status.registrar);
    status.running &&= status.registrar.alive;
  }
  return status;
}

/** The delegation resolver validates every signalling zone too: their DS are in the parent. */
function signallingChecks(resolver: LabResolver, status: LabStatus) {
  if (resolver.mode !== 'delegation') return [];
  return status.signalling.map(({ zone }) => resolvesCheck(resolver, zone, true));
}

/**
 * The delegation resolver validates the model-1 zone too (the DS is the owner's, the DNSKEY RRset
 * the owner signed), and so does a resolver pinned to a provider that serves it.
 */
function ownerChecks(resolver: LabResolver, status: LabStatus) {
  const zone = status.owner?.zone;
  if (zone === undefined) return [];
  const checks = resolver.mode === 'delegation' || resolver.target.zones.includes(zone);
  return checks ? [resolvesCheck(resolver, zone, true)] : [];
}

/**
 * Once the fakes answer, hands the owner's first DNSKEY RRset (the one Knot imported) to each
 * provider fake of the model-1 zone. Resolves at once when none serves it.
 */
async function publishOwnerSet(
  status: LabStatus,
  snapshots: readonly SignedDnskeySnapshot[] | undefined,
  fakesReady: Promise<unknown>,
  progress: (line: string) => void,
): Promise<void> {
  const apis = ownerProviderApis(status);
  const zone = status.owner?.zone;
  if (apis.length === 0 || zone === undefined) return;
  if (snapshots === undefined) throw new LabError(`internal: ${zone} has no owner-signed set`);
  await fakesReady;
  await Promise.all(
    apis.map(async (api) => {
      await publishOwnerDnskeys(api, zone, snapshots);
      progress(`${api.id}: ${zone} presigned with the owner's DNSKEY RRset (as at knot)`);
    }),
  );
}

function startEntry(entry: LabServer | LabResolver): Promise<number> {
  return startDaemon({
    program: entry.binary,
    args: daemonArguments(entry),
    cwd: entry.directory,
    logFile: entry.logFile,
    namespace: entry.namespace,
  });
}

/**
 * Starts the lab: BIND parent, BIND/PowerDNS/Knot signers (and with `traps` the four
 * misconfigured trap signers) and the unbound resolvers, each on its own loopback address, and
 * returns its status once every server serves signed data and every resolver validates the
 * parent from the trust anchor.
 */
export async function labUp(options: UpOptions = {}): Promise<LabStatus> {
  const startTime = performance.now();
  const progress = options.onProgress ?? (() => undefined);
  const config = resolveLabConfig(options);
  if (config.hosts.mode === 'netns') requireNamespaces();
  const programs = await checkLabPrograms(config.eventLog, options.searchPath);
  const status = planLab(config, programs, options.registryAgentCommand);
  checkSocketPaths(status);
  await checkDirectoryIsOurs(config.directory);
  await refuseRunningLab(config.directory, programs);
  await refuseBusyAddresses(status);

  const trapList = status.servers.filter((server) => server.role === 'trap');
  progress(
    `preparing ${config.directory} (zones ${zoneList([...config.zones, BROKEN_ZONE])}${optionalZonesSummary(status)}, TTL ${config.ttl} s, ${signingSummary(status)}${trapList.length > 0 ? `, traps ${trapList.map((server) => server.id).join(' ')}` : ''})`,
  );
  await prepareDirectory(config.directory);
  const namedAddresses = aliasedAddresses(status.servers);
  status.loopbackAliases = await addLoopbackAliases(programPath(programs, 'ip'), namedAddresses);
  const startedProcesses: LabProcess[] = [];
  try {
    if (status.hosts?.mode === 'netns') {
      const reclaimed = await createHosts(status.hosts);
      if (reclaimed.length > 0)
        progress(
          `deleted ${reclaimed.length} empty network namespaces left by a lab that was not taken down (${reclaimed.join(', ')})`,
        );
      progress(
        `made ${status.hosts.namespaces.length} network namespaces on ${status.hosts.subnet} (the host is ${status.hosts.uplink!.address} on ${status.hosts.uplink!.interface}); one signer's host reaches another's on port 53 only (rules in ${status.hosts.firewallFile})`,
      );
    }
    const [ownerSnapshots] = await Promise.all([
      prepareLab(status, config, programs),
      status.eventLog.kind === 'nats' ? prepareNats(status.eventLog, status, programs) : undefined,
      status.registrar ? prepareRegistrar(status.registrar, status) : undefined,
    ]);

    // Start everything at once; resolvers are only asked once the servers are ready.
    const spawnedAt = performance.now();
    const everything = [...status.servers, ...status.resolvers];
    // allSettled: when one fails to spawn, the cleanup below must still see every other one.
    const spawned = await Promise.allSettled([
      ...everything.map(async (entry) => {
        entry.pid = await startEntry(entry);
        entry.alive = true;
        startedProcesses.push(entry);
      }),
      ...natsNodes(status).map(async (node) => {
        node.pid = await startNatsNode(node);
        node.alive = true;
        startedProcesses.push(node);
      }),
    ]);
    const spawnFailure = spawned.find((result) => result.status === 'rejected');
    if (spawnFailure) throw spawnFailure.reason;
    status.startedAt = new Date().toISOString();
    await writeState(status);
    progress(
      `started ${startedProcesses.length} processes (${seconds(performance.now() - startTime)} after the start); waiting until they serve`,
    );

    const deadline =
      Date.now() + (options.readyTimeoutMs ?? defaultReadyTimeoutMs(status.zones.length));
    await Promise.all([
      // A restart checks less: by then Chorus may have rolled a zone to another algorithm.
      waitForServers(
        status.servers,
        programs,
        deadline,
        (server) =>
          progress(
            `ready: ${describe(server)} serves ${zoneList(server.zones)} signed (${signingSummary(status)}), after ${seconds(performance.now() - spawnedAt)}`,
          ),
        (server) => signingCheck(server, server.zones, status),
      ),
      startNatsEventLog(status, deadline, progress, spawnedAt),
    ]);
    // The agent acts on the parent and the signers, so it starts once they serve.
    const agent = status.registryAgent;
    if (agent) await spawnAgent(agent, status);
    await spawnProviderApis(status);
    const registrar = status.registrar;
    if (registrar) await spawnRegistrar(registrar, status);
    const fakesReady = Promise.all(
      status.providers.map((api) =>
        waitForProviderApi(api, deadline).then(() =>
          progress(
            `ready: ${api.id} pid ${api.pid} serves the ${api.provider} API at ${api.url} in front of ${api.server} (token in ${api.tokenFile}), after ${seconds(performance.now() - spawnedAt)}`,
          ),
        ),
      ),
    );
    // Before any resolver asks for the model-1 zone: a bogus answer would stay in its cache.
    const ownerPublished = publishOwnerSet(status, ownerSnapshots, fakesReady, progress);
    await Promise.all([
      fakesReady,
      ownerPublished,
      ...(registrar
        ? [
            waitForRegistrar(registrar, deadline).then(() =>
              progress(
                `ready: registrar pid ${registrar.pid} serves a registrar API at ${registrar.url} for ${zoneList(registrar.domains)}, writing to ${registrar.parentZone} (token in ${registrar.tokenFile}), after ${seconds(performance.now() - spawnedAt)}`,
              ),
            ),
          ]
        : []),
      ...status.resolvers.map(async (resolver) => {
        await ownerPublished;
        const check = allOf(
          resolvesCheck(resolver, PARENT_ZONE, resolver.validates),
          ...signallingChecks(resolver, status),
          ...ownerChecks(resolver, status),
          controlCheck(resolver, programs),
        );
        await waitUntilReady(watch(resolver), check, deadline);
        progress(
          `ready: ${describe(resolver)} ${resolver.validates ? 'validates' : 'resolves'} ${PARENT_ZONE} (${resolver.mode}), after ${seconds(performance.now() - spawnedAt)}`,
        );
      }),
      ...(agent
        ? [
            waitForAgent(agent, deadline).then(() =>
              progress(
                `ready: registry-agent pid ${agent.pid} scans ${zoneList(agent.zones)} every ${labScanPeriodMs(agent)} ms, at once on NOTIFY to ${agent.address}:${agent.port}, after ${seconds(performance.now() - spawnedAt)}`,
              ),
            ),
          ]
        : []),
    ]);
  } catch (error) {
    if (status.registryAgent && status.registryAgent.pid > 0) {
      await stopRegistryAgent(status.registryAgent);
    }
    await stopProviderApis(status);
    await stopLabRegistrar(status);
    await stopAll(startedProcesses);
    await removeLoopbackAliases(programPath(programs, 'ip'), status.loopbackAliases);
    await removeHosts(status.hosts);
    await removeState(config.directory);
    throw error;
  }

  await Promise.all(
    [
      ...status.servers,
      ...status.resolvers,
      ...(status.registryAgent ? [status.registryAgent] : []),
      ...status.providers,
      ...(status.registrar ? [status.registrar] : []),
      ...natsNodes(status),
    ].map((entry) => ensurePidFile(entry.pidFile, entry.pid)),
  );
  status.startupMs = Math.round(performance.now() - startTime);
  status.running = true;
  await writeState(status);
  progress(
    `lab up in ${seconds(status.startupMs)} (${status.servers.length} servers${trapList.length > 0 ? ` including ${trapList.length} traps` : ''}, ${status.resolvers.length} resolvers${status.registryAgent ? ', the registry agent' : ''}${status.providers.length > 0 ? `, the ${status.providers.map((api) => api.provider).join(' and ')} API fakes` : ''}${status.registrar ? ', the registrar' : ''}${natsNodes(status).length > 0 ? `, a ${natsNodes(status).length}-node NATS JetStream cluster` : ''}); stop it with: chorus lab down --dir ${config.directory}`,
  );
  return status;
}

/** The recorded lab with liveness re-checked, or undefined when the directory holds no lab. */
export async function labStatus(
  options: { directory?: string } = {},
): Promise<LabStatus | undefined> {
  const directory = path.resolve(options.directory ?? defaultLabDirectory());
  const status = await readState(directory);
  return status ? refreshAll(status) : undefined;
}

export interface RestartOptions {
  /** Lab directory. Default `$CHORUS_LAB_DIR`, else `<cwd>/.lab`. */
  directory?: string;
  /**
   * The servers (and NATS nodes) to restart; resolvers are not restarted. Default: every server
   * and NATS node of the lab.
   */
  servers?: readonly (ServerId | NatsNodeId)[];
  /**
   * Also restart the registry agent (when the lab has one). Default: true when `servers` is not
   * given (everything restarts), false otherwise.
   */
  registryAgent?: boolean;
  /** Receives one human-readable line per step. */
  onProgress?: (line: string) => void;
  /** Where to look for the control tools and `ip`. Default PATH plus the sbin directories. */
  searchPath?: string;
  readyTimeoutMs?: number;
}

/**
 * Stops `entry` by PID (only if it still runs its program) and starts it again with `start`.
 * Refuses to start a second one next to a survivor.
 */
async function restartProcess(
  entry: LabProcess,
  start: () => Promise<number>,
  progress: (line: string) => void,
): Promise<void> {
  const outcome =
    entry.pid > 0
      ? await stopProcess(entry.pid, entry.binary, { within: entry.directory })
      : 'not-running';
  progress(`${entry.id}: pid ${entry.pid} ${outcome}`);
  // BIND and Knot bind with SO_REUSEPORT: a survivor would share the traffic unnoticed.
  if (await isRunning(entry.pid, entry.binary, entry.directory)) {
    throw new LabError(`${entry.id} pid ${entry.pid} did not stop; not starting a second one`);
  }
  entry.pid = 0;
  entry.alive = false;
  // A stale PID file could name a reused PID, which Knot would take for a running knotd.
  await rm(entry.pidFile, { force: true });
  entry.pid = await start();
  entry.alive = true;
}

/**
 * Restarts servers (and NATS nodes) of a running lab on their existing config, keys and data
 * (nothing is regenerated): stops each by PID (only if it still runs the expected program),
 * starts it again with the same command line, waits until it serves its zones signed and its
 * control endpoint answers (a NATS node: until it is healthy and sees a JetStream meta leader,
 * which needs a quorum of the nodes), and records the new PIDs. A server that had died is simply
 * started again. Returns the lab's status with liveness re-checked.
 */
export async function labRestart(options: RestartOptions = {}): Promise<LabStatus> {
  const startTime = performance.now();
  const progress = options.onProgress ?? (() => undefined);
  const directory = path.resolve(options.directory ?? defaultLabDirectory());
  const status = await readState(directory);
  if (!status) {
    throw new LabError(`no lab in ${directory}; start one with: chorus lab up --dir ${directory}`);
  }
  const nodes = natsNodes(status);
  const known: (ServerId | NatsNodeId)[] = [
    ...status.servers.map((server) => server.id),
    ...nodes.map((node) => node.id),
  ];
  const wanted = [...new Set(options.servers ?? known)];
  const agent = status.registryAgent;
  const restartAgent = (options.registryAgent ?? options.servers === undefined) && agent !== null;
  if (options.registryAgent && !agent) {
    throw new LabError(`the lab in ${directory} runs no registry agent`);
  }
  if (wanted.length === 0 && !restartAgent) throw new LabError('no server to restart');
  const unknown = wanted.filter((id) => !known.includes(id));
  if (unknown.length > 0) {
    throw new LabError(
      `the lab in ${directory} has no server ${unknown.join(', ')}; its servers are ${known.join(', ')}`,
    );
  }
  const programs = await checkPrograms(
    LAB_PROGRAMS,
    options.searchPath === undefined
      ? { files: [] }
      : { searchPath: options.searchPath, files: [] },
  );
  const targets = status.servers.filter((server) => wanted.includes(server.id));
  const natsTargets = nodes.filter((node) => wanted.includes(node.id));

  // named listens only on configured addresses: put back any alias that went missing.
  const added = await addLoopbackAliases(programPath(programs, 'ip'), aliasedAddresses(targets));
  status.loopbackAliases = [...new Set([...status.loopbackAliases, ...added])];

  const previousPids = new Map<string, number>(
    [...targets, ...natsTargets].map((entry) => [entry.id, entry.pid]),
  );
  const restarted = await Promise.allSettled([
    ...targets.map((server) => restartProcess(server, () => startEntry(server), progress)),
    ...natsTargets.map((node) => restartProcess(node, () => startNatsNode(node), progress)),
  ]);
  // Record the new PIDs before waiting, so that `down` finds them even if a server fails.
  await recordProcesses(status, [...targets, ...natsTargets], (current) => {
    current.loopbackAliases = [...new Set([...current.loopbackAliases, ...added])];
  });
  const failed = restarted.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;

  const spawnedAt = performance.now();
  const deadline =
    Date.now() + (options.readyTimeoutMs ?? defaultReadyTimeoutMs(status.zones.length));
  await Promise.all([
    waitForServers(targets, programs, deadline, (server) =>
      progress(
        `ready: ${describe(server)} pid ${server.pid} (was ${previousPids.get(server.id) ?? 0}) serves ${zoneList(server.zones)} signed, after ${seconds(performance.now() - spawnedAt)}`,
      ),
    ),
    waitForNatsNodes(natsTargets, nodes.length, deadline, async (node) =>
      progress(
        `ready: ${describeNatsNode(node)} pid ${node.pid} (was ${previousPids.get(node.id) ?? 0}), JetStream meta leader ${await natsMetaLeader(node)}, after ${seconds(performance.now() - spawnedAt)}`,
      ),
    ),
  ]);
  if (restartAgent && agent) {
    const previousPid = agent.pid;
    const outcome = agent.pid > 0 ? await stopRegistryAgent(agent) : 'not-running';
    progress(`registry-agent: pid ${agent.pid} ${outcome}`);
    if (isRegistryAgentRunning(agent)) {
      throw new LabError(`registry-agent pid ${agent.pid} did not stop; not starting a second one`);
    }
    agent.pid = 0;
    agent.alive = false;
    await rm(agent.pidFile, { force: true });
    await spawnAgent(agent, status);
    await waitForAgent(agent, deadline);
    agent.restartedAt = new Date().toISOString();
    await ensurePidFile(agent.pidFile, agent.pid);
    progress(`ready: registry-agent pid ${agent.pid} (was ${previousPid})`);
  }
  const restartedAt = new Date().toISOString();
  await Promise.all(
    [...targets, ...natsTargets].map(async (entry) => {
      entry.restartedAt = restartedAt;
      await ensurePidFile(entry.pidFile, entry.pid);
    }),
  );
  await recordProcesses(status, [...targets, ...natsTargets], (current) => {
    if (restartAgent) current.registryAgent = agent;
  });
  const latest = (await readState(status.directory)) ?? status;
  await refreshAll(latest);
  progress(
    `restarted ${[...targets, ...natsTargets, ...(restartAgent ? [{ id: 'registry-agent' }] : [])].map((entry) => entry.id).join(' ')} in ${seconds(performance.now() - startTime)}`,
  );
  return latest;
}

/**
 * Stops one server (or NATS node) of a running lab by its PID (only if it still runs the expected
 * program), as a provider that stops serving a zone, or a crashed node, would. The rest of the
 * lab keeps running; `labRestart` starts it again and `labDown` still cleans up. Returns the
 * updated status.
 */
export async function labStopServer(options: {
  directory?: string;
  server: string;
}): Promise<LabStatus> {
  const directory = path.resolve(options.directory ?? defaultLabDirectory());
  const status = await readState(directory);
  if (!status) throw new LabError(`no lab in ${directory}`);
  const stoppable: LabProcess[] = [...status.servers, ...natsNodes(status)];
  const server = stoppable.find((entry) => entry.id === options.server);
  if (!server) {
    throw new LabError(
      `the lab in ${directory} has no server ${options.server}; its servers are ${stoppable.map((entry) => entry.id).join(', ')}`,
    );
  }
  if (server.pid > 0) await stopProcess(server.pid, server.binary, { within: server.directory });
  server.alive = false;
  await recordProcesses(status, [server]);
  return status;
}

export interface DownReport {
  directory: string;
  /** False when the directory held no lab state: nothing to stop. */
  found: boolean;
  /** Resolvers, servers and NATS nodes. */
  stopped: { id: string; pid: number; outcome: StopOutcome }[];
  /** The registry agent, when the lab had one (stopped before the servers). */
  registryAgent: { pid: number; outcome: StopOutcome } | null;
  /** The provider API fakes (stopped before the servers). */
  providers: { id: string; pid: number; outcome: StopOutcome }[];
  /** The fake registrar, when the lab had one (stopped before the servers). */
  registrar: { pid: number; outcome: StopOutcome } | null;
  removedLoopbackAliases: string[];
  /** The network namespaces `up --hosts netns` made, deleted with every address in them. */
  removedNamespaces: string[];
}

/**
 * Stops exactly the processes `up` recorded (each only if its PID still runs the expected
 * program), removes the loopback aliases `up` added and the state file, and with the NATS event
 * log its credentials, certificates and JetStream stores. Logs and configs stay.
 */
export async function labDown(
  options: { directory?: string; searchPath?: string } = {},
): Promise<DownReport> {
  const directory = path.resolve(options.directory ?? defaultLabDirectory());
  const status = await readState(directory);
  if (!status) {
    return {
      directory,
      found: false,
      stopped: [],
      registryAgent: null,
      providers: [],
      registrar: null,
      removedLoopbackAliases: [],
      removedNamespaces: [],
    };
  }
  // The agent first: it would only log the servers disappearing.
  const agent = status.registryAgent;
  const registryAgent = agent
    ? {
        pid: agent.pid,
        outcome: agent.pid > 0 ? await stopRegistryAgent(agent) : ('not-running' as const),
      }
    : null;
  const providers = await stopProviderApis(status);
  const registrar = await stopLabRegistrar(status);
  const stopped = await stopAll([...status.resolvers, ...status.servers, ...natsNodes(status)]);
  if (status.eventLog.kind === 'nats') await removeNatsFiles(status.eventLog);
  if (status.loopbackAliases.length > 0) {
    const { ip } = await checkPrograms(
      ['ip'],
      options.searchPath === undefined
        ? { files: [] }
        : { searchPath: options.searchPath, files: [] },
    );
    await removeLoopbackAliases(ip, status.loopbackAliases);
  }
  const removedNamespaces = await removeHosts(status.hosts);
  await removeState(directory);
  return {
    directory,
    found: true,
    stopped,
    registryAgent,
    providers,
    registrar,
    removedLoopbackAliases: status.loopbackAliases,
    removedNamespaces,
  };
}
