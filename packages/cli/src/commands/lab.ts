/** `chorus lab up | status | restart | down | registry-agent`. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  cliRegistryAgentCommand,
  defaultLabDirectory,
  labDown,
  labScanPeriodMs,
  labRestart,
  labStatus,
  labUp,
  LabError,
  numberedZones,
  NATS_NODE_IDS,
  parseAlgorithm,
  parseDenial,
  parseEventLog,
  parseHostsMode,
  parseKeyLifetimes,
  parseProviders,
  parseRateLimits,
  registryAgentConfigFile,
  runRegistryAgentProcess,
  SERVER_IDS,
  zoneList,
  type DenialMethod,
  type EventLogKind,
  type HostsMode,
  type KeyLifetimes,
  type LabAlgorithm,
  type LabStatus,
  type NatsNodeId,
  type ProviderId,
  type ProviderRateLimits,
  type ServerId,
} from '@chorus/lab';
import {
  expectPositionals,
  integerOption,
  listOption,
  parseCommandArgs,
  UsageError,
} from '../args.js';
import { formatLabStatus } from '../format.js';
import {
  LAB_DOWN_HELP,
  LAB_HELP,
  LAB_REGISTRY_AGENT_HELP,
  LAB_RESTART_HELP,
  LAB_STATUS_HELP,
  LAB_UP_HELP,
} from '../help.js';
import { progressTo, type CliIo } from '../io.js';

const HELP = { type: 'boolean', short: 'h' } as const;
const DIRECTORY = { type: 'string' } as const;

/** This CLI's entry point, `dist/main.js` (also when the CLI runs from its sources). */
function cliMainFile(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts')
    ? path.join(path.dirname(here), '..', '..', 'dist', 'main.js')
    : path.join(path.dirname(here), '..', 'main.js');
}

/** The registry agent's lines of the status: process, endpoints and files. */
function formatRegistryAgent(status: LabStatus): string[] {
  const agent = status.registryAgent;
  if (!agent) return ['', 'registry agent: not running (lab up --no-registry-agent)'];
  return [
    '',
    `registry agent (scans CDS/CDNSKEY and CSYNC of ${zoneList(agent.zones)} every ${labScanPeriodMs(agent)} ms and at once on NOTIFY, updates ${agent.parentZone}):`,
    `  registry-agent  node  pid ${agent.pid}  ${agent.alive ? 'alive' : 'DEAD'}  NOTIFY(CDS/CSYNC) on ${agent.address}:${agent.port}/udp`,
    `  directory ${agent.directory}`,
    `  config ${agent.configFile}  log ${agent.logFile} (JSON lines)  pid file ${agent.pidFile}`,
  ];
}

/** The provider fakes' lines of the status: API, token file, the server behind. */
function formatProviders(status: LabStatus): string[] {
  if (status.providers.length === 0) return [];
  return [
    '',
    'SaaS provider fakes (REST API in front of a lab PowerDNS that signs and serves the zones):',
    ...status.providers.flatMap((api) => [
      `  ${api.id}  node  pid ${api.pid}  ${api.alive ? 'alive' : 'DEAD'}  ${api.url}  in front of ${api.server}`,
      `    token ${api.tokenFile} (0600)  admin token ${api.adminTokenFile}`,
      `    log ${api.logFile}  requests ${api.requestLogFile}`,
    ]),
  ];
}

/** The fake registrar's lines of the status: API, token files, logs. */
function formatRegistrar(status: LabStatus): string[] {
  const registrar = status.registrar;
  if (!registrar) return [];
  return [
    '',
    `fake registrar (REST API in front of ${registrar.parentZone}, account: ${registrar.domains.join(' ')}):`,
    `  registrar  node  pid ${registrar.pid}  ${registrar.alive ? 'alive' : 'DEAD'}  ${registrar.url}`,
    `    token ${registrar.tokenFile} (0600)  admin token ${registrar.adminTokenFile}`,
    `    log ${registrar.logFile}  requests ${registrar.requestLogFile}`,
  ];
}

/** With `--hosts netns`: the subnet, the host's uplink and each namespace. */
function formatHosts(status: LabStatus): string[] {
  const hosts = status.hosts;
  if (hosts?.mode !== 'netns') return [];
  return [
    '',
    `hosts: a network namespace per server on ${hosts.subnet}, bridged in ${hosts.switchNamespace} (firewall ${hosts.firewallFile}); this host is ${hosts.uplink!.address} on ${hosts.uplink!.interface}`,
    ...hosts.namespaces.map(
      (host) =>
        `  ${host.namespace}  ${host.address}${host.signer ? '  signer: reaches the other signers on port 53 only' : ''}`,
    ),
  ];
}

