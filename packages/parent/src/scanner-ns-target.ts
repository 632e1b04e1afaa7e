/**
 * The NS set and glue a consistent CSYNC requests (RFC 7477 §3.2), and the state the NS rules
 * share. Each rule here records the target, or refuses when the servers disagree on it.
 */
import { isSubdomain } from '@chorus/dns';
import type { DsDecision, GlueAddresses, NsDecision, ScanReason } from './types.js';
import {
  type Answered,
  canonical,
  type Context,
  describeVariants,
  label,
  reason,
  refused,
  type Rule,
  show,
  variants,
} from './scanner-context.js';
import type { CsyncSignal } from './scanner-csync-signals.js';

export interface NsState {
  context: Context;
  /** The DS decision, applied first: added nameservers are checked against the DS set after it. */
  ds: DsDecision;
  /** What each answering server's CSYNC says (servers without one, or with several, left out). */
  signals: CsyncSignal[];
  /** Servers that answered NODATA for CSYNC. */
  silent: Answered[];
  /** Per-server and cross-server CSYNC problems. */
  problems: ScanReason[];
  /** The delegation's NS names, canonical and sorted. */
  currentNs: string[];
  /** The NS set to publish; the current one unless CSYNC lists NS. Set by `requestedNsSet`. */
  targetNs: string[];
  /** Glue for the in-bailiwick names of `targetNs`. Set by `requestedGlue`. */
  glue: GlueAddresses[];
}

export type NsRule = Rule<NsState, NsDecision>;

/** The types the (consistent) CSYNC bitmap names. */
export function csyncTypes(state: NsState): Set<string> {
  return new Set(state.signals[0]!.types);
}

/** The delegation's glue addresses by canonical name. */
export function currentGlueByName(context: Context): Map<string, string[]> {
  return new Map(context.delegation.glue.map((entry) => [canonical(entry.name), entry.addresses]));
}

function nsNames(entry: Answered): string[] {
  return [...new Set((entry.data.ns?.records ?? []).map(canonical))].sort();
}

/** With NS in the bitmap: every server's apex NS set, identical and big enough, is the target. */
export const requestedNsSet: NsRule = (state) => {
  const { context } = state;
  const { answered, zone } = context;
  if (!csyncTypes(state).has('NS')) return undefined;
  const sets = variants(answered, (entry) => nsNames(entry).join(' ') || '(none)');
  if (sets.size > 1) {
    const message = `the apex NS RRsets differ: ${describeVariants(sets)}`;
    return refused([reason('inconsistent', message, answered.map(label)), ...context.reachability]);
  }
  const targetNs = nsNames(answered[0]!);
  const minimum = Math.max(1, context.policy.minimumNsCount ?? 1);
  if (targetNs.length >= minimum) {
    state.targetNs = targetNs;
    return undefined;
  }
  return refused([
    reason(
      'empty-ns-set',
      targetNs.length === 0
        ? 'the requested NS set is empty; RFC 7477 §3.2.1 forbids applying it'
        : `the requested NS set has ${targetNs.length} name(s), fewer than the ${minimum} policy requires`,
      answered.map(label),
      targetNs.map((name) => show(zone, 'NS', name)),
    ),
    ...context.reachability,
  ]);
};

function servedAddresses(entry: Answered, name: string, type: 'A' | 'AAAA'): string[] {
  const host = entry.data.hosts.find((item) => canonical(item.name) === name);
  const rrset = type === 'A' ? host?.a : host?.aaaa;
  return [...new Set(rrset?.records ?? [])].sort();
}

/**
 * The addresses of one in-bailiwick name: the current glue, with each type the bitmap names
 * replaced by what the servers (identically) serve. A reason when they disagree or none is left.
 */
function glueFor(state: NsState, name: string): GlueAddresses | ScanReason {
  const { answered, zone } = state.context;
  const current = currentGlueByName(state.context).get(name) ?? [];
  const byType = {
    A: current.filter((address) => !address.includes(':')),
    AAAA: current.filter((address) => address.includes(':')),
  };
  for (const type of ['A', 'AAAA'] as const) {
    if (!csyncTypes(state).has(type)) continue;
    const seen = variants(
      answered,
      (entry) => servedAddresses(entry, name, type).join(' ') || '(none)',
    );
    if (seen.size > 1) {
      const message = `${name} ${type} differs: ${describeVariants(seen)}`;
      return reason('inconsistent', message, answered.map(label));
    }
    byType[type] = servedAddresses(answered[0]!, name, type);
  }
  const addresses = [...byType.A, ...byType.AAAA].sort();
  if (addresses.length > 0) return { name, addresses };
  const message = `${name} is inside ${zone} and would have no glue (RFC 7477 §3.2.2)`;
  return reason('missing-glue', message, answered.map(label), [show(zone, 'NS', name)]);
}

/** Glue for in-bailiwick names only (RFC 7477 §3.2.2); out-of-bailiwick names need none. */
export const requestedGlue: NsRule = (state) => {
  const { context } = state;
  for (const name of state.targetNs.filter((candidate) => isSubdomain(candidate, context.zone))) {
    const glue = glueFor(state, name);
    if ('code' in glue) return refused([glue, ...context.reachability]);
    state.glue.push(glue);
  }
  return undefined;
};
