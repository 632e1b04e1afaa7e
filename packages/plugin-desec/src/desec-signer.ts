import {
  ApiCallError,
  DnsResponseError,
  SignerConfigurationError,
  type ApexSnapshot,
  type ApplyResult,
  type CallOptions,
  type DnsRecord,
  type NameServer,
  type PluginDependencies,
  type Signer,
  type SignerCapabilities,
  type SignerPlan,
  type SigningKey,
  type ZoneName,
} from '@chorus/core';
import {
  assertPlanAllowed,
  describeServer,
  dnskeyIdentity,
  keyTag,
  normalizeName,
  query,
  readApexFromServer,
  servedRecords,
  signalOption,
  throwIfAborted,
} from '@chorus/dns';
import type { Logger } from 'pino';
import { DesecApi } from './api.js';
import { buildBulkWrite } from './bulk-write.js';
import { desecCapabilities } from './capabilities.js';
import type { ResolvedDesecConfig } from './config.js';
import { listedContent } from './content.js';
import { ownKeysOf } from './keys.js';

type Refuse = (setting: string, problem: string, fix: string) => SignerConfigurationError;

const DESEC_NAMESERVERS = "deSEC's nameservers (ns1.desec.io, ns2.desec.org)";

/**
 * How long own keys read from the API stay good while the DNSKEY RRset on the wire is unchanged.
 * deSEC allows 2,000 requests a day per account: a key watch asking the API every 30 s would
 * spend 2,880 a day per zone, so it asks the free wire first, and the API only on a change.
 */
export const OWN_KEYS_REFRESH_MS = 3_600_000;

/**
 * A deSEC account, driven through the deSEC REST API. Foreign DNSKEY, CDS, CDNSKEY, CSYNC and
 * the apex NS are user RRsets at the apex, changed by one atomic bulk PATCH per apply (the
 * per-domain write quota is 15 a minute); deSEC's own key and its own CDS/CDNSKEY are not user
 * RRsets, so no write can touch them. The apex is read on the wire, at a deSEC nameserver.
 */
export class DesecSigner implements Signer {
  readonly specificationVersion = 'v1' as const;
  readonly kind = 'desec';
  readonly id: string;
  readonly capabilities: SignerCapabilities = desecCapabilities;
  readonly nameServers: readonly NameServer[];
  readonly #config: ResolvedDesecConfig;
  readonly #api: DesecApi;
  readonly #logger: Logger;
  /** `minimum_ttl` by zone, from the last domain read (it is read-only, set by deSEC). */
  readonly #minimumTtl = new Map<string, number>();
  /** Own keys by zone, with the DNSKEY RRset served when they were read and the time. */
  readonly #ownKeysRead = new Map<string, { served: string; readAt: number; keys: SigningKey[] }>();

