/**
 * The lab's layout: every server's and resolver's directory, files, address and endpoints,
 * computed from the config before anything runs.
 */
import path from 'node:path';
import {
  ALGORITHM_NAMES,
  BROKEN_ZONE,
  CSK_ZONE,
  OWNER_ZONE,
  demoEventLogPath,
  NAMESERVER_NAME,
  NSEC3PARAM_TEXT,
  PARENT_ZONE,
  PROVIDER_IDS,
  SIGNER_IDS,
  TRAP_IDS,
  type LabConfig,
} from './config.js';
import { checkBindKeyLifetimes } from './bind.js';
import { ownerServers, planOwner } from './owner.js';
import { planSignallingZones, signallingZoneOf } from './signalling.js';
import { LabError } from './errors.js';
import { namespaceOf } from './hosts.js';
import { planNatsEventLog } from './nats.js';
import { planProviderApi } from './provider-apis.js';
import { planRegistrar } from './registrar.js';
import { defaultRegistryAgentCommand, REGISTRY_AGENT_ID } from './registry-agent-process.js';
import { TSIG_ALGORITHM } from './secrets.js';
import type { Programs } from './server-kind.js';
import { SERVER_KINDS } from './server-kinds.js';
import { stateFilePath } from './state.js';
import { isTrap, trapDescription, TRAPS } from './traps.js';
import { unboundKind } from './unbound.js';
import type {
  LabNatsEventLog,
  LabRegistryAgent,
  LabResolver,
  LabServer,
  LabStatus,
  ProviderId,
  ResolverId,
  ServerId,
  SignerId,
  StubZone,
} from './types.js';

function isProvider(id: ServerId): id is ProviderId {
  return (PROVIDER_IDS as readonly ServerId[]).includes(id);
}

function isSigner(id: ServerId): id is SignerId {
  return (SIGNER_IDS as readonly ServerId[]).includes(id);
}

/**
 * The software each server runs: the parent is BIND, a signer its namesake, a provider PowerDNS
 * (behind its API fake), a trap as listed.
 */
function softwareOf(id: ServerId): LabServer['software'] {
  if (id === 'parent') return 'bind';
  if (isProvider(id)) return 'powerdns';
  return isTrap(id) ? TRAPS[id].software : id;
}

function roleOf(id: ServerId): LabServer['role'] {
  if (id === 'parent') return 'parent';
  return isTrap(id) ? 'trap' : 'signer';
}

/**
 * The zones each server serves: the parent `test.`; every signer also the insecure zones and its
 * signalling zone, the BIND signer also the broken zone, the Knot signer also the CSK zone and,
 * with `owner`, the model-1 zone (as the NS1 fake's PowerDNS does when it runs).
 */
function zonesOf(id: ServerId, config: LabConfig): string[] {
  if (id === 'parent') return [PARENT_ZONE];
  const owner = ownerServers(config).includes(id) ? [OWNER_ZONE] : [];
  if (!isSigner(id)) return [...config.zones, ...owner];
  const signalling = signallingZoneOf({ id }, config);
  return [
    ...config.zones,
    ...config.insecureZones,
    ...(id === 'bind' ? [BROKEN_ZONE] : id === 'knot' ? [CSK_ZONE] : []),
    ...owner,
    ...(signalling === undefined ? [] : [signalling]),
  ];
}

/** A server's entry: what every server shares, plus its kind's files, control and key store. */
function planServer(id: ServerId, config: LabConfig, programs: Programs): LabServer {
  const home = path.join(config.directory, id);
  const address = config.addresses[id];
  return {
    id,
    role: roleOf(id),
    version: 'unknown',
    nameserverName: NAMESERVER_NAME[id],
    address,
    port: config.port,
    zones: zonesOf(id, config),
    pid: 0,
    alive: false,
    directory: home,
    tsig: {
      name: `chorus-${id}`,
      algorithm: TSIG_ALGORITHM,
      keyFile: path.join(home, 'tsig.key'),
    },
    ...(isTrap(id) ? { trap: trapDescription(id) } : {}),
    ...SERVER_KINDS[softwareOf(id)].layout(home, address, programs),
  };
}

