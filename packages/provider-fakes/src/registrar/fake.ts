/** Starting the registrar fake in-process (tests) or from `main.ts` (the lab). */
import { FakeServer, type EventLogger, type RunningFake } from '../server.js';
import { FakeState } from '../state.js';
import { RegistrarApi } from './api.js';
import type { RegistrarFakeConfig } from './config.js';
import type { ParentAccess } from './parent.js';

export interface RegistrarStartOptions {
  /** One call per event (default: silent). `main.ts` writes JSON lines to stdout. */
  log?: EventLogger;
  /** Tests only: a stand-in for the parent (default: the parent of `config.parent`, by DNS). */
  parent?: ParentAccess;
}

/** Starts the registrar fake; resolves once it listens. */
export async function startRegistrarFake(
  config: RegistrarFakeConfig,
  options: RegistrarStartOptions = {},
): Promise<RunningFake> {
  const state = await FakeState.load(config.stateFile);
  const api = new RegistrarApi({
    config,
    ...(options.parent === undefined ? {} : { parent: options.parent }),
  });
  const server = new FakeServer({ config, api, state, log: options.log ?? (() => undefined) });
  return server.start();
}
