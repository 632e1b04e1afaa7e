import type { Logger } from 'pino';
import type { CsyncData, DnskeyData, DnsRecord, DsData, NameServer, RRset } from '../dns/types.js';
import type { RolloverTiming } from '../events/zone-events.js';
import type { SignerCapabilities } from './capabilities.js';
import type { PresignedDnskeyPublisher } from './presigned-dnskey.js';

/** Absolute zone name with a trailing dot, e.g. `example.test.` */
export type ZoneName = string;

/** Every plugin call takes these. A plugin must stop promptly and reject with AbortError when `signal` fires. */
export interface CallOptions {
  signal?: AbortSignal;
  /** W3C traceparent of the caller's span, for plugins that start their own spans. */
  traceparent?: string;
}

export type KeyRole = 'KSK' | 'ZSK' | 'CSK';

/** One of the signer's own keys. Plain data. */
export interface SigningKey {
  role: KeyRole;
  algorithm: number;
  keyTag: number;
  dnskey: DnskeyData;
  /** The server's own word for the key's state, when it has one (BIND key states, Knot timers, PowerDNS active/published). */
  state?: string;
  /**
   * KSK/CSK: whether the server serves its own CDS for this key (set by the sidecar's key watch
   * from the wire). Absent: not observed, taken as published.
   */
  cdsPublished?: boolean;
  /**
   * KSK/CSK: the DS digest types of the server's own CDS for this key, as the key watch saw them
   * on the wire (deSEC publishes SHA-256 and SHA-384). The group's CDS set mirrors them. Absent:
   * SHA-256 only.
   */
  cdsDigestTypes?: number[];
}

/**
 * The apex RRsets a signer serves, read from the wire. `null` means the server answered NODATA.
 * TTLs are as served.
 */
export interface ApexSnapshot {
  zone: ZoneName;
  /** The address that answered, e.g. `127.53.0.2:53`. */
  server: string;
  soa: RRset<'SOA'> | null;
  ns: RRset<'NS'> | null;
  dnskey: RRset<'DNSKEY'> | null;
  cds: RRset<'CDS'> | null;
  cdnskey: RRset<'CDNSKEY'> | null;
  csync: RRset<'CSYNC'> | null;
}

/**
 * What Chorus wants a signer to publish besides its own keys. Plain JSON: it travels in the
 * event log. Own keys and own CDS/CDNSKEY are never listed: they belong to the server.
 */
export interface DesiredSignerState {
  /** Other signers' DNSKEYs to publish (at least their ZSKs). */
  foreignDnskeys: DnskeyData[];
  /** CDS for other signers' KSKs. */
  foreignCds: DsData[];
  /** CDNSKEY for other signers' KSKs. */
  foreignCdnskeys: DnskeyData[];
  /** The CSYNC record to publish, or null for none. */
  csync: CsyncData | null;
  /** The complete apex NS set; omitted to leave NS alone. */
  apexNs?: string[];
  /** TTL for records Chorus adds, in seconds. Servers may override it (PowerDNS uses the SOA minimum for DNSKEY). */
  ttl: number;
  /** RFC 9615 signalling records to publish or withdraw; absent to leave them alone. */
  bootstrapSignals?: DesiredBootstrapSignals;
  /**
   * Model 1: the DNSKEY RRset is the one the owner signed, served through the plugin's
   * `presignedDnskey`; DNSKEY, CDS and CDNSKEY are left as served (the foreign lists are empty).
   */
  ownerSignsDnskey?: true;
}

/** The signalling records of one signer: at `_dsboot.<zone>._signal.<ns>` for each of its NS names. */
export interface DesiredBootstrapSignals {
  /** The signer's NS hostnames (those inside the zone get no signal). */
  nameservers: string[];
  /** The group's CDS/CDNSKEY to copy there; null to withdraw them. */
  signals: BootstrapSignalSet | null;
}

/** RFC 9615 signalling RRsets: the zone's group-wide CDS and CDNSKEY sets, identical to the apex. */
export interface BootstrapSignalSet {
  cds: DsData[];
  cdnskey: DnskeyData[];
}