/**
 * The registry agent's entry: its own directory, config, log and PID file, and its command line
 * (`command` plus `--dir <lab>`). Null when the lab runs without one.
 */
function planRegistryAgent(config: LabConfig, command: readonly string[]): LabRegistryAgent | null {
  if (!config.registryAgent) return null;
  const [binary, ...leading] = command;
  if (binary === undefined) throw new LabError('the registry agent command is empty');
  const home = path.join(config.directory, REGISTRY_AGENT_ID);
  return {
    id: REGISTRY_AGENT_ID,
    software: 'node',
    pid: 0,
    alive: false,
    binary,
    arguments: [...leading, '--dir', config.directory],
    directory: home,
    configFile: path.join(home, 'agent.json'),
    logFile: path.join(home, 'agent.log'),
    pidFile: path.join(home, 'agent.pid'),
    address: config.addresses[REGISTRY_AGENT_ID],
    port: config.port,
    intervalMs: config.registryAgent.intervalMs,
    parentZone: PARENT_ZONE,
    zones: [...config.zones, ...config.insecureZones],
  };
}

function namespaceField(config: LabConfig, id: string): { namespace?: string } {
  const namespace = namespaceOf(config.hosts, id);
  return namespace === undefined ? {} : { namespace };
}

/** The entry, run in its own namespace with `--hosts netns`. */
function inNamespace<T extends { id: string } | null>(entry: T, config: LabConfig): T {
  return entry === null ? entry : { ...entry, ...namespaceField(config, entry.id) };
}

/** Each NATS node in its own namespace with `--hosts netns`. */
function inNamespaces(eventLog: LabNatsEventLog, config: LabConfig): LabNatsEventLog {
  return { ...eventLog, nodes: eventLog.nodes.map((node) => inNamespace(node, config)) };
}

/** A validating resolver that asks `cache` for everything, so it ends where the cache ends. */
function behind(cache: LabResolver, resolver: LabResolver): LabResolver {
  return {
    ...resolver,
    target: { ...cache.target },
    forwardTo: { resolver: cache.id, address: cache.address, port: cache.port },
  };
}

/**
 * The lab's layout and endpoints, before anything runs (PIDs 0, versions unknown).
 * `registryAgentCommand` runs the agent (default: this Node with the lab's own entry point).
 */
