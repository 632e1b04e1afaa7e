/**
 * The observer invariants I1–I9 of standards §8.2, evaluated over the wire history at one time t.
 * Pure: reads the history, verifies signatures with core's primitives and returns the violations,
 * each with a key that stays the same while the same fault lasts. Never throws on odd input: a
 * missing RRset where one is required is a violation, a server that does not answer is I1.
 */
import {
  DNSKEY_FLAG_REVOKE,
  DNSKEY_FLAG_SEP,
  DNSKEY_FLAG_ZONE,
  type CsyncData,
  type DnskeyData,
  type DsData,
  type InvariantId,
  type RecordType,
  type RRset,
  type RrsigData,
  type SoaData,
} from '@chorus/core';
import {
  canonicalName,
  dnskeyIdentity,
  dsIdentity,
  dsMatchesKey,
  formatRdata,
  isSubdomain,
  namesEqual,
  normalizeName,
  verifyRrsig,
} from '@chorus/dns';
import { isDeleteCdnskey, isDeleteCds } from '@chorus/parent';
import { absoluteTime, digestOf, isoTime, safeTag, tagsText, unique } from './invariant-text.js';
import { checkModel1, type OwnerFacts, type ServedDnskey } from './model1-checks.js';
import {
  cachedWhileReachable,
  reachableProviders,
  serverLabel,
  WireHistory,
  type CacheMargins,
  type ObservedProvider,
  type ObservedVersion,
} from './wire-history.js';

export interface InvariantViolation {
  invariant: InvariantId;
  /** Stable identity of this violation while it lasts: the same fault on the next round gives the same key. */
  key: string;
  /** Provider ids involved. */
  providers: string[];
  /** The records or RRset versions involved, short presentation text. */
  records: string[];
  /** One sentence an operator understands. */
  detail: string;
}

export interface InvariantInput {
  zone: string;
  parentZone: string;
  history: WireHistory;
  /** Every provider that is, was or may become a signer of the zone. */
  providers: readonly ObservedProvider[];
  /** Evaluation time, seconds since the epoch. */
  t: number;
  /** DprpC / DprpP. */
  margins: CacheMargins;
  /** Clock skew allowed for RRSIG inception (I5). Default 0. */
  skewSeconds?: number;
  /**
   * The RFC 8901 model: 1 when the zone owner signs the one DNSKEY RRset, else 2. Default: 1 with
   * `owner`, else 2. I8 applies to model 1 only; I9 to model 2 only.
   */
  model?: 1 | 2;
  /** Model 1: the owner's KSKs and refresh lead, for I8's owner-key and refresh checks. */
  owner?: OwnerFacts;
  /**
   * I9 for pre-published ZSKs: how long a reachable provider may lack a ZSK that another reachable
   * provider pre-publishes (standards §7.3 step 1) before it is reported. It covers the key watch
   * that notices the key and the reconcile that publishes it at every other signer. Default
   * {@link prePublishGraceSeconds}(margins): the sidecar's default key watch (30 s) + DprpC + 20 s.
   */
  prePublishGraceSeconds?: number;
}

/** The sidecar's default key watch interval (`keyWatchSeconds`). */
const DEFAULT_KEY_WATCH_SECONDS = 30;
/** One step transition and one reconcile at every signer on top of the key watch, on a loaded host. */
const RECONCILE_SLACK_SECONDS = 20;

/**
 * The default grace of I9 for pre-published ZSKs: the key watch that notices a new key
 * (`keyWatchSeconds` of the slowest signer), DprpC until every server of every signer serves what
 * its signer published, and 10 s for the step transition and reconcile. Well below the DNSKEY wait
 * a roll needs before the key may sign (key watch + DprpC + TTLkey + S), so the report comes first.
 */
export function prePublishGraceSeconds(
  margins: CacheMargins,
  keyWatchSeconds: number = DEFAULT_KEY_WATCH_SECONDS,
): number {
  return keyWatchSeconds + margins.childSeconds + RECONCILE_SLACK_SECONDS;
}

const PARENT = 'parent';
/** Types whose content is DNSSEC or parent input, left out of the content comparison (I7). */
const NOT_CONTENT: ReadonlySet<string> = new Set([
  'DNSKEY',
  'CDS',
  'CDNSKEY',
  'CSYNC',
  'DS',
  'RRSIG',
  'NSEC',
  'NSEC3',
  'NSEC3PARAM',
]);
/** Types whose rdata is (or starts with) a domain name: compared case-insensitively. */
const NAME_TYPES: ReadonlySet<string> = new Set([
  'NS',
  'CNAME',
  'DNAME',
  'PTR',
  'MX',
  'SRV',
  'SOA',
]);
/** RRsets a KSK signs, so signing them does not make a KSK a CSK. */
const KEY_SIGNED: ReadonlySet<string> = new Set(['DNSKEY', 'CDS', 'CDNSKEY']);
/** Authority-section sets of a negative answer that carry signatures. */
const SIGNED_AUTHORITY: ReadonlySet<string> = new Set(['SOA', 'NSEC', 'NSEC3']);

/** One evaluation: the input, derived sets and a memo of signature verifications. */
interface Evaluation {
  zone: string;
  parentZone: string;
  history: WireHistory;
  providers: readonly ObservedProvider[];
  t: number;
  margins: CacheMargins;
  skew: number;
  /** I9 grace for pre-published ZSKs, seconds. */
  prePublishGrace: number;
  /** Reachable provider ids, sorted. */
  reachable: string[];
  verified: WeakMap<RrsigData, Map<string, boolean>>;
  found: Map<string, InvariantViolation>;
}

/** A signed RRset as served by one server. */
interface ServedSet {
  version: ObservedVersion;
  rrset: RRset;
}

// ---------------------------------------------------------------------------------------------
// Small, total helpers

function sameName(a: string, b: string): boolean {
  try {
    return namesEqual(a, b);
  } catch {
    return canonicalName(a) === canonicalName(b);
  }
}

function inZone(name: string, zone: string): boolean {
  try {
    return isSubdomain(name, zone);
  } catch {
    return false;
  }
}

function absoluteName(name: string): string {
  try {
    return canonicalName(normalizeName(name));
  } catch {
    return canonicalName(name);
  }
}

function rdataText(type: RecordType, data: unknown): string {
  try {
    const text = formatRdata({ type, data } as Parameters<typeof formatRdata>[0]);
    return NAME_TYPES.has(type) ? canonicalName(text) : text;
  } catch {
    return JSON.stringify(data);
  }
}

