/**
 * One complete parental-agent scan of one delegation: observe the delegation on every parent
 * server, observe every child nameserver it names, decide. No change is made here; applying the
 * decision is the caller's (e.g. `buildParentUpdate` and `sendUpdate`).
 */
import type { Delegation, NameServer } from '@chorus/core';
import { observeChildServers, type ObserveChildOptions } from './observe-child.js';
import { observeDelegation } from './observe-only.js';
import { decideParentUpdate } from './scanner.js';
import type { ChildObservations, ParentScanPolicy, ParentUpdateDecision } from './types.js';

export interface ParentScanOptions {
  zone: string;
  parentZone: string;
  /** Every address of every parent nameserver. */
  parentServers: NameServer[];
  /** DNS port of the child's nameservers. Default 53. */
  childPort?: number;
  timeoutMs?: number;
  retries?: number;
  signal?: AbortSignal;
  resolveAddresses?: ObserveChildOptions['resolveAddresses'];
  /** A validating resolver for the RFC 9615 signalling names of a delegation without DS. */
  validatingResolver?: NameServer;
  policy?: ParentScanPolicy;
}

export interface ParentScanResult {
  delegation: Delegation;
  observations: ChildObservations;
  decision: ParentUpdateDecision;
}

/**
 * Observes and decides. Throws the observe-only channel's typed errors when a parent server is
 * unreachable or answers garbage; child servers that fail are part of the decision instead.
 */
export async function scanDelegation(options: ParentScanOptions): Promise<ParentScanResult> {
  const common = {
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const delegation = await observeDelegation(
    options.parentZone,
    options.parentServers,
    options.zone,
    common,
  );
  const observations = await observeChildServers({
    zone: options.zone,
    delegation,
    parentServers: options.parentServers,
    ...(options.childPort === undefined ? {} : { port: options.childPort }),
    ...(options.resolveAddresses ? { resolveAddresses: options.resolveAddresses } : {}),
    ...(options.validatingResolver ? { validatingResolver: options.validatingResolver } : {}),
    ...common,
  });
  const decision = decideParentUpdate(observations, delegation, options.policy ?? {});
  return { delegation, observations, decision };
}
