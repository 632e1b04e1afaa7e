/** Starting a provider fake in-process (tests) or from `main.ts` (the lab). */
import type { ProviderFakeConfig } from './config.js';
import { DesecApi } from './desec/api.js';
import { Ns1Api } from './ns1/api.js';
import { PowerDnsBackend } from './powerdns-backend.js';
import type { ProviderApi } from './provider-api.js';
import { FakeServer, type EventLogger, type RunningFake } from './server.js';
import { FakeState } from './state.js';

export interface StartOptions {
  /** One call per event (default: silent). `main.ts` writes JSON lines to stdout. */
  log?: EventLogger;
  /** Tests only: deSEC's page size (default 500). */
  desecPageSize?: number;
  /** Tests only: records per page of an NS1 zone (default 5000). */
  ns1RecordPageSize?: number;
  /** Time limit of one backend call (default 10 s). */
  backendTimeoutMs?: number;
}

/** Starts the fake for `config.provider`; resolves once it listens. */
export async function startProviderFake(
  config: ProviderFakeConfig,
  options: StartOptions = {},
): Promise<RunningFake> {
  const state = await FakeState.load(config.stateFile);
  const backend = new PowerDnsBackend({
    url: config.backend.url,
    apiKeyFile: config.backend.apiKeyFile,
    ...(options.backendTimeoutMs === undefined ? {} : { timeoutMs: options.backendTimeoutMs }),
  });
  const api: ProviderApi =
    config.provider === 'desec'
      ? new DesecApi({
          config,
          backend,
          state,
          ...(options.desecPageSize === undefined ? {} : { pageSize: options.desecPageSize }),
        })
      : new Ns1Api({
          config,
          backend,
          state,
          ...(options.ns1RecordPageSize === undefined
            ? {}
            : { recordPageSize: options.ns1RecordPageSize }),
        });
  const server = new FakeServer({ config, api, state, log: options.log ?? (() => undefined) });
  return server.start();
}

export type { RunningFake } from './server.js';
