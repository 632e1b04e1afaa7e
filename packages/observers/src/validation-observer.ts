/**
 * An observer that validates a zone independently at every provider (with core's own validator)
 * and asks validating resolvers the same questions, reporting every bogus verdict and every
 * disagreement between our verdict and a resolver pinned to a provider.
 */
import { randomBytes } from 'node:crypto';
import { keyTag, normalizeName, query } from '@chorus/dns';
import type {
  ChorusEventEnvelope,
  DnskeyData,
  DsData,
  InvariantId,
  NameServer,
  Observer,
  RecordType,
} from '@chorus/core';
import { recordValidationCheck, recordValidationFailure } from '@chorus/engine';
import type { ZoneGroup } from './consistency-observer.js';
import { explainOwnerSignature, type OwnerFacts } from './model1-checks.js';
import { validateViaProvider, type ValidatorResolve, type Verdict } from './validator.js';
import {
  WireHistory,
  cachedWhileReachable,
  reachableProviders,
  serverLabel,
  type CacheMargins,
  type ObservedProvider,
  type ObservedVersion,
} from './wire-history.js';

/** A problem the observer saw; plain JSON. */
export interface ValidationFinding {
  kind: 'validation-failure' | 'disagreement';
  /** ISO 8601. */
  at: string;
  provider?: string;
  resolver?: string;
  name: string;
  type: RecordType;
  detail: string;
  /** The §8.2 invariant a failure is an instance of: I1 unreachable, I2 DS→DNSKEY, I3 DNSKEY→data. */
  invariant?: InvariantId;
  /** The process in flight when it was seen, if any. */
  processId?: string;
}

export interface ProbeName {
  name: string;
  type: RecordType;
}

/** What one resolver said about one probe. */
export interface ResolverAnswer {
  resolver: string;
  pinnedTo?: string;
  name: string;
  type: RecordType;
  /** Null when the resolver could not be reached. */
  rcode: string | null;
  ad: boolean;
  error?: string;
}

export interface ProviderVerdict {
  provider: string;
  name: string;
  type: RecordType;
  verdict: Verdict;
  /** Verdicts for resolvers holding possibly-cached DS and DNSKEY versions (with a history). */
  cached?: { ds: string; dnskey: string; strict: boolean; verdict: Verdict }[];
  /** Whether a resolver could reach the provider now (with a history); absent without one. */
  reachable?: boolean;
}

/** The result of one {@link ValidationObserver.probeOnce}; plain JSON. */
export interface ProbeReport {
  /** ISO 8601 start of the probe. */
  at: string;
  zone: string;
  probes: ProbeName[];
  verdicts: ProviderVerdict[];
  resolvers: ResolverAnswer[];
  findings: ValidationFinding[];
  /** The last step boundary event the observer saw before the probe, if any. */
  lastStep?: { type: string; occurredAt: string };
}

export interface ValidationObserverOptions {
  zone: string;
  parentZone: string;
  /** DS of the parent zone's KSK(s). */
  trustAnchorDs: readonly DsData[];
  parentServers: readonly NameServer[];
  providers: readonly { id: string; server: NameServer }[];
  /** Validating resolvers, asked with RD=1; `pinnedTo` names the provider it is pinned to. */
  resolvers: readonly { id: string; server: NameServer; pinnedTo?: string }[];
  /** Default: `www.<zone>` A and a fresh random nonexistent name A on every probe. */
  probeNames?: readonly ProbeName[];
  /** When set, probe on this interval until shutdown. */
  intervalMs?: number;
  onFinding?: (finding: ValidationFinding) => void;
  /** Injectable DNS access for the validator (defaults to core's query). */
  resolve?: ValidatorResolve;
  /** Validation time in seconds since the epoch; defaults to the current time. */
  now?: () => number;
  /** Injectable resolver access (RD=1, DO=1); defaults to core's query. */
  queryResolver?: (
    server: NameServer,
    name: string,
    type: RecordType,
    options: { signal?: AbortSignal },
  ) => Promise<{ rcode: string; ad: boolean }>;
  /** Per-query timeout for the resolvers. Default 3000 ms. */
  resolverTimeoutMs?: number;
  /**
   * What observers saw on the wire (shared with the consistency observer, which fills it). With
   * it, only providers a resolver could reach count, and every possibly-cached combination of DS
   * and DNSKEY versions is validated too, as resolvers with warm caches would (standards §8.1).
   */
  wire?: { history: WireHistory; providers: readonly ObservedProvider[]; margins: CacheMargins };
  /**
   * How long a resolver may keep answering SERVFAIL from its cache of bogus verdicts (unbound's
   * val-bogus-ttl; the lab sets 5 s). Such answers are explained, not reported. Default 5.
   */
  badCacheSeconds?: number;
  /**
   * Model 1: the zone owner's KSKs (a learned group replaces them). A failure because an owner
   * signature over the DNSKEY RRset expired then says so: only the owner re-signs it.
   */
  owner?: OwnerFacts;
}

