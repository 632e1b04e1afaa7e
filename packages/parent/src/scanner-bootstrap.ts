/**
 * RFC 9615 §4.2, the parent's checks before it bootstraps a DS set for a delegation without DS:
 * an NS hostname outside the child; the same CDS and CDNSKEY at every delegated server; and, at
 * every signalling name, the same RRsets again, authenticated (AD=1) by the validating resolver.
 * Any failure refuses. The apex consistency (draft §3.1) is checked by the DS rules beforehand.
 */
import { dnskeyIdentity, dsIdentity } from '@chorus/dns';
import type { DnskeyData, DsData, RRset } from '@chorus/core';
import type {
  BootstrapSignals,
  ChildServerData,
  ScanReason,
  SignalAnswer,
  SignalNameObservation,
} from './types.js';
import {
  type Answered,
  type Context,
  decideByRules,
  label,
  reason,
  type Rule,
  show,
} from './scanner-context.js';

type SignalType = 'CDS' | 'CDNSKEY';
const SIGNAL_TYPES: readonly SignalType[] = ['CDS', 'CDNSKEY'];

/** The outcome: refused with reasons, or accepted after checking these signalling names. */
export type BootstrapOutcome = { ok: false; reasons: ScanReason[] } | { ok: true; names: string[] };

/** One RRset as comparable identities, with its presentation lines for reasons. */
interface Comparable {
  identities: Set<string>;
  lines: Map<string, string>;
}

function comparable(owner: string, type: SignalType, rrset: RRset | null): Comparable {
  const lines = new Map<string, string>();
  for (const data of (rrset?.records ?? []) as (DsData | DnskeyData)[]) {
    const identity =
      type === 'CDS'
        ? dsIdentity({ ...(data as DsData), digest: (data as DsData).digest.replace(/\s+/g, '') })
        : dnskeyIdentity(data as DnskeyData);
    lines.set(identity, show(owner, type, data));
  }
  return { identities: new Set(lines.keys()), lines };
}

function apexRrset(data: ChildServerData, type: SignalType): RRset | null {
  return type === 'CDS' ? data.cds : data.cdnskey;
}

/** What one side has that the other lacks, in presentation format. */
function difference(left: Comparable, right: Comparable): string[] {
  return [...left.identities]
    .filter((identity) => !right.identities.has(identity))
    .map((identity) => left.lines.get(identity)!);
}

function describeDifference(signal: Comparable, apex: Comparable): string {
  const onlySignal = difference(signal, apex);
  const onlyApex = difference(apex, signal);
  return [
    onlySignal.length > 0 ? `only at the signalling name: ${onlySignal.join(', ')}` : '',
    onlyApex.length > 0 ? `only at the apex: ${onlyApex.join(', ')}` : '',
  ]
    .filter((part) => part !== '')
    .join('; ');
}

interface BootstrapState {
  context: Context;
  signals: BootstrapSignals;
}

type BootstrapRule = Rule<BootstrapState, BootstrapOutcome>;

/** RFC 9615 §4.2 step 1: at least one NS hostname outside the child. */
const refuseWithoutOutsideNs: BootstrapRule = ({ context, signals }) => {
  if (signals.names.length > 0) return undefined;
  const message = `every NS hostname of ${context.zone} is at or below it (${signals.skipped.join(', ') || 'none'}); RFC 9615 needs one outside the child to authenticate the signal`;
  return { ok: false, reasons: [reason('bootstrap-no-outside-ns', message, signals.skipped)] };
};

/** RFC 9615 §4.2 step 4: every delegated server serves exactly the same CDS and CDNSKEY. */
const refuseDifferentApexRrsets: BootstrapRule = ({ context }) => {
  const [first, ...others] = context.answered;
  const reasons = SIGNAL_TYPES.flatMap((type) =>
    others.flatMap((entry) => apexDifference(context.zone, type, first!, entry)),
  );
  return reasons.length > 0 ? { ok: false, reasons } : undefined;
};

function apexDifference(
  zone: string,
  type: SignalType,
  first: Answered,
  other: Answered,
): ScanReason[] {
  const reference = comparable(zone, type, apexRrset(first.data, type));
  const compared = comparable(zone, type, apexRrset(other.data, type));
  const onlyOther = difference(compared, reference);
  const onlyFirst = difference(reference, compared);
  if (onlyOther.length === 0 && onlyFirst.length === 0) return [];
  const message = `the apex ${type} RRsets differ (RFC 9615 needs equal RRsets): only at ${label(other)}: ${onlyOther.join(', ') || 'nothing'}; only at ${label(first)}: ${onlyFirst.join(', ') || 'nothing'}`;
  return [
    reason(
      'bootstrap-signal-differs',
      message,
      [label(first), label(other)],
      [...onlyOther, ...onlyFirst],
    ),
  ];
}

