import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { mkdir, open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ipProgram, isRunning, type LabServer, type LabStatus, type NatsUser } from '@chorus/lab';
import { labEventLogConfig } from './demo-log.js';
import { ensureTrustKit } from '../coordination/trust-kit.js';

type Target = { address: string; port: number };

/** The plugin and its configuration for a lab nameserver the sidecar drives directly. */
function serverSignerConfig(server: LabServer, target: Target) {
  const control = server.control;
  if (control.kind === 'rndc')
    return {
      plugin: '@chorus/plugin-bind',
      config: {
        id: server.id,
        server: target,
        tsigKeyFile: server.tsig.keyFile,
        rndc: { configFile: control.configFile },
        keyDirectory: server.keys.zonePath ?? server.keys.path,
        // named-checkconf reads the dnssec-policy timing from it (key rolls).
        namedConfigFile: server.configFile,
      },
    };
  if (control.kind === 'powerdns-api')
    return {
      plugin: '@chorus/plugin-powerdns',
      config: {
        id: server.id,
        server: target,
        api: { url: control.url, apiKeyFile: control.apiKeyFile },
      },
    };
  return {
    plugin: '@chorus/plugin-knot',
    config: {
      id: server.id,
      server: target,
      tsigKeyFile: server.tsig.keyFile,
      knotc: { configFile: control.configFile },
    },
  };
}

/** A SaaS provider of the lab: the plugin talks to its API fake, and reads the wire at its server. */
function providerSignerConfig(status: LabStatus, server: LabServer, target: Target) {
  const api = status.providers.find((entry) => entry.server === server.id);
  if (!api) return undefined;
  return api.provider === 'desec'
    ? {
        plugin: '@chorus/plugin-desec',
        config: { id: server.id, server: target, api: { url: api.url, tokenFile: api.tokenFile } },
      }
    : {
        plugin: '@chorus/plugin-ns1',
        config: { id: server.id, server: target, api: { url: api.url, apiKeyFile: api.tokenFile } },
      };
}

/** The signer plugin and its configuration for one lab signer. */
export function signerPluginConfigFor(status: LabStatus, server: LabServer) {
  const target = { address: server.address, port: server.port };
  const plugin = providerSignerConfig(status, server, target) ?? serverSignerConfig(server, target);
  // With `lab up --signalling`, the signer publishes RFC 9615 signals in its own zone.
  const signalling = status.signalling.find((entry) => entry.server === server.id);
  return signalling
    ? { ...plugin, config: { ...plugin.config, signallingZone: signalling.zone } }
    : plugin;
}

/**
 * The sidecar configuration for one lab signer, as an operator would write it. `eventLogPath` is
 * the SQLite file (unless the lab runs NATS); the trust kit is made next to it.
 */
export function sidecarConfigFor(
  status: LabStatus,
  server: LabServer,
  eventLogPath: string,
  zone: string,
  options: { unsafeAllowSkipWaits?: boolean; parentNotify?: boolean } = {},
) {
  const parent = status.servers.find((entry) => entry.id === 'parent')!;
  const signer = signerPluginConfigFor(status, server);
  // Every signer of the lab is trusted up front, so sidecars started later are known to all.
  const kit = ensureTrustKit(
    path.dirname(eventLogPath),
    status.servers.filter((entry) => entry.id !== 'parent').map((entry) => entry.id),
  );
  return {
    id: server.id,
    eventLog: labEventLogConfig(status, eventLogPath, server.id as NatsUser),
    eventKeyFile: kit.keyFileOf(server.id),
    trust: { file: kit.trustFile },
    ...(options.unsafeAllowSkipWaits ? { unsafeAllowSkipWaits: true } : {}),
    signer,
    zones: [zone],
    nameServerNames: [server.nameserverName],
    parent: {
      zone: status.parentZone,
      servers: [{ address: parent.address, port: parent.port }],
      // The lab's parent publishes its registry agent in DSYNC (the sidecars' default, "dsync"):
      // the agent scans on NOTIFY(CDS/CSYNC) at once, else on its schedule.
      ...(options.parentNotify === false || status.registrar ? { notify: 'off' } : {}),
      // With the fake registrar, parent steps send the group's DS and NS through its API.
      ...(status.registrar
        ? { registrar: { url: status.registrar.url, tokenFile: status.registrar.tokenFile } }
        : {}),
    },
    logLevel: 'info',
    // Short scenario TTLs leave short pre-publication intervals: the key watch must keep up. A
    // SaaS provider rolls no key on request, and deSEC allows 50 reads a minute: look less often.
    keyWatchSeconds: status.providers.some((api) => api.server === server.id) ? 10 : 2,
  };
}

export interface RunningSidecar {
  id: string;
  pid: number;
  logFile: string;
  configFile: string;
}

/** The built CLI entry: next to this module in dist/, or dist/ itself when running from src/. */
const CLI_MAIN = [
  path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'main.js'),
  path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'main.js'),
].find((candidate) => existsSync(candidate));

/**
 * Node flags for a sidecar process: a larger young generation (V8's default semi-space is 16 MB),
 * so that what the calls in flight for many zones allocate is collected young instead of being
 * promoted and marked again by every full collection. Outside the lab: NODE_OPTIONS.
 */
export const SIDECAR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];

/** Starts `chorus sidecar --config FILE` as its own process, output to a log file. */
export async function startSidecarProcess(
  directory: string,
  config: ReturnType<typeof sidecarConfigFor>,
  options: { cliMain?: string; namespace?: string | undefined } = {},
): Promise<RunningSidecar> {
  await mkdir(directory, { recursive: true });
  const configFile = path.resolve(directory, `sidecar-${config.id}.json`);
  const logFile = path.join(directory, `sidecar-${config.id}.log`);
  await writeFile(configFile, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  const output = await open(logFile, 'a');
  const main = options.cliMain ?? CLI_MAIN;
  if (!main) throw new Error('the chorus CLI is not built: run pnpm build first');
  const command = [
    process.execPath,
    ...SIDECAR_NODE_FLAGS,
    main,
    'sidecar',
    '--config',
    configFile,
  ];
  // Beside its server, on the same simulated host: `ip netns exec` keeps the PID.
  const [program, ...args] =
    options.namespace === undefined
      ? command
      : [ipProgram(), 'netns', 'exec', options.namespace, ...command];
  const child = spawn(program!, args, {
    stdio: ['ignore', output.fd, output.fd],
    detached: true,
  });
  child.unref();
  await output.close();
  if (child.pid === undefined) throw new Error(`could not start the sidecar of ${config.id}`);
  return { id: config.id, pid: child.pid, logFile, configFile };
}

/**
 * Stops a sidecar by its PID (SIGTERM, then SIGKILL after 10 s), only while that PID still runs
 * this sidecar's command line (PIDs get reused); says which it took.
 */
export async function stopSidecarProcess(
  sidecar: RunningSidecar,
): Promise<'not-running' | 'stopped' | 'killed'> {
  const alive = () => isRunning(sidecar.pid, process.execPath, sidecar.configFile);
  if (!(await alive())) return 'not-running';
  process.kill(sidecar.pid, 'SIGTERM');
  // A sidecar's shutdown appends its observers' summary: give it time on a loaded machine.
  for (let waited = 0; waited < 10_000 && (await alive()); waited += 100)
    await new Promise((resolve) => setTimeout(resolve, 100));
  if (!(await alive())) return 'stopped';
  process.kill(sidecar.pid, 'SIGKILL');
  return 'killed';
}
