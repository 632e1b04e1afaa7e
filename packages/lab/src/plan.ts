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
  type LabConfig,
} from './config.js';
import { LabError } from './errors.js';
import { TSIG_ALGORITHM } from './secrets.js';
import { stateFilePath } from './state.js';
import type {
  LabResolver,
  LabServer,
  LabStatus,
  ResolverId,
  ServerId,
  SignerId,
  StubZone,
} from './types.js';

/** Absolute path of each program, from `checkPrograms`. */
export type Programs = Record<LabProgram, string>;

export function zoneFileName(zone: string, extension: string): string {
  return `${zone.replace(/\.$/, '')}.${extension}`;
}

export function stripDot(zone: string): string {
  return zone.replace(/\.$/, '');
}

/** The lab's layout and endpoints, before anything runs (PIDs 0, versions unknown). */
export function planLab(config: LabConfig, programs: Programs): LabStatus {
  const { directory, port, addresses } = config;
  const serverDirectory = (id: ServerId | ResolverId) => path.join(directory, id);

  const bindLike = (id: 'parent' | 'bind', zones: string[]): LabServer => {
    const home = serverDirectory(id);
    return {
      id,
      role: id === 'parent' ? 'parent' : 'signer',
      software: 'bind',
      version: 'unknown',
      nameserverName: NAMESERVER_NAME[id],
      address: addresses[id],
      port,
      zones,
      pid: 0,
      alive: false,
      binary: programs.named,
      directory: home,
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
      tsig: {
        name: `chorus-${id}`,
        algorithm: TSIG_ALGORITHM,
        keyFile: path.join(home, 'tsig.key'),
      },
      keys: { kind: 'key-directory', path: path.join(home, 'keys') },
    };
  };

  const powerdnsHome = serverDirectory('powerdns');
  const powerdns: LabServer = {
    id: 'powerdns',
    role: 'signer',
    software: 'powerdns',
    version: 'unknown',
    nameserverName: NAMESERVER_NAME.powerdns,
    address: addresses.powerdns,
    port,
    zones: [...config.zones],
    pid: 0,
    alive: false,
    binary: programs.pdns_server,
    directory: powerdnsHome,
    configFile: path.join(powerdnsHome, 'pdns.conf'),
    logFile: path.join(powerdnsHome, 'pdns.log'),
    pidFile: path.join(powerdnsHome, 'pdns.pid'),
    control: {
      kind: 'powerdns-api',
      url: `http://${addresses.powerdns}:${POWERDNS_API_PORT}/api/v1/servers/localhost`,
      address: addresses.powerdns,
      port: POWERDNS_API_PORT,
      apiKeyFile: path.join(powerdnsHome, 'api.key'),
    },
    tsig: {
      name: 'chorus-powerdns',
      algorithm: TSIG_ALGORITHM,
      keyFile: path.join(powerdnsHome, 'tsig.key'),
    },
    keys: { kind: 'sqlite-database', path: path.join(powerdnsHome, 'pdns.sqlite3') },
  };

  const knotHome = serverDirectory('knot');
  const knot: LabServer = {
    id: 'knot',
    role: 'signer',
    software: 'knot',
    version: 'unknown',
    nameserverName: NAMESERVER_NAME.knot,
    address: addresses.knot,
    port,
    zones: [...config.zones],
    pid: 0,
    alive: false,
    binary: programs.knotd,
    directory: knotHome,
    configFile: path.join(knotHome, 'knot.conf'),
    logFile: path.join(knotHome, 'knotd.log'),
    pidFile: path.join(knotHome, 'knot.pid'),
    control: {
      kind: 'knotc',
      socket: path.join(knotHome, 'knot.sock'),
      configFile: path.join(knotHome, 'knot.conf'),
    },
    tsig: {
      name: 'chorus-knot',
      algorithm: TSIG_ALGORITHM,
      keyFile: path.join(knotHome, 'tsig.key'),
    },
    keys: { kind: 'kasp-database', path: path.join(knotHome, 'keys') },
  };

  const servers = [
    bindLike('parent', [PARENT_ZONE]),
    bindLike('bind', [...config.zones, BROKEN_ZONE]),
    powerdns,
    knot,
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
    trustAnchor: { zone: PARENT_ZONE, ds: [], file: path.join(directory, 'trust-anchor.ds') },
  };
}

export function serverById(status: LabStatus, id: ServerId): LabServer {
  const server = status.servers.find((entry) => entry.id === id);
  if (!server) throw new LabError(`internal: no server ${id} in the lab plan`);
  return server;
}