export interface ValidationObserverStats {
  probes: number;
  /** Provider verdicts, fresh and cached combinations. */
  verdicts: number;
  resolverAnswers: number;
  disagreements: number;
  validationFailures: number;
}

export interface ValidationObserver extends Observer {
  probeOnce(): Promise<ProbeReport>;
  /** Takes the zone's group (from the fold of its stream): providers join, margins replace. */
  learn(group: ZoneGroup): void;
  stats(): ValidationObserverStats;
}

/** The resolver outcome our verdict predicts, or null when there is nothing to compare. */
function disagreement(verdict: Verdict, answer: ResolverAnswer): string | null {
  if (answer.rcode === null || verdict.status === 'indeterminate') return null;
  if (verdict.status === 'bogus') {
    return answer.rcode === 'SERVFAIL'
      ? null
      : `our verdict is bogus (${verdict.reason}) but the resolver answered ${answer.rcode}${answer.ad ? ' with AD' : ''}`;
  }
  if (answer.rcode === 'SERVFAIL') {
    return `our verdict is secure (${verdict.rcode}) but the resolver answered SERVFAIL`;
  }
  if (!answer.ad)
    return `our verdict is secure but the resolver answered ${answer.rcode} without AD`;
  if (answer.rcode !== verdict.rcode) {
    return `our verdict is secure ${verdict.rcode} but the resolver answered ${answer.rcode} with AD`;
  }
  return null;
}

/** Null when some verdict a resolver could have reached explains its answer; else the first mismatch. */
function unexplained(verdicts: readonly Verdict[], answer: ResolverAnswer): string | null {
  if (verdicts.length === 0) return null;
  const texts = verdicts.map((verdict) => disagreement(verdict, answer));
  return texts.includes(null) ? null : texts[0]!;
}

/** For a resolver not pinned to one provider: only unanimous verdicts predict its answer. */
function unpinnedDisagreement(verdicts: readonly Verdict[], answer: ResolverAnswer): string | null {
  if (verdicts.length === 0) return null;
  const first = verdicts[0]!;
  if (!verdicts.every((verdict) => verdict.status === first.status)) return null;
  if (first.status === 'secure' && !verdicts.every((verdict) => verdict.rcode === first.rcode)) {
    return null;
  }
  const text = disagreement(first, answer);
  return text === null ? null : `every provider validates the same way: ${text}`;
}

type ValidateCached = NonNullable<Parameters<typeof validateViaProvider>[0]['cached']>;

/** Within one probe, each distinct question goes to each server once. */
function memoized(resolve: ValidatorResolve | undefined): ValidatorResolve {
  const base: ValidatorResolve =
    resolve ??
    ((server, name, type, call) =>
      query(server, name, type, {
        dnssecOk: true,
        recursionDesired: false,
        ...(call.signal ? { signal: call.signal } : {}),
      }));
  const answers = new Map<string, ReturnType<ValidatorResolve>>();
  return (server, name, type, call) => {
    const key = `${server.address}#${server.port ?? 53}|${normalizeName(name)}|${type}`;
    let answer = answers.get(key);
    if (!answer) {
      answer = base(server, name, type, call);
      answers.set(key, answer);
    }
    return answer;
  };
}

const timeText = (seconds: number) => new Date(seconds * 1000).toISOString().slice(11, 19);