/** Zone keys a validator may use: Zone Key flag set, not revoked (RFC 4034 §2.1.1, RFC 5011 §3). */
function zoneKeys(rrset: RRset | null | undefined): DnskeyData[] {
  if (!rrset || rrset.type !== 'DNSKEY') return [];
  return (rrset.records as DnskeyData[]).filter(
    (key) => (key.flags & DNSKEY_FLAG_ZONE) !== 0 && (key.flags & DNSKEY_FLAG_REVOKE) === 0,
  );
}

const isSep = (key: DnskeyData) => (key.flags & DNSKEY_FLAG_SEP) !== 0;

const keyTagsText = (keys: readonly DnskeyData[]) => tagsText(keys.map(safeTag));
const signerTagsText = (rrset: RRset) => tagsText(rrset.signatures.map((sig) => sig.keyTag));

function algorithms(values: Iterable<number>): Set<number> {
  return new Set(values);
}

function missing(required: Set<number>, present: Set<number>): number[] {
  return [...required].filter((alg) => !present.has(alg)).sort((a, b) => a - b);
}

const setLabel = (rrset: RRset) => `${absoluteName(rrset.name)} ${rrset.type}`;

/** A version as short text: `provider@versionId`. */
const versionLabel = (version: ObservedVersion) => `${version.server.provider}@${version.id}`;

/** Answered at all (the server was reachable and gave a usable rcode). */
const answered = (version: ObservedVersion) =>
  version.answer.rcode === 'NOERROR' || version.answer.rcode === 'NXDOMAIN';

// ---------------------------------------------------------------------------------------------
// Reading the history

/** The version each server served at `t` (its latest with firstSeen ≤ t). */
function servedAt(
  evaluation: Evaluation,
  filter: { provider?: string; owner?: string; type?: RecordType },
): ObservedVersion[] {
  const { t } = evaluation;
  return evaluation.history
    .versions(filter)
    .filter((version) => version.firstSeen <= t && (version.endedAt ?? Infinity) > t);
}

/** The TTL a resolver caches an answer for: the RRset's, or for a negative answer its authority's. */
function cacheTtl(version: ObservedVersion): number {
  const ttls = [version.answer.rrset?.ttl ?? 0, ...version.answer.authority.map((set) => set.ttl)];
  return Math.max(0, ...ttls);
}

/**
 * Possibly-cached versions (standards §8.1), as WireHistory.possiblyCached but with negative
 * answers cached for their authority TTL (RFC 2308 §5).
 */
function cachedAt(
  evaluation: Evaluation,
  filter: { provider?: string; type?: RecordType },
  marginSeconds: number,
): ObservedVersion[] {
  const { t } = evaluation;
  return evaluation.history
    .versions(filter)
    .filter(
      (version) =>
        version.firstSeen <= t &&
        WireHistory.servedUntil(version, t) >= t - (cacheTtl(version) + marginSeconds) &&
        wasCacheable(evaluation, version, marginSeconds),
    );
}

/** Served while its provider was reachable (always so for the parent); see `cachedWhileReachable`. */
function wasCacheable(
  evaluation: Evaluation,
  version: ObservedVersion,
  marginSeconds: number,
): boolean {
  if (version.server.provider === 'parent') return true;
  return cachedWhileReachable(
    evaluation.history,
    evaluation.zone,
    evaluation.providers,
    evaluation.margins,
    version,
    evaluation.t,
    marginSeconds + Math.max(0, cacheTtl(version) - (version.answer.rrset?.ttl ?? 0)),
  );
}

/** One version per distinct (provider, id); the first seen wins. */
function distinct(versions: readonly ObservedVersion[]): ObservedVersion[] {
  const byId = new Map<string, ObservedVersion>();
  for (const version of versions) {
    const id = `${version.server.provider}|${version.id}`;
    if (!byId.has(id)) byId.set(id, version);
  }
  return [...byId.values()];
}

const atApex = (evaluation: Evaluation, type: RecordType) => (version: ObservedVersion) =>
  version.answer.type === type && sameName(version.answer.owner, evaluation.zone);

/** The signed RRsets of an answer: the RRset asked for and the signed sets of a negative answer. */
function signedSets(version: ObservedVersion, zone: string): ServedSet[] {
  if (!answered(version)) return [];
  const sets: ServedSet[] = [];
  const rrset = version.answer.rrset;
  if (rrset && inZone(rrset.name, zone)) sets.push({ version, rrset });
  for (const set of version.answer.authority)
    if (SIGNED_AUTHORITY.has(set.type) && inZone(set.name, zone))
      sets.push({ version, rrset: set });
  return sets;
}

/** Current DS versions at the parent, and the possibly-cached ones, distinct. */
function dsVersions(evaluation: Evaluation, includeCached: boolean): ObservedVersion[] {
  const filter = { provider: PARENT, owner: evaluation.zone, type: 'DS' as const };
  const cached = includeCached
    ? evaluation.history.possiblyCached(filter, evaluation.t, evaluation.margins.parentSeconds)
    : [];
  return distinct([...servedAt(evaluation, filter), ...cached]).filter(
    (version) => version.answer.rcode === 'NOERROR',
  );
}

/**
 * True when the parent has answered for the zone's DS, and no answer up to t held a DS: an
 * insecure delegation that was never secure. A zone that had a DS and lost it is not this.
 */
function neverSecure(evaluation: Evaluation): boolean {
  const answered = evaluation.history
    .versions({ provider: PARENT, owner: evaluation.zone, type: 'DS' })
    .filter((version) => version.firstSeen <= evaluation.t && version.answer.rcode === 'NOERROR');
  return answered.length > 0 && answered.every((version) => dsRecords(version).length === 0);
}

/** Whether a DS answer with records came before `version`: its "no DS" then means insecure. */
function hadDsBefore(evaluation: Evaluation, version: ObservedVersion): boolean {
  return evaluation.history
    .versions({ provider: PARENT, owner: evaluation.zone, type: 'DS' })
    .some((other) => other.firstSeen < version.firstSeen && dsRecords(other).length > 0);
}

const dsRecords = (version: ObservedVersion): DsData[] =>
  version.answer.rrset?.type === 'DS' ? (version.answer.rrset.records as DsData[]) : [];

function dsText(records: readonly DsData[]): string {
  return records.length === 0 ? 'none' : tagsText(records.map((ds) => ds.keyTag));
}

