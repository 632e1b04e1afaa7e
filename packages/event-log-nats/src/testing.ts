/**
 * `@chorus/event-log-nats/testing`: starts a real `nats-server` with JetStream for tests and the
 * lab (a single node, or a small cluster of them), bound to one loopback address, its store in a
 * directory the caller owns. Stopped by its PID, never by name.
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import type { NatsUser } from './permissions.js';
import { natsAuthorizationConfig } from './permissions.js';

/** Options of {@link startNatsServer}. */
export interface StartNatsServerOptions {
  /** A directory the server may own: config, JetStream store, ports file. Created if missing. */
  dir: string;
  /** The only address the server listens on (default `127.0.0.1`). */
  host?: string;
  /** The client port; absent or 0 lets the OS pick a free one. */
  port?: number;
  /** More configuration, appended verbatim (a `tls { … }` block, limits…). */
  config?: string;
  /** Users and their permissions, rendered with {@link natsAuthorizationConfig}. */
  users?: readonly NatsUser[];
  /** The `nats-server` executable (default: found on PATH, /usr/sbin or /usr/bin). */
  binary?: string;
  /** How long to wait for the server to accept connections (default 10000 ms). */
  startTimeoutMs?: number;
  /** A port for the HTTP monitoring endpoints (`/connz`, `/jsz`…) on `host`; none by default. */
  monitorPort?: number;
  /** The server's name (`server_name`), unique within a cluster. */
  serverName?: string;
  /** Makes the server a node of a cluster: its route port and the other nodes' route URLs. */
  cluster?: { name: string; port: number; routes: readonly string[] };
}

/** A running `nats-server`. */
export interface NatsServer {
  /** `nats://host:port`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The PID of the current server process (changes after {@link NatsServer.start}). */
  readonly pid: number;
  /** The configuration file the server was started with. */
  readonly configFile: string;
  /** `http://host:port` of the monitoring endpoints, with `monitorPort`. */
  readonly monitorUrl: string | undefined;
  /** Stops the server by its PID (SIGTERM, then SIGKILL after 5 s); `kill: true` sends SIGKILL. */
  stop(options?: { kill?: boolean }): Promise<void>;
  /** Starts it again on the same port with the same store (after {@link NatsServer.stop}). */
  start(): Promise<void>;
}

