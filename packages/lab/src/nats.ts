/**
 * The NATS JetStream event log (`up --event-log nats`): three `nats-server` nodes on their own
 * loopback addresses, clustered as `chorus`, JetStream replicated three times. Clients use TLS
 * (the lab's CA) and a password per user; each user may publish only to the subjects of the
 * event-log streams it writes, and no user but `admin` may create, purge or delete a stream.
 * Planned here, prepared before the daemons start, started with them, and stopped by PID.
 */
import { hash } from 'bcryptjs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import path from 'node:path';
import { observationStream, zoneStream } from '@chorus/core';
import {
  clientPermissions,
  DEFAULT_STREAM_NAME,
  DEFAULT_SUBJECT_PREFIX,
  type ClientPermissions,
} from '@chorus/event-log-nats';
import { reportedVersion, spawnDaemon } from './commands.js';
import { NATS_NODE_IDS, SIGNER_IDS, type LabConfig } from './config.js';
import { LabError } from './errors.js';
import { natsAuthConfig, natsServerConfig, type NatsUserEntry } from './nats-config.js';
import { makeNatsTls, natsTlsFiles } from './nats-tls.js';
import type { CheckResult } from './readiness.js';
import { newApiKey, writeSecretFile } from './secrets.js';
import { programPath, type Programs } from './server-kind.js';
import type { LabNatsEventLog, LabNatsNode, LabStatus, NatsNodeId, NatsUser } from './types.js';

export const NATS_CLIENT_PORT = 4222;
export const NATS_CLUSTER_PORT = 6222;
export const NATS_MONITOR_PORT = 8222;
export const NATS_CLUSTER_NAME = 'chorus';
export const NATS_REPLICAS = 3;
/** What `--event-log nats` runs, with the Debian package of each. */
export const NATS_PROGRAMS: Readonly<Record<string, string>> = {
  'nats-server': 'nats-server',
  openssl: 'openssl',
};
/**
 * bcrypt cost of the password hashes in the auth file. The passwords are 192 random bits, so the
 * cost adds no strength; a low one keeps `up` (hashing) and every connection (checking) fast.
 */
const BCRYPT_COST = 8;

export function natsDirectory(labDirectory: string): string {
  return path.join(labDirectory, 'nats');
}

/** The NATS nodes of a lab (none with the SQLite log). */
export function natsNodes(status: Pick<LabStatus, 'eventLog'>): LabNatsNode[] {
  return status.eventLog.kind === 'nats' ? status.eventLog.nodes : [];
}

/** `admin`, one user per sidecar (the signers and the providers that run), `operator`, `observer`. */
export function natsUsers(config: Pick<LabConfig, 'providers'>): NatsUser[] {
  return ['admin', ...SIGNER_IDS, ...config.providers, 'operator', 'observer'];
}

function planNatsNode(
  id: NatsNodeId,
  config: LabConfig,
  home: string,
  binary: string,
): LabNatsNode {
  const directory = path.join(home, id);
  const address = config.addresses[id];
  return {
    id,
    software: 'nats-server',
    version: 'unknown',
    address,
    clientPort: NATS_CLIENT_PORT,
    clusterPort: NATS_CLUSTER_PORT,
    monitorUrl: `http://${address}:${NATS_MONITOR_PORT}/`,
    storeDir: path.join(directory, 'store'),
    pid: 0,
    alive: false,
    binary,
    directory,
    configFile: path.join(directory, 'nats.conf'),
    logFile: path.join(directory, 'nats.log'),
    pidFile: path.join(directory, 'nats.pid'),
  };
}

/** The cluster's nodes, files and client endpoints, before anything runs. */
export function planNatsEventLog(config: LabConfig, programs: Programs): LabNatsEventLog {
  const home = natsDirectory(config.directory);
  const binary = programPath(programs, 'nats-server');
  const nodes = NATS_NODE_IDS.map((id) => planNatsNode(id, config, home, binary));
  return {
    kind: 'nats',
    servers: nodes.map((node) => `tls://${node.address}:${node.clientPort}`),
    caFile: natsTlsFiles(path.join(home, 'tls')).caFile,
    streamName: DEFAULT_STREAM_NAME,
    subjectPrefix: `${DEFAULT_SUBJECT_PREFIX}.`,
    replicas: NATS_REPLICAS,
    clusterName: NATS_CLUSTER_NAME,
    credentialsFiles: Object.fromEntries(
      natsUsers(config).map((user) => [user, path.join(home, 'credentials', `${user}.creds`)]),
    ),
    authFile: path.join(home, 'auth.conf'),
    nodes,
  };
}

