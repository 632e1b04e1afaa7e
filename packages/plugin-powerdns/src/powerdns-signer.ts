import {
  ApiCallError,
  SignerConfigurationError,
  type ApexSnapshot,
  type ApplyResult,
  type CallOptions,
  type DnsRecord,
  type KeyRole,
  type KeyRoller,
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
  normalizeName,
  readApexFromServer,
  servedRrset,
  signalOption,
  throwIfAborted,
} from '@chorus/dns';
import type { Logger } from 'pino';
import { PowerDnsApi } from './api.js';
import { powerdnsCapabilitiesFor } from './capabilities.js';
import type { ResolvedPowerDnsConfig } from './config.js';
import { PowerDnsKeyRoller } from './key-roller.js';
import { keyFingerprintOf } from './key-fingerprint.js';
import { signingKeyOf } from './keys.js';
import { backendApex, buildPatch } from './rrsets.js';
import { PowerDnsSignaller } from './signaller.js';
import { zoneContentOf } from './zone-content.js';

export { signingKeyOf } from './keys.js';

/** Backends whose zones the API can edit (gsql and LMDB). */
const EDITABLE_BACKENDS = new Set(['gsqlite3', 'gmysql', 'gpgsql', 'godbc', 'lmdb']);
/** Zone kinds whose records are not ours to edit (4.7 names and their later aliases). */
const READ_ONLY_KINDS = new Set(['slave', 'secondary', 'consumer']);
/** CDS digest types Chorus can mirror: SHA-256 and SHA-384 (SHA-1 CDS are not recognised as own by the planner). */
const SUPPORTED_CDS_DIGESTS = new Set(['2', '4']);

const RESTART_FIX = 'and restart pdns_server';

function isOn(value: string | undefined): boolean {
  return value !== undefined && ['yes', 'true', 'on', '1'].includes(value.trim().toLowerCase());
}

/**
 * A PowerDNS Authoritative 4.7 server, driven through its HTTP API. Foreign DNSKEY, CDS, CDNSKEY,
 * CSYNC and the apex NS are backend records, changed by PATCH REPLACE of the whole backend
 * rrset; the server's own keys and own CDS/CDNSKEY are never backend records, so no REPLACE can
 * touch them.
 */
export class PowerDnsSigner implements Signer {
  readonly specificationVersion = 'v1' as const;
  readonly kind = 'powerdns';
  readonly id: string;
  readonly capabilities: SignerCapabilities;
  readonly nameServers: readonly NameServer[];
  /** Held rolls through the cryptokeys API (capability `key-roll`). */
  readonly keyRoller: KeyRoller;
  /** RFC 9615 signals through the API; present when signallingZone is configured. */
  readonly bootstrapSignaller?: PowerDnsSignaller;
  readonly #config: ResolvedPowerDnsConfig;
  readonly #api: PowerDnsApi;
  readonly #logger: Logger;