function distinct(versions: ObservedVersion[]): ObservedVersion[] {
  const seen = new Map<string, ObservedVersion>();
  for (const version of versions) {
    const known = seen.get(version.id);
    if (!known || known.lastSeen < version.lastSeen) seen.set(version.id, version);
  }
  return [...seen.values()];
}

/**
 * Every pairing of a possibly-cached DS version with a possibly-cached DNSKEY version of one of
 * `keyProviders`. `strict` marks pairs a resolver may hold by the TTLs alone; the others are only
 * within `extraSeconds` more (a resolver's cache of bogus verdicts) and explain, never accuse.
 */
function cachedCombinations(
  wire: NonNullable<ValidationObserverOptions['wire']>,
  zone: string,
  keyProviders: readonly string[],
  t: number,
  extraSeconds: number,
): { cached: ValidateCached; dsLabel: string; dnskeyLabel: string; strict: boolean }[] {
  const isStrict = (version: ObservedVersion, margin: number) =>
    WireHistory.servedUntil(version, t) >= t - ((version.answer.rrset?.ttl ?? 0) + margin);
  const dsVersions = distinct(
    wire.history.possiblyCached(
      { provider: 'parent', owner: zone, type: 'DS' },
      t,
      wire.margins.parentSeconds + extraSeconds,
    ),
  ).filter((version) => version.answer.rrset);
  const keyVersions = keyProviders.flatMap((provider) =>
    distinct(
      wire.history.possiblyCached(
        { provider, owner: zone, type: 'DNSKEY' },
        t,
        wire.margins.childSeconds + extraSeconds,
      ),
    ).filter(
      (version) =>
        version.answer.rrset &&
        cachedWhileReachable(
          wire.history,
          zone,
          wire.providers,
          wire.margins,
          version,
          t,
          wire.margins.childSeconds + extraSeconds,
        ),
    ),
  );
  const combinations = [];
  for (const ds of dsVersions)
    for (const dnskey of keyVersions) {
      const dsTags = (ds.answer.rrset!.records as DsData[]).map((record) => record.keyTag);
      const keyTags = (dnskey.answer.rrset!.records as DnskeyData[]).map(keyTag);
      combinations.push({
        cached: {
          ds: ds.answer.rrset as ValidateCached['ds'] & object,
          dnskey: dnskey.answer.rrset as ValidateCached['dnskey'] & object,
          dnskeyFrom: `${dnskey.server.provider} (${serverLabel(dnskey.server)})`,
        },
        dsLabel: `the parent's DS set for keys ${dsTags.join(', ')} (served until ${timeText(WireHistory.servedUntil(ds, t))})`,
        dnskeyLabel: `${dnskey.server.provider}'s DNSKEY set of keys ${keyTags.join(', ')} (served until ${timeText(WireHistory.servedUntil(dnskey, t))})`,
        strict:
          isStrict(ds, wire.margins.parentSeconds) && isStrict(dnskey, wire.margins.childSeconds),
      });
    }
  return combinations;
}

/** The negative TTL of a NODATA answer: min(SOA TTL, SOA MINIMUM) from its authority section. */
function negativeTtl(version: ObservedVersion): number {
  const soa = version.answer.authority.find((rrset) => rrset.type === 'SOA');
  const minimum = (soa?.records[0] as { minimum?: number } | undefined)?.minimum;
  return soa ? Math.min(soa.ttl, minimum ?? soa.ttl) : 0;
}

/**
 * Whether a resolver may still hold the parent's "no DS" answer (a zone before its bootstrap's
 * first DS): then it treats the zone as insecure, and an answer without AD is explained.
 */
function insecureMayBeCached(
  wire: NonNullable<ValidationObserverOptions['wire']>,
  zone: string,
  t: number,
  extraSeconds: number,
): boolean {
  return wire.history
    .versions({ provider: 'parent', owner: zone, type: 'DS' })
    .some(
      (version) =>
        version.answer.rcode === 'NOERROR' &&
        (version.answer.rrset?.records.length ?? 0) === 0 &&
        version.firstSeen <= t &&
        WireHistory.servedUntil(version, t) >=
          t - (negativeTtl(version) + wire.margins.parentSeconds + extraSeconds),
    );
}

