import { randomBytes } from 'node:crypto';
import { query } from '@chorus/dns';
import type { NameServer } from '@chorus/core';

/**
 * Validating lab resolvers asking about the zone several times a second while the migration
 * runs. A failure is an answer a validating resolver could not authenticate (SERVFAIL, or no AD)
 * from a resolver that real clients could be using at that moment.
 */
export interface TrafficResolver {
  id: string;
  endpoint: NameServer;
  /** For a resolver pinned to one provider: that provider's id. */
  provider?: string;
}

export interface TrafficFailure {
  at: string;
  resolver: string;
  name: string;
  rcode: string;
  authenticated: boolean;
}

export interface TrafficReport {
  queries: number;
  /** Answers without AD while the zone was still allowed to be insecure (before a bootstrap's DS). */
  insecure: number;
  /** Queries per resolver while it counted. */
  perResolver: Record<string, { queries: number; failures: number }>;
  failures: TrafficFailure[];
  /** Seconds the probes ran. */
  seconds: number;
}

export interface TrafficOptions {
  zone: string;
  resolvers: TrafficResolver[];
  /** Queries per second per resolver (half positive, half NXDOMAIN). Default 8. */
  ratePerSecond?: number;
  /**
   * The providers a resolver could be sent to now: named in an NS set (the parent's or a reachable
   * provider's apex) that may still be cached (standards §8.1). A pinned resolver counts while its
   * provider is in it.
   */
  reachable: () => ReadonlySet<string>;
  /**
   * Whether the zone may still be insecure (a bootstrap before its DS is in every cache): then an
   * answer without AD is counted as insecure, not as a failure. A SERVFAIL is a failure always.
   */
  insecureAllowed?: () => boolean;
}

export class TrafficMonitor {
  private timer: NodeJS.Timeout | undefined;
  private readonly started = Date.now();
  private readonly report: TrafficReport = {
    queries: 0,
    insecure: 0,
    perResolver: {},
    failures: [],
    seconds: 0,
  };
  private readonly inFlight = new Set<Promise<void>>();
  private turn = 0;

  constructor(private readonly options: TrafficOptions) {}

  /** Whether real clients could be reaching this resolver's provider now. */
  private counts(resolver: TrafficResolver): boolean {
    return resolver.provider === undefined || this.options.reachable().has(resolver.provider);
  }

  start(): void {
    const interval = 1000 / ((this.options.ratePerSecond ?? 8) / 1);
    this.timer = setInterval(() => this.tick(), interval);
  }

  private tick(): void {
    this.turn += 1;
    const positive = this.turn % 2 === 0;
    for (const resolver of this.options.resolvers) {
      if (!this.counts(resolver)) continue;
      const name = positive
        ? `www.${this.options.zone}`
        : `nx-${randomBytes(4).toString('hex')}.${this.options.zone}`;
      const probe = this.probe(resolver, name, positive).finally(() => this.inFlight.delete(probe));
      this.inFlight.add(probe);
    }
  }

  private async probe(resolver: TrafficResolver, name: string, positive: boolean): Promise<void> {
    const entry = (this.report.perResolver[resolver.id] ??= { queries: 0, failures: 0 });
    entry.queries += 1;
    this.report.queries += 1;
    let rcode = 'TIMEOUT';
    let authenticated = false;
    try {
      const response = await query(resolver.endpoint, name, 'A', {
        recursionDesired: true,
        timeoutMs: 3000,
        retries: 0,
      });
      rcode = response.rcode;
      authenticated = response.flags.ad;
    } catch {
      // A timeout counts as a failure: a client got no answer.
    }
    const expected = positive ? 'NOERROR' : 'NXDOMAIN';
    if (rcode === expected && !authenticated && this.options.insecureAllowed?.()) {
      this.report.insecure += 1;
      return;
    }
    if (rcode !== expected || !authenticated) {
      entry.failures += 1;
      this.report.failures.push({
        at: new Date().toISOString(),
        resolver: resolver.id,
        name,
        rcode,
        authenticated,
      });
    }
  }

  async stop(): Promise<TrafficReport> {
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
    this.report.seconds = (Date.now() - this.started) / 1000;
    return this.report;
  }
}
