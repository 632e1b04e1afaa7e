/**
 * The configuration file of one provider fake process (`node dist/main.js --config FILE`), as the
 * lab writes it. Plain JSON; secrets are never in it, only the paths of the 0600 files that hold
 * them.
 */

export type ProviderKind = 'desec' | 'ns1';

/** Every fake the package serves: the two DNS providers and the registrar (registrar/). */
export type FakeKind = ProviderKind | 'registrar';

/** One rate: at most `limit` requests per `periodSeconds`. */
export interface Rate {
  limit: number;
  periodSeconds: number;
}

/**
 * deSEC's throttle classes (provider-apis.md §1.5), each a list of rates enforced together over
 * a sliding window. `perDomainWrite` is counted per domain.
 */
export interface DesecRateLimits {
  /** GET on domains and RRsets: 10/s, 50/min. */
  read: Rate[];
  /** Any RRset write, bulk included, per domain: 2/s, 15/min, 100/h, 300/day. */
  perDomainWrite: Rate[];
  /** Everything, per account: 2000/day. */
  user: Rate[];
}

/** NS1's token buckets (provider-apis.md §2.1): refill `limit` per `periodSeconds`, per route class. */
export interface Ns1RateLimits {
  read: Rate;
  write: Rate;
}

export interface ProviderFakeConfig {
  provider: ProviderKind;
  /** Where the fake's HTTP API listens (loopback only). */
  listen: { address: string; port: number };
  /** 0600 file holding the API token (deSEC) or API key (NS1) the fake accepts; re-read on each request. */
  tokenFile: string;
  /** 0600 file holding the token for the `/_fake/` control endpoints (header `X-Fake-Admin`). */
  adminTokenFile: string;
  /** The real PowerDNS behind the fake: it signs and serves the zones; the fake writes through its API. */
  backend: {
    /** PowerDNS API base, e.g. `http://127.53.0.5:8081/api/v1/servers/localhost`. */
    url: string;
    apiKeyFile: string;
    /**
     * NS1 only: the backend's gsqlite3 database file. PowerDNS 4.7's API cannot make a zone
     * presigned, so the NS1 fake's model-1 routes (`…/dnssec/presigned_dnskey`) write there;
     * absent, they answer 501.
     */
    database?: string;
  };
  /** The fake's own state (NS1 key sets, token state) kept across restarts. */
  stateFile: string;
  /** One JSON line per request: time, method, path, status, rate class. Never headers or bodies. */
  requestLogFile: string;
  /** deSEC: the `minimum_ttl` of every domain, in seconds. */
  minimumTtl?: number;
  /** Absent: the provider's documented limits. */
  rateLimits?: Partial<DesecRateLimits> | Partial<Ns1RateLimits>;
}

/** deSEC's documented limits (provider-apis.md §1.5). */
export const DESEC_RATE_LIMITS: DesecRateLimits = {
  read: [
    { limit: 10, periodSeconds: 1 },
    { limit: 50, periodSeconds: 60 },
  ],
  perDomainWrite: [
    { limit: 2, periodSeconds: 1 },
    { limit: 15, periodSeconds: 60 },
    { limit: 100, periodSeconds: 3600 },
    { limit: 300, periodSeconds: 86400 },
  ],
  user: [{ limit: 2000, periodSeconds: 86400 }],
};

/** NS1's documented example limits (provider-apis.md §2.1): GET 900/300 s, writes 300/300 s. */
export const NS1_RATE_LIMITS: Ns1RateLimits = {
  read: { limit: 900, periodSeconds: 300 },
  write: { limit: 300, periodSeconds: 300 },
};

/** The port every provider fake listens on, at its provider's lab address. */
export const PROVIDER_API_PORT = 8000;
