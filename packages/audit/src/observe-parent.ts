/**
 * The delegation at each parent server, asked one server at a time through @chorus/parent's
 * observeDelegation, so that one unreachable server is a row of the report, not a crash.
 */
import { AbortError, ParentServerUnreachableError, type NameServer } from '@chorus/core';
import { describeServer, normalizeName } from '@chorus/dns';
import { observeDelegation } from '@chorus/parent';
import type { ParentView } from './types.js';

interface ParentOptions {
  zone: string;
  parentZone: string;
  parentServers: readonly NameServer[];
  timeoutMs?: number;
  retries?: number;
  signal?: AbortSignal;
}

async function observeOne(server: NameServer, options: ParentOptions): Promise<ParentView> {
  const name = describeServer(server);
  try {
    const delegation = await observeDelegation(
      options.parentZone,
      [server],
      normalizeName(options.zone),
      {
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        ...(options.retries === undefined ? {} : { retries: options.retries }),
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
    return {
      server: name,
      status: 'answered',
      ds: delegation.ds,
      ns: delegation.ns,
      glue: delegation.glue,
    };
  } catch (error) {
    if (AbortError.isInstance(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const status = ParentServerUnreachableError.isInstance(error) ? 'unreachable' : 'bad-response';
    return { server: name, status, error: message };
  }
}

export function observeParents(options: ParentOptions): Promise<ParentView[]> {
  return Promise.all(options.parentServers.map((server) => observeOne(server, options)));
}
