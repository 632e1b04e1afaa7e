/**
 * An observer that validates a zone independently at every provider (with core's own validator)
 * and asks validating resolvers the same questions, reporting every bogus verdict and every
 * disagreement between our verdict and a resolver pinned to a provider.
 */
import { randomBytes } from 'node:crypto';
import { normalizeName } from '../dns/names.js';
import { query } from '../dns/query.js';
import type { DsData, NameServer, RecordType } from '../dns/types.js';
import type { ChorusEventEnvelope, Observer } from '../plugin/observer.js';
import { validateViaProvider } from './validator.js';
import type { ValidatorResolve, Verdict } from './validator.js';

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
}

export interface ValidationObserver extends Observer {
  probeOnce(): Promise<ProbeReport>;
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

/**
 * Creates the validation observer. `probeOnce` runs the validator against every provider and asks
 * every resolver each probe name; findings go to `onFinding` and into the report.
 */
export function createValidationObserver(options: ValidationObserverOptions): ValidationObserver {
  const zone = normalizeName(options.zone);
  let lastStep: ProbeReport['lastStep'];
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
    const report = (finding: ValidationFinding) => {
      findings.push(finding);
      try {
        options.onFinding?.(finding);
      } catch {
        // A failing callback must not stop the probe.
      }
    };
    const verdicts: ProviderVerdict[] = [];
    const answers: ResolverAnswer[] = [];
    for (const probeName of probes) {
      const results = await Promise.all(
        options.providers.map(async (provider) => ({
          provider: provider.id,
          name: probeName.name,
          type: probeName.type,
          verdict: await validateViaProvider({
            name: probeName.name,
            type: probeName.type,
            zone,
            parentZone: options.parentZone,
            trustAnchorDs: options.trustAnchorDs,
            parentServers: options.parentServers,
            provider: provider.server,
            signal: controller.signal,
            ...(options.now ? { now: options.now() } : {}),
            ...(options.resolve ? { resolve: options.resolve } : {}),
          }),
        })),
      );
      verdicts.push(...results);
      for (const result of results) {
        if (result.verdict.status !== 'bogus') continue;
        report({
          kind: 'validation-failure',
          at,
          provider: result.provider,
          name: probeName.name,
          type: probeName.type,
          detail: result.verdict.reason,
        });
      }
      const resolverAnswers = await Promise.all(
        options.resolvers.map((resolver) => askResolver(resolver, probeName)),
      );
      answers.push(...resolverAnswers);
      for (const answer of resolverAnswers) {
        let detail: string | null;
        let provider: string | undefined;
        if (answer.pinnedTo !== undefined) {
          const pinned = results.find((result) => result.provider === answer.pinnedTo);
          if (!pinned) continue;
          provider = pinned.provider;
          detail = disagreement(pinned.verdict, answer);
        } else {
          detail = unpinnedDisagreement(
            results.map((result) => result.verdict),
            answer,
          );
        }
        if (detail === null) continue;
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

  const probeOnce = (): Promise<ProbeReport> => {
    // One probe at a time: an overlapping call shares the running one.
    running ??= probe().finally(() => {
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
    },
    probeOnce,
    async shutdown(): Promise<void> {
      stopped = true;
      if (timer) clearInterval(timer);
      controller.abort();
      await running?.catch(() => undefined);
    },
  };
}