// ---------------------------------------------------------------------------------------------
// Signature checks

/** True when `signature` over `rrset` verifies with `key` and is time-valid at t (memoised). */
function verifies(
  evaluation: Evaluation,
  rrset: RRset,
  signature: RrsigData,
  key: DnskeyData,
): boolean {
  let byKey = evaluation.verified.get(signature);
  if (!byKey) {
    byKey = new Map();
    evaluation.verified.set(signature, byKey);
  }
  const id = dnskeyIdentity(key);
  let ok = byKey.get(id);
  if (ok === undefined) {
    const signed = {
      name: rrset.name,
      type: rrset.type,
      class: rrset.class,
      records: rrset.records,
    };
    ok = verifyRrsig({ rrset: signed, signature, key, now: evaluation.t }).ok;
    byKey.set(id, ok);
  }
  return ok;
}

/** Some RRSIG over `rrset` whose (algorithm, key tag, signer) names `key` verifies with it. */
function signedWith(evaluation: Evaluation, rrset: RRset, key: DnskeyData): boolean {
  const tag = safeTag(key);
  return rrset.signatures.some(
    (signature) =>
      signature.algorithm === key.algorithm &&
      signature.keyTag === tag &&
      sameName(signature.signerName, evaluation.zone) &&
      verifies(evaluation, rrset, signature, key),
  );
}

/** RFC 4035 §5.2: some DS matches a zone key of `dnskey` that signs the whole RRset. */
function dsAuthenticates(
  evaluation: Evaluation,
  ds: readonly DsData[],
  dnskey: RRset | null,
): boolean {
  if (!dnskey) return false;
  return zoneKeys(dnskey).some(
    (key) =>
      ds.some((entry) => dsMatchesKey(evaluation.zone, entry, key)) &&
      signedWith(evaluation, dnskey, key),
  );
}

// ---------------------------------------------------------------------------------------------
// Reporting

function report(evaluation: Evaluation, violation: InvariantViolation): void {
  if (evaluation.found.has(violation.key)) return;
  evaluation.found.set(violation.key, {
    ...violation,
    providers: unique(violation.providers),
    records: unique(violation.records),
  });
}

// ---------------------------------------------------------------------------------------------
// The invariants

/** Providers (and NS names) a resolver may reach, from possibly-cached parent and apex NS sets. */
function nsNamesPossiblyCached(evaluation: Evaluation): string[] {
  const { history, zone, t, margins } = evaluation;
  const versions = [
    ...history.possiblyCached(
      { provider: PARENT, owner: zone, type: 'NS' },
      t,
      margins.parentSeconds,
    ),
    ...evaluation.reachable.flatMap((id) =>
      history.possiblyCached({ provider: id, owner: zone, type: 'NS' }, t, margins.childSeconds),
    ),
  ];
  return unique(
    versions.flatMap((version) =>
      version.answer.rrset?.type === 'NS' ? (version.answer.rrset.records as string[]) : [],
    ),
  ).map(absoluteName);
}

function describeFailure(versions: readonly ObservedVersion[]): string {
  if (versions.length === 0) return 'no answer observed';
  const reasons = versions.map((version) => {
    const { rcode, authoritative, error } = version.answer;
    if (rcode === null) return error ? `no answer (${error})` : 'no answer';
    if (rcode !== 'NOERROR') return `${rcode}`;
    return authoritative ? 'NOERROR' : 'a non-authoritative answer';
  });
  return unique(reasons).join(', ');
}

/** I1 (standards §8.2, RFC 1034 §4.3.1): every reachable provider answers authoritatively. */
function checkReachability(evaluation: Evaluation): void {
  const known = new Map<string, string>();
  for (const provider of evaluation.providers)
    for (const name of provider.nameServerNames) known.set(absoluteName(name), provider.id);
  for (const name of nsNamesPossiblyCached(evaluation))
    if (!known.has(name))
      report(evaluation, {
        invariant: 'I1',
        key: `I1|ns ${name}`,
        providers: [],
        records: [`${evaluation.zone} NS ${name}`],
        detail: `${name} is in a possibly-cached NS set of ${evaluation.zone} but belongs to no known provider, so nothing shows it answers.`,
      });

  for (const id of evaluation.reachable) {
    const probes = servedAt(evaluation, { provider: id }).filter(
      (version) => atApex(evaluation, 'SOA')(version) || atApex(evaluation, 'DNSKEY')(version),
    );
    const byServer = new Map<string, ObservedVersion[]>();
    for (const version of probes) {
      const label = serverLabel(version.server);
      byServer.set(label, [...(byServer.get(label) ?? []), version]);
    }
    const isGood = (version: ObservedVersion) =>
      version.answer.rcode === 'NOERROR' && version.answer.authoritative;
    const failing = [...byServer].filter(([, versions]) => !versions.some(isGood));
    const names = evaluation.providers.find((provider) => provider.id === id)?.nameServerNames;
    if (failing.length === byServer.size) {
      report(evaluation, {
        invariant: 'I1',
        key: `I1|${id}`,
        providers: [id],
        records: (names ?? []).map((name) => `${evaluation.zone} NS ${absoluteName(name)}`),
        detail: `${id} is reachable through a possibly-cached NS set but none of its ${byServer.size} servers answers authoritatively for ${evaluation.zone} (${describeFailure(probes)}).`,
      });
    }
    for (const [label, versions] of failing)
      report(evaluation, {
        invariant: 'I1',
        key: `I1|${id}|${label}`,
        providers: [id],
        records: [label],
        detail: `${id}'s server ${label} does not answer authoritatively for ${evaluation.zone} (${describeFailure(versions)}).`,
      });
  }
}

/** DNSKEY versions of a provider: current ones, and (optionally) possibly-cached ones. */
function dnskeyVersions(
  evaluation: Evaluation,
  provider: string,
  includeCached: boolean,
): { version: ObservedVersion; cached: boolean }[] {
  const filter = { provider, owner: evaluation.zone, type: 'DNSKEY' as const };
  const current = servedAt(evaluation, filter).filter(
    (version) => version.answer.rcode === 'NOERROR',
  );
  const currentIds = new Set(current.map((version) => version.id));
  const cached = includeCached
    ? evaluation.history
        .possiblyCached(filter, evaluation.t, evaluation.margins.childSeconds)
        .filter(
          (version) =>
            version.answer.rcode === 'NOERROR' &&
            wasCacheable(evaluation, version, evaluation.margins.childSeconds),
        )
    : [];
  return distinct([...current, ...cached]).map((version) => ({
    version,
    cached: !currentIds.has(version.id),
  }));
}