/** The directory of the cluster's files: the auth file sits at its top. */
function natsHome(eventLog: LabNatsEventLog): string {
  return path.dirname(eventLog.authFile);
}

function credentialsDirectory(eventLog: LabNatsEventLog): string {
  return path.join(natsHome(eventLog), 'credentials');
}

type SidecarUser = Exclude<NatsUser, 'admin' | 'operator' | 'observer'>;

function isSidecar(user: NatsUser): user is SidecarUser {
  return user !== 'admin' && user !== 'operator' && user !== 'observer';
}

/** The lab zones a sidecar's server serves (the BIND signer also the broken zone, Knot the CSK zone). */
function zonesOf(status: LabStatus, id: SidecarUser): string[] {
  const server = status.servers.find((entry) => entry.id === id);
  if (!server) throw new LabError(`internal: no server ${id} for its NATS user`);
  return server.zones;
}

/** Every zone a sidecar of the lab may write about. */
function sidecarZones(status: LabStatus, users: readonly NatsUser[]): string[] {
  return [...new Set(users.filter(isSidecar).flatMap((id) => zonesOf(status, id)))];
}

/**
 * What each user may do (`clientPermissions` of the event-log backend: read everything, append
 * to the given streams, commit the given durable consumers, never manage the stream). `admin`:
 * everything. A sidecar: append to the zone and observation streams of its server's zones.
 * `operator` (the CLI): append to every stream. `observer`: append to the observation streams of
 * the lab's zones. Each commits the durable consumer named after it.
 */
export function natsUserPermissions(
  user: NatsUser,
  status: LabStatus,
  users: readonly NatsUser[],
): ClientPermissions | null {
  if (user === 'admin') return null;
  const consumers = [user];
  if (user === 'operator') {
    const reader = clientPermissions({ streams: [], consumers });
    return { ...reader, publish: [`${DEFAULT_SUBJECT_PREFIX}.>`, ...reader.publish] };
  }
  const zones = user === 'observer' ? sidecarZones(status, users) : zonesOf(status, user);
  const streams = zones.flatMap((zone) =>
    user === 'observer' ? [observationStream(zone)] : [zoneStream(zone), observationStream(zone)],
  );
  return clientPermissions({ streams, consumers });
}

/**
 * A random password per user: written as `user:password` to its credentials file (0600), and
 * bcrypt-hashed into the auth file (0600) with the user's permissions.
 */
async function writeUsers(eventLog: LabNatsEventLog, status: LabStatus): Promise<void> {
  const users = Object.keys(eventLog.credentialsFiles) as NatsUser[];
  const directory = credentialsDirectory(eventLog);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  await chmod(directory, 0o700);
  const entries = await Promise.all(
    users.map(async (user): Promise<NatsUserEntry> => {
      const password = newApiKey();
      await writeSecretFile(eventLog.credentialsFiles[user]!, `${user}:${password}`);
      return {
        user,
        passwordHash: await hash(password, BCRYPT_COST),
        permissions: natsUserPermissions(user, status, users),
      };
    }),
  );
  await writeSecretFile(eventLog.authFile, natsAuthConfig(entries));
}

async function writeNodeConfigs(eventLog: LabNatsEventLog): Promise<void> {
  const tls = natsTlsFiles(path.dirname(eventLog.caFile));
  await Promise.all(
    eventLog.nodes.map(async (node) => {
      await mkdir(node.directory, { recursive: true, mode: 0o700 });
      await chmod(node.directory, 0o700);
      const config = natsServerConfig({
        node,
        clusterName: eventLog.clusterName,
        peers: eventLog.nodes.filter((peer) => peer.id !== node.id),
        tls,
        authInclude: path.relative(node.directory, eventLog.authFile),
      });
      await writeFile(node.configFile, config);
    }),
  );
}

