/**
 * The DS decision (draft §3.1, RFC 7344 §4.1, RFC 8078 §4, RFC 9615 §4.2) as a list of named
 * rules, evaluated in order: the first rule that returns a decision settles it.
 */
import { computeDs, dnskeyIdentity, dsIdentity } from '@chorus/dns';
import type { DnskeyData, DsData, RRset } from '@chorus/core';
import type { DsDecision, ScanReason } from './types.js';
import {
  type Context,
  decideByRules,
  label,
  reason,
  refused,
  refuseUnreachable,
  type Rule,
  sameSet,
  show,
  variants,
} from './scanner-context.js';
import { KeyIdentities, type KeyedSignal, readServerRequests } from './scanner-ds-signals.js';
import { checkBootstrap } from './scanner-bootstrap.js';
import { validateDnskeyRrset } from './validation.js';

interface DsState {
  context: Context;
  identities: KeyIdentities;
  /** What each answering server asks for (servers with a problem are left out). */
  signals: KeyedSignal[];
  /** Why some servers have no signal. */
  problems: ScanReason[];
  /** The DS RRset requested; `null` for a deletion. Set by `requestedDsSet`. */
  target: DsData[] | null;
  /** RFC 9615: the signalling names checked, when the request is a bootstrap. */
  bootstrapped: string[] | null;
}

type DsRule = Rule<DsState, DsDecision>;

function describeTags(records: readonly DsData[]): string {
  if (records.length === 0) return 'none';
  return records.map((ds) => `${ds.keyTag}/${ds.algorithm}/${ds.digestType}`).join(', ');
}

/** NODATA for CDS and CDNSKEY at every answering server. */
const noSignal: DsRule = ({ context, signals, problems }) => {
  if (problems.length > 0 || signals.length === 0) return undefined;
  if (!signals.every((signal) => signal.kind === 'none')) return undefined;
  return {
    action: 'none',
    status: 'no-signal',
    reasons: [
      reason('no-signal', `no CDS or CDNSKEY at ${signals.length} answering server(s)`),
      ...context.reachability,
    ],
  };
};

/** Draft §3.1: the servers must ask for the same kind of change. */
function kindDisagreement(signals: readonly KeyedSignal[]): ScanReason[] {
  const kinds = variants(signals, (signal) => signal.kind);
  if (kinds.size <= 1) return [];
  const words = { none: 'no CDS/CDNSKEY (NODATA)', delete: 'a delete request', keys: 'keys' };
  const groups = [...kinds.entries()].map(
    ([kind, group]) =>
      `${group.map((s) => label(s.server)).join(', ')}: ${words[kind as keyof typeof words]}`,
  );
  return [
    reason(
      'inconsistent',
      `the servers disagree: ${groups.join('; ')}`,
      signals.map((signal) => label(signal.server)),
    ),
  ];
}

/** Draft §3.1: servers asking for keys must all reference the same keys. */
function keyDisagreement(signals: readonly KeyedSignal[], identities: KeyIdentities) {
  const kinds = new Set(signals.map((signal) => signal.kind));
  if (kinds.size !== 1 || !kinds.has('keys')) return [];
  const union = new Set(signals.flatMap((signal) => [...signal.keys]));
  return signals.flatMap((signal) => {
    const missing = [...union].filter((identity) => !signal.keys.has(identity));
    if (missing.length === 0) return [];
    return [
      reason(
        'inconsistent',
        `${label(signal.server)} does not reference ${missing.length} key(s) that other servers reference`,
        [label(signal.server)],
        missing.map((identity) => identities.describe(identity)),
      ),
    ];
  });
}

/** Any per-server problem or cross-server disagreement refuses the change. */
const refuseInconsistent: DsRule = ({ context, signals, problems, identities }) => {
  const all = [...problems, ...kindDisagreement(signals), ...keyDisagreement(signals, identities)];
  if (all.length === 0 && signals.length > 0) return undefined;
  return refused([...all, ...context.reachability]);
};