/** One signalling RRset against the apex RRset of the same type. */
interface AnswerCheck {
  entry: SignalNameObservation;
  type: SignalType;
  answer: SignalAnswer<SignalType>;
  apex: Comparable;
}

type AnswerRule = Rule<AnswerCheck, ScanReason | 'equal'>;

function where({ entry, type }: AnswerCheck): string {
  return `${entry.nameserver}: ${entry.name} ${type}`;
}

function signalReason(
  check: AnswerCheck,
  code: ScanReason['code'],
  detail: string,
  records: string[] = [],
): ScanReason {
  return reason(code, `${where(check)} ${detail}`, [check.entry.nameserver], records);
}

const resolverFailed: AnswerRule = (check) => {
  const { answer } = check;
  if (answer.status === 'answered') return undefined;
  return signalReason(check, 'bootstrap-signal-unreachable', `got no answer: ${answer.error}`);
};

const errorRcode: AnswerRule = (check) => {
  const { answer } = check;
  if (answer.status !== 'answered' || ['NOERROR', 'NXDOMAIN'].includes(answer.rcode)) {
    return undefined;
  }
  const detail = `answered ${answer.rcode} (a validation failure or an unreachable signalling zone)`;
  return signalReason(check, 'bootstrap-signal-unreachable', detail);
};

const notAuthenticated: AnswerRule = (check) => {
  const { answer } = check;
  if (answer.status !== 'answered' || answer.ad) return undefined;
  const detail = `answered with AD=0 (${answer.rcode}); the signalling zone of ${check.entry.nameserver} must validate`;
  return signalReason(check, 'bootstrap-signal-not-authenticated', detail);
};

const missing: AnswerRule = (check) => {
  const { answer, apex } = check;
  if (answer.status !== 'answered' || answer.rrset !== null || apex.identities.size === 0) {
    return undefined;
  }
  const what = answer.rcode === 'NXDOMAIN' ? 'NXDOMAIN' : 'NODATA';
  const detail = `is ${what}, but the apex has ${apex.identities.size} record(s)`;
  return signalReason(check, 'bootstrap-signal-missing', detail, [...apex.lines.values()]);
};

const differs: AnswerRule = (check) => {
  const { answer, apex, entry, type } = check;
  if (answer.status !== 'answered') return undefined;
  const signal = comparable(entry.name, type, answer.rrset);
  const extra = difference(signal, apex);
  if (extra.length === 0 && difference(apex, signal).length === 0) return 'equal';
  const detail = `differs from the apex ${type}: ${describeDifference(signal, apex)}`;
  return signalReason(check, 'bootstrap-signal-differs', detail, [
    ...extra,
    ...difference(apex, signal),
  ]);
};

const answerRules: readonly AnswerRule[] = [
  resolverFailed,
  errorRcode,
  notAuthenticated,
  missing,
  differs,
];

/** RFC 9615 §4.2 steps 3 and 4: every signalling RRset authenticated and equal to the apex. */
const refuseBadSignals: BootstrapRule = ({ context, signals }) => {
  const reference = context.answered[0]!;
  const reasons = signals.names.flatMap((entry) =>
    SIGNAL_TYPES.flatMap((type) => {
      const answer = type === 'CDS' ? entry.cds : entry.cdnskey;
      const apex = comparable(context.zone, type, apexRrset(reference.data, type));
      const outcome = decideByRules(answerRules, { entry, type, answer, apex });
      return outcome === 'equal' ? [] : [outcome];
    }),
  );
  return reasons.length > 0 ? { ok: false, reasons } : undefined;
};

const accept: BootstrapRule = ({ signals }) => ({
  ok: true,
  names: signals.names.map((entry) => entry.name),
});

const bootstrapRules: readonly BootstrapRule[] = [
  refuseWithoutOutsideNs,
  refuseDifferentApexRrsets,
  refuseBadSignals,
  accept,
];

/**
 * Checks RFC 9615 §4.2 for a delegation without DS, once every delegated server has answered
 * and the apex CDS/CDNSKEY are consistent and ask for keys.
 */
export function checkBootstrap(context: Context, signals: BootstrapSignals): BootstrapOutcome {
  return decideByRules(bootstrapRules, { context, signals });
}