/** I2 (standards §8.2, RFC 4035 §5.2): every possibly-cached or current DS set authenticates each reachable provider's DNSKEY RRset. */
function checkDsToDnskey(evaluation: Evaluation): void {
  const dsSets = dsVersions(evaluation, true);
  for (const id of evaluation.reachable)
    for (const { version: dnskey, cached } of dnskeyVersions(evaluation, id, true))
      for (const ds of dsSets) {
        const records = dsRecords(ds);
        if (records.length === 0 && !hadDsBefore(evaluation, ds)) continue;
        if (dsAuthenticates(evaluation, records, dnskey.answer.rrset)) continue;
        const rrset = dnskey.answer.rrset;
        const why = !rrset
          ? `${id} serves no DNSKEY RRset`
          : records.length === 0
            ? `the parent zone ${evaluation.parentZone} serves no DS for ${evaluation.zone}`
            : `no DS (tags ${dsText(records)}) matches a key of ${id}'s DNSKEY RRset (tags ${keyTagsText(zoneKeys(rrset))}) whose RRSIG over the RRset verifies now`;
        report(evaluation, {
          invariant: 'I2',
          key: `I2|${id}|ds ${ds.id}|dnskey ${versionLabel(dnskey)}`,
          providers: [id],
          records: [
            `DS ${versionLabel(ds)} tags ${dsText(records)}`,
            `DNSKEY ${versionLabel(dnskey)} tags ${keyTagsText(zoneKeys(rrset))}`,
          ],
          detail: `${cached ? '(cached DNSKEY) ' : ''}A resolver holding DS version ${ds.id} cannot authenticate ${id}'s DNSKEY RRset ${dnskey.id}: ${why}.`,
        });
      }
}

/**
 * Signed RRsets a resolver may hold or fetch from reachable providers. Not DNSKEY, CDS and
 * CDNSKEY: signers sign those with their own KSKs, which only their own DNSKEY RRset holds in
 * model 2; the parent validates them per provider (I6).
 */
function dataSets(evaluation: Evaluation): ServedSet[] {
  return evaluation.reachable
    .flatMap((id) => cachedAt(evaluation, { provider: id }, evaluation.margins.childSeconds))
    .filter((version) => !KEY_SIGNED.has(version.answer.type))
    .flatMap((version) => signedSets(version, evaluation.zone))
    .filter((set) => !KEY_SIGNED.has(set.rrset.type));
}

/** I3 (standards §8.2, RFC 8901 §3): every cacheable DNSKEY RRset validates every cacheable or fetchable signed RRset. */
function checkDnskeyToData(evaluation: Evaluation): void {
  const keySets = distinct(
    evaluation.reachable.flatMap((id) =>
      evaluation.history
        .possiblyCached(
          { provider: id, owner: evaluation.zone, type: 'DNSKEY' },
          evaluation.t,
          evaluation.margins.childSeconds,
        )
        .filter(
          (version) =>
            version.answer.rcode === 'NOERROR' &&
            version.answer.rrset &&
            wasCacheable(evaluation, version, evaluation.margins.childSeconds),
        ),
    ),
  );
  const data = dataSets(evaluation);
  for (const keySet of keySets) {
    const keys = zoneKeys(keySet.answer.rrset);
    const holder = keySet.server.provider;
    for (const { version, rrset } of data) {
      if (keys.some((key) => signedWith(evaluation, rrset, key))) continue;
      const server = version.server.provider;
      report(evaluation, {
        invariant: 'I3',
        key: `I3|${server}|${setLabel(rrset)}|by ${signerTagsText(rrset)}|dnskey ${versionLabel(keySet)}`,
        providers: [server, holder],
        records: [
          `${setLabel(rrset)} from ${server} signed by ${signerTagsText(rrset)}`,
          `DNSKEY ${versionLabel(keySet)} tags ${keyTagsText(keys)}`,
        ],
        detail: `A resolver holding ${holder}'s DNSKEY RRset ${keySet.id} (keys ${keyTagsText(keys)}) cannot validate ${setLabel(rrset)} from ${server}, signed by ${signerTagsText(rrset)}.`,
      });
    }
  }
}

/** Each current server of a provider with its current DNSKEY answer and other answers. */
function serversOf(
  evaluation: Evaluation,
  provider: string,
): { label: string; dnskey?: ObservedVersion; answers: ObservedVersion[] }[] {
  const byServer = new Map<string, { dnskey?: ObservedVersion; answers: ObservedVersion[] }>();
  for (const version of servedAt(evaluation, { provider })) {
    const label = serverLabel(version.server);
    const entry = byServer.get(label) ?? { answers: [] };
    byServer.set(label, entry);
    if (atApex(evaluation, 'DNSKEY')(version)) entry.dnskey = version;
    entry.answers.push(version);
  }
  return [...byServer].map(([label, entry]) => ({ label, ...entry }));
}

/** Algorithms of the RRSIGs over `rrset` made by the zone. */
function signatureAlgorithms(evaluation: Evaluation, rrset: RRset): Set<number> {
  return algorithms(
    rrset.signatures
      .filter((sig) => sameName(sig.signerName, evaluation.zone))
      .map((sig) => sig.algorithm),
  );
}