/** Finds the nats-server executable. */
function findBinary(explicit: string | undefined): string {
  if (explicit !== undefined) return explicit;
  const path = (process.env.PATH ?? '').split(':').filter((entry) => entry !== '');
  for (const directory of [...path, '/usr/sbin', '/usr/bin', '/usr/local/bin']) {
    const candidate = join(directory, 'nats-server');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('nats-server not found (Debian: apt-get install nats-server)');
}

function renderConfig(options: StartNatsServerOptions, host: string, port: number): string {
  const lines = [
    `listen: ${JSON.stringify(`${host}:${port === 0 ? -1 : port}`)}`,
    `ports_file_dir: ${JSON.stringify(options.dir)}`,
    `jetstream { store_dir: ${JSON.stringify(join(options.dir, 'jetstream'))} }`,
  ];
  if (options.monitorPort !== undefined)
    lines.push(`http: ${JSON.stringify(`${host}:${options.monitorPort}`)}`);
  if (options.serverName !== undefined)
    lines.push(`server_name: ${JSON.stringify(options.serverName)}`);
  const { cluster } = options;
  if (cluster !== undefined)
    lines.push(
      'cluster {',
      `  name: ${JSON.stringify(cluster.name)}`,
      `  listen: ${JSON.stringify(`${host}:${cluster.port}`)}`,
      `  routes: [${cluster.routes.map((route) => JSON.stringify(route)).join(', ')}]`,
      '}',
    );
  if (options.users !== undefined) lines.push(natsAuthorizationConfig(options.users));
  if (options.config !== undefined) lines.push(options.config);
  return `${lines.join('\n')}\n`;
}

/** Reads the client port from the server's ports file (`<exe>_<pid>.ports`). */
function portFromFile(dir: string, pid: number): number | undefined {
  const name = readdirSync(dir).find((file) => file.endsWith(`_${pid}.ports`));
  if (name === undefined) return undefined;
  try {
    const ports = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { nats?: string[] };
    const match = /:(\d+)$/.exec(ports.nats?.[0] ?? '');
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined; // written but not complete yet
  }
}

/** Resolves once a TCP connection to host:port succeeds. */
function probe(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
  output: string[];
}

function launch(binary: string, configFile: string): Running {
  const child = spawn(binary, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  const output: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => {
    output.push(chunk.toString('utf8'));
    if (output.length > 50) output.shift();
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  return { child, exited, output };
}

/** Waits until the server listens (and tells its port), or fails with its last log lines. */
async function awaitListening(
  running: Running,
  options: StartNatsServerOptions,
  host: string,
  fixedPort: number,
): Promise<number> {
  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  let exited = false;
  void running.exited.then(() => (exited = true));
  for (;;) {
    const pid = running.child.pid;
    const port = fixedPort !== 0 ? fixedPort : pid && portFromFile(options.dir, pid);
    if (port && pid && portFromFile(options.dir, pid) && (await probe(host, port))) return port;
    if (exited || Date.now() > deadline) {
      if (!exited) running.child.kill('SIGKILL');
      throw new Error(
        `nats-server did not start (${exited ? 'it exited' : 'timed out'}): ${running.output.join('').trim().slice(-2000)}`,
      );
    }
    await pause(10);
  }
}

async function terminate(running: Running, kill: boolean): Promise<void> {
  if (running.child.exitCode !== null || running.child.signalCode !== null) return;
  running.child.kill(kill ? 'SIGKILL' : 'SIGTERM');
  const timer = setTimeout(() => running.child.kill('SIGKILL'), 5000);
  await running.exited;
  clearTimeout(timer);
}

/**
 * Starts `nats-server` with JetStream (file store under `dir`), listening only on `host`
 * (default 127.0.0.1) at `port` (default: a free one the OS picks). Resolves once it accepts
 * connections.
 *
 * @example
 * const server = await startNatsServer({ dir: mkdtempSync(join(tmpdir(), 'nats-')) });
 * const log = await createNatsEventLog({ servers: [server.url], createStream: true });
 * await server.stop();
 */
export async function startNatsServer(options: StartNatsServerOptions): Promise<NatsServer> {
  const host = options.host ?? '127.0.0.1';
  const binary = findBinary(options.binary);
  mkdirSync(options.dir, { recursive: true });
  const configFile = join(options.dir, 'nats-server.conf');
  writeFileSync(configFile, renderConfig(options, host, options.port ?? 0), { mode: 0o600 });
  let running = launch(binary, configFile);
  const port = await awaitListening(running, options, host, options.port ?? 0);
  // Restarts must come back on the same port.
  writeFileSync(configFile, renderConfig(options, host, port), { mode: 0o600 });
  return {
    url: `nats://${host}:${port}`,
    host,
    port,
    configFile,
    monitorUrl:
      options.monitorPort === undefined ? undefined : `http://${host}:${options.monitorPort}`,
    get pid() {
      return running.child.pid ?? 0;
    },
    stop: (stopOptions = {}) => terminate(running, stopOptions.kill === true),
    async start() {
      await terminate(running, false);
      running = launch(binary, configFile);
      await awaitListening(running, options, host, port);
    },
  };
}

/** Options of {@link startNatsCluster}. */
export interface StartNatsClusterOptions {
  /** A directory for the nodes: each gets `node-<n>/` (config, JetStream store, ports file). */
  dir: string;
  /** How many nodes (default 3). */
  size?: number;
  /** The only address the nodes listen on (default `127.0.0.1`). */
  host?: string;
  /** The cluster's name (default `chorus-test`). */
  name?: string;
  /** More configuration for every node, appended verbatim. */
  config?: string;
  /** Users and their permissions, the same on every node. */
  users?: readonly NatsUser[];
  binary?: string;
  startTimeoutMs?: number;
}

/** A running cluster of `nats-server`s. */
export interface NatsCluster {
  /** The nodes, `n1`, `n2`… in order; stop and start each by itself. */
  readonly nodes: readonly NatsServer[];
  /** Every node's client URL, for `servers`. */
  readonly urls: readonly string[];
  /** Stops every node by its PID. */
  stop(options?: { kill?: boolean }): Promise<void>;
}

/** A port free on `host` right now (the OS picks it; a fixed one is needed for routes). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a cluster of `size` (default 3) JetStream nodes on `host` (default 127.0.0.1), each with
 * its own client, route and monitoring ports, `server_name` and store under `dir/node-<n>`, routed
 * to the others. Resolves once every node accepts client connections (JetStream elects its leader a
 * moment later: retry the first request on `unavailable`).
 *
 * @example
 * const cluster = await startNatsCluster({ dir: mkdtempSync(join(tmpdir(), 'nats-')) });
 * const log = await createNatsEventLog({ servers: cluster.urls, createStream: true, replicas: 3 });
 * await cluster.nodes[1].stop({ kill: true });
 */
export async function startNatsCluster(options: StartNatsClusterOptions): Promise<NatsCluster> {
  const host = options.host ?? '127.0.0.1';
  const size = options.size ?? 3;
  const ports: { client: number; route: number; monitor: number }[] = [];
  const taken = new Set<number>();
  while (ports.length < size) {
    const picked = [await freePort(host), await freePort(host), await freePort(host)];
    if (new Set(picked).size < 3 || picked.some((port) => taken.has(port))) continue;
    picked.forEach((port) => taken.add(port));
    const [client, route, monitor] = picked as [number, number, number];
    ports.push({ client, route, monitor });
  }
  const started = await Promise.allSettled(
    ports.map((port, index) =>
      startNatsServer({
        dir: join(options.dir, `node-${index + 1}`),
        host,
        port: port.client,
        monitorPort: port.monitor,
        serverName: `n${index + 1}`,
        cluster: {
          name: options.name ?? 'chorus-test',
          port: port.route,
          routes: ports
            .filter((other) => other !== port)
            .map((other) => `nats-route://${host}:${other.route}`),
        },
        ...(options.config === undefined ? {} : { config: options.config }),
        ...(options.users === undefined ? {} : { users: options.users }),
        ...(options.binary === undefined ? {} : { binary: options.binary }),
        ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
      }),
    ),
  );
  const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const stop = async (stopOptions: { kill?: boolean } = {}) => {
    await Promise.all(nodes.map((node) => node.stop(stopOptions)));
  };
  const failed = started.find((result) => result.status === 'rejected');
  if (failed !== undefined) {
    await stop({ kill: true });
    throw failed.reason;
  }
  return { nodes, urls: nodes.map((node) => node.url), stop };
}