  constructor(config: ResolvedDesecConfig, dependencies: PluginDependencies) {
    this.id = config.id;
    this.nameServers = Object.freeze(config.nameServers.map((server) => ({ ...server })));
    this.#config = config;
    this.#logger = dependencies.logger.child({ plugin: 'desec', signerId: config.id });
    this.#api = new DesecApi({
      url: config.api.url,
      tokenFile: config.api.tokenFile,
      timeoutMs: config.requestTimeoutMs,
      logger: this.#logger,
    });
  }

  /**
   * Start-up check: the token works (401/403 reject, not retryably, naming the token file), the
   * account owns the domain, deSEC signs it, and every configured nameserver serves it with
   * deSEC's key.
   */
  async checkZone(zone: ZoneName, options: CallOptions): Promise<void> {
    const name = normalizeName(zone);
    const { signal } = options;
    throwIfAborted(signal, `checkZone ${name}`);
    const refuse: Refuse = (setting, problem, fix) =>
      new SignerConfigurationError({ signerId: this.id, zone: name, setting, problem, fix });
    const ownKeys = await this.#ownKeys(name, signal, refuse);
    if (ownKeys.length === 0)
      throw refuse(
        'domain',
        `deSEC lists no key of its own for ${name} (no keys entry with managed: true), so it does not sign the zone`,
        'deSEC signs every domain it publishes: wait until the domain is published, or ask deSEC support',
      );
    for (const server of this.nameServers) {
      throwIfAborted(signal, `checkZone ${name}`);
      await this.#checkServes(server, name, ownKeys, refuse, signal);
    }
    this.#logger.debug({ zone: name, ownKeys: ownKeys.map((key) => key.keyTag) }, 'zone checked');
  }

  /**
   * deSEC's own keys: the `keys` entries of the domain with `managed: true`. Read from the API
   * again only when the DNSKEY RRset served on the wire changed, or after an hour (see
   * OWN_KEYS_REFRESH_MS): the key watch calls this every few seconds.
   */
  async listOwnKeys(zone: ZoneName, options: CallOptions): Promise<SigningKey[]> {
    const name = normalizeName(zone);
    throwIfAborted(options.signal, `listOwnKeys ${name}`);
    const served = await this.#servedDnskeys(name, options.signal);
    const known = this.#ownKeysRead.get(name);
    if (known && served !== undefined && known.served === served)
      if (Date.now() - known.readAt < OWN_KEYS_REFRESH_MS) return known.keys;
    return this.#readOwnKeys(name, options.signal, served);
  }

  /** Own keys from the API's domain object, remembered with the DNSKEY RRset served then. */
  async #readOwnKeys(
    zone: string,
    signal: AbortSignal | undefined,
    served: string | undefined,
  ): Promise<SigningKey[]> {
    const domain = await this.#api.getDomain(zone, { signal });
    this.#minimumTtl.set(zone, domain.minimumTtl);
    const keys = ownKeysOf(domain);
    if (served !== undefined) this.#ownKeysRead.set(zone, { served, readAt: Date.now(), keys });
    return keys;
  }

  /** The DNSKEY RRset served at the configured nameserver, as one string; undefined if unread. */
  async #servedDnskeys(zone: string, signal: AbortSignal | undefined): Promise<string | undefined> {
    try {
      const response = await query(this.#config.server, zone, 'DNSKEY', {
        transport: 'tcp',
        timeoutMs: this.#config.requestTimeoutMs,
        ...signalOption(signal),
      });
      const dnskeys = response.answers.find((set) => set.type === 'DNSKEY')?.records ?? [];
      return dnskeys
        .map((record) => dnskeyIdentity(record as Parameters<typeof dnskeyIdentity>[0]))
        .sort()
        .join('\n');
    } catch (error) {
      throwIfAborted(signal, `listOwnKeys ${zone}`);
      this.#logger.debug({ zone, err: error }, 'could not read DNSKEY on the wire; asking the API');
      return undefined;
    }
  }

  /** Read on the wire from `server` (TCP, RD=0, DO=1). */
  async readApex(zone: ZoneName, options: CallOptions): Promise<ApexSnapshot> {
    throwIfAborted(options.signal, `readApex ${zone}`);
    return readApexFromServer(this.#config.server, zone, {
      timeoutMs: this.#config.requestTimeoutMs,
      ...signalOption(options.signal),
    });
  }

  /**
   * Every RRset the API lists (`GET …/rrsets/`, page by page), less DNSSEC types and CSYNC, and
   * the apex SOA, read on the wire at `server` (the API does not show it). An RRset this plugin
   * cannot parse (a type without a presentation parser here) is read on the wire too.
   */
  async readZoneContent(zone: ZoneName, options: CallOptions): Promise<DnsRecord[]> {
    const name = normalizeName(zone);
    const { signal } = options;
    throwIfAborted(signal, `readZoneContent ${name}`);
    const served = { timeoutMs: this.#config.requestTimeoutMs, signal };
    const [soa, rrsets] = await Promise.all([
      servedRecords(this.#config.server, name, 'SOA', served),
      this.#api.listRrsets(name, { signal }),
    ]);
    const listed = listedContent(name, rrsets);
    const records = [...soa, ...listed.records];
    for (const rrset of listed.unparsed)
      records.push(...(await servedRecords(this.#config.server, rrset.owner, rrset.type, served)));
    this.#logger.debug(
      { zone: name, rrsets: rrsets.length, onTheWire: listed.unparsed.length },
      'read zone content',
    );
    return records;
  }

  /**
   * Reads the user RRsets at the apex (one GET; plus one GET of the domain for its
   * `minimum_ttl` the first time), applies the plan's adds and deletes, and sends ONE bulk
   * PATCH with the new record list of each changed RRset. Sends nothing when deSEC already
   * matches the plan.
   */
  async applyChanges(plan: SignerPlan, options: CallOptions): Promise<ApplyResult> {
    assertPlanAllowed(this, plan);
    const zone = normalizeName(plan.zone);
    const { signal } = options;
    const what = `applyChanges ${zone}`;
    throwIfAborted(signal, what);
    if (plan.changes.length === 0) return { applied: 0, warnings: [] };
    const started = performance.now();
    const [minimumTtl, current] = await Promise.all([
      this.#minimumTtlOf(zone, signal),
      this.#api.getApexRrsets(zone, { signal }),
    ]);
    const write = buildBulkWrite(zone, current, plan.changes, minimumTtl);
    throwIfAborted(signal, what);
    if (write.rrsets.length > 0) await this.#api.patchRrsets(zone, write.rrsets, { signal });
    this.#logger.info(
      {
        zone,
        changes: plan.changes.length,
        alreadyApplied: write.alreadyApplied,
        rrsets: write.rrsets.map((rrset) => `${rrset.type} (${rrset.records.length} records)`),
        ms: Math.round(performance.now() - started),
      },
      write.rrsets.length > 0 ? 'applied plan in one bulk write' : 'plan already applied',
    );
    return { applied: plan.changes.length, warnings: [] };
  }

  async #minimumTtlOf(zone: string, signal: AbortSignal | undefined): Promise<number> {
    const known = this.#minimumTtl.get(zone);
    if (known !== undefined) return known;
    const domain = await this.#api.getDomain(zone, { signal });
    this.#minimumTtl.set(zone, domain.minimumTtl);
    return domain.minimumTtl;
  }

  /** The domain's own keys; a domain the account does not own is a configuration error. */
  async #ownKeys(
    zone: string,
    signal: AbortSignal | undefined,
    refuse: Refuse,
  ): Promise<SigningKey[]> {
    try {
      // Straight from the API: checkZone proves the token works, so no cached keys here.
      return await this.#readOwnKeys(zone, signal, await this.#servedDnskeys(zone, signal));
    } catch (error) {
      if (ApiCallError.isInstance(error) && error.statusCode === 404)
        throw refuse(
          'domain',
          `the deSEC account has no domain ${zone.replace(/\.$/, '')}`,
          `create it at deSEC (POST /domains/), or set api.tokenFile (${this.#config.api.tokenFile}) to a token of the account that owns it`,
        );
      throw error;
    }
  }

  /** The nameserver answers authoritatively for the zone and serves deSEC's keys. */
  async #checkServes(
    server: NameServer,
    zone: string,
    ownKeys: readonly SigningKey[],
    refuse: Refuse,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const setting =
      server.address === this.#config.server.address && server.port === this.#config.server.port
        ? 'server'
        : 'nameServers';
    let apex: ApexSnapshot;
    try {
      apex = await readApexFromServer(server, zone, {
        timeoutMs: this.#config.requestTimeoutMs,
        ...signalOption(signal),
      });
    } catch (error) {
      if (DnsResponseError.isInstance(error) && !error.isRetryable)
        throw refuse(
          setting,
          `${describeServer(server)} does not answer authoritatively for ${zone} (${error.rcode})`,
          `use the address of one of ${DESEC_NAMESERVERS}`,
        );
      throw error;
    }
    const served = new Set((apex.dnskey?.records ?? []).map((key) => keyTag(key)));
    const missing = ownKeys.filter((key) => !served.has(key.keyTag));
    if (missing.length > 0)
      throw refuse(
        setting,
        `${describeServer(server)} serves ${zone} without deSEC's key ${missing.map((key) => key.keyTag).join(', ')}`,
        `use the address of one of ${DESEC_NAMESERVERS}`,
      );
  }
}