/** I4 (RFC 4035 §2.2, RFC 6840 §5.11): DS algorithms sign and appear in DNSKEY; every RRset is signed with every DNSKEY algorithm. */
function checkAlgorithms(evaluation: Evaluation): void {
  const dsSets = dsVersions(evaluation, false);
  for (const id of evaluation.reachable)
    for (const server of serversOf(evaluation, id)) {
      const dnskey = server.dnskey?.answer.rrset;
      if (!server.dnskey || !dnskey || server.dnskey.answer.rcode !== 'NOERROR') continue;
      const keyAlgs = algorithms(zoneKeys(dnskey).map((key) => key.algorithm));
      const keyLabel = versionLabel(server.dnskey);
      for (const ds of dsSets) {
        const dsAlgs = algorithms(dsRecords(ds).map((entry) => entry.algorithm));
        const unsigned = missing(dsAlgs, signatureAlgorithms(evaluation, dnskey));
        const absent = missing(dsAlgs, keyAlgs);
        for (const [what, algs] of [
          ['signs', unsigned],
          ['is in', absent],
        ] as const)
          if (algs.length > 0)
            report(evaluation, {
              invariant: 'I4',
              key: `I4|${id}|ds ${ds.id}|dnskey ${keyLabel}|${what === 'signs' ? 'rrsig' : 'key'} algorithms`,
              providers: [id],
              records: [`DS ${versionLabel(ds)}`, `DNSKEY ${keyLabel}`],
              detail: `The DS set has algorithm ${algs.join(', ')} but no key of that algorithm ${what} ${id}'s DNSKEY RRset ${server.dnskey.id}.`,
            });
      }
      for (const answer of server.answers)
        for (const { rrset } of signedSets(answer, evaluation.zone)) {
          const absent = missing(keyAlgs, signatureAlgorithms(evaluation, rrset));
          if (absent.length === 0) continue;
          report(evaluation, {
            invariant: 'I4',
            key: `I4|${id}|${setLabel(rrset)}|by ${signerTagsText(rrset)}|dnskey ${keyLabel}`,
            providers: [id],
            records: [
              `${setLabel(rrset)} signed by ${signerTagsText(rrset)}`,
              `DNSKEY ${keyLabel}`,
            ],
            detail: `${setLabel(rrset)} from ${id} is not signed with algorithm ${absent.join(', ')}, which ${id}'s DNSKEY RRset contains.`,
          });
        }
    }
}

function checkSignatureTimes(
  evaluation: Evaluation,
  provider: string,
  rrset: RRset,
  marginSeconds: number,
): void {
  const { t } = evaluation;
  for (const sig of rrset.signatures) {
    const inception = absoluteTime(sig.inception, t);
    const expiration = absoluteTime(sig.expiration, t);
    const by = `${sig.algorithm}/${sig.keyTag}`;
    const record = `RRSIG ${setLabel(rrset)} by ${by} ${isoTime(inception)}–${isoTime(expiration)}`;
    if (inception > t - evaluation.skew)
      report(evaluation, {
        invariant: 'I5',
        key: `I5|${provider}|${setLabel(rrset)}|by ${by}|inception`,
        providers: [provider],
        records: [record],
        detail: `${provider} serves an RRSIG over ${setLabel(rrset)} by key ${sig.keyTag} that is not valid before ${isoTime(inception)} (allowed skew ${evaluation.skew} s).`,
      });
    const needed = t + rrset.ttl + marginSeconds;
    if (expiration < needed)
      report(evaluation, {
        invariant: 'I5',
        key: `I5|${provider}|${setLabel(rrset)}|by ${by}|expiration`,
        providers: [provider],
        records: [record],
        detail: `${provider} serves an RRSIG over ${setLabel(rrset)} by key ${sig.keyTag} expiring ${isoTime(expiration)}, before a copy cached now expires (${isoTime(Math.ceil(needed))}).`,
      });
  }
}

/** I5 (standards §8.2, RFC 4035 §5.3.3): served RRSIGs are valid now and outlive any copy cached now. */
function checkSignatureMargins(evaluation: Evaluation): void {
  for (const ds of dsVersions(evaluation, false))
    if (ds.answer.rrset)
      checkSignatureTimes(evaluation, PARENT, ds.answer.rrset, evaluation.margins.parentSeconds);
  for (const id of evaluation.reachable)
    for (const version of servedAt(evaluation, { provider: id }))
      for (const { rrset } of signedSets(version, evaluation.zone))
        checkSignatureTimes(evaluation, id, rrset, evaluation.margins.childSeconds);
}

/** The comparable content of one answer for I6/I7: records sorted, `NODATA` or the rcode. */
function contentOf(version: ObservedVersion, ignoreSerial = false): string {
  const { rcode, rrset } = version.answer;
  if (rcode !== 'NOERROR') return rcode ?? 'no answer';
  if (!rrset || rrset.records.length === 0) return 'NODATA';
  return unique(
    (rrset.records as unknown[]).map((data) => {
      if (rrset.type === 'CSYNC') {
        const csync = data as CsyncData;
        // cds-consistency §3.2: the immediate flag and the type bitmap must agree, the serial may not.
        return `immediate=${csync.flags & 1} ${[...csync.types].sort().join(' ')}`;
      }
      if (rrset.type === 'CDS') return dsIdentity(data as DsData);
      if (rrset.type === 'CDNSKEY') return dnskeyIdentity(data as DnskeyData);
      if (rrset.type === 'SOA' && ignoreSerial) {
        // Each provider names its own primary and keeps its own serial (RFC 8901 §2.1, model 2).
        const soa = data as SoaData;
        return canonicalName(
          `* ${soa.rname} * ${soa.refresh} ${soa.retry} ${soa.expire} ${soa.minimum}`,
        );
      }
      return rdataText(rrset.type, data);
    }),
  ).join(' | ');
}

/** Groups `entries` by content; more than one group means they differ. */
function groupByContent(
  entries: readonly { provider: string; label: string; content: string }[],
): Map<string, { provider: string; label: string }[]> {
  const groups = new Map<string, { provider: string; label: string }[]>();
  for (const entry of entries)
    groups.set(entry.content, [...(groups.get(entry.content) ?? []), entry]);
  return groups;
}

function describeGroups(groups: Map<string, { provider: string; label: string }[]>): string {
  return [...groups]
    .map(
      ([content, servers]) =>
        `${unique(servers.map((server) => `${server.provider} ${server.label}`)).join(', ')} serve ${content}`,
    )
    .join('; ');
}

/** True when the CDS set and the CDNSKEY set of one server reference the same keys (RFC 7344 §4). */
function cdsMatchesCdnskey(
  zone: string,
  cds: readonly DsData[],
  cdnskey: readonly DnskeyData[],
): boolean {
  const cdsDelete = cds.length > 0 && cds.every(isDeleteCds);
  const cdnskeyDelete = cdnskey.length > 0 && cdnskey.every(isDeleteCdnskey);
  if (cdsDelete || cdnskeyDelete) return cdsDelete === cdnskeyDelete;
  const refers = (ds: DsData, key: DnskeyData) =>
    dsMatchesKey(zone, ds, key) ||
    // A digest type core does not compute: the key tag and algorithm must still agree.
    (ds.digestType !== 2 &&
      ds.digestType !== 4 &&
      ds.keyTag === safeTag(key) &&
      ds.algorithm === key.algorithm);
  return (
    cds.every((ds) => cdnskey.some((key) => refers(ds, key))) &&
    cdnskey.every((key) => cds.some((ds) => refers(ds, key)))
  );
}

