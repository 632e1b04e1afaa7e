/**
 * The parental agent's decision (pure): given what every child nameserver answered and the
 * current delegation, should the parent replace or delete the DS RRset, and replace the NS RRset
 * and glue? Implements draft-ietf-dnsop-cds-consistency (§3 all servers, §3.1 CDS/CDNSKEY,
 * §3.2 CSYNC) on top of RFC 7344 §4.1 (Signer, Continuity), RFC 8078 §4 (delete) and RFC 7477
 * (CSYNC flags, bitmap, soaminimum, NS and glue). All or nothing per RRset: any inconsistency,
 * unreachable server or validation failure means no change, with typed reasons.
 */
import {
  canonicalName,
  computeDs,
  dnskeyIdentity,
  dsIdentity,
  formatRdata,
  isSubdomain,
  keyTag,
  normalizeName,
} from '@chorus/dns';
import type { Delegation, DnskeyData, DsData, RecordType, RRset } from '@chorus/core';
import type {
  ChildObservations,
  ChildServerData,
  ChildServerObservation,
  DsDecision,
  GlueAddresses,
  NsDecision,
  ParentScanPolicy,
  ParentUpdateDecision,
  ScanReason,
  ScanReasonCode,
} from './types.js';
import { dsReferencesKey, validateDnskeyRrset, validateRrset } from './validation.js';

type Answered = Extract<ChildServerObservation, { status: 'answered' }>;

/** The part of the delegation the scanner needs. */
export type CurrentDelegation = Pick<Delegation, 'zone' | 'ds' | 'ns' | 'glue'>;

const CSYNC_KNOWN_FLAGS = 0x0003;
const CSYNC_IMMEDIATE = 0x0001;
const CSYNC_SOAMINIMUM = 0x0002;
const CSYNC_TYPES: ReadonlySet<string> = new Set(['NS', 'A', 'AAAA']);

function canonical(name: string): string {
  return canonicalName(normalizeName(name));
}

function label(entry: { server: string; nameserver: string }): string {
  return `${entry.server} (${entry.nameserver})`;
}