/** Deletion requested and the parent already has no DS. */
const deletionAlreadyDone: DsRule = ({ context, signals }) => {
  if (signals[0]!.kind !== 'delete' || context.currentDs.length > 0) return undefined;
  return {
    action: 'none',
    status: 'in-sync',
    reasons: [reason('in-sync', 'deletion requested and the parent has no DS')],
  };
};

/** Builds the requested DS set: refused when digest policy leaves a key out, in sync when equal. */
const requestedDsSet: DsRule = (state) => {
  const { context, signals } = state;
  if (signals[0]!.kind === 'delete') return undefined;
  const built = buildDsSet(state);
  if ('problem' in built) return refused([built.problem, ...context.reachability]);
  state.target = built.records;
  const current = new Set(context.currentDs.map(dsIdentity));
  if (!sameSet(current, new Set(built.records.map(dsIdentity)))) return undefined;
  const message = `the parent DS already equals the requested set (${describeTags(built.records)})`;
  return { action: 'none', status: 'in-sync', reasons: [reason('in-sync', message)] };
};

/**
 * RFC 9615 §4.2: without a current DS, the signalling names (observed through a validating
 * resolver) must authenticate the request. Refuses on any failure; otherwise marks the state.
 */
const refuseUnbootstrapped: DsRule = (state) => {
  const { context } = state;
  const signals = context.observations.signals;
  if (context.currentDs.length > 0 || !signals || context.policy.bootstrap === false) {
    return undefined;
  }
  const outcome = checkBootstrap(context, signals);
  if (!outcome.ok) return refused(outcome.reasons);
  state.bootstrapped = outcome.names;
  return undefined;
};

/** Every server's CDS and CDNSKEY must validate (with the keys `policy.cdsSigner` allows). */
const refuseUnvalidated: DsRule = ({ context, bootstrapped }) => {
  if (bootstrapped) return undefined;
  const validation = context.validateAll(
    (data) =>
      [data.cds, data.cdnskey].filter(
        (set): set is RRset<'CDS'> | RRset<'CDNSKEY'> => set !== null,
      ),
    context.policy.cdsSigner ?? 'dnskey-rrset',
  );
  return validation.length > 0 ? refused(validation) : undefined;
};

/** RFC 8078 §4: every server asks for deletion of the DS RRset. */
const deleteDs: DsRule = ({ context, target }) => {
  if (target !== null) return undefined;
  const { zone, currentDs, answered } = context;
  return {
    action: 'delete',
    status: 'change',
    reasons: [
      reason(
        'change-requested',
        `every server asks for deletion of the DS RRset (RFC 8078 §4); remove ${describeTags(currentDs)}`,
        answered.map(label),
        currentDs.map((ds) => show(zone, 'DS', ds)),
      ),
    ],
  };
};

/** Continuity (RFC 7344 §4.1): the new DS set must authenticate every server's DNSKEY RRset. */
const refuseBrokenContinuity: DsRule = ({ context, target }) => {
  const { zone, answered, now } = context;
  const breaks = answered.flatMap((entry) => {
    const result = validateDnskeyRrset(zone, entry.data.dnskey, target!, now);
    if (result.ok) return [];
    return [
      reason(
        'would-break-delegation',
        `${label(entry)}: the requested DS set would not authenticate its DNSKEY RRset (${result.reason})`,
        [label(entry)],
        target!.map((ds) => show(zone, 'DS', ds)),
      ),
    ];
  });
  return breaks.length > 0 ? refused(breaks) : undefined;
};