/** I6 (cds-consistency §3, RFC 7344 §4.1): delegated servers agree on CDS, CDNSKEY, CSYNC and NS; CDS keeps every reachable provider validatable. */
function checkParentInput(evaluation: Evaluation): void {
  const { zone } = evaluation;
  const delegated = new Set(
    servedAt(evaluation, { provider: PARENT, owner: zone, type: 'NS' }).flatMap((version) =>
      version.answer.rrset?.type === 'NS'
        ? (version.answer.rrset.records as string[]).map(absoluteName)
        : [],
    ),
  );
  const providers = evaluation.providers
    .filter((provider) =>
      provider.nameServerNames.some((name) => delegated.has(absoluteName(name))),
    )
    .map((provider) => provider.id);

  const answersByType = (type: RecordType) =>
    providers.flatMap((provider) =>
      servedAt(evaluation, { provider, owner: zone, type })
        .filter((version) => version.answer.rcode !== null)
        .map((version) => ({ provider, label: serverLabel(version.server), version })),
    );

  for (const type of ['CDS', 'CDNSKEY', 'CSYNC', 'NS'] as const) {
    const entries = answersByType(type).map((entry) => ({
      ...entry,
      content: contentOf(entry.version),
    }));
    const groups = groupByContent(entries);
    if (groups.size <= 1) continue;
    report(evaluation, {
      invariant: 'I6',
      key: `I6|${type}|differs|${digestOf([...groups.keys()].sort())}`,
      providers: entries.map((entry) => entry.provider),
      records: [...groups.keys()].map((content) => `${zone} ${type} ${content}`),
      detail: `The servers in the current delegation disagree on ${zone} ${type}, so the parent must not act: ${describeGroups(groups)}.`,
    });
  }

  // Per server, the CDS and CDNSKEY sets must reference the same keys.
  const cdnskeyByServer = new Map(
    answersByType('CDNSKEY').map((entry) => [`${entry.provider}|${entry.label}`, entry.version]),
  );
  const cdsSets = new Map<string, DsData[]>();
  for (const entry of answersByType('CDS')) {
    const cds =
      entry.version.answer.rrset?.type === 'CDS'
        ? (entry.version.answer.rrset.records as DsData[])
        : [];
    if (cds.length > 0 && !cds.every(isDeleteCds)) cdsSets.set(contentOf(entry.version), cds);
    const cdnskeyVersion = cdnskeyByServer.get(`${entry.provider}|${entry.label}`);
    if (
      !cdnskeyVersion ||
      cdnskeyVersion.answer.rcode !== 'NOERROR' ||
      entry.version.answer.rcode !== 'NOERROR'
    )
      continue;
    const cdnskeyRrset = cdnskeyVersion.answer.rrset;
    const cdnskey = cdnskeyRrset?.type === 'CDNSKEY' ? (cdnskeyRrset.records as DnskeyData[]) : [];
    if (cdsMatchesCdnskey(zone, cds, cdnskey)) continue;
    const cdsContent = contentOf(entry.version);
    const cdnskeyContent = contentOf(cdnskeyVersion);
    report(evaluation, {
      invariant: 'I6',
      key: `I6|CDS-CDNSKEY mismatch|${entry.provider}|${digestOf([cdsContent, cdnskeyContent])}`,
      providers: [entry.provider],
      records: [`${zone} CDS ${cdsContent}`, `${zone} CDNSKEY ${cdnskeyContent}`],
      detail: `${entry.provider}'s CDS (keys ${tagsText(cds.map((ds) => ds.keyTag))}) and CDNSKEY (keys ${keyTagsText(cdnskey)}) reference different keys.`,
    });
  }

  // Continuity: the DS set a published CDS implies keeps every reachable provider validatable.
  for (const [content, cds] of cdsSets)
    for (const id of evaluation.reachable)
      for (const { version } of dnskeyVersions(evaluation, id, false)) {
        if (dsAuthenticates(evaluation, cds, version.answer.rrset)) continue;
        report(evaluation, {
          invariant: 'I6',
          key: `I6|continuity|${id}|cds ${digestOf([content])}|dnskey ${versionLabel(version)}`,
          providers: [id],
          records: [`${zone} CDS ${content}`, `DNSKEY ${versionLabel(version)}`],
          detail: `Applying the published CDS (keys ${tagsText(cds.map((ds) => ds.keyTag))}) would leave no DS for a key that signs ${id}'s DNSKEY RRset (keys ${keyTagsText(zoneKeys(version.answer.rrset))}).`,
        });
      }
}

/** I7 (standards §8.2, RFC 8901 §5): reachable providers serve the same non-DNSSEC content and one denial method. */
function checkContent(evaluation: Evaluation): void {
  const questions = new Map<string, { provider: string; label: string; content: string }[]>();
  const denial = new Map<string, { provider: string; label: string; content: string }[]>();
  for (const id of evaluation.reachable)
    for (const version of servedAt(evaluation, { provider: id })) {
      const { answer } = version;
      if (!answered(version) || !answer.authoritative || !inZone(answer.owner, evaluation.zone))
        continue;
      const label = serverLabel(version.server);
      for (const kind of ['NSEC', 'NSEC3'] as const)
        if (answer.authority.some((set) => set.type === kind))
          denial.set(kind, [...(denial.get(kind) ?? []), { provider: id, label, content: kind }]);
      if (NOT_CONTENT.has(answer.type)) continue;
      const question = `${absoluteName(answer.owner)} ${answer.type}`;
      const entry = { provider: id, label, content: contentOf(version, true) };
      questions.set(question, [...(questions.get(question) ?? []), entry]);
    }
  for (const [question, entries] of questions) {
    const groups = groupByContent(entries);
    if (groups.size <= 1) continue;
    report(evaluation, {
      invariant: 'I7',
      key: `I7|${question}|${digestOf([...groups.keys()].sort())}`,
      providers: entries.map((entry) => entry.provider),
      records: [...groups.keys()].map((content) => `${question} ${content}`),
      detail: `Reachable providers serve different ${question}${question.endsWith(' SOA') ? ' (serial ignored)' : ''}: ${describeGroups(groups)}.`,
    });
  }
  if (denial.size > 1) {
    const entries = [...denial.values()].flat();
    report(evaluation, {
      invariant: 'I7',
      key: 'I7|mixed denial',
      providers: entries.map((entry) => entry.provider),
      records: ['NSEC', 'NSEC3'],
      detail: `Mixed denial of existence: ${describeGroups(groupByContent(entries))}.`,
    });
  }
}