/**
 * Publishes RFC 9615 signalling records (capability `bootstrap-signal`) in the signalling zone
 * the operator serves for its NS hostnames, e.g. `_dsboot.example.test._signal.ns.bind.test.` in
 * `bind.test.`. That zone must be signed and securely delegated.
 */
export interface BootstrapSignaller {
  /** The signalling zone(s) this signer writes, from its configuration. */
  readonly signallingZones: readonly ZoneName[];
  /**
   * Makes the CDS and CDNSKEY RRsets at `_dsboot.<zone>._signal.<ns>`, for each of `nameservers`,
   * exactly `signals` (empty sets delete them). Idempotent. Rejects with
   * SignerConfigurationError for a hostname outside every signalling zone.
   */
  publishSignals(
    zone: ZoneName,
    nameservers: readonly string[],
    signals: BootstrapSignalSet,
    ttl: number,
    options: CallOptions,
  ): Promise<void>;
}

export type ChangeRecordType = 'DNSKEY' | 'CDS' | 'CDNSKEY' | 'CSYNC' | 'NS';

/** One RR to add or delete. Plain data. */
export type SignerChange =
  | { action: 'add' | 'delete'; type: 'DNSKEY' | 'CDNSKEY'; data: DnskeyData; ttl: number }
  | { action: 'add' | 'delete'; type: 'CDS'; data: DsData; ttl: number }
  | { action: 'add' | 'delete'; type: 'CSYNC'; data: CsyncData; ttl: number }
  | { action: 'add' | 'delete'; type: 'NS'; data: string; ttl: number };

/** The changes that take a signer from what it serves to the desired state. Computed by core, applied by the plugin. */
export interface SignerPlan {
  zone: ZoneName;
  signerId: string;
  /** Adds come before deletes, so that no RRset is ever empty in between; then sorted by type and rdata. */
  changes: SignerChange[];
}

export type Warning =
  | { type: 'unsupported'; capability: string; details?: string }
  | { type: 'compatibility'; feature: string; details?: string }
  | { type: 'other'; message: string };

export interface ApplyResult {
  /** How many changes the server accepted. */
  applied: number;
  warnings: Warning[];
}

/**
 * A signer: one DNS server or provider account that signs zones with its own keys (RFC 8901 model 2).
 *
 * A plugin reads and applies; core computes what to change (`planSignerChanges`) and checks the
 * result on the wire. Every method takes `CallOptions`, rejects with typed errors carrying
 * `isRetryable`, and touches only this signer's own server.
 *
 * @example
 * const signer = bindPlugin.create(config, { logger });
 * await signer.checkZone('example.test.', {});
 * const result = await reconcileSigner(signer, 'example.test.', desired, {});
 */
export interface Signer {
  readonly specificationVersion: 'v1';
  /** The plugin kind, e.g. `bind`. */
  readonly kind: string;
  /** The instance id from configuration, e.g. `bind-ams`. */
  readonly id: string;
  readonly capabilities: SignerCapabilities;
  /** Where the server answers queries for its zones. Post-conditions ask every one of these directly. */
  readonly nameServers: readonly NameServer[];

  /**
   * Checks that the server can take part in model 2 for this zone. Must reject with
   * SignerConfigurationError naming the setting when it cannot (silent failures are the enemy).
   */
  checkZone(zone: ZoneName, options: CallOptions): Promise<void>;

  /** This signer's own keys. Never includes imported keys. */
  listOwnKeys(zone: ZoneName, options: CallOptions): Promise<SigningKey[]>;

  /**
   * Optional, for servers whose own keys' states all show on the wire: a fingerprint of what
   * `listOwnKeys` would report, read more cheaply than the listing. While it stays the same, the
   * sidecar's key watch keeps its last listing (and lists again at least every few rounds). Any
   * change of the listing must change it; other changes may (they only cost a listing).
   */
  ownKeysFingerprint?(zone: ZoneName, options: CallOptions): Promise<string>;

  /** The apex RRsets as the server serves them (on the wire, not from its database). */
  readApex(zone: ZoneName, options: CallOptions): Promise<ApexSnapshot>;