/** RFC 9615: the DS set for an unsigned delegation, authenticated by the signalling names. */
const bootstrapDs: DsRule = ({ context, target, bootstrapped }) => {
  if (!bootstrapped) return undefined;
  const records = target!;
  const { zone, answered, observations } = context;
  return {
    action: 'replace',
    status: 'change',
    records,
    reasons: [
      reason(
        'bootstrapped',
        `bootstrapping DS ${describeTags(records)} (RFC 9615): every server requests it, and the validating resolver ${observations.signals!.resolver} authenticated the same CDS and CDNSKEY at ${bootstrapped.join(', ')}`,
        answered.map(label),
        records.map((ds) => show(zone, 'DS', ds)),
      ),
    ],
  };
};

const replaceDs: DsRule = ({ context, target }) => {
  const records = target!;
  return {
    action: 'replace',
    status: 'change',
    records,
    reasons: [
      reason(
        'change-requested',
        `every server requests DS ${describeTags(records)} (now ${describeTags(context.currentDs)})`,
        context.answered.map(label),
        records.map((ds) => show(context.zone, 'DS', ds)),
      ),
    ],
  };
};

const dsRules: readonly DsRule[] = [
  noSignal,
  refuseInconsistent,
  deletionAlreadyDone,
  requestedDsSet,
  refuseUnreachable,
  refuseUnbootstrapped,
  refuseUnvalidated,
  deleteDs,
  refuseBrokenContinuity,
  bootstrapDs,
  replaceDs,
];

/** The CDS records (filtered by digest policy) and the DS computed from CDNSKEY, by DS identity. */
function collectDsRecords({ context, signals, identities }: DsState) {
  const digestTypes = new Set(context.policy.digestTypes ?? [2, 4]);
  const byIdentity = new Map<string, DsData>();
  const covered = new Set<string>();
  const cdnskeys = new Map<string, DnskeyData>();
  for (const signal of signals) {
    for (const ds of signal.server.data.cds?.records ?? []) {
      if (!digestTypes.has(ds.digestType)) continue;
      byIdentity.set(dsIdentity(ds), {
        ...ds,
        digest: ds.digest.replace(/\s+/g, '').toUpperCase(),
      });
      covered.add(identities.ofCds(ds));
    }
    for (const key of signal.server.data.cdnskey?.records ?? []) {
      cdnskeys.set(`key ${dnskeyIdentity(key)}`, key);
    }
  }
  return { digestTypes, byIdentity, covered, cdnskeys };
}

/** The DS RRset to publish: the CDS records (filtered by digest policy), or DS computed from CDNSKEY. */
function buildDsSet(state: DsState): { records: DsData[] } | { problem: ScanReason } {
  const { context, signals } = state;
  const { digestTypes, byIdentity, covered, cdnskeys } = collectDsRecords(state);
  const uncovered: string[] = [];
  for (const identity of new Set(signals.flatMap((signal) => [...signal.keys]))) {
    if (covered.has(identity)) continue;
    const key = cdnskeys.get(identity);
    if (!key) {
      uncovered.push(identity);
      continue;
    }
    const ds = computeDs(context.zone, key, context.policy.cdnskeyDigestType ?? 2);
    byIdentity.set(dsIdentity(ds), ds);
  }
  if (uncovered.length > 0) {
    return {
      problem: reason(
        'digest-policy',
        `digest types ${[...digestTypes].join(', ')} leave ${uncovered.length} requested key(s) without a DS, and no CDNSKEY to compute one`,
        signals.map((signal) => label(signal.server)),
        uncovered,
      ),
    };
  }
  const records = [...byIdentity.values()].sort((left, right) =>
    dsIdentity(left).localeCompare(dsIdentity(right)),
  );
  return { records };
}

/** Decides whether the parent should replace or delete the DS RRset (all or nothing). */
export function decideDs(context: Context): DsDecision {
  const identities = new KeyIdentities(context.zone, context.answered);
  const { signals, problems } = readServerRequests(
    context.zone,
    context.answered,
    context.policy,
    identities,
  );
  return decideByRules(dsRules, {
    context,
    identities,
    signals,
    problems,
    target: null,
    bootstrapped: null,
  });
}