/** Z(q): q's ZSKs, and its SEP keys that sign zone data (CSKs), by identity. */
function zoneSigningKeys(evaluation: Evaluation, id: string): Map<string, DnskeyData> {
  const current = servedAt(evaluation, { provider: id });
  const dataSigners = new Set(
    current
      .flatMap((version) => signedSets(version, evaluation.zone))
      .filter(({ rrset }) => !KEY_SIGNED.has(rrset.type))
      .flatMap(({ rrset }) => rrset.signatures.map((sig) => `${sig.algorithm}/${sig.keyTag}`)),
  );
  const keys = new Map<string, DnskeyData>();
  for (const version of current.filter(atApex(evaluation, 'DNSKEY')))
    for (const key of zoneKeys(version.answer.rrset))
      // The keys that sign the provider's data: its RRset also holds the other providers' ZSKs.
      if (dataSigners.has(`${key.algorithm}/${safeTag(key)}`)) keys.set(dnskeyIdentity(key), key);
  return keys;
}

/** The signer sets (`algorithm/tag`) of each data RRset q serves now. */
function dataSignerSets(evaluation: Evaluation, id: string): Set<string>[] {
  return servedAt(evaluation, { provider: id })
    .flatMap((version) => signedSets(version, evaluation.zone))
    .filter(({ rrset }) => !KEY_SIGNED.has(rrset.type))
    .map(({ rrset }) => new Set(rrset.signatures.map((sig) => `${sig.algorithm}/${sig.keyTag}`)));
}

/**
 * Whether every data RRset q signs with `tag` also carries a signature by a key in `published`:
 * a key q is introducing beside its predecessor (BIND signs with both for a moment), which a
 * resolver holding that DNSKEY RRset does not need yet. Once q signs data with it alone, it is
 * required (and a resolver that lacks it fails: I3).
 */
function coSignedWithPublishedKey(
  signerSets: readonly Set<string>[],
  tag: string,
  published: readonly DnskeyData[],
): boolean {
  const tags = new Set(published.map((key) => `${key.algorithm}/${safeTag(key)}`));
  return signerSets
    .filter((signers) => signers.has(tag))
    .every((signers) => [...signers].some((other) => other !== tag && tags.has(other)));
}

/** `algorithm/tag` of every key seen signing zone data (not DNSKEY, CDS, CDNSKEY) at any provider up to t. */
function everSignedData(evaluation: Evaluation): Set<string> {
  const signers = new Set<string>();
  for (const version of evaluation.history.versions())
    if (version.firstSeen <= evaluation.t)
      for (const { rrset } of signedSets(version, evaluation.zone))
        if (!KEY_SIGNED.has(rrset.type))
          for (const sig of rrset.signatures) signers.add(`${sig.algorithm}/${sig.keyTag}`);
  return signers;
}

/** A provider's apex DNSKEY versions up to t, per server, oldest first: the last is the one served at t. */
function dnskeySequences(evaluation: Evaluation, provider: string): ObservedVersion[][] {
  const byServer = new Map<string, ObservedVersion[]>();
  const filter = { provider, owner: evaluation.zone, type: 'DNSKEY' as const };
  for (const version of evaluation.history.versions(filter))
    if (version.firstSeen <= evaluation.t) {
      const label = serverLabel(version.server);
      byServer.set(label, [...(byServer.get(label) ?? []), version]);
    }
  return [...byServer.values()].map((sequence) =>
    sequence.sort((a, b) => a.firstSeen - b.firstSeen),
  );
}

/** The trailing run of `sequence` (whose last version `holds`): when it began, and the version before it. */
function trailingRun(
  sequence: readonly ObservedVersion[],
  holds: (version: ObservedVersion) => boolean,
): { since: number; before?: ObservedVersion } {
  let index = sequence.length - 1;
  while (index > 0 && holds(sequence[index - 1]!)) index -= 1;
  const before = sequence[index - 1];
  return { since: sequence[index]!.firstSeen, ...(before ? { before } : {}) };
}

/**
 * I9 for pre-published ZSKs (standards §7.3 step 1; `Z(q)` includes them, §7). A pre-published ZSK
 * of q: a zone key without the SEP flag in q's current DNSKEY RRset that no provider was ever seen
 * signing zone data with in the history. That leaves out by construction a predecessor being
 * dropped and a leaving signer's keys: both signed before. Chorus makes every other provider
 * publish such a key within a key watch and a reconcile, long before it may sign, so a server of a
 * reachable p is reported only once it has lacked the key for longer than the grace, counted from
 * when q started serving it or, if later, when that server stopped serving it.
 */