/** The event log's lines: the SQLite file, or the NATS nodes, stream, CA and credentials. */
function formatEventLog(status: LabStatus): string[] {
  const log = status.eventLog;
  if (log.kind === 'sqlite') {
    return ['', `event log: SQLite ${log.path} (the sidecars create it, e.g. chorus demo)`];
  }
  const users = Object.entries(log.credentialsFiles);
  return [
    '',
    `event log: NATS JetStream cluster ${log.clusterName}, stream ${log.streamName} (${log.subjectPrefix}>, ${log.replicas} replicas)`,
    `  servers ${log.servers.join(' ')}  (TLS only, CA ${log.caFile})`,
    ...log.nodes.flatMap((node) => [
      `  ${node.id}  nats-server ${node.version}  pid ${node.pid}  ${node.alive ? 'alive' : 'DEAD'}  clients ${node.address}:${node.clientPort}  routes :${node.clusterPort}  monitor ${node.monitorUrl}`,
      `    config ${node.configFile}  log ${node.logFile}  store ${node.storeDir}`,
    ]),
    `  credentials (0600, user:password): ${users.map(([user]) => user).join(' ')}`,
    ...users.map(([user, file]) => `    ${user} ${file}`),
  ];
}

/** `key lifetimes: ZSK 120 s, KSK unlimited`, or nothing when every key lives for ever. */
function formatKeyLifetimes(status: LabStatus): string[] {
  const lifetimes = status.keyLifetimes;
  if (!lifetimes) return [];
  const describe = (seconds: number | undefined) =>
    seconds === undefined ? 'unlimited' : `${seconds} s`;
  return [
    '',
    `key lifetimes (BIND and Knot signers roll on their own): ZSK ${describe(lifetimes.zskSeconds)}, KSK ${describe(lifetimes.kskSeconds)}`,
  ];
}

/** `signing: algorithm 8 (RSASHA256), denial NSEC3 (NSEC3PARAM 1 0 0 -) on every server`. */
function formatSigning(status: LabStatus): string[] {
  const denial =
    status.denial === 'nsec3'
      ? `NSEC3 (NSEC3PARAM ${status.nsec3param ?? '?'}: SHA-1, no opt-out, no extra iterations, no salt)`
      : 'NSEC';
  return [
    '',
    `signing (every server, parent included): algorithm ${status.algorithm} (${status.algorithmName}), denial ${denial}`,
  ];
}

/** The signalling zones (RFC 9615), the model-1 zone and the insecure zones, when the lab has them. */
function formatBootstrapZones(status: LabStatus): string[] {
  const lines: string[] = [];
  if (status.signalling.length > 0)
    lines.push(
      '',
      'signalling zones (RFC 9615; each served and signed by its signer, delegated with a DS):',
      ...status.signalling.map(
        (entry) =>
          `  ${entry.zone}  ${entry.server}  NS ${entry.nameserver}  signals at _dsboot.<zone>._signal.${entry.nameserver}`,
      ),
    );
  if (status.owner)
    lines.push(
      '',
      `model-1 zone (RFC 8901 model 1): ${status.owner.zone}  served by ${status.owner.servers.join(', ')} with the DNSKEY RRset the owner's KSK signed`,
      `  owner KSK in SoftHSM2: token ${status.owner.hsm.tokenLabel} id ${status.owner.hsm.keyId} (SOFTHSM2_CONF=${status.owner.hsm.env.SOFTHSM2_CONF}, PIN in ${status.owner.hsm.pinFile})`,
      ...(status.owner.ds ? [`  parent DS ${status.owner.ds}`] : []),
    );
  if (status.insecureZones.length > 0)
    lines.push(
      '',
      `insecure zones (served and signed by bind, powerdns and knot, each with its own keys; delegated without DS): ${zoneList(status.insecureZones)}`,
    );
  return lines;
}

/** The status table, plus the registry agent and what is wrong with each trap server. */
function formatStatus(status: LabStatus): string {
  const traps = status.servers.filter((server) => server.role === 'trap' && server.trap);
  const lines = [
    ...formatSigning(status),
    ...formatKeyLifetimes(status),
    ...formatBootstrapZones(status),
    ...formatRegistryAgent(status),
    ...formatProviders(status),
    ...formatRegistrar(status),
    ...formatHosts(status),
    ...formatEventLog(status),
  ];
  if (traps.length > 0) {
    lines.push(
      '',
      'traps (deliberately misconfigured signers; no parent delegates to them):',
      ...traps.flatMap((server) => [
        `  ${server.id}: ${server.trap?.setting ?? ''}`,
        `    ${server.trap?.problem ?? ''}`,
      ]),
    );
  }
  return `${formatLabStatus(status)}${lines.join('\n')}\n`;
}

