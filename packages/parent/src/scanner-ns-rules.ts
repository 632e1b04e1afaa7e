/**
 * The NS and glue decision from CSYNC (draft §3.2, RFC 7477) as a list of named rules, evaluated
 * in order: the first rule that returns a decision settles it.
 */
import { isSubdomain } from '@chorus/dns';
import type { RRset } from '@chorus/core';
import type { DsDecision, GlueAddresses, NsDecision, ScanReason } from './types.js';
import {
  canonical,
  type Context,
  decideByRules,
  label,
  reason,
  refused,
  refuseUnreachable,
  sameSet,
  show,
} from './scanner-context.js';
import { readCsync, type CsyncSignal } from './scanner-csync-signals.js';
import {
  csyncTypes,
  currentGlueByName,
  type NsRule,
  type NsState,
  requestedGlue,
  requestedNsSet,
} from './scanner-ns-target.js';
import { validateDnskeyRrset } from './validation.js';

const CSYNC_IMMEDIATE = 0x0001;
const CSYNC_SOAMINIMUM = 0x0002;

/** NODATA for CSYNC at every answering server. */
const noSignal: NsRule = ({ context, signals, silent, problems }) => {
  if (problems.length > 0 || signals.length > 0 || silent.length === 0) return undefined;
  return {
    action: 'none',
    status: 'no-signal',
    reasons: [
      reason('no-signal', `no CSYNC at ${silent.length} answering server(s)`),
      ...context.reachability,
    ],
  };
};

/** Any CSYNC problem (see `readCsync`) refuses the change. */
const refuseInconsistent: NsRule = ({ context, signals, problems }) =>
  problems.length > 0 || signals.length === 0
    ? refused([...problems, ...context.reachability])
    : undefined;

/** RFC 7477 §3: without the immediate flag the parent waits for out-of-band approval. */
const refuseNotImmediate: NsRule = ({ context, signals }) => {
  if ((signals[0]!.flags & CSYNC_IMMEDIATE) !== 0) return undefined;
  return refused([
    reason(
      'csync-not-immediate',
      'CSYNC without the immediate flag: the parent waits for out-of-band approval (RFC 7477 §3)',
      signals.map((signal) => label(signal.server)),
    ),
    ...context.reachability,
  ]);
};

/** RFC 1982 serial arithmetic: a - b as a signed 32-bit difference. */
function serialDifference(a: number, b: number): number {
  const difference = ((a >>> 0) - (b >>> 0) + 2 ** 32) % 2 ** 32;
  return difference >= 2 ** 31 ? difference - 2 ** 32 : difference;
}

/** soaminimum, judged per server against its own SOA: may it be processed? */
function soaminimumPermits(signal: CsyncSignal): boolean {
  if ((signal.flags & CSYNC_SOAMINIMUM) === 0) return true;
  const serial = signal.server.data.soa?.records[0]?.serial;
  return serial !== undefined && serialDifference(serial, signal.serial) >= 0;
}

/** Draft §3.2: the soaminimum judgements must agree, and permit processing. */
const refuseSoaminimum: NsRule = ({ context, signals }) => {
  const permitted = signals.filter(soaminimumPermits);
  const servers = signals.map((signal) => label(signal.server));
  if (permitted.length === signals.length) return undefined;
  if (permitted.length > 0) {
    const denied = signals.filter((signal) => !permitted.includes(signal));
    const names = (group: CsyncSignal[]) => group.map((s) => label(s.server)).join(', ');
    const message = `the soaminimum judgements differ: permitted at ${names(permitted)}, not at ${names(denied)}`;
    return refused([reason('inconsistent', message, servers), ...context.reachability]);
  }
  const message = 'soaminimum is set and every server’s SOA serial is below the CSYNC serial';
  return refused([reason('csync-soa-serial', message, servers), ...context.reachability]);
};

/** RFC 7477 §3.1: a SOA serial that moved while the data was read means "try again later". */
const refuseSoaChangedDuringScan: NsRule = ({ context }) => {
  const moving = context.answered.filter(
    (entry) => entry.data.soa?.records[0]?.serial !== entry.data.soaAfter?.records[0]?.serial,
  );
  if (moving.length === 0) return undefined;
  return refused([
    reason(
      'soa-changed-during-scan',
      `the SOA serial changed while the data was read (RFC 7477 §3.1); try again later`,
      moving.map(label),
    ),
    ...context.reachability,
  ]);
};

function glueLines(glue: readonly GlueAddresses[]): Set<string> {
  return new Set(glue.map((entry) => `${entry.name} ${entry.addresses.join(',')}`));
}