function checkPrePublished(evaluation: Evaluation, signingNow: ReadonlySet<string>): void {
  const { zone, t, reachable } = evaluation;
  const sequences = new Map(reachable.map((id) => [id, dnskeySequences(evaluation, id)]));
  let signing: Set<string> | undefined;
  for (const q of reachable) {
    const qSequences = sequences.get(q) ?? [];
    const candidates = new Map<string, DnskeyData>();
    for (const sequence of qSequences.filter((each) => each.at(-1)!.answer.rcode === 'NOERROR'))
      for (const key of zoneKeys(sequence.at(-1)!.answer.rrset))
        if (!isSep(key) && !signingNow.has(dnskeyIdentity(key)))
          candidates.set(dnskeyIdentity(key), key);
    for (const [identity, key] of candidates) {
      const tag = `${key.algorithm}/${safeTag(key)}`;
      signing ??= everSignedData(evaluation);
      if (signing.has(tag)) continue;
      const publishes = (version: ObservedVersion) =>
        version.answer.rcode === 'NOERROR' &&
        zoneKeys(version.answer.rrset).some((own) => dnskeyIdentity(own) === identity);
      const serving = qSequences.filter((sequence) => publishes(sequence.at(-1)!));
      const servingSince = Math.min(
        ...serving.map((sequence) => trailingRun(sequence, publishes).since),
      );
      for (const p of reachable) {
        const lacking: { version: ObservedVersion; since: number; dropped: boolean }[] = [];
        for (const sequence of sequences.get(p) ?? []) {
          const current = sequence.at(-1)!;
          if (current.answer.rcode !== 'NOERROR' || publishes(current)) continue;
          const run = trailingRun(sequence, (version) => !publishes(version));
          const since = Math.max(servingSince, run.since);
          if (t - since <= evaluation.prePublishGrace) continue;
          lacking.push({
            version: current,
            since,
            dropped: run.before !== undefined && run.since > servingSince,
          });
        }
        if (lacking.length === 0) continue;
        const servers = unique(lacking.map((entry) => serverLabel(entry.version.server))).join(
          ', ',
        );
        const missingFor = Math.round(t - Math.min(...lacking.map((entry) => entry.since)));
        const what = lacking.every((entry) => entry.dropped)
          ? `dropped it ${missingFor} s ago`
          : `does not publish it (for ${missingFor} s)`;
        const who = p === q ? `${q}'s server ${servers}` : `${p} (${servers})`;
        report(evaluation, {
          invariant: 'I9',
          key: `I9|${p}|lacks pre-published zsk ${tag} of ${q}`,
          providers: [p, q],
          records: [
            `${zone} DNSKEY ${key.flags} ${key.protocol} ${key.algorithm} (tag ${safeTag(key)})`,
            ...serving.map((sequence) => `DNSKEY ${versionLabel(sequence.at(-1)!)}`),
            ...lacking.map((entry) => `DNSKEY ${versionLabel(entry.version)}`),
          ],
          detail: `${q} pre-publishes ZSK ${safeTag(key)} since ${Math.round(t - servingSince)} s but ${who} ${what}; when ${q} starts signing with it, resolvers holding ${p === q ? 'that' : `${p}'s`} DNSKEY RRset will fail to validate ${q}'s data.`,
        });
      }
    }
  }
}

/** I9 (standards §8.2, RFC 8901 §2.1.2): every provider publishes every provider's ZSKs, pre-published ones included; the DS has a KSK of every provider. */
function checkSteadyState(evaluation: Evaluation): void {
  const { zone, reachable } = evaluation;
  const zsks = new Map(reachable.map((id) => [id, zoneSigningKeys(evaluation, id)]));
  const signerSets = new Map(reachable.map((id) => [id, dataSignerSets(evaluation, id)]));
  for (const p of reachable) {
    const published = dnskeyVersions(evaluation, p, false);
    for (const q of reachable)
      for (const [identity, key] of zsks.get(q) ?? [])
        for (const { version } of published) {
          const keys = zoneKeys(version.answer.rrset);
          if (keys.some((own) => dnskeyIdentity(own) === identity)) continue;
          const tag = `${key.algorithm}/${safeTag(key)}`;
          if (coSignedWithPublishedKey(signerSets.get(q) ?? [], tag, keys)) continue;
          report(evaluation, {
            invariant: 'I9',
            key: `I9|${p}|lacks zsk ${tag} of ${q}`,
            providers: [p, q],
            records: [
              `${zone} DNSKEY ${key.flags} ${key.protocol} ${key.algorithm} (tag ${safeTag(key)})`,
              `DNSKEY ${versionLabel(version)}`,
            ],
            detail: `${p}'s DNSKEY RRset does not contain ${q}'s zone-signing key ${safeTag(key)}, so a resolver holding it cannot validate data signed by ${q}.`,
          });
        }
    for (const ds of dsVersions(evaluation, false))
      for (const { version } of published) {
        const ksks = zoneKeys(version.answer.rrset).filter(isSep);
        if (ksks.some((key) => dsRecords(ds).some((entry) => dsMatchesKey(zone, entry, key))))
          continue;
        report(evaluation, {
          invariant: 'I9',
          key: `I9|${p}|no ds|ds ${ds.id}`,
          providers: [p],
          records: [
            `DS ${versionLabel(ds)} tags ${dsText(dsRecords(ds))}`,
            `DNSKEY ${versionLabel(version)} KSKs ${keyTagsText(ksks)}`,
          ],
          detail: `The parent's DS set (tags ${dsText(dsRecords(ds))}) has no DS for a KSK of ${p} (KSKs ${keyTagsText(ksks)}).`,
        });
      }
  }
  // Keys that sign now are in Z(q) above; the history is read only for the others.
  checkPrePublished(evaluation, new Set([...zsks.values()].flatMap((keys) => [...keys.keys()])));
}

/** The DNSKEY answers (NOERROR) the servers of reachable providers serve at t, for I8. */
function servedDnskeys(evaluation: Evaluation): ServedDnskey[] {
  return evaluation.reachable.flatMap((provider) =>
    servedAt(evaluation, { provider, owner: evaluation.zone, type: 'DNSKEY' })
      .filter((version) => version.answer.rcode === 'NOERROR')
      .map((version) => ({ provider, version })),
  );
}

/**
 * Evaluates I1–I9 (standards §8.2) at `input.t`. Returns every violation once, sorted by key.
 */
export function evaluateInvariants(input: InvariantInput): InvariantViolation[] {
  const zone = absoluteName(input.zone);
  const model = input.model ?? (input.owner ? 1 : 2);
  const evaluation: Evaluation = {
    zone,
    parentZone: absoluteName(input.parentZone),
    history: input.history,
    providers: input.providers,
    t: input.t,
    margins: input.margins,
    skew: input.skewSeconds ?? 0,
    prePublishGrace: input.prePublishGraceSeconds ?? prePublishGraceSeconds(input.margins),
    reachable: [
      ...reachableProviders(input.history, zone, input.providers, input.t, input.margins),
    ].sort(),
    verified: new WeakMap(),
    found: new Map(),
  };
  // Before its first DS the zone is insecure: no resolver validates it, so only reachability,
  // signature times, the parent's input and content are checked (RFC 9615 bootstrapping).
  const validated = !neverSecure(evaluation);
  checkReachability(evaluation);
  if (validated) {
    checkDsToDnskey(evaluation);
    checkDnskeyToData(evaluation);
    checkAlgorithms(evaluation);
  }
  checkSignatureMargins(evaluation);
  checkParentInput(evaluation);
  checkContent(evaluation);
  if (model === 1)
    checkModel1({
      zone,
      t: input.t,
      ...(input.owner ? { owner: input.owner } : {}),
      served: servedDnskeys(evaluation),
      // Twice the I9 grace: a key-watch round that began just before the owner signed misses
      // the new set, and the next one brings it.
      transitGraceSeconds: 2 * evaluation.prePublishGrace,
      report: (violation) => report(evaluation, violation),
    });
  else if (validated) checkSteadyState(evaluation);
  return [...evaluation.found.values()].sort((a, b) =>
    a.invariant === b.invariant
      ? a.key.localeCompare(b.key)
      : a.invariant.localeCompare(b.invariant),
  );
}
