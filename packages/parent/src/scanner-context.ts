/**
 * What the DS and NS rules of the scanner share: the per-run context (who answered, the current
 * DS, why some server gave no usable answer), reason formatting, and the rule runner.
 */
import { canonicalName, formatRdata, normalizeName } from '@chorus/dns';
import type { Delegation, DsData, RecordType, RRset } from '@chorus/core';
import type {
  ChildObservations,
  ChildServerData,
  ChildServerObservation,
  DsDecision,
  NsDecision,
  ParentScanPolicy,
  ScanReason,
  ScanReasonCode,
} from './types.js';
import { validateDnskeyRrset, validateRrset } from './validation.js';

export type Answered = Extract<ChildServerObservation, { status: 'answered' }>;

/** The part of the delegation the scanner needs. */
export type CurrentDelegation = Pick<Delegation, 'zone' | 'ds' | 'ns' | 'glue'>;

/**
 * One named rule of a decision: it settles the decision by returning it, or returns `undefined`
 * to let the next rule speak. A rule may record what later rules need in the shared state.
 */
export type Rule<State, Decision> = (state: State) => Decision | undefined;

/** Evaluates `rules` in order; the first decision wins. The last rule must always decide. */
export function decideByRules<State, Decision>(
  rules: readonly Rule<State, Decision>[],
  state: State,
): Decision {
  for (const rule of rules) {
    const decision = rule(state);
    if (decision !== undefined) return decision;
  }
  throw new Error(`no rule decided (last rule: ${rules.at(-1)?.name ?? 'none'})`);
}

export function canonical(name: string): string {
  return canonicalName(normalizeName(name));
}

export function label(entry: { server: string; nameserver: string }): string {
  return `${entry.server} (${entry.nameserver})`;
}

export function reason(
  code: ScanReasonCode,
  message: string,
  servers: readonly string[] = [],
  records: readonly string[] = [],
): ScanReason {
  return {
    code,
    message,
    servers: [...new Set(servers)].sort(),
    records: [...new Set(records)].sort(),
  };
}

export function show(zone: string, type: RecordType, data: unknown): string {
  return `${zone} ${type} ${formatRdata({ type, data } as Parameters<typeof formatRdata>[0])}`;
}

export function sameSet(left: ReadonlySet<string>, right: ReadonlySet<string>): boolean {
  return left.size === right.size && [...left].every((item) => right.has(item));
}

/** Groups entries by a string key; used to describe disagreements. */
export function variants<T>(entries: readonly T[], keyOf: (entry: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const entry of entries) {
    const key = keyOf(entry);
    groups.set(key, [...(groups.get(key) ?? []), entry]);
  }
  return groups;
}

export function describeVariants(groups: Map<string, Answered[]>): string {
  return [...groups.entries()]
    .map(([key, servers]) => `${servers.map(label).join(', ')}: ${key}`)
    .join('; ');
}

/** No change: the child asked for something, but a rule failed. Fits a DS or an NS decision. */
export function refused(reasons: ScanReason[]): DsDecision & NsDecision {
  return { action: 'none', status: 'refused', reasons };
}

/** Why some delegated server gave no usable answer, or why there is no server to ask. */
function reachabilityProblems(
  zone: string,
  observations: ChildObservations,
  delegation: CurrentDelegation,
): ScanReason[] {
  const problems: ScanReason[] = [];
  for (const entry of observations.servers.filter((item) => item.inDelegation)) {
    if (entry.status === 'unreachable') {
      const message = `${label(entry)} did not answer: ${entry.error}`;
      problems.push(reason('server-unreachable', message, [label(entry)]));
    } else if (entry.status === 'bad-response') {
      const message = `${label(entry)} answered unusably: ${entry.error}`;
      problems.push(reason('server-bad-response', message, [label(entry)]));
    }
  }
  for (const entry of observations.unresolved.filter((item) => item.inDelegation)) {
    const message = `no address for the delegated nameserver ${entry.nameserver}: ${entry.error}`;
    problems.push(reason('server-unreachable', message, [entry.nameserver]));
  }
  if ((delegation.ns?.records.length ?? 0) === 0) {
    const message = `the delegation of ${zone} lists no nameserver`;
    problems.push(reason('no-delegation-servers', message));
  }
  return problems;
}

