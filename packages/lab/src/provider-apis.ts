/**
 * The SaaS provider fakes (`up --providers desec,ns1`): one Node process per provider serving
 * its REST API on the provider's lab address, in front of the lab PowerDNS of the same id that
 * signs and serves the zones. Planned here, given a token (0600) and a config file, started
 * once their PowerDNS serves, and stopped by PID like the registry agent.
 */
import { createRequire } from 'node:module';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  DESEC_RATE_LIMITS,
  NS1_RATE_LIMITS,
  PROVIDER_API_PORT,
  type ProviderFakeConfig,
} from '@chorus/provider-fakes';
import { spawnDaemon } from './commands.js';
import type { LabConfig } from './config.js';
import { LabError } from './errors.js';
import { stopProcess, type StopOutcome } from './processes.js';
import type { CheckResult } from './readiness.js';
import { runsCommandLine } from './registry-agent-process.js';
import { newApiKey, writeSecretFile } from './secrets.js';
import type { LabProviderApi, LabServer, ProviderId } from './types.js';

/** The API's base path at each provider. */
const BASE_PATH: Readonly<Record<ProviderId, string>> = { desec: '/api/v1/', ns1: '/v1/' };

/**
 * The built entry point of `@chorus/provider-fakes` (also when the lab runs from its sources):
 * every fake, the registrar's too, by its config's `provider`.
 */
export function providerFakeMain(): string {
  const packageJson = createRequire(import.meta.url).resolve('@chorus/provider-fakes/package.json');
  return path.join(path.dirname(packageJson), 'dist', 'main.js');
}

/**
 * A fake's process and files in its directory `home`: not started yet (pid 0), run as
 * `node <provider-fakes main> --config <home>/fake.json`.
 */
export function fakeProcessFiles(home: string) {
  const configFile = path.join(home, 'fake.json');
  return {
    software: 'node' as const,
    pid: 0,
    alive: false,
    binary: process.execPath,
    arguments: [providerFakeMain(), '--config', configFile],
    directory: home,
    configFile,
    logFile: path.join(home, 'fake.log'),
    pidFile: path.join(home, 'fake.pid'),
    tokenFile: path.join(home, 'api.token'),
    adminTokenFile: path.join(home, 'admin.token'),
    requestLogFile: path.join(home, 'requests.jsonl'),
    stateFile: path.join(home, 'state.json'),
  };
}

/** The documented limits with the lab's overrides on top. */
function rateLimitsOf(id: ProviderId, config: LabConfig): Record<string, unknown> {
  return id === 'desec'
    ? { ...DESEC_RATE_LIMITS, ...config.rateLimits.desec }
    : { ...NS1_RATE_LIMITS, ...config.rateLimits.ns1 };
}

export function planProviderApi(id: ProviderId, config: LabConfig): LabProviderApi {
  const address = config.addresses[id];
  return {
    id: `${id}-api`,
    provider: id,
    server: id,
    ...fakeProcessFiles(path.join(config.directory, `${id}-api`)),
    url: `http://${address}:${PROVIDER_API_PORT}${BASE_PATH[id]}`,
    address,
    port: PROVIDER_API_PORT,
    rateLimits: rateLimitsOf(id, config),
  };
}

/** The fake's config file: where to listen, its token files, and the PowerDNS behind it. */
function fakeConfig(api: LabProviderApi, backend: LabServer, ttl: number): ProviderFakeConfig {
  if (backend.control.kind !== 'powerdns-api')
    throw new LabError(`internal: ${backend.id} behind ${api.id} is not PowerDNS`);
  return {
    provider: api.provider,
    listen: { address: api.address, port: api.port },
    tokenFile: api.tokenFile,
    adminTokenFile: api.adminTokenFile,
    backend: {
      url: backend.control.url,
      apiKeyFile: backend.control.apiKeyFile,
      // NS1's model-1 API writes a presigned zone straight into PowerDNS's database.
      ...(api.provider === 'ns1' ? { database: backend.keys.path } : {}),
    },
    stateFile: api.stateFile,
    requestLogFile: api.requestLogFile,
    // deSEC's minimum_ttl is 3600 in production; the lab's short TTLs need a lower floor.
    minimumTtl: ttl,
    rateLimits: api.rateLimits,
  };
}

/** Writes each fake's directory (0700), token and admin token (0600) and config file. */
export async function prepareProviderApis(
  apis: readonly LabProviderApi[],
  servers: readonly LabServer[],
  ttl: number,
): Promise<void> {
  await Promise.all(
    apis.map(async (api) => {
      const backend = servers.find((server) => server.id === api.server);
      if (!backend) throw new LabError(`internal: no server ${api.server} for ${api.id}`);
      await mkdir(api.directory, { recursive: true, mode: 0o700 });
      await writeSecretFile(api.tokenFile, `${newApiKey()}\n`);
      await writeSecretFile(api.adminTokenFile, `${newApiKey()}\n`);
      await writeFile(
        api.configFile,
        `${JSON.stringify(fakeConfig(api, backend, ttl), null, 2)}\n`,
      );
    }),
  );
}

/** A fake's process, as the lab starts, checks and stops it (a provider's or the registrar). */
export type FakeProcess = Pick<
  LabProviderApi,
  'pid' | 'binary' | 'arguments' | 'directory' | 'logFile' | 'namespace' | 'address' | 'port'
>;

/** Starts the fake detached, output appended to its log; returns the PID. */
export function startProviderApi(api: FakeProcess): Promise<number> {
  return spawnDaemon(api.binary, api.arguments, {
    cwd: api.directory,
    logFile: api.logFile,
    namespace: api.namespace,
  });
}

export function isProviderApiRunning(api: FakeProcess): boolean {
  return runsCommandLine(api);
}

/** Stops the fake by PID, only if the PID still runs it. */
export async function stopProviderApi(api: FakeProcess): Promise<StopOutcome> {
  if (api.pid <= 0 || !isProviderApiRunning(api)) return 'not-running';
  return stopProcess(api.pid, api.binary);
}

/** Passes once `GET /_fake/health` answers 200. */
export function providerApiCheck(api: FakeProcess): () => Promise<CheckResult> {
  const url = `http://${api.address}:${api.port}/_fake/health`;
  return async () => {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      return response.ok
        ? { ready: true }
        : { ready: false, reason: `${url} answered HTTP ${response.status}` };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { ready: false, reason: `${url} does not answer (${reason})` };
    }
  };
}