export function planLab(
  config: LabConfig,
  programs: Programs,
  registryAgentCommand: readonly string[] = defaultRegistryAgentCommand(),
): LabStatus {
  const { directory, port, addresses } = config;
  // Before anything runs: BIND would refuse to start on a too-short lifetime.
  checkBindKeyLifetimes({ ...config, zones: zonesOf('bind', config) });
  const serverIds: ServerId[] = [
    'parent',
    ...SIGNER_IDS,
    ...config.providers,
    ...(config.traps ? TRAP_IDS : []),
  ];
  const servers = serverIds.map((id) => inNamespace(planServer(id, config, programs), config));
  const stub = (zone: string, server: ServerId): StubZone => ({
    zone,
    server,
    address: addresses[server],
    port,
  });
  const followsDelegations = port === 53;

  const resolver = (
    id: ResolverId,
    mode: LabResolver['mode'],
    target: ServerId,
    stubZones: StubZone[],
  ): LabResolver => {
    const home = path.join(directory, id);
    return {
      id,
      version: 'unknown',
      mode,
      validates: mode !== 'cache',
      address: addresses[id],
      port,
      pid: 0,
      alive: false,
      directory: home,
      target: {
        server: target,
        zones: stubZones.filter((entry) => entry.server === target).map((entry) => entry.zone),
      },
      stubZones,
      ...unboundKind.layout(home, programs),
    };
  };
  const parentStub = stub(PARENT_ZONE, 'parent');
  // NS records carry no port: off port 53 the delegation resolver needs the child zones spelled out.
  const childStubs = followsDelegations
    ? []
    : [
        ...[...config.zones, ...config.insecureZones, BROKEN_ZONE].map((zone) =>
          stub(zone, 'bind'),
        ),
        ...(config.owner ? [stub(OWNER_ZONE, 'knot')] : []),
      ];
  // A server of the model-1 zone: its pinned resolver asks it for that zone too.
  const ownerZoneAt = (id: ServerId) => (ownerServers(config).includes(id) ? [OWNER_ZONE] : []);
  const forced = (signer: SignerId | ProviderId) =>
    resolver(`resolver-${signer}`, 'forced-signer', signer, [
      parentStub,
      ...[
        ...config.zones,
        ...(isSigner(signer) ? config.insecureZones : []),
        ...ownerZoneAt(signer),
      ].map((zone) => stub(zone, signer)),
    ]);
  const cache = resolver('resolver-cache', 'cache', 'parent', [parentStub, ...childStubs]);
  const resolvers = [
    resolver('resolver-delegation', 'delegation', 'parent', [parentStub, ...childStubs]),
    ...SIGNER_IDS.map(forced),
    ...config.providers.map(forced),
    cache,
    behind(cache, resolver('resolver-forwarded', 'forwarded', 'parent', [])),
  ];

  return {
    schemaVersion: 1,
    directory,
    stateFile: stateFilePath(directory),
    startedAt: '',
    startupMs: 0,
    running: false,
    addressPrefix: config.addressPrefix,
    port,
    ttl: config.ttl,
    algorithm: config.algorithm,
    algorithmName: ALGORITHM_NAMES[config.algorithm],
    denial: config.denial,
    ...(config.denial === 'nsec3' ? { nsec3param: NSEC3PARAM_TEXT } : {}),
    ...(config.keyLifetimes ? { keyLifetimes: { ...config.keyLifetimes } } : {}),
    traps: config.traps,
    parentZone: PARENT_ZONE,
    zones: [...config.zones],
    brokenZone: BROKEN_ZONE,
    cskZone: CSK_ZONE,
    signalling: planSignallingZones(config),
    ...(config.owner ? { owner: planOwner(config)! } : {}),
    insecureZones: [...config.insecureZones],
    delegation: followsDelegations
      ? {
          followsDelegations: true,
          note: 'the delegation resolver knows only the parent and follows NS, address records and DS from there',
        }
      : {
          followsDelegations: false,
          note: `port ${port} is not 53 and NS records carry no port, so the delegation resolver has stub zones for the child zones (DS still comes from the parent)`,
        },
    loopbackAliases: [],
    hosts: config.hosts,
    servers,
    resolvers,
    registryAgent: inNamespace(planRegistryAgent(config, registryAgentCommand), config),
    // A provider's API fake runs on its server's host.
    providers: config.providers.map((id) => ({
      ...planProviderApi(id, config),
      ...namespaceField(config, id),
    })),
    // On this host's loopback in every hosts mode: it reaches the parent as the host does.
    registrar: planRegistrar(config),
    eventLog:
      config.eventLog === 'nats'
        ? inNamespaces(planNatsEventLog(config, programs), config)
        : { kind: 'sqlite', path: demoEventLogPath(directory) },
    trustAnchor: {
      zone: PARENT_ZONE,
      ds: [],
      file: path.join(directory, 'trust-anchor.ds'),
      delvFile: path.join(directory, 'trust-anchor.delv.conf'),
    },
  };
}

export function serverById(status: LabStatus, id: ServerId): LabServer {
  const server = status.servers.find((entry) => entry.id === id);
  if (!server) throw new LabError(`internal: no server ${id} in the lab plan`);
  return server;
}