  /**
   * Applies a plan. Must be idempotent (adding what exists and deleting what is absent are no-ops),
   * must never delete the signer's own keys or own CDS/CDNSKEY, and must reject with
   * UnsupportedCapabilityError for a change its capabilities do not allow.
   */
  applyChanges(plan: SignerPlan, options: CallOptions): Promise<ApplyResult>;

  /**
   * Every record of the zone as its own server holds it now, DNSSEC records included or not
   * (capability `content-read`): by AXFR, the server's control channel or its API. Names are
   * absolute. The sidecar digests the records that are not DNSSEC, SOA or apex NS.
   */
  readZoneContent?(zone: ZoneName, options: CallOptions): Promise<DnsRecord[]>;

  /** Releases connections. Optional. */
  close?(): Promise<void>;

  /** Present when the plugin can roll the signer's own keys (capability `key-roll`). */
  readonly keyRoller?: KeyRoller;

  /** Present when the plugin can publish RFC 9615 signalling records (capability `bootstrap-signal`). */
  readonly bootstrapSignaller?: BootstrapSignaller;

  /** Present when the plugin can serve a DNSKEY RRset the zone owner signed (capability `presigned-dnskey`, model 1). */
  readonly presignedDnskey?: PresignedDnskeyPublisher;
}

/**
 * Rolls a signer's own keys on Chorus's request. In `held` mode Chorus drives every step; in
 * `server-timed` mode the server runs the roll once started and Chorus follows it on the wire.
 */
export interface KeyRoller {
  /** How this server times rolls of the zone's keys, read from the server's configuration. */
  rolloverTiming(zone: ZoneName, options: CallOptions): Promise<RolloverTiming>;
  /**
   * Introduces a successor for the predecessor keys of `role`: published (in DNSKEY), not yet
   * signing data in `held` mode. Idempotent for a roll in progress: when a successor exists, returns it.
   */
  startRoll(
    zone: ZoneName,
    role: KeyRole,
    predecessorTags: readonly number[],
    options: CallOptions,
  ): Promise<SigningKey>;
  /** `held` only: the successor signs from now on, and the predecessors stop making signatures. */
  activateSuccessor(
    zone: ZoneName,
    successorTag: number,
    predecessorTags: readonly number[],
    options: CallOptions,
  ): Promise<void>;
  /** `held` only: removes the predecessor keys from the server's DNSKEY RRset. Idempotent. */
  removeKeys(zone: ZoneName, keyTags: readonly number[], options: CallOptions): Promise<void>;
  /**
   * `server-timed` KSK/CSK rolls (present when `rolloverTiming` says `confirmsParentDs`): tells the
   * server that the parent's DS set now holds `published` and no longer holds `withdrawn`.
   * Idempotent.
   */
  confirmParentDs?(
    zone: ZoneName,
    change: { published: readonly number[]; withdrawn: readonly number[] },
    options: CallOptions,
  ): Promise<void>;
}

/** What core hands a plugin's factory. Only the sidecar creates the root logger; plugins get a child. */
export interface PluginDependencies {
  logger: Logger;
}

/** The one object a plugin package exports. */
export interface SignerPluginDefinition<Config> {
  readonly specificationVersion: 'v1';
  readonly kind: string;
  readonly capabilities: SignerCapabilities;
  /** Validates raw configuration. Throws ConfigError at start-up, never at first use. */
  parseConfig(raw: unknown): Config;
  create(config: Config, dependencies: PluginDependencies): Signer;
}

export function defineSignerPlugin<Config>(
  definition: SignerPluginDefinition<Config>,
): SignerPluginDefinition<Config> {
  if (definition.specificationVersion !== 'v1') {
    throw new TypeError(
      `plugin ${definition.kind} implements specification ${String(definition.specificationVersion)}, core supports v1`,
    );
  }
  if (!/^[a-z][a-z0-9-]*$/.test(definition.kind))
    throw new TypeError(
      `plugin kind ${JSON.stringify(definition.kind)} must be lower-case kebab-case`,
    );
  return Object.freeze(definition);
}