  constructor(config: ResolvedPowerDnsConfig, dependencies: PluginDependencies) {
    this.id = config.id;
    this.nameServers = Object.freeze(config.nameServers.map((server) => ({ ...server })));
    this.#config = config;
    this.#logger = dependencies.logger.child({ plugin: 'powerdns', signerId: config.id });
    this.#api = new PowerDnsApi({
      url: config.api.url,
      apiKeyFile: config.api.apiKeyFile,
      timeoutMs: config.requestTimeoutMs,
      logger: this.#logger,
    });
    this.keyRoller = new PowerDnsKeyRoller(this.#api, config.id, this.#logger);
    this.capabilities = powerdnsCapabilitiesFor(config.signallingZone);
    if (config.signallingZone)
      this.bootstrapSignaller = new PowerDnsSignaller({
        signerId: config.id,
        signallingZones: config.signallingZone,
        api: this.#api,
        logger: this.#logger,
      });
  }

  /**
   * Refuses a server that would fail model 2, silently or not: `direct-dnskey` off (foreign
   * DNSKEYs stored, never served), a backend that cannot edit records (bind backend: 422), a zone
   * that is missing, unsigned, presigned or a secondary, and PUBLISH-CDS/PUBLISH-CDNSKEY unset
   * (own CDS/CDNSKEY come from that metadata).
   */
  async checkZone(zone: ZoneName, options: CallOptions): Promise<void> {
    const name = normalizeName(zone);
    const { signal } = options;
    throwIfAborted(signal, `checkZone ${name}`);
    const refuse = (setting: string, problem: string, fix: string) =>
      new SignerConfigurationError({ signerId: this.id, zone: name, setting, problem, fix });

    const settings = await this.#api.getConfig({ signal });
    if (!isOn(settings.get('direct-dnskey')))
      throw refuse(
        'direct-dnskey',
        `direct-dnskey is ${JSON.stringify(settings.get('direct-dnskey') ?? 'unset')}: PowerDNS would store foreign DNSKEYs but never serve them, so the other signers' signatures would not validate`,
        `set direct-dnskey=yes in pdns.conf ${RESTART_FIX}`,
      );

    let info;
    try {
      info = await this.#api.getZone(name, { rrsets: false }, { signal });
    } catch (error) {
      if (ApiCallError.isInstance(error) && error.statusCode === 404)
        throw refuse(
          'zone',
          `PowerDNS does not serve ${name}`,
          `create the zone (pdnsutil create-zone ${name} or the API) and sign it (pdnsutil secure-zone ${name})`,
        );
      throw error;
    }
    if (READ_ONLY_KINDS.has(info.kind.toLowerCase()))
      throw refuse(
        'zone kind',
        `the zone is of kind ${info.kind}: its records come from a primary by zone transfer`,
        `make it a Native or Master zone (pdnsutil set-kind ${name} native)`,
      );
    await this.#checkBackendCanEdit(name, settings.get('launch') ?? '', refuse, signal);
    if (!info.dnssec)
      throw refuse(
        'DNSSEC keys (cryptokeys)',
        'the zone has no DNSSEC keys, PowerDNS serves it unsigned',
        `sign it: pdnsutil secure-zone ${name}`,
      );

    const metadata = await this.#api.getMetadata(name, { signal });
    if (isOn(metadata.get('PRESIGNED')?.[0]))
      throw refuse(
        'PRESIGNED',
        'the zone is presigned: PowerDNS serves stored signatures and does not sign foreign DNSKEYs',
        `pdnsutil unset-presigned ${name}, then secure-zone`,
      );
    const cds = (metadata.get('PUBLISH-CDS') ?? [])
      .flatMap((value) => value.split(','))
      .map((value) => value.trim())
      .filter((value) => value !== '');
    if (cds.length === 0)
      throw refuse(
        'PUBLISH-CDS',
        'PowerDNS publishes no CDS for its own KSK (PUBLISH-CDS metadata unset), so the group CDS set would lack it',
        `pdnsutil set-publish-cds ${name} 2 (or PUT the PUBLISH-CDS metadata ["2"] via the API)`,
      );
    const unsupported = cds.filter((digest) => !SUPPORTED_CDS_DIGESTS.has(digest));
    if (unsupported.length > 0)
      throw refuse(
        'PUBLISH-CDS',
        `PUBLISH-CDS asks for digest type(s) ${unsupported.join(', ')}; Chorus mirrors own CDS of digest types 2 and 4 only (SHA-1 is deprecated, 0 withdraws the DS)`,
        `pdnsutil set-publish-cds ${name} 2`,
      );
    if (metadata.get('PUBLISH-CDNSKEY')?.[0]?.trim() !== '1')
      throw refuse(
        'PUBLISH-CDNSKEY',
        'PowerDNS publishes no CDNSKEY for its own KSK (PUBLISH-CDNSKEY metadata is not 1)',
        `pdnsutil set-publish-cdnskey ${name} (or PUT the PUBLISH-CDNSKEY metadata ["1"] via the API)`,
      );
    this.#logger.debug({ zone: name, backends: settings.get('launch') }, 'zone checked');
  }

  /**
   * The bind backend (and pipe, geoip, …) cannot edit records: the API answers 422. With only
   * gsql/LMDB backends launched nothing is sent; otherwise a PATCH that deletes a name that does
   * not exist finds out which backend hosts the zone, without changing anything.
   */
  async #checkBackendCanEdit(
    zone: string,
    launch: string,
    refuse: (setting: string, problem: string, fix: string) => SignerConfigurationError,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const backends = launch
      .split(',')
      .map((entry) => entry.trim().split(':')[0]!.toLowerCase())
      .filter((entry) => entry !== '');
    if (backends.length > 0 && backends.every((backend) => EDITABLE_BACKENDS.has(backend))) return;
    try {
      await this.#api.patchRrsets(
        zone,
        [{ name: `chorus-write-probe.${zone}`, type: 'TXT', changetype: 'DELETE' }],
        { signal },
      );
    } catch (error) {
      if (ApiCallError.isInstance(error) && error.statusCode === 422)
        throw refuse(
          'launch',
          `the backend hosting the zone cannot edit records (launch=${launch}; PowerDNS answered: ${error.responseBody})`,
          `serve the zone from a gsql backend, e.g. launch=gsqlite3 (pdnsutil b2b-migrate), ${RESTART_FIX}`,
        );
      throw error;
    }
  }

  /**
   * The published keys in `/cryptokeys`, inactive ones included (a successor held by Chorus is
   * `inactive, published`); unpublished keys are not served, so they are left out.
   */
  async listOwnKeys(zone: ZoneName, options: CallOptions): Promise<SigningKey[]> {
    const name = normalizeName(zone);
    throwIfAborted(options.signal, `listOwnKeys ${name}`);
    const keys = await this.#api.getCryptokeys(name, { signal: options.signal });
    const order: Record<KeyRole, number> = { KSK: 0, CSK: 1, ZSK: 2 };
    return keys
      .filter((key) => key.published)
      .map(signingKeyOf)
      .sort((a, b) => order[a.role] - order[b.role] || a.keyTag - b.keyTag);
  }

  /**
   * DNSKEY, SOA, CDS and CDNSKEY at the server (TCP, RD=0, DO=1), made into a fingerprint of the
   * own keys (see key-fingerprint.ts): four queries instead of a cryptokeys GET, which costs
   * PowerDNS a new HTTP connection and about ten times the CPU.
   */
  async ownKeysFingerprint(zone: ZoneName, options: CallOptions): Promise<string> {
    const name = normalizeName(zone);
    throwIfAborted(options.signal, `ownKeysFingerprint ${name}`);
    const [dnskey, soa, cds, cdnskey] = await Promise.all(
      (['DNSKEY', 'SOA', 'CDS', 'CDNSKEY'] as const).map((type) =>
        servedRrset(this.#config.server, name, type, {
          timeoutMs: this.#config.requestTimeoutMs,
          ...signalOption(options.signal),
        }),
      ),
    );
    return keyFingerprintOf({
      dnskey: dnskey ?? null,
      soa: soa ?? null,
      cds: cds ?? null,
      cdnskey: cdnskey ?? null,
    });
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
   * Every enabled record the backend holds for the zone (`GET /zones/{zone}`). PowerDNS signs
   * live, so the DNSSEC records it serves are not among them.
   */
  async readZoneContent(zone: ZoneName, options: CallOptions): Promise<DnsRecord[]> {
    const name = normalizeName(zone);
    throwIfAborted(options.signal, `readZoneContent ${name}`);
    return zoneContentOf(await this.#api.getZone(name, {}, { signal: options.signal }));
  }

  /**
   * Reads the backend apex rrsets of the types the plan touches, applies the adds and deletes,
   * and sends one PATCH (one transaction) that REPLACEs each changed rrset, or DELETEs it when
   * it ends empty. Sends nothing when the backend already matches.
   */
  async applyChanges(plan: SignerPlan, options: CallOptions): Promise<ApplyResult> {
    assertPlanAllowed(this, plan);
    const zone = normalizeName(plan.zone);
    const { signal } = options;
    throwIfAborted(signal, `applyChanges ${zone}`);
    if (plan.changes.length === 0) return { applied: 0, warnings: [] };
    const started = performance.now();
    const current = await this.#api.getZone(zone, { rrsetName: zone }, { signal });
    const patch = buildPatch(zone, backendApex(current.rrsets, zone), plan.changes);
    throwIfAborted(signal, `applyChanges ${zone}`);
    if (patch.rrsets.length > 0) await this.#api.patchRrsets(zone, patch.rrsets, { signal });
    this.#logger.info(
      {
        zone,
        changes: plan.changes.length,
        alreadyApplied: patch.alreadyApplied,
        rrsets: patch.rrsets.map((rrset) => `${rrset.changetype} ${rrset.type}`),
        ms: Math.round(performance.now() - started),
      },
      patch.rrsets.length > 0 ? 'applied plan' : 'plan already applied',
    );
    return { applied: plan.changes.length, warnings: [] };
  }
}
