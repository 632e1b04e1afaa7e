/**
 * The fake registrar (`up --registrar`): one Node process serving a registrar's REST API on its
 * own lab address (`<prefix>.61:8000`, on this host's loopback), for an account that holds the
 * lab's zones. It writes what its PUTs accept to the parent `test.` by DNS UPDATE with the
 * parent's TSIG key. Planned here, given a token and an admin token (0600) and a config file,
 * started once the parent serves, and stopped by PID like the provider fakes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  PROVIDER_API_PORT,
  REGISTRAR_RATE_LIMITS,
  type RegistrarFakeConfig,
} from '@chorus/provider-fakes';
import { PARENT_ZONE, type LabConfig } from './config.js';
import { LabError } from './errors.js';
import type { StopOutcome } from './processes.js';
import {
  isProviderApiRunning,
  providerApiCheck,
  fakeProcessFiles,
  startProviderApi,
  stopProviderApi,
} from './provider-apis.js';
import type { CheckResult } from './readiness.js';
import { newApiKey, writeSecretFile } from './secrets.js';
import type { LabRegistrar, LabStatus } from './types.js';

export const REGISTRAR_ID = 'registrar';

export interface RegistrarEntryOptions {
  /** Its own directory: config, token files, logs. */
  directory: string;
  address: string;
  /** Default 8000, the port of every fake. */
  port?: number;
  /** The account's domains. */
  domains: readonly string[];
  /** Default: REGISTRAR_RATE_LIMITS. */
  rateLimits?: LabRegistrar['rateLimits'];
}

/**
 * A registrar's entry with its files in `directory` (nothing runs yet): what `up --registrar`
 * plans, and what a test uses to run one of its own next to a lab.
 */
export function registrarEntry(options: RegistrarEntryOptions): LabRegistrar {
  const { address } = options;
  const port = options.port ?? PROVIDER_API_PORT;
  return {
    id: REGISTRAR_ID,
    ...fakeProcessFiles(options.directory),
    url: `http://${address}:${port}/v1/`,
    address,
    port,
    parentZone: PARENT_ZONE,
    domains: [...options.domains],
    rateLimits: options.rateLimits ?? { ...REGISTRAR_RATE_LIMITS },
  };
}

/** The registrar's entry, or null when the lab runs without one. */
export function planRegistrar(config: LabConfig): LabRegistrar | null {
  if (!config.registrar) return null;
  return registrarEntry({
    directory: path.join(config.directory, REGISTRAR_ID),
    address: config.addresses[REGISTRAR_ID],
    // The insecure zones too: a registrar can take their first DS.
    domains: [...config.zones, ...config.insecureZones],
    rateLimits: { ...REGISTRAR_RATE_LIMITS, ...config.rateLimits.registrar },
  });
}

/** The fake's config file: where to listen, its secrets' files, the parent and the account. */
export function registrarFakeConfig(
  registrar: LabRegistrar,
  status: Pick<LabStatus, 'servers' | 'ttl'>,
): RegistrarFakeConfig {
  const parent = status.servers.find((server) => server.id === 'parent');
  if (!parent) throw new LabError('internal: the lab has no parent for the registrar');
  return {
    provider: 'registrar',
    listen: { address: registrar.address, port: registrar.port },
    tokenFile: registrar.tokenFile,
    adminTokenFile: registrar.adminTokenFile,
    requestLogFile: registrar.requestLogFile,
    stateFile: registrar.stateFile,
    parent: {
      zone: registrar.parentZone,
      servers: [{ address: parent.address, port: parent.port }],
      tsigKeyFile: parent.tsig.keyFile,
    },
    domains: registrar.domains,
    ttl: status.ttl,
    rateLimits: registrar.rateLimits,
  };
}

/** Writes the registrar's directory (0700), token and admin token (0600) and config file. */
export async function prepareRegistrar(
  registrar: LabRegistrar,
  status: Pick<LabStatus, 'servers' | 'ttl'>,
): Promise<void> {
  await mkdir(registrar.directory, { recursive: true, mode: 0o700 });
  await writeSecretFile(registrar.tokenFile, `${newApiKey()}\n`);
  await writeSecretFile(registrar.adminTokenFile, `${newApiKey()}\n`);
  await writeFile(
    registrar.configFile,
    `${JSON.stringify(registrarFakeConfig(registrar, status), null, 2)}\n`,
  );
}

/** Starts the registrar detached, output appended to its log; returns the PID. */
export function startRegistrar(registrar: LabRegistrar): Promise<number> {
  return startProviderApi(registrar);
}

/** True when `registrar.pid` runs exactly the recorded command line. */
export function isRegistrarRunning(registrar: LabRegistrar): boolean {
  return isProviderApiRunning(registrar);
}

/** Stops the registrar by PID (SIGTERM, then SIGKILL), only if the PID still runs it. */
export function stopRegistrar(registrar: LabRegistrar): Promise<StopOutcome> {
  return stopProviderApi(registrar);
}

/** Passes once its `GET /_fake/health` answers 200. */
export function registrarCheck(registrar: LabRegistrar): () => Promise<CheckResult> {
  return providerApiCheck(registrar);
}