/** The parent's NS set and in-bailiwick glue already match the request. */
const inSync: NsRule = ({ context, currentNs, targetNs, glue }) => {
  const glueByName = currentGlueByName(context);
  const currentGlue = currentNs
    .filter((name) => isSubdomain(name, context.zone))
    .map((name) => `${name} ${[...(glueByName.get(name) ?? [])].sort().join(',')}`);
  if (!sameSet(new Set(currentNs), new Set(targetNs))) return undefined;
  if (!sameSet(new Set(currentGlue), glueLines(glue))) return undefined;
  const message = `the parent NS (and glue) already match: ${targetNs.join(' ')}`;
  return { action: 'none', status: 'in-sync', reasons: [reason('in-sync', message)] };
};

/** RFC 7477 §3: Secure only. CSYNC, and the NS, A and AAAA it names, must validate. */
const refuseUnvalidated: NsRule = (state) => {
  const types = csyncTypes(state);
  const inBailiwickTargets = new Set(state.glue.map((entry) => entry.name));
  const validation = state.context.validateAll((data) => {
    const sets: RRset[] = [];
    if (data.csync) sets.push(data.csync);
    if (types.has('NS') && data.ns) sets.push(data.ns);
    for (const host of data.hosts) {
      if (!inBailiwickTargets.has(canonical(host.name))) continue;
      if (types.has('A') && host.a) sets.push(host.a);
      if (types.has('AAAA') && host.aaaa) sets.push(host.aaaa);
    }
    return sets;
  }, 'dnskey-rrset');
  return validation.length > 0 ? refused(validation) : undefined;
};

/** Why an added nameserver would not serve the zone under the DS set in force afterwards. */
function addedNameserverBreaks(state: NsState, name: string): ScanReason[] {
  const { context, ds } = state;
  const { zone, observations } = context;
  const effectiveDs =
    ds.action === 'replace' ? (ds.records ?? []) : ds.action === 'delete' ? [] : context.currentDs;
  const isProposed = (entry: { inDelegation: boolean; nameserver: string }) =>
    !entry.inDelegation && canonical(entry.nameserver) === name;
  const observed = observations.servers.filter(isProposed);
  if (observed.length === 0) {
    const unresolved = observations.unresolved.find(isProposed);
    const message = `the added nameserver ${name} was not observed${unresolved ? ` (${unresolved.error})` : ''}`;
    return [reason('would-break-delegation', message, [name])];
  }
  return observed.flatMap((entry) => {
    const where = [label(entry)];
    if (entry.status !== 'answered') {
      const message = `the added nameserver ${label(entry)} does not serve ${zone}: ${entry.error}`;
      return [reason('would-break-delegation', message, where)];
    }
    if (!entry.data.soa) {
      const message = `the added nameserver ${label(entry)} has no SOA for ${zone}`;
      return [reason('would-break-delegation', message, where)];
    }
    if (effectiveDs.length === 0) return [];
    const result = validateDnskeyRrset(zone, entry.data.dnskey, effectiveDs, context.now);
    if (result.ok) return [];
    const message = `the added nameserver ${label(entry)} serves a DNSKEY RRset that the parent's DS would not authenticate (${result.reason})`;
    const records = effectiveDs.map((record) => show(zone, 'DS', record));
    return [reason('would-break-delegation', message, where, records)];
  });
}

/** Do not break the delegation: each added nameserver must serve the zone, and validate. */
const refuseBreakingAddedNameservers: NsRule = (state) => {
  const added = state.targetNs.filter((name) => !state.currentNs.includes(name));
  const breaks = added.flatMap((name) => addedNameserverBreaks(state, name));
  return breaks.length > 0 ? refused(breaks) : undefined;
};

const replaceNs: NsRule = ({ context, currentNs, targetNs, glue }) => {
  const glueRecords = glue.flatMap((entry) =>
    entry.addresses.map((address) =>
      show(entry.name, address.includes(':') ? 'AAAA' : 'A', address),
    ),
  );
  return {
    action: 'replace',
    status: 'change',
    records: targetNs,
    glue,
    reasons: [
      reason(
        'change-requested',
        `every server requests NS ${targetNs.join(' ')} (now ${currentNs.join(' ') || 'none'})`,
        context.answered.map(label),
        [...targetNs.map((name) => show(context.zone, 'NS', name)), ...glueRecords],
      ),
    ],
  };
};

const nsRules: readonly NsRule[] = [
  noSignal,
  refuseInconsistent,
  refuseNotImmediate,
  refuseSoaminimum,
  refuseSoaChangedDuringScan,
  requestedNsSet,
  requestedGlue,
  inSync,
  refuseUnreachable,
  refuseUnvalidated,
  refuseBreakingAddedNameservers,
  replaceNs,
];

/** Decides whether the parent should replace the NS RRset and glue (all or nothing). */
export function decideNs(context: Context, ds: DsDecision): NsDecision {
  const { signals, silent, problems } = readCsync(context);
  const currentNs = [...new Set((context.delegation.ns?.records ?? []).map(canonical))].sort();
  return decideByRules(nsRules, {
    context,
    ds,
    signals,
    silent,
    problems,
    currentNs,
    targetNs: currentNs,
    glue: [],
  });
}