function reason(
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

function show(zone: string, type: RecordType, data: unknown): string {
  return `${zone} ${type} ${formatRdata({ type, data } as Parameters<typeof formatRdata>[0])}`;
}

/** RFC 8078 §4 with Errata 5049: `CDS 0 0 0 00` (a zero-length digest is tolerated). */
export function isDeleteCds(ds: DsData): boolean {
  return (
    ds.keyTag === 0 &&
    ds.algorithm === 0 &&
    ds.digestType === 0 &&
    /^0*$/.test(ds.digest.replace(/\s+/g, ''))
  );
}

/** RFC 8078 §4 with Errata 5049: `CDNSKEY 0 3 0 AA==` (an empty key is tolerated). */
export function isDeleteCdnskey(key: DnskeyData): boolean {
  if (key.flags !== 0 || key.protocol !== 3 || key.algorithm !== 0) return false;
  const bytes = Buffer.from(key.publicKey.replace(/\s+/g, ''), 'base64');
  return bytes.every((byte) => byte === 0);
}

type RRsetKind = 'none' | 'delete' | 'keys' | 'malformed';

function kindOf<T>(records: readonly T[] | undefined, isDelete: (record: T) => boolean): RRsetKind {
  if (!records || records.length === 0) return 'none';
  const deletes = records.filter(isDelete).length;
  if (deletes === 0) return 'keys';
  return deletes === 1 && records.length === 1 ? 'delete' : 'malformed';
}

/** RFC 1982 serial arithmetic: a - b as a signed 32-bit difference. */
function serialDifference(a: number, b: number): number {
  const difference = ((a >>> 0) - (b >>> 0) + 2 ** 32) % 2 ** 32;
  return difference >= 2 ** 31 ? difference - 2 ** 32 : difference;
}

function sameSet(left: ReadonlySet<string>, right: ReadonlySet<string>): boolean {
  return left.size === right.size && [...left].every((item) => right.has(item));
}

/** Groups servers by a string key; used to describe disagreements. */
function variants<T>(entries: readonly T[], keyOf: (entry: T) => string) {
  const groups = new Map<string, T[]>();
  for (const entry of entries) {
    const key = keyOf(entry);
    groups.set(key, [...(groups.get(key) ?? []), entry]);
  }
  return groups;
}

function describeVariants(groups: Map<string, Answered[]>): string {
  return [...groups.entries()]
    .map(([key, servers]) => `${servers.map(label).join(', ')}: ${key}`)
    .join('; ');
}

interface KeyedSignal {
  server: Answered;
  kind: 'none' | 'delete' | 'keys';
  /** Key identities referenced (CDNSKEY key, or a CDS resolved to a key, or the CDS itself). */
  keys: Set<string>;
}

/** Per-run context shared by the DS and NS parts. */
class Context {
  readonly zone: string;
  readonly now: number;
  readonly delegated: ChildServerObservation[];
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
    this.delegated = observations.servers.filter((entry) => entry.inDelegation);
    this.answered = this.delegated.filter(
      (entry): entry is Answered => entry.status === 'answered',
    );
    this.currentDs = delegation.ds?.records ?? [];
    this.reachability = [];
    for (const entry of this.delegated) {
      if (entry.status === 'unreachable') {
        this.reachability.push(
          reason('server-unreachable', `${label(entry)} did not answer: ${entry.error}`, [
            label(entry),
          ]),
        );
      } else if (entry.status === 'bad-response') {
        this.reachability.push(
          reason('server-bad-response', `${label(entry)} answered unusably: ${entry.error}`, [
            label(entry),
          ]),
        );
      }
    }
    for (const entry of observations.unresolved.filter((item) => item.inDelegation)) {
      this.reachability.push(
        reason(
          'server-unreachable',
          `no address for the delegated nameserver ${entry.nameserver}: ${entry.error}`,
          [entry.nameserver],
        ),
      );
    }
    if ((delegation.ns?.records.length ?? 0) === 0) {
      this.reachability.push(
        reason('no-delegation-servers', `the delegation of ${this.zone} lists no nameserver`),
      );
    }
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
    const problems: ScanReason[] = [];
    if (this.currentDs.length === 0) {
      problems.push(
        reason(
          'no-current-ds',
          `the parent has no DS for ${this.zone}, so nothing the child serves can be validated; initial enrollment needs authenticated bootstrapping (RFC 9615), which this scanner does not do`,
        ),
      );
      return problems;
    }
    for (const entry of this.answered) {
      const chain = this.dnskeyValidation(entry);
      if (!chain.ok) {
        problems.push(
          reason(
            'dnskey-not-validated',
            `${label(entry)}: the DNSKEY RRset does not validate under the current DS: ${chain.reason}`,
            [label(entry)],
            this.currentDs.map((ds) => show(this.zone, 'DS', ds)),
          ),
        );
        continue;
      }
      const keys = signers === 'ds-key' ? chain.anchors : (entry.data.dnskey?.records ?? []);
      for (const rrset of pick(entry.data)) {
        const result = validateRrset(this.zone, rrset, keys, this.now);
        if (!result.ok) {
          problems.push(
            reason(
              'signal-not-validated',
              `${label(entry)}: ${rrset.name} ${rrset.type} does not validate${signers === 'ds-key' ? ' with a key that has a DS' : ''}: ${result.reason}`,
              [label(entry)],
              (rrset.records as unknown[]).map((data) => show(rrset.name, rrset.type, data)),
            ),
          );
        }
      }
    }
    return problems;
  }
}

function refused<T extends DsDecision | NsDecision>(reasons: ScanReason[]): T {
  return { action: 'none', status: 'refused', reasons } as T;
}

// ---------------------------------------------------------------------------------------------
// CDS / CDNSKEY (draft §3.1, RFC 7344 §4.1, RFC 8078 §4)

