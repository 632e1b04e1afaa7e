/**
 * The lab's layout: every server's and resolver's directory, files, address and endpoints,
 * computed from the config before anything runs.
 */
import path from 'node:path';
import type { LabProgram } from './commands.js';
import {
  BROKEN_ZONE,
  NAMESERVER_NAME,
  PARENT_ZONE,
  POWERDNS_API_PORT,
  RNDC_PORT,
  TRAP_IDS,
  type LabConfig,
} from './config.js';
import { LabError } from './errors.js';
import { TSIG_ALGORITHM } from './secrets.js';
import { stateFilePath } from './state.js';
import { isTrap, trapDescription, TRAPS } from './traps.js';
import { defaultRegistryAgentCommand, REGISTRY_AGENT_ID } from './registry-agent-process.js';
import type {
  LabRegistryAgent,
  LabResolver,
  LabServer,
  LabStatus,
  ResolverId,
  ServerId,
  SignerId,
  StubZone,
  TrapId,
} from './types.js';

/** Absolute path of each program, from `checkPrograms`. */
export type Programs = Record<LabProgram, string>;

export function zoneFileName(zone: string, extension: string): string {
  return `${zone.replace(/\.$/, '')}.${extension}`;
}

export function stripDot(zone: string): string {
  return zone.replace(/\.$/, '');
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
    zones: [...config.zones],
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
  const serverDirectory = (id: ServerId | ResolverId) => path.join(directory, id);

  /** What every server shares: its address, directory, TSIG key and trap description. */
  const common = (
    id: ServerId,
    zones: string[],
  ): Omit<
    LabServer,
    'software' | 'binary' | 'configFile' | 'logFile' | 'pidFile' | 'control' | 'keys'
  > => {
    const home = serverDirectory(id);
    const role: LabServer['role'] = id === 'parent' ? 'parent' : isTrap(id) ? 'trap' : 'signer';
    return {
      id,
      role,
      version: 'unknown',
      nameserverName: NAMESERVER_NAME[id],
      address: addresses[id],
      port,
      zones,
      pid: 0,
      alive: false,
      directory: home,
      tsig: {
        name: `chorus-${id}`,
        algorithm: TSIG_ALGORITHM,
        keyFile: path.join(home, 'tsig.key'),
      },
      ...(isTrap(id) ? { trap: trapDescription(id) } : {}),
    };
  };

  const bindServer = (id: ServerId, zones: string[]): LabServer => {
    const home = serverDirectory(id);
    return {
      ...common(id, zones),
      software: 'bind',
      binary: programs.named,
      configFile: path.join(home, 'named.conf'),
      logFile: path.join(home, 'named.log'),
      pidFile: path.join(home, 'named.pid'),
      control: {
        kind: 'rndc',
        address: addresses[id],
        port: RNDC_PORT,
        keyFile: path.join(home, 'rndc.key'),
        configFile: path.join(home, 'rndc.conf'),
      },
      keys: { kind: 'key-directory', path: path.join(home, 'keys') },
    };
  };

  const powerDnsServer = (id: ServerId): LabServer => {
    const home = serverDirectory(id);
    return {
      ...common(id, [...config.zones]),
      software: 'powerdns',
      binary: programs.pdns_server,
      configFile: path.join(home, 'pdns.conf'),
      logFile: path.join(home, 'pdns.log'),
      pidFile: path.join(home, 'pdns.pid'),
      control: {
        kind: 'powerdns-api',
        url: `http://${addresses[id]}:${POWERDNS_API_PORT}/api/v1/servers/localhost`,
        address: addresses[id],
        port: POWERDNS_API_PORT,
        apiKeyFile: path.join(home, 'api.key'),
      },
      keys: { kind: 'sqlite-database', path: path.join(home, 'pdns.sqlite3') },
    };
  };

  const knotServer = (id: ServerId): LabServer => {
    const home = serverDirectory(id);
    return {
      ...common(id, [...config.zones]),
      software: 'knot',
      binary: programs.knotd,
      configFile: path.join(home, 'knot.conf'),
      logFile: path.join(home, 'knotd.log'),
      pidFile: path.join(home, 'knot.pid'),
      control: {
        kind: 'knotc',
        socket: path.join(home, 'knot.sock'),
        configFile: path.join(home, 'knot.conf'),
      },
      keys: { kind: 'kasp-database', path: path.join(home, 'keys') },
    };
  };

  const trapServer = (id: TrapId): LabServer => {
    switch (TRAPS[id].software) {
      case 'bind':
        return bindServer(id, [...config.zones]);
      case 'powerdns':
        return powerDnsServer(id);
      case 'knot':
        return knotServer(id);
    }
  };

  const servers = [
    bindServer('parent', [PARENT_ZONE]),
    bindServer('bind', [...config.zones, BROKEN_ZONE]),
    powerDnsServer('powerdns'),
    knotServer('knot'),
    ...(config.traps ? TRAP_IDS.map(trapServer) : []),
  ];
  const stub = (zone: string, server: ServerId): StubZone => ({
    zone,
    server,
    address: addresses[server],
    port,
  });
  const followsDelegations = port === 53;

  const resolver = (id: ResolverId, target: ServerId, stubZones: StubZone[]): LabResolver => {
    const home = serverDirectory(id);
    return {
      id,
      software: 'unbound',
      version: 'unknown',
      mode: target === 'parent' ? 'delegation' : 'forced-signer',
      address: addresses[id],
      port,
      pid: 0,
      alive: false,
      binary: programs.unbound,
      directory: home,
      configFile: path.join(home, 'unbound.conf'),
      logFile: path.join(home, 'unbound.log'),
      pidFile: path.join(home, 'unbound.pid'),
      target: {
        server: target,
        zones: stubZones.filter((entry) => entry.server === target).map((entry) => entry.zone),
      },
      stubZones,
      control: {
        kind: 'unbound-control',
        socket: path.join(home, 'control.sock'),
        configFile: path.join(home, 'unbound.conf'),
      },
    };
  };
  const parentStub = stub(PARENT_ZONE, 'parent');
  // NS records carry no port: off port 53 the delegation resolver needs the child zones spelled out.
  const childStubs = followsDelegations
    ? []
    : [...config.zones, BROKEN_ZONE].map((zone) => stub(zone, 'bind'));
  const forced = (signer: SignerId) =>
    resolver(`resolver-${signer}`, signer, [
      parentStub,
      ...config.zones.map((zone) => stub(zone, signer)),
    ]);
  const resolvers = [
    resolver('resolver-delegation', 'parent', [parentStub, ...childStubs]),
    forced('bind'),
    forced('powerdns'),
    forced('knot'),
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
    traps: config.traps,
    parentZone: PARENT_ZONE,
    zones: [...config.zones],
    brokenZone: BROKEN_ZONE,
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
    servers,
    resolvers,
    registryAgent: planRegistryAgent(config, registryAgentCommand),
    trustAnchor: { zone: PARENT_ZONE, ds: [], file: path.join(directory, 'trust-anchor.ds') },
  };
}

export function serverById(status: LabStatus, id: ServerId): LabServer {
  const server = status.servers.find((entry) => entry.id === id);
  if (!server) throw new LabError(`internal: no server ${id} in the lab plan`);
  return server;
}