/** Which link of the chain failed: before the zone's DNSKEY RRset validated (I2), or after (I3). */
function linkInvariant(verdict: Verdict): InvariantId {
  return verdict.chain.length >= 3 ? 'I3' : 'I2';
}

/** Replaces the entry with the same id, or appends one. */
function upsert<Entry extends { id: string }>(list: Entry[], entry: Entry): void {
  const index = list.findIndex((known) => known.id === entry.id);
  if (index < 0) list.push(entry);
  else list[index] = entry;
}

/** Whether some server of the provider currently answers authoritatively for the zone. */
function providerAnswers(history: WireHistory, provider: string): boolean {
  const answers = history.current({ provider, type: 'SOA' });
  if (answers.length === 0) return true; // not sampled yet: no evidence either way
  return answers.some(
    (version) => version.answer.authoritative && version.answer.rcode === 'NOERROR',
  );
}

/**
 * Creates the validation observer. `probeOnce` runs the validator against every provider and asks
 * every resolver each probe name; findings go to `onFinding` and into the report.
 */
export function createValidationObserver(options: ValidationObserverOptions): ValidationObserver {
  const zone = normalizeName(options.zone);
  // Providers learned later (`learn`) join both lists.
  const providers = [...options.providers];
  const wire = options.wire
    ? { ...options.wire, providers: [...options.wire.providers] }
    : undefined;
  let lastStep: ProbeReport['lastStep'];
  let processId: string | undefined;
  let owner = options.owner;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<ProbeReport> | undefined;
  let stopped = false;
  const controller = new AbortController();
  const queryResolver =
    options.queryResolver ??
    (async (server: NameServer, name: string, type: RecordType, call: { signal?: AbortSignal }) => {
      const response = await query(server, name, type, {
        recursionDesired: true,
        dnssecOk: true,
        timeoutMs: options.resolverTimeoutMs ?? 3000,
        retries: 1,
        signal: call.signal,
      });
      return { rcode: response.rcode, ad: response.flags.ad };
    });

  const probeNames = (): ProbeName[] =>
    options.probeNames
      ? options.probeNames.map((probe) => ({ name: normalizeName(probe.name), type: probe.type }))
      : [
          { name: `www.${zone}`, type: 'A' },
          { name: `chorus-nx-${randomBytes(6).toString('hex')}.${zone}`, type: 'A' },
        ];

  const askResolver = async (
    resolver: ValidationObserverOptions['resolvers'][number],
    probe: ProbeName,
  ): Promise<ResolverAnswer> => {
    const base = { resolver: resolver.id, name: probe.name, type: probe.type };
    const pinned = resolver.pinnedTo === undefined ? {} : { pinnedTo: resolver.pinnedTo };
    try {
      const response = await queryResolver(resolver.server, probe.name, probe.type, {
        signal: controller.signal,
      });
      return { ...base, ...pinned, rcode: response.rcode, ad: response.ad };
    } catch (error) {
      if (controller.signal.aborted) throw error; // shutting down: no answer is not a failure
      return {
        ...base,
        ...pinned,
        rcode: null,
        ad: false,
        error: error instanceof Error ? error.message : String(error),
      };
    }
  };

  const probe = async (): Promise<ProbeReport> => {
    const at = new Date().toISOString();
    const probes = probeNames();
    const findings: ValidationFinding[] = [];
    const report = (found: ValidationFinding) => {
      const finding = processId ? { ...found, processId } : found;
      findings.push(finding);
      recordValidationFailure(finding.kind, {
        ...(finding.provider ? { provider: finding.provider } : {}),
        ...(finding.invariant ? { invariant: finding.invariant } : {}),
      });
      try {
        options.onFinding?.(finding);
      } catch {
        // A failing callback must not stop the probe.
      }
    };
    const verdicts: ProviderVerdict[] = [];
    const answers: ResolverAnswer[] = [];
    const t = options.now?.() ?? Date.now() / 1000;
    const reachable = wire
      ? reachableProviders(wire.history, zone, wire.providers, t, wire.margins)
      : undefined;
    const resolve = memoized(options.resolve);
    const validate = (
      probeName: ProbeName,
      provider: ValidationObserverOptions['providers'][number],
      cached?: ValidateCached,
      ask: ValidatorResolve = resolve,
    ) =>
      validateViaProvider({
        name: probeName.name,
        type: probeName.type,
        zone,
        parentZone: options.parentZone,
        trustAnchorDs: options.trustAnchorDs,
        parentServers: options.parentServers,
        provider: provider.server,
        signal: controller.signal,
        resolve: ask,
        ...(options.now ? { now: options.now() } : {}),
        ...(cached ? { cached } : {}),
      });
    for (const probeName of probes) {
      const results: ProviderVerdict[] = await Promise.all(
        providers.map(async (provider) => {
          const verdict = await validate(probeName, provider);
          const base = {
            provider: provider.id,
            name: probeName.name,
            type: probeName.type,
            verdict,
          };
          if (!wire || !reachable) return base;
          // A resolver pinned to this provider caches its keys; one following the delegation, any reachable provider's.
          const keyProviders = [...new Set([...reachable, provider.id])];
          const cached = [];
          for (const combination of cachedCombinations(
            wire,
            zone,
            keyProviders,
            t,
            options.badCacheSeconds ?? 5,
          ))
            cached.push({
              ds: combination.dsLabel,
              dnskey: combination.dnskeyLabel,
              strict: combination.strict,
              verdict: await validate(probeName, provider, combination.cached),
            });
          return { ...base, reachable: reachable.has(provider.id), cached };
        }),
      );
      verdicts.push(...results);
      for (const result of results) {
        recordValidationCheck(result.provider, result.verdict.status);
        for (const combination of result.cached ?? [])
          recordValidationCheck(result.provider, combination.verdict.status);
      }
      const fail = (
        fields: Pick<ValidationFinding, 'provider' | 'resolver' | 'detail' | 'invariant'>,
      ) =>
        report({
          kind: 'validation-failure',
          at,
          name: probeName.name,
          type: probeName.type,
          ...fields,
        });
      for (const result of results) {
        if (result.reachable === false) continue;
        if (result.verdict.status === 'bogus') {
          fail({
            provider: result.provider,
            detail: explainOwnerSignature(result.verdict.reason, owner, result.provider),
            invariant: linkInvariant(result.verdict),
          });
        } else if (wire && !providerAnswers(wire.history, result.provider)) {
          fail({
            provider: result.provider,
            detail: `no server of ${result.provider} answers for ${zone}, yet resolvers may still be sent there by a possibly-cached NS set: ${result.verdict.reason}`,
            invariant: 'I1',
          });
        }
        for (const combination of result.cached ?? []) {
          if (combination.verdict.status !== 'bogus' || !combination.strict) continue;
          fail({
            provider: result.provider,
            detail: `a resolver holding ${combination.ds} and ${combination.dnskey}: ${explainOwnerSignature(combination.verdict.reason, owner, undefined)}`,
            invariant: linkInvariant(combination.verdict),
          });
        }
      }
      // A resolver pinned to a provider stands for one the delegation sends there: asked only while
      // clients could be sent there, so that its cache holds only what such a resolver could hold.
      const asked = options.resolvers.filter(
        (resolver) =>
          resolver.pinnedTo === undefined || !reachable || reachable.has(resolver.pinnedTo),
      );
      const resolverAnswers = await Promise.all(
        asked.map((resolver) => askResolver(resolver, probeName)),
      );
      answers.push(...resolverAnswers);
      for (const answer of resolverAnswers) {
        let detail: string | null;
        let provider: string | undefined;
        const outcomes = (result: ProviderVerdict) => [
          result.verdict,
          ...(result.cached ?? []).map((combination) => combination.verdict),
        ];
        if (answer.pinnedTo !== undefined) {
          const pinned = results.find((result) => result.provider === answer.pinnedTo);
          if (!pinned) continue;
          provider = pinned.provider;
          detail = unexplained(outcomes(pinned), answer);
          // A pinned resolver failing while real resolvers could be sent to its provider is a glitch.
          if (pinned.reachable === true && (answer.rcode === 'SERVFAIL' || answer.rcode === null)) {
            fail({
              provider: pinned.provider,
              resolver: answer.resolver,
              detail: `resolver ${answer.resolver}, pinned to ${pinned.provider}, answered ${answer.rcode ?? `nothing (${answer.error ?? 'no response'})`}`,
            });
          }
        } else if (wire) {
          detail = unexplained(
            results.filter((result) => result.reachable === true).flatMap(outcomes),
            answer,
          );
          if (answer.rcode === 'SERVFAIL' || answer.rcode === null)
            fail({
              resolver: answer.resolver,
              detail: `resolver ${answer.resolver} answered ${answer.rcode ?? `nothing (${answer.error ?? 'no response'})`}`,
            });
        } else {
          detail = unpinnedDisagreement(
            results.map((result) => result.verdict),
            answer,
          );
        }
        if (detail === null) continue;
        const insecureAnswer =
          !answer.ad && (answer.rcode === 'NOERROR' || answer.rcode === 'NXDOMAIN');
        if (
          insecureAnswer &&
          wire &&
          insecureMayBeCached(wire, zone, t, options.badCacheSeconds ?? 5)
        )
          continue;
        // The resolver may have asked after the world changed: look again, afresh, before accusing.
        const again = await Promise.all(
          providers
            .filter((entry) =>
              answer.pinnedTo !== undefined
                ? entry.id === answer.pinnedTo
                : !reachable || reachable.has(entry.id),
            )
            .map((entry) => validate(probeName, entry, undefined, memoized(options.resolve))),
        );
        if (unexplained(again, answer) === null) continue;
        report({
          kind: 'disagreement',
          at,
          ...(provider === undefined ? {} : { provider }),
          resolver: answer.resolver,
          name: probeName.name,
          type: probeName.type,
          detail,
        });
      }
    }
    return {
      at,
      zone,
      probes,
      verdicts,
      resolvers: answers,
      findings,
      ...(lastStep ? { lastStep } : {}),
    };
  };

  const stats: ValidationObserverStats = {
    probes: 0,
    verdicts: 0,
    resolverAnswers: 0,
    disagreements: 0,
    validationFailures: 0,
  };
  const probeOnce = (): Promise<ProbeReport> => {
    // One probe at a time: an overlapping call shares the running one.
    running ??= probe()
      .then((result) => {
        stats.probes += 1;
        stats.verdicts += result.verdicts.reduce(
          (sum, verdict) => sum + 1 + (verdict.cached?.length ?? 0),
          0,
        );
        stats.resolverAnswers += result.resolvers.length;
        for (const finding of result.findings)
          if (finding.kind === 'disagreement') stats.disagreements += 1;
          else stats.validationFailures += 1;
        return result;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  if (options.intervalMs !== undefined && options.intervalMs > 0) {
    timer = setInterval(() => {
      if (!stopped) probeOnce().catch(() => undefined);
    }, options.intervalMs);
    timer.unref();
  }

  return {
    name: `validation-observer:${zone}`,
    onEvent(event: ChorusEventEnvelope): void {
      if (event.type === 'step-started' || event.type === 'step-completed') {
        lastStep = { type: event.type, occurredAt: event.occurredAt };
      }
      if (normalizeName(event.zone) === zone) {
        const data = (event as { data?: { processId?: string } }).data;
        if (event.type === 'process-started') processId = data?.processId;
        if (event.type === 'process-completed' || event.type === 'process-failed')
          processId = undefined;
      }
    },
    learn(group) {
      // Signers that register later join both lists; none leaves (its NS may still be cached).
      for (const provider of group.providers) {
        const server = provider.servers[0];
        if (server) upsert(providers, { id: provider.id, server });
        if (wire)
          upsert(wire.providers, { id: provider.id, nameServerNames: provider.nameServerNames });
      }
      if (wire) wire.margins = group.margins;
      if (group.model !== undefined) owner = group.owner;
    },
    probeOnce,
    stats: () => ({ ...stats }),
    async shutdown(): Promise<void> {
      stopped = true;
      if (timer) clearInterval(timer);
      controller.abort();
      await running?.catch(() => undefined);
    },
  };
}