function decideDs(context: Context): DsDecision {
  const { zone, policy, answered } = context;
  const mode = policy.cdsCdnskey ?? 'both';
  const problems: ScanReason[] = [];

  // Every key any server knows, to name the key a CDS refers to.
  const pool: DnskeyData[] = [];
  for (const entry of answered) {
    pool.push(...(entry.data.dnskey?.records ?? []));
    pool.push(...(entry.data.cdnskey?.records ?? []).filter((key) => !isDeleteCdnskey(key)));
  }
  const display = new Map<string, string>();
  const cdsIdentity = (ds: DsData): string => {
    const key = pool.find((candidate) => dsReferencesKey(zone, ds, candidate));
    if (key) {
      const identity = `key ${dnskeyIdentity(key)}`;
      display.set(identity, show(zone, 'CDNSKEY', key));
      return identity;
    }
    const identity = `ds ${dsIdentity(ds)}`;
    display.set(identity, show(zone, 'CDS', ds));
    return identity;
  };
  const keyIdentity = (key: DnskeyData): string => {
    const identity = `key ${dnskeyIdentity(key)}`;
    display.set(identity, show(zone, 'CDNSKEY', key));
    return identity;
  };

  const signals: KeyedSignal[] = [];
  for (const entry of answered) {
    const cds = entry.data.cds?.records ?? [];
    const cdnskey = entry.data.cdnskey?.records ?? [];
    const cdsKind = kindOf(cds, isDeleteCds);
    const cdnskeyKind = kindOf(cdnskey, isDeleteCdnskey);
    const where = [label(entry)];
    if (cdsKind === 'malformed' || cdnskeyKind === 'malformed') {
      problems.push(
        reason(
          'malformed-delete',
          `${label(entry)}: an RFC 8078 delete record must be alone in its RRset`,
          where,
          [
            ...(cdsKind === 'malformed' ? cds.map((ds) => show(zone, 'CDS', ds)) : []),
            ...(cdnskeyKind === 'malformed'
              ? cdnskey.map((key) => show(zone, 'CDNSKEY', key))
              : []),
          ],
        ),
      );
      continue;
    }
    const mismatch = (message: string, records: string[] = []) =>
      problems.push(reason('cds-cdnskey-mismatch', `${label(entry)}: ${message}`, where, records));
    const both = [cdsKind, cdnskeyKind];
    if (cdsKind === cdnskeyKind && cdsKind !== 'keys') {
      signals.push({ server: entry, kind: cdsKind, keys: new Set() });
      continue;
    }
    if (both.includes('delete') && both.includes('keys')) {
      mismatch(
        `${cdsKind === 'delete' ? 'CDS' : 'CDNSKEY'} asks for deletion of the DS RRset, ${cdsKind === 'delete' ? 'CDNSKEY' : 'CDS'} lists keys`,
        [
          ...cds.map((ds) => show(zone, 'CDS', ds)),
          ...cdnskey.map((key) => show(zone, 'CDNSKEY', key)),
        ],
      );
      continue;
    }
    if (both.includes('none')) {
      const present = cdsKind === 'none' ? 'CDNSKEY' : 'CDS';
      const absent = cdsKind === 'none' ? 'CDS' : 'CDNSKEY';
      if (mode === 'both') {
        mismatch(
          `publishes ${present} but no ${absent} (policy requires both, with the same keys)`,
          present === 'CDS'
            ? cds.map((ds) => show(zone, 'CDS', ds))
            : cdnskey.map((key) => show(zone, 'CDNSKEY', key)),
        );
        continue;
      }
      const kind = cdsKind === 'none' ? cdnskeyKind : cdsKind;
      const keys =
        kind === 'keys'
          ? new Set(cdsKind === 'none' ? cdnskey.map(keyIdentity) : cds.map(cdsIdentity))
          : new Set<string>();
      signals.push({ server: entry, kind, keys });
      continue;
    }
    // Both types list keys: each CDS must reference a CDNSKEY key, and each key must have a CDS.
    const orphanCds = cds.filter((ds) => !cdnskey.some((key) => dsReferencesKey(zone, ds, key)));
    const orphanKeys = cdnskey.filter((key) => !cds.some((ds) => dsReferencesKey(zone, ds, key)));
    if (orphanCds.length > 0 || orphanKeys.length > 0) {
      mismatch(
        [
          orphanCds.length > 0
            ? `CDS ${orphanCds.map((ds) => ds.keyTag).join(', ')} reference no CDNSKEY key`
            : '',
          orphanKeys.length > 0 ? `CDNSKEY ${orphanKeys.map(keyTag).join(', ')} have no CDS` : '',
        ]
          .filter((part) => part !== '')
          .join('; '),
        [
          ...orphanCds.map((ds) => show(zone, 'CDS', ds)),
          ...orphanKeys.map((key) => show(zone, 'CDNSKEY', key)),
        ],
      );
      continue;
    }
    signals.push({ server: entry, kind: 'keys', keys: new Set(cdnskey.map(keyIdentity)) });
  }

  if (problems.length === 0 && signals.length > 0 && signals.every((s) => s.kind === 'none')) {
    return {
      action: 'none',
      status: 'no-signal',
      reasons: [
        reason('no-signal', `no CDS or CDNSKEY at ${signals.length} answering server(s)`),
        ...context.reachability,
      ],
    };
  }

  // Cross-server consistency (draft §3.1): same kind everywhere, and the same keys.
  const kinds = variants(signals, (signal) => signal.kind);
  if (kinds.size > 1) {
    const words = { none: 'no CDS/CDNSKEY (NODATA)', delete: 'a delete request', keys: 'keys' };
    problems.push(
      reason(
        'inconsistent',
        `the servers disagree: ${[...kinds.entries()]
          .map(
            ([kind, group]) =>
              `${group.map((s) => label(s.server)).join(', ')}: ${words[kind as keyof typeof words]}`,
          )
          .join('; ')}`,
        signals.map((signal) => label(signal.server)),
      ),
    );
  } else if (kinds.has('keys')) {
    const union = new Set(signals.flatMap((signal) => [...signal.keys]));
    for (const signal of signals) {
      const missing = [...union].filter((identity) => !signal.keys.has(identity));
      if (missing.length > 0) {
        problems.push(
          reason(
            'inconsistent',
            `${label(signal.server)} does not reference ${missing.length} key(s) that other servers reference`,
            [label(signal.server)],
            missing.map((identity) => display.get(identity) ?? identity),
          ),
        );
      }
    }
  }
  if (problems.length > 0 || signals.length === 0) {
    return refused([...problems, ...context.reachability]);
  }

  const kind = signals[0]!.kind;
  let target: DsData[] | null = null;
  if (kind === 'delete') {
    if (context.currentDs.length === 0) {
      return {
        action: 'none',
        status: 'in-sync',
        reasons: [reason('in-sync', 'deletion requested and the parent has no DS')],
      };
    }
  } else {
    const built = buildDsSet(context, signals, cdsIdentity);
    if ('problem' in built) return refused([built.problem, ...context.reachability]);
    target = built.records;
    const current = new Set(context.currentDs.map(dsIdentity));
    if (sameSet(current, new Set(target.map(dsIdentity)))) {
      return {
        action: 'none',
        status: 'in-sync',
        reasons: [
          reason(
            'in-sync',
            `the parent DS already equals the requested set (${describeTags(target)})`,
          ),
        ],
      };
    }
  }

  // A change would be made: every delegated server must have answered, and validate.
  if (context.reachability.length > 0) return refused(context.reachability);
  const validation = context.validateAll(
    (data) =>
      [data.cds, data.cdnskey].filter(
        (set): set is RRset<'CDS'> | RRset<'CDNSKEY'> => set !== null,
      ),
    policy.cdsSigner ?? 'dnskey-rrset',
  );
  if (validation.length > 0) return refused(validation);

  if (target === null) {
    return {
      action: 'delete',
      status: 'change',
      reasons: [
        reason(
          'change-requested',
          `every server asks for deletion of the DS RRset (RFC 8078 §4); remove ${describeTags(context.currentDs)}`,
          answered.map(label),
          context.currentDs.map((ds) => show(zone, 'DS', ds)),
        ),
      ],
    };
  }
  // Continuity (RFC 7344 §4.1): the new DS set must authenticate every server's DNSKEY RRset.
  const breaks: ScanReason[] = [];
  for (const entry of answered) {
    const result = validateDnskeyRrset(zone, entry.data.dnskey, target, context.now);
    if (!result.ok) {
      breaks.push(
        reason(
          'would-break-delegation',
          `${label(entry)}: the requested DS set would not authenticate its DNSKEY RRset (${result.reason})`,
          [label(entry)],
          target.map((ds) => show(zone, 'DS', ds)),
        ),
      );
    }
  }
  if (breaks.length > 0) return refused(breaks);
  return {
    action: 'replace',
    status: 'change',
    records: target,
    reasons: [
      reason(
        'change-requested',
        `every server requests DS ${describeTags(target)} (now ${describeTags(context.currentDs)})`,
        answered.map(label),
        target.map((ds) => show(zone, 'DS', ds)),
      ),
    ],
  };
}