function print(io: CliIo, status: LabStatus, json: boolean | undefined): void {
  io.stdout(json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
}

async function up(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('lab up', args, {
    dir: DIRECTORY,
    'address-prefix': { type: 'string' },
    port: { type: 'string' },
    ttl: { type: 'string' },
    zones: { type: 'string' },
    'zone-count': { type: 'string' },
    traps: { type: 'boolean' },
    'no-registry-agent': { type: 'boolean' },
    'registry-interval-ms': { type: 'string' },
    'key-lifetimes': { type: 'string' },
    providers: { type: 'string' },
    registrar: { type: 'boolean' },
    'rate-limit': { type: 'string' },
    'event-log': { type: 'string' },
    hosts: { type: 'string' },
    denial: { type: 'string' },
    algorithm: { type: 'string' },
    signalling: { type: 'boolean' },
    owner: { type: 'boolean' },
    'insecure-zone': { type: 'string', multiple: true },
    json: { type: 'boolean' },
    help: HELP,
  });
  if (values.help) {
    io.stdout(LAB_UP_HELP);
    return 0;
  }
  expectPositionals(positionals, 0, 'lab up');
  const zoneCount = integerOption(values['zone-count'], 'zone-count', 'lab up');
  if (zoneCount !== undefined && values.zones !== undefined)
    throw new UsageError('give --zones or --zone-count, not both', 'lab up');
  const zones =
    zoneCount === undefined
      ? listOption(values.zones)
      : labOption(String(zoneCount), 'zone-count', () => numberedZones(zoneCount));
  const intervalMs = integerOption(
    values['registry-interval-ms'],
    'registry-interval-ms',
    'lab up',
  );
  if (values.registrar && !values['no-registry-agent'])
    throw new UsageError(
      "give --no-registry-agent with --registrar: the registry agent would put the DS back to the signers' CDS on its next scan",
      'lab up',
    );
  if (values['no-registry-agent'] && intervalMs !== undefined) {
    throw new UsageError('--registry-interval-ms needs the registry agent', 'lab up');
  }
  const status = await labUp({
    ...(values.dir === undefined ? {} : { directory: values.dir }),
    ...(values['address-prefix'] === undefined ? {} : { addressPrefix: values['address-prefix'] }),
    ...optional('port', integerOption(values.port, 'port', 'lab up')),
    ...optional('ttl', integerOption(values.ttl, 'ttl', 'lab up')),
    ...optional('zones', zones),
    ...optional('keyLifetimes', keyLifetimesOption(values['key-lifetimes'])),
    ...optional('providers', labOption(values.providers, 'providers', parseProviders)),
    ...optional('rateLimits', labOption(values['rate-limit'], 'rate-limit', parseRateLimits)),
    ...optional('eventLog', labOption(values['event-log'], 'event-log', parseEventLog)),
    ...optional('hosts', labOption(values.hosts, 'hosts', parseHostsMode)),
    ...optional('denial', labOption(values.denial, 'denial', parseDenial)),
    ...optional('algorithm', labOption(values.algorithm, 'algorithm', parseAlgorithm)),
    ...(values.traps ? { traps: true } : {}),
    ...(values.registrar ? { registrar: true } : {}),
    ...(values.signalling ? { signalling: true } : {}),
    ...(values.owner ? { owner: true } : {}),
    ...optional('insecureZones', values['insecure-zone']),
    registryAgent: values['no-registry-agent']
      ? false
      : intervalMs === undefined
        ? true
        : { intervalMs },
    // The agent runs as "chorus lab registry-agent", with this Node binary and this CLI.
    registryAgentCommand: cliRegistryAgentCommand(cliMainFile()),
    onProgress: progressTo(io),
  });
  print(io, status, values.json);
  return 0;
}

/** `--key-lifetimes zsk=5m,ksk=1h`; a malformed value is a usage error naming the option. */
function keyLifetimesOption(value: string | undefined): KeyLifetimes | undefined {
  if (value === undefined) return undefined;
  try {
    return parseKeyLifetimes(value);
  } catch (error) {
    if (LabError.isInstance(error))
      throw new UsageError(`--key-lifetimes: ${error.message}`, 'lab up');
    throw error;
  }
}

/** A lab option parsed by `parse`; its LabError becomes a usage error naming the option. */
function labOption<
  T extends
    | ProviderId[]
    | ProviderRateLimits
    | EventLogKind
    | HostsMode
    | DenialMethod
    | LabAlgorithm
    | string[],
>(value: string | undefined, name: string, parse: (text: string) => T): T | undefined {
  if (value === undefined) return undefined;
  try {
    return parse(value);
  } catch (error) {
    if (LabError.isInstance(error)) throw new UsageError(`--${name}: ${error.message}`, 'lab up');
    throw error;
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

async function status(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('lab status', args, {
    dir: DIRECTORY,
    json: { type: 'boolean' },
    help: HELP,
  });
  if (values.help) {
    io.stdout(LAB_STATUS_HELP);
    return 0;
  }
  expectPositionals(positionals, 0, 'lab status');
  const current = await labStatus(values.dir === undefined ? {} : { directory: values.dir });
  if (!current) {
    io.stderr(`no lab in ${values.dir ?? defaultLabDirectory()}; start one with: chorus lab up\n`);
    if (values.json) io.stdout('null\n');
    return 1;
  }
  print(io, current, values.json);
  return 0;
}

async function restart(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('lab restart', args, {
    dir: DIRECTORY,
    json: { type: 'boolean' },
    help: HELP,
  });
  if (values.help) {
    io.stdout(LAB_RESTART_HELP);
    return 0;
  }
  const AGENT = 'registry-agent';
  const restartable: readonly string[] = [...SERVER_IDS, ...NATS_NODE_IDS];
  const unknown = positionals.find((name) => name !== AGENT && !restartable.includes(name));
  if (unknown !== undefined) {
    throw new UsageError(
      `unknown server ${JSON.stringify(unknown)}; the lab's servers are ${restartable.join(', ')} (and ${AGENT})`,
      'lab restart',
    );
  }
  const servers = positionals.filter((name) => name !== AGENT) as (ServerId | NatsNodeId)[];
  // Whether this lab runs the server (traps, agent) is checked by labRestart against its state.
  const status = await labRestart({
    ...(values.dir === undefined ? {} : { directory: values.dir }),
    ...(positionals.length > 0 ? { servers, registryAgent: positionals.includes(AGENT) } : {}),
    onProgress: progressTo(io),
  });
  print(io, status, values.json);
  return 0;
}

async function down(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('lab down', args, {
    dir: DIRECTORY,
    help: HELP,
  });
  if (values.help) {
    io.stdout(LAB_DOWN_HELP);
    return 0;
  }
  expectPositionals(positionals, 0, 'lab down');
  const report = await labDown(values.dir === undefined ? {} : { directory: values.dir });
  if (!report.found) {
    io.stderr(`no lab state in ${report.directory}; nothing to stop\n`);
    return 0;
  }
  for (const entry of report.stopped) {
    io.stderr(`[lab] ${entry.id} pid ${entry.pid}: ${entry.outcome}\n`);
  }
  if (report.registryAgent) {
    io.stderr(
      `[lab] registry-agent pid ${report.registryAgent.pid}: ${report.registryAgent.outcome}\n`,
    );
  }
  for (const entry of report.providers) {
    io.stderr(`[lab] ${entry.id} pid ${entry.pid}: ${entry.outcome}\n`);
  }
  if (report.registrar)
    io.stderr(`[lab] registrar pid ${report.registrar.pid}: ${report.registrar.outcome}\n`);
  if (report.removedNamespaces.length > 0)
    io.stderr(
      `[lab] deleted network namespaces ${report.removedNamespaces.join(' ')} (and every address in them)\n`,
    );
  if (report.removedLoopbackAliases.length > 0) {
    io.stderr(`[lab] removed loopback addresses ${report.removedLoopbackAliases.join(' ')}\n`);
  }
  io.stdout(`lab in ${report.directory} is down\n`);
  return 0;
}

/** `chorus lab registry-agent`: the agent in the foreground, JSON lines on stdout. */
async function registryAgent(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('lab registry-agent', args, {
    dir: DIRECTORY,
    config: { type: 'string' },
    'interval-ms': { type: 'string' },
    help: HELP,
  });
  if (values.help) {
    io.stdout(LAB_REGISTRY_AGENT_HELP);
    return 0;
  }
  expectPositionals(positionals, 0, 'lab registry-agent');
  const intervalMs = integerOption(values['interval-ms'], 'interval-ms', 'lab registry-agent');
  if (intervalMs !== undefined && intervalMs < 50) {
    throw new UsageError('--interval-ms must be at least 50', 'lab registry-agent');
  }
  const configFile = values.config ?? registryAgentConfigFile(values.dir ?? defaultLabDirectory());
  return runRegistryAgentProcess({
    configFile,
    write: (line) => io.stdout(line),
    ...(intervalMs === undefined ? {} : { intervalMs }),
  });
}

export async function labCommand(args: string[], io: CliIo): Promise<number> {
  const [subcommand, ...rest] = args;
  switch (subcommand) {
    case 'up':
      return up(rest, io);
    case 'status':
      return status(rest, io);
    case 'restart':
      return restart(rest, io);
    case 'down':
      return down(rest, io);
    case 'registry-agent':
      return registryAgent(rest, io);
    case '-h':
    case '--help':
    case 'help':
      io.stdout(LAB_HELP);
      return 0;
    case undefined:
      io.stderr(LAB_HELP);
      return 2;
    default:
      throw new UsageError(
        `unknown lab command ${JSON.stringify(subcommand)}; expected up, status, restart, down or registry-agent`,
        'lab',
      );
  }
}