/** Writes the certificates, users and node configs, and records the nats-server version. */
export async function prepareNats(
  eventLog: LabNatsEventLog,
  status: LabStatus,
  programs: Programs,
): Promise<void> {
  await mkdir(natsHome(eventLog), { recursive: true, mode: 0o700 });
  await chmod(natsHome(eventLog), 0o700);
  const [version] = await Promise.all([
    reportedVersion(programPath(programs, 'nats-server'), ['--version'], /v(\d+\.\d+\.\d+)/),
    makeNatsTls(
      natsTlsFiles(path.dirname(eventLog.caFile)),
      eventLog.nodes.map((node) => node.address),
      programPath(programs, 'openssl'),
    ),
    writeUsers(eventLog, status),
    writeNodeConfigs(eventLog),
  ]);
  for (const node of eventLog.nodes) node.version = version;
}

/** Starts one node detached, output appended to its log; returns the PID. */
export function startNatsNode(node: LabNatsNode): Promise<number> {
  return spawnDaemon(node.binary, ['-c', node.configFile], {
    cwd: node.directory,
    logFile: node.logFile,
    namespace: node.namespace,
  });
}

/** What `/jsz` tells about the JetStream meta group (the RAFT group of every node). */
interface JszResponse {
  meta_cluster?: { leader?: string; cluster_size?: number };
}

async function monitor(node: LabNatsNode, endpoint: string): Promise<Response> {
  try {
    return await fetch(new URL(endpoint, node.monitorUrl), { signal: AbortSignal.timeout(1000) });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new LabError(`its monitoring endpoint ${node.monitorUrl} does not answer (${reason})`);
  }
}

/**
 * Passes once the node's JetStream server is healthy and current with the meta leader among
 * `clusterSize` nodes, which needs a quorum of them. A stream replica catching up after a restart
 * does not hold readiness back (`js-server-only`): the node serves clients meanwhile, and on a
 * loaded machine the catch-up can outlast any fixed deadline.
 */
export function natsNodeCheck(node: LabNatsNode, clusterSize: number): () => Promise<CheckResult> {
  return async () => {
    const health = await monitor(node, 'healthz?js-server-only=true');
    const healthText = (await health.text()).trim();
    if (!health.ok) return { ready: false, reason: `/healthz answered ${healthText}` };
    const jsz = (await (await monitor(node, 'jsz')).json()) as JszResponse;
    const meta = jsz.meta_cluster;
    if (!meta?.leader) return { ready: false, reason: 'it sees no JetStream meta leader yet' };
    if (meta.cluster_size !== clusterSize) {
      return {
        ready: false,
        reason: `its JetStream cluster has ${String(meta.cluster_size)} nodes, not ${clusterSize}`,
      };
    }
    return { ready: true };
  };
}

/** The meta leader a node reports, for progress lines ('' when unknown). */
export async function natsMetaLeader(node: LabNatsNode): Promise<string> {
  try {
    const jsz = (await (await monitor(node, 'jsz')).json()) as JszResponse;
    return jsz.meta_cluster?.leader ?? '';
  } catch {
    return '';
  }
}

/** True if something accepts TCP connections at `address:port`. */
function acceptsConnections(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: address, port, timeout: 300 });
    const finish = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => finish(true));
    socket.once('timeout', () => finish(false));
    socket.once('error', () => finish(false));
  });
}

/** The node endpoints that something else already listens on, described. */
export async function busyNatsEndpoints(eventLog: LabNatsEventLog): Promise<string[]> {
  // A node in a namespace of its own has an address nothing else can hold.
  const onHost = eventLog.nodes.filter((node) => node.namespace === undefined);
  const endpoints = onHost.flatMap((node) =>
    [node.clientPort, node.clusterPort, NATS_MONITOR_PORT].map((port) => ({ node, port })),
  );
  const busy = await Promise.all(
    endpoints.map(async ({ node, port }) =>
      (await acceptsConnections(node.address, port))
        ? `${node.address}:${port} (planned for ${node.id})`
        : undefined,
    ),
  );
  return busy.filter((entry) => entry !== undefined);
}

/**
 * Removes what `up` made for the cluster that holds secrets or data: credentials, keys and
 * certificates, the auth file and the JetStream stores. The node configs and logs stay.
 */
export async function removeNatsFiles(eventLog: LabNatsEventLog): Promise<void> {
  await Promise.all([
    rm(credentialsDirectory(eventLog), { recursive: true, force: true }),
    rm(path.dirname(eventLog.caFile), { recursive: true, force: true }),
    rm(eventLog.authFile, { force: true }),
    ...eventLog.nodes.map((node) => rm(node.storeDir, { recursive: true, force: true })),
  ]);
}