function describeTags(records: readonly DsData[]): string {
  if (records.length === 0) return 'none';
  return records.map((ds) => `${ds.keyTag}/${ds.algorithm}/${ds.digestType}`).join(', ');
}

/** The DS RRset to publish: the CDS records (filtered by digest policy), or DS computed from CDNSKEY. */
function buildDsSet(
  context: Context,
  signals: readonly KeyedSignal[],
  cdsIdentity: (ds: DsData) => string,
): { records: DsData[] } | { problem: ScanReason } {
  const { zone, policy } = context;
  const digestTypes = new Set(policy.digestTypes ?? [2, 4]);
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
      covered.add(cdsIdentity(ds));
    }
    for (const key of signal.server.data.cdnskey?.records ?? []) {
      cdnskeys.set(`key ${dnskeyIdentity(key)}`, key);
    }
  }
  const wanted = new Set(signals.flatMap((signal) => [...signal.keys]));
  const uncovered: string[] = [];
  for (const identity of wanted) {
    if (covered.has(identity)) continue;
    const key = cdnskeys.get(identity);
    if (!key) {
      uncovered.push(identity);
      continue;
    }
    const ds = computeDs(zone, key, policy.cdnskeyDigestType ?? 2);
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

// ---------------------------------------------------------------------------------------------
// CSYNC (draft §3.2, RFC 7477)

interface CsyncSignal {
  server: Answered;
  flags: number;
  serial: number;
  types: string[];
}

function addressesOf(host: { a: RRset<'A'> | null; aaaa: RRset<'AAAA'> | null } | undefined) {
  return {
    a: [...new Set(host?.a?.records ?? [])].sort(),
    aaaa: [...new Set(host?.aaaa?.records ?? [])].sort(),
  };
}

function decideNs(context: Context, ds: DsDecision): NsDecision {
  const { zone, answered, policy } = context;
  const problems: ScanReason[] = [];
  const signals: CsyncSignal[] = [];
  const silent: Answered[] = [];
  for (const entry of answered) {
    const records = entry.data.csync?.records ?? [];
    if (records.length === 0) {
      silent.push(entry);
      continue;
    }
    if (records.length > 1) {
      problems.push(
        reason(
          'csync-multiple-records',
          `${label(entry)} serves ${records.length} CSYNC records; RFC 7477 allows one per apex`,
          [label(entry)],
          records.map((csync) => show(zone, 'CSYNC', csync)),
        ),
      );
      continue;
    }
    const csync = records[0]!;
    signals.push({
      server: entry,
      flags: csync.flags,
      serial: csync.serial,
      types: [...new Set(csync.types.map((type) => type.toUpperCase()))].sort(),
    });
  }
  if (problems.length === 0 && signals.length === 0 && silent.length > 0) {
    return {
      action: 'none',
      status: 'no-signal',
      reasons: [
        reason('no-signal', `no CSYNC at ${silent.length} answering server(s)`),
        ...context.reachability,
      ],
    };
  }
  if (signals.length > 0 && silent.length > 0) {
    problems.push(
      reason(
        'inconsistent',
        `CSYNC at ${signals.map((signal) => label(signal.server)).join(', ')} but NODATA at ${silent.map(label).join(', ')}`,
        [...signals.map((signal) => label(signal.server)), ...silent.map(label)],
      ),
    );
  }
  // The immediate flag and the type bitmap must be equal everywhere (draft §3.2).
  const shapes = variants(
    signals,
    (signal) =>
      `immediate=${(signal.flags & CSYNC_IMMEDIATE) !== 0} types=${signal.types.join(' ')}`,
  );
  if (shapes.size > 1) {
    problems.push(
      reason(
        'inconsistent',
        `CSYNC immediate flag or type bitmap differ: ${[...shapes.entries()]
          .map(([shape, group]) => `${group.map((s) => label(s.server)).join(', ')}: ${shape}`)
          .join('; ')}`,
        signals.map((signal) => label(signal.server)),
        signals.map((signal) =>
          show(zone, 'CSYNC', { serial: signal.serial, flags: signal.flags, types: signal.types }),
        ),
      ),
    );
  }
  for (const signal of signals) {
    if ((signal.flags & ~CSYNC_KNOWN_FLAGS) !== 0) {
      problems.push(
        reason(
          'csync-unknown-flags',
          `${label(signal.server)}: CSYNC flags ${signal.flags} include unknown bits; RFC 7477 §2.1 forbids processing it`,
          [label(signal.server)],
        ),
      );
    }
    const unknown = signal.types.filter((type) => !CSYNC_TYPES.has(type));
    if (unknown.length > 0) {
      problems.push(
        reason(
          'csync-unknown-types',
          `${label(signal.server)}: CSYNC type bitmap names ${unknown.join(', ')}; only NS, A and AAAA are processed`,
          [label(signal.server)],
        ),
      );
    }
  }
  if (problems.length > 0 || signals.length === 0) {
    return refused([...problems, ...context.reachability]);
  }
  const first = signals[0]!;
  if ((first.flags & CSYNC_IMMEDIATE) === 0) {
    return refused([
      reason(
        'csync-not-immediate',
        'CSYNC without the immediate flag: the parent waits for out-of-band approval (RFC 7477 §3)',
        signals.map((signal) => label(signal.server)),
      ),
      ...context.reachability,
    ]);
  }

  // soaminimum: judged per server against its own SOA; the judgements must agree (draft §3.2).
  const permitted = variants(signals, (signal) => {
    if ((signal.flags & CSYNC_SOAMINIMUM) === 0) return 'yes';
    const serial = signal.server.data.soa?.records[0]?.serial;
    return serial !== undefined && serialDifference(serial, signal.serial) >= 0 ? 'yes' : 'no';
  });
  if (permitted.size > 1) {
    return refused([
      reason(
        'inconsistent',
        `the soaminimum judgements differ: permitted at ${(permitted.get('yes') ?? []).map((s) => label(s.server)).join(', ')}, not at ${(permitted.get('no') ?? []).map((s) => label(s.server)).join(', ')}`,
        signals.map((signal) => label(signal.server)),
      ),
      ...context.reachability,
    ]);
  }
  if (permitted.has('no')) {
    return refused([
      reason(
        'csync-soa-serial',
        'soaminimum is set and every server’s SOA serial is below the CSYNC serial',
        signals.map((signal) => label(signal.server)),
      ),
      ...context.reachability,
    ]);
  }
  const moving = answered.filter(
    (entry) => entry.data.soa?.records[0]?.serial !== entry.data.soaAfter?.records[0]?.serial,
  );
  if (moving.length > 0) {
    return refused([
      reason(
        'soa-changed-during-scan',
        `the SOA serial changed while the data was read (RFC 7477 §3.1); try again later`,
        moving.map(label),
      ),
      ...context.reachability,
    ]);
  }

  const types = new Set(first.types);
  const currentNs = [...new Set((context.delegation.ns?.records ?? []).map(canonical))].sort();
  let targetNs = currentNs;
  if (types.has('NS')) {
    const sets = variants(
      answered,
      (entry) =>
        [...new Set((entry.data.ns?.records ?? []).map(canonical))].sort().join(' ') || '(none)',
    );
    if (sets.size > 1) {
      return refused([
        reason(
          'inconsistent',
          `the apex NS RRsets differ: ${describeVariants(sets)}`,
          answered.map(label),
        ),
        ...context.reachability,
      ]);
    }
    targetNs = [...new Set((answered[0]!.data.ns?.records ?? []).map(canonical))].sort();
    const minimum = Math.max(1, policy.minimumNsCount ?? 1);
    if (targetNs.length < minimum) {
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
    }
  }

  // Glue for in-bailiwick names only (RFC 7477 §3.2.2); out-of-bailiwick names need none.
  const currentGlue = new Map(
    context.delegation.glue.map((entry) => [canonical(entry.name), entry.addresses]),
  );
  const glue: GlueAddresses[] = [];
  for (const name of targetNs.filter((candidate) => isSubdomain(candidate, zone))) {
    const current = currentGlue.get(name) ?? [];
    let a = current.filter((address) => !address.includes(':'));
    let aaaa = current.filter((address) => address.includes(':'));
    for (const type of ['A', 'AAAA'] as const) {
      if (!types.has(type)) continue;
      const seen = variants(answered, (entry) => {
        const host = addressesOf(entry.data.hosts.find((item) => canonical(item.name) === name));
        return (type === 'A' ? host.a : host.aaaa).join(' ') || '(none)';
      });
      if (seen.size > 1) {
        return refused([
          reason(
            'inconsistent',
            `${name} ${type} differs: ${describeVariants(seen)}`,
            answered.map(label),
          ),
          ...context.reachability,
        ]);
      }
      const host = addressesOf(
        answered[0]!.data.hosts.find((item) => canonical(item.name) === name),
      );
      if (type === 'A') a = host.a;
      else aaaa = host.aaaa;
    }
    const addresses = [...a, ...aaaa].sort();
    if (addresses.length === 0) {
      return refused([
        reason(
          'missing-glue',
          `${name} is inside ${zone} and would have no glue (RFC 7477 §3.2.2)`,
          answered.map(label),
          [show(zone, 'NS', name)],
        ),
        ...context.reachability,
      ]);
    }
    glue.push({ name, addresses });
  }
  const currentInBailiwick = currentNs
    .filter((name) => isSubdomain(name, zone))
    .map((name) => `${name} ${[...(currentGlue.get(name) ?? [])].sort().join(',')}`);
  const targetInBailiwick = glue.map((entry) => `${entry.name} ${entry.addresses.join(',')}`);
  if (
    sameSet(new Set(currentNs), new Set(targetNs)) &&
    sameSet(new Set(currentInBailiwick), new Set(targetInBailiwick))
  ) {
    return {
      action: 'none',
      status: 'in-sync',
      reasons: [reason('in-sync', `the parent NS (and glue) already match: ${targetNs.join(' ')}`)],
    };
  }

  // A change would be made: all answered, everything validated (RFC 7477 §3: Secure only).
  if (context.reachability.length > 0) return refused(context.reachability);
  const inBailiwickTargets = new Set(glue.map((entry) => entry.name));
  const validation = context.validateAll((data) => {
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
  if (validation.length > 0) return refused(validation);

  // Do not break the delegation: each added nameserver must serve the zone, with a DNSKEY RRset
  // that the DS set in force afterwards authenticates.
  const effectiveDs =
    ds.action === 'replace' ? (ds.records ?? []) : ds.action === 'delete' ? [] : context.currentDs;
  const added = targetNs.filter((name) => !currentNs.includes(name));
  const breaks: ScanReason[] = [];
  for (const name of added) {
    const observed = context.observations.servers.filter(
      (entry) => !entry.inDelegation && canonical(entry.nameserver) === name,
    );
    const unresolved = context.observations.unresolved.find(
      (entry) => !entry.inDelegation && canonical(entry.nameserver) === name,
    );
    if (observed.length === 0) {
      breaks.push(
        reason(
          'would-break-delegation',
          `the added nameserver ${name} was not observed${unresolved ? ` (${unresolved.error})` : ''}`,
          [name],
        ),
      );
      continue;
    }
    for (const entry of observed) {
      if (entry.status !== 'answered') {
        breaks.push(
          reason(
            'would-break-delegation',
            `the added nameserver ${label(entry)} does not serve ${zone}: ${entry.error}`,
            [label(entry)],
          ),
        );
        continue;
      }
      if (!entry.data.soa) {
        breaks.push(
          reason(
            'would-break-delegation',
            `the added nameserver ${label(entry)} has no SOA for ${zone}`,
            [label(entry)],
          ),
        );
        continue;
      }
      if (effectiveDs.length === 0) continue;
      const result = validateDnskeyRrset(zone, entry.data.dnskey, effectiveDs, context.now);
      if (!result.ok) {
        breaks.push(
          reason(
            'would-break-delegation',
            `the added nameserver ${label(entry)} serves a DNSKEY RRset that the parent's DS would not authenticate (${result.reason})`,
            [label(entry)],
            effectiveDs.map((record) => show(zone, 'DS', record)),
          ),
        );
      }
    }
  }
  if (breaks.length > 0) return refused(breaks);
  return {
    action: 'replace',
    status: 'change',
    records: targetNs,
    glue,
    reasons: [
      reason(
        'change-requested',
        `every server requests NS ${targetNs.join(' ')} (now ${currentNs.join(' ') || 'none'})`,
        answered.map(label),
        [
          ...targetNs.map((name) => show(zone, 'NS', name)),
          ...glue.flatMap((entry) =>
            entry.addresses.map((address) =>
              show(entry.name, address.includes(':') ? 'AAAA' : 'A', address),
            ),
          ),
        ],
      ),
    ],
  };
}

/**
 * Decides what the parent should change for one delegation, from what every child nameserver
 * answered (see `observeChildServers`) and what the parent has now. Pure: no I/O; the time for
 * signature validity comes from `policy.now` (default: the clock).
 *
 * DS and NS are decided separately (they are separate RRsets and separate draft sections); each
 * is all or nothing. A DS change applies first, and the NS part checks added nameservers against
 * the DS set in force after it.
 *
 * @example
 * const delegation = await parent.getDelegation('example.test.', {});
 * const observations = await observeChildServers({ zone: 'example.test.', delegation, parentServers });
 * const decision = decideParentUpdate(observations, delegation);
 * if (decision.ds.action === 'replace') console.log(decision.ds.records);
 */
export function decideParentUpdate(
  observations: ChildObservations,
  delegation: CurrentDelegation,
  policy: ParentScanPolicy = {},
): ParentUpdateDecision {
  const context = new Context(observations, delegation, policy);
  const ds = decideDs(context);
  const ns = decideNs(context, ds);
  return {
    zone: context.zone,
    observedAt: observations.observedAt,
    ds,
    ns,
    servers: observations.servers.map((entry) => ({
      server: entry.server,
      nameserver: entry.nameserver,
      inDelegation: entry.inDelegation,
      status: entry.status,
    })),
  };
}