/** Per-run context shared by the DS and NS rules. */
export class Context {
  readonly zone: string;
  readonly now: number;
  readonly answered: Answered[];
  readonly currentDs: DsData[];
  /** Reasons why some delegated server gave no usable answer. */
  readonly reachability: ScanReason[];
  private readonly dnskeyCache = new Map<Answered, ReturnType<typeof validateDnskeyRrset>>();

  constructor(
    readonly observations: ChildObservations,
    readonly delegation: CurrentDelegation,
    readonly policy: ParentScanPolicy,
  ) {
    this.zone = canonical(observations.zone);
    this.now = policy.now ?? Math.floor(Date.now() / 1000);
    this.answered = observations.servers.filter(
      (entry): entry is Answered => entry.inDelegation && entry.status === 'answered',
    );
    this.currentDs = delegation.ds?.records ?? [];
    this.reachability = reachabilityProblems(this.zone, observations, delegation);
  }

  dnskeyValidation(entry: Answered) {
    let result = this.dnskeyCache.get(entry);
    if (!result) {
      result = validateDnskeyRrset(this.zone, entry.data.dnskey, this.currentDs, this.now);
      this.dnskeyCache.set(entry, result);
    }
    return result;
  }

  /**
   * Validates the DNSKEY RRset of every answering server under the current DS, then each RRset
   * `pick` returns with the keys `signers` allows. Returns the problems found.
   */
  validateAll(
    pick: (data: ChildServerData) => RRset[],
    signers: 'dnskey-rrset' | 'ds-key',
  ): ScanReason[] {
    if (this.currentDs.length === 0) return [reason('no-current-ds', this.noCurrentDsMessage())];
    return this.answered.flatMap((entry) => this.validateServer(entry, pick, signers));
  }

  private noCurrentDsMessage(): string {
    const prefix = `the parent has no DS for ${this.zone}, so nothing the child serves can be validated`;
    if (this.observations.signals && this.policy.bootstrap === false) {
      return `${prefix}; RFC 9615 bootstrapping is switched off by policy (bootstrap: false)`;
    }
    if (this.observations.signals) {
      return `${prefix}; RFC 9615 bootstrapping covers the DS RRset only, the rest waits for a DS`;
    }
    return `${prefix}; initial enrollment needs authenticated bootstrapping (RFC 9615): give the scanner a validating resolver (validatingResolver) to check the signalling names`;
  }

  private validateServer(
    entry: Answered,
    pick: (data: ChildServerData) => RRset[],
    signers: 'dnskey-rrset' | 'ds-key',
  ): ScanReason[] {
    const chain = this.dnskeyValidation(entry);
    if (!chain.ok) {
      return [
        reason(
          'dnskey-not-validated',
          `${label(entry)}: the DNSKEY RRset does not validate under the current DS: ${chain.reason}`,
          [label(entry)],
          this.currentDs.map((ds) => show(this.zone, 'DS', ds)),
        ),
      ];
    }
    const keys = signers === 'ds-key' ? chain.anchors : (entry.data.dnskey?.records ?? []);
    const problems: ScanReason[] = [];
    for (const rrset of pick(entry.data)) {
      const result = validateRrset(this.zone, rrset, keys, this.now);
      if (result.ok) continue;
      problems.push(
        reason(
          'signal-not-validated',
          `${label(entry)}: ${rrset.name} ${rrset.type} does not validate${signers === 'ds-key' ? ' with a key that has a DS' : ''}: ${result.reason}`,
          [label(entry)],
          (rrset.records as unknown[]).map((data) => show(rrset.name, rrset.type, data)),
        ),
      );
    }
    return problems;
  }
}

/** A change would be made: every delegated server must have answered. */
export function refuseUnreachable(state: { context: Context }) {
  const { reachability } = state.context;
  return reachability.length > 0 ? refused(reachability) : undefined;
}
