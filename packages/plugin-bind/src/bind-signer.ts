import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import {
  DnsResponseError,
  SignerCommandError,
  SignerConfigurationError,
  UnsafePlanError,
  type ApexSnapshot,
  type ApplyResult,
  type CallOptions,
  type DnsRecord,
  type DnskeyData,
  type DsData,
  type NameServer,
  type Signer,
  type SignerCapabilities,
  type SignerChange,
  type SignerPlan,
  type SigningKey,
  type Warning,
  type ZoneName,
} from '@chorus/core';
import {
  ConcurrencySlots,
  UpdateBuilder,
  assertPlanAllowed,
  canonicalName,
  describeChange,
  dnskeyIdentity,
  dsIdentity,
  keyTag,
  normalizeName,
  probeUpdateAccess,
  readApexFromServer,
  readPlannedApex,
  readTsigKeyFile,
  sendUpdate,
  signalOption,
  throwIfAborted,
  transferZone,
  type PlannedApex,
  type TsigKey,
} from '@chorus/dns';
import { bindCapabilitiesFor } from './capabilities.js';
import { DEFAULT_DNS_PORT, DEFAULT_MAX_CONCURRENT_TRANSFERS, type BindConfig } from './config.js';
import { detached, KeyDirectories } from './key-directory.js';
import type { BindKeyFile } from './key-files.js';
import { BindKeyRoller } from './key-roller.js';
import { isPublished, toSigningKey, type OwnKey } from './own-keys.js';
import { Rndc, type CheckDsOutput, type DnssecStatus, type DnssecStatusKey } from './rndc.js';
import { BindSignaller } from './signaller.js';

export const BIND_PLUGIN_KIND = 'bind';

/** What `checkDs` asks BIND to record: the parent now has (or no longer has) the DS. */
export interface CheckDsInput {
  /** The KSK; without it BIND acts on every KSK of the zone. */
  keyTag?: number;
  /** Only needed when two KSKs share a key tag. */
  algorithm?: number;
  state: 'published' | 'withdrawn';
}

export interface CheckDsResult extends CheckDsOutput {
  zone: ZoneName;
}

/** How long to wait before reading the key files again when one rndc lists is not there yet. */
const KEY_FILE_RETRY_MS = 300;

/** The longest a zone's `rndc dnssec -status` is reused while none of its key files moved. */
const STATUS_REUSE_MAX_MS = 10 * 60_000;

interface CachedStatus {
  fingerprint: string;
  status: DnssecStatus;
  readAt: number;
}

/** The key file (with a .private) of a key rndc lists. */
function fileOf(files: readonly BindKeyFile[], entry: DnssecStatusKey): BindKeyFile | undefined {
  return files.find(
    (candidate) =>
      candidate.keyTag === entry.keyTag &&
      (entry.algorithm === undefined || candidate.algorithm === entry.algorithm) &&
      candidate.hasPrivate,
  );
}

function endpoint(entry: { address: string; port?: number }): NameServer {
  return { address: entry.address, port: entry.port ?? DEFAULT_DNS_PORT };
}

/** The configured signalling zones as a list; undefined when none are. */
function signallingZonesOf(config: BindConfig): ZoneName[] | undefined {
  return config.signallingZone === undefined ? undefined : [config.signallingZone].flat();
}

function recordOf(zone: ZoneName, change: SignerChange, ttl: number): DnsRecord {
  return { name: zone, type: change.type, class: 'IN', ttl, data: change.data } as DnsRecord;
}

/**
 * A BIND 9.18 signer (RFC 8901 model 2): foreign DNSKEY/CDS/CDNSKEY, CSYNC and apex NS by
 * TSIG-signed DNS UPDATE, own keys from the key-directory cross-checked with
 * `rndc dnssec -status`, and the apex as served on the wire.
 *
 * A whole plan goes into ONE UPDATE message of single-RR adds and deletes: BIND applies it
 * atomically, and checks CDS/CDNSKEY against the DNSKEY algorithms only at the end of the
 * message (sent one by one, removing a foreign algorithm's DNSKEY before its CDS is REFUSED).
 */
export class BindSigner implements Signer {
  readonly specificationVersion = 'v1' as const;
  readonly kind = BIND_PLUGIN_KIND;
  readonly id: string;
  readonly capabilities: SignerCapabilities;
  readonly nameServers: readonly NameServer[];
  /** Server-timed: BIND's dnssec-policy times every step once `rndc dnssec -rollover` starts it. */
  readonly keyRoller: BindKeyRoller;
  /** RFC 9615 signals by DNS UPDATE; present when signallingZone is configured. */
  readonly bootstrapSignaller?: BindSignaller;

  readonly #config: BindConfig;
  readonly #logger: Logger;
  readonly #rndc: Rndc;
  readonly #server: NameServer;
  readonly #keyDirectory: KeyDirectories;
  /** Per zone: BIND writes every key state change to the `.state` files, so unmoved files mean an unchanged status. */
  readonly #statuses = new Map<string, CachedStatus>();
  /** Below BIND's transfers-out quota, so many zones read at once never meet SERVFAIL. */
  readonly #transfers: ConcurrencySlots;
  #tsig: Promise<TsigKey> | undefined;

  constructor(config: BindConfig, logger: Logger) {
    this.#config = config;
    this.id = config.id;
    this.#logger = logger;
    this.#server = endpoint(config.server);
    this.nameServers = Object.freeze((config.nameServers ?? [config.server]).map(endpoint));
    this.#keyDirectory = new KeyDirectories(config.keyDirectory);
    this.#transfers = new ConcurrencySlots(
      config.maxConcurrentTransfers ?? DEFAULT_MAX_CONCURRENT_TRANSFERS,
    );
    this.#rndc = new Rndc(config.rndc, logger, (zone) =>
      this.#statuses.delete(canonicalName(normalizeName(zone))),
    );
    this.keyRoller = new BindKeyRoller({
      signerId: this.id,
      config,
      rndc: this.#rndc,
      logger,
      ownKeys: async (zone, options) => (await this.#ownKeys(zone, options)).keys,
      servedDnskeys: async (zone, options) =>
        (await this.readApex(zone, options)).dnskey?.records ?? [],
    });
    const signallingZones = signallingZonesOf(config);
    this.capabilities = bindCapabilitiesFor(signallingZones);
    if (signallingZones)
      this.bootstrapSignaller = new BindSignaller({
        signerId: this.id,
        server: this.#server,
        signallingZones,
        tsigKey: () => this.#tsigKey(),
        logger,
      });
  }

  #tsigKey(): Promise<TsigKey> {
    // Read once; a failed read is retried on the next call.
    this.#tsig ??= readTsigKeyFile(this.#config.tsigKeyFile).catch((error: unknown) => {
      this.#tsig = undefined;
      throw error;
    });
    return this.#tsig;
  }

  /**
   * Refuses a zone BIND 9.18 cannot run model 2 for: unknown zone, no dnssec-policy,
   * inline-signing, not dynamic, a TSIG key that may not update, own keys outside keyDirectory.
   */
  async checkZone(zone: ZoneName, options: CallOptions): Promise<void> {
    const name = normalizeName(zone);
    throwIfAborted(options.signal, `checkZone ${name}`);
    const configError = (setting: string, problem: string, fix: string) =>
      new SignerConfigurationError({ signerId: this.id, zone: name, setting, problem, fix });

    // Both at once; a missing zone is reported from zonestatus, which fails the clearest way.
    // The status read here is cached with the key files, so the key watch's first round reuses it.
    const dnssecStatus = this.#statusAndFiles(name, options).then(
      ({ status: value }) => ({ value }),
      (error: unknown) => ({ error }),
    );
    const status = await this.#rndc.zoneStatus(name, options).catch((error: unknown) => {
      if (SignerCommandError.isInstance(error) && /no matching zone/i.test(error.stderr))
        throw configError(
          'zone',
          `BIND has no zone ${name}`,
          `add a zone "${name}" statement (type primary) to named.conf, or check that rndc talks to the right server`,
        );
      throw error;
    });
    const dnssecResult = await dnssecStatus;
    if ('error' in dnssecResult) throw dnssecResult.error;
    const dnssec = dnssecResult.value;
    if (dnssec.policy === null)
      throw configError(
        'dnssec-policy',
        'the zone has no dnssec-policy, so BIND does not sign it with keys of its own',
        'add `dnssec-policy <policy>;` to the zone (with `inline-signing no;` and allow-update or update-policy)',
      );
    if (status.inlineSigning)
      throw configError(
        'inline-signing',
        'the zone uses inline-signing: BIND 9.18 answers SERVFAIL to foreign DNSKEYs by UPDATE and silently drops them from the raw zone file',
        'set inline-signing no on a dynamic zone (allow-update/update-policy), or use BIND ≥ 9.20',
      );
    if (!status.dynamic)
      throw configError(
        'allow-update',
        'the zone is not dynamic, so foreign records cannot be added by DNS UPDATE',
        'add `allow-update { key "<tsig key>"; };` or an update-policy granting the TSIG key, keeping `inline-signing no;`',
      );
    await Promise.all([
      this.#probeUpdate(name, configError, options),
      this.#ownKeys(name, options),
    ]);
  }

  /** An UPDATE with only a prerequisite (SOA exists): checks the TSIG key and allow-update, changes nothing. */
  async #probeUpdate(
    zone: ZoneName,
    configError: (setting: string, problem: string, fix: string) => SignerConfigurationError,
    options: CallOptions,
  ): Promise<void> {
    const tsig = await this.#tsigKey();
    try {
      await probeUpdateAccess(this.#server, zone, tsig, options);
    } catch (error) {
      if (DnsResponseError.isInstance(error) && error.rcode === 'REFUSED')
        throw configError(
          'allow-update',
          `BIND refuses DNS UPDATE signed with TSIG key ${tsig.name}`,
          `grant key "${tsig.name.replace(/\.$/, '')}" in the zone's allow-update or update-policy`,
        );
      throw error;
    }
  }

  /** Own keys: every key rndc lists, with its key file (which must have a `.private`). */
  async #ownKeys(
    zone: ZoneName,
    options: CallOptions,
  ): Promise<{ keys: OwnKey[]; files: BindKeyFile[] }> {
    const { status, files } = await this.#statusAndFiles(zone, options);
    if (status.policy === null)
      throw new SignerConfigurationError({
        signerId: this.id,
        zone,
        setting: 'dnssec-policy',
        problem: 'the zone has no dnssec-policy, so BIND has no keys of its own for it',
        fix: 'add `dnssec-policy <policy>;` to the zone',
      });
    const keys = status.keys.map((entry): OwnKey => {
      const file = fileOf(files, entry);
      if (!file)
        throw new SignerConfigurationError({
          signerId: this.id,
          zone,
          setting: 'keyDirectory',
          problem: `rndc dnssec -status lists key ${entry.keyTag} (${entry.algorithmName}, ${entry.role}), but ${this.#keyDirectory.directoryOf(zone)} has no K${zone}+<alg>+${String(entry.keyTag).padStart(5, '0')}.key with a .private`,
          fix: "set the plugin's keyDirectory to the zone's key-directory from named.conf (with {zone} where each zone has its own)",
        });
      return { file, status: entry };
    });
    return { keys, files };
  }

  /**
   * The zone's `rndc dnssec -status` and key files. The status is reused while the files stand
   * still; otherwise the status is read first, then the files: BIND writes a new key's files
   * before it lists the key, so a key created in between is in both. One more read covers a
   * file still being written.
   */
  async #statusAndFiles(
    zone: ZoneName,
    options: CallOptions,
  ): Promise<{ status: DnssecStatus; files: BindKeyFile[] }> {
    const key = canonicalName(zone);
    const before = await this.#keyDirectory.zoneFiles(zone, options);
    const cached = this.#statuses.get(key);
    if (
      cached &&
      !before.racy &&
      cached.fingerprint === before.fingerprint &&
      performance.now() - cached.readAt < STATUS_REUSE_MAX_MS
    )
      return { status: cached.status, files: before.files };
    const status = await this.#rndc.dnssecStatus(zone, options);
    let after = await this.#keyDirectory.zoneFiles(zone, options);
    if (status.keys.some((entry) => !fileOf(after.files, entry))) {
      await delay(KEY_FILE_RETRY_MS, undefined, signalOption(options.signal));
      after = await this.#keyDirectory.zoneFiles(zone, options);
    }
    // Kept only when no file moved around the read, so the status belongs to these files.
    if (!after.racy && after.fingerprint === before.fingerprint)
      this.#statuses.set(key, {
        fingerprint: after.fingerprint,
        status: detached(status),
        readAt: performance.now(),
      });
    else this.#statuses.delete(key);
    return { status, files: after.files };
  }

  /** BIND's own keys that it publishes (DNSKEY state rumoured or omnipresent), with their states. */
  /**
   * During a roll this lists the successor from its publication (`dnskey rumoured`) and the
   * predecessor until BIND withdraws it (`dnskey unretentive`); the states change at every step.
   */
  async listOwnKeys(zone: ZoneName, options: CallOptions): Promise<SigningKey[]> {
    const name = normalizeName(zone);
    throwIfAborted(options.signal, `listOwnKeys ${name}`);
    const { keys } = await this.#ownKeys(name, options);
    return keys.filter(isPublished).map(toSigningKey);
  }

  async readApex(zone: ZoneName, options: CallOptions): Promise<ApexSnapshot> {
    throwIfAborted(options.signal, `readApex ${zone}`);
    return readApexFromServer(this.#server, zone, {
      ...signalOption(options.signal),
    });
  }

  /**
   * The whole zone by AXFR from `server`, signed with the TSIG key: BIND's allow-transfer must
   * match the sidecar's address or the key. A refusal is a SignerConfigurationError.
   */
  async readZoneContent(zone: ZoneName, options: CallOptions): Promise<DnsRecord[]> {
    const name = normalizeName(zone);
    throwIfAborted(options.signal, `readZoneContent ${name}`);
    const tsig = await this.#tsigKey();
    try {
      return await this.#transfers.run(() => {
        throwIfAborted(options.signal, `readZoneContent ${name}`);
        return transferZone(this.#server, name, { tsig, ...signalOption(options.signal) });
      });
    } catch (error) {
      if (DnsResponseError.isInstance(error) && error.rcode === 'REFUSED')
        throw new SignerConfigurationError({
          signerId: this.id,
          zone: name,
          setting: 'allow-transfer',
          problem: `BIND at ${error.server} refuses to transfer ${name} (AXFR answered REFUSED)`,
          fix: `allow the sidecar's address or key "${tsig.name.replace(/\.$/, '')}" in the zone's allow-transfer`,
        });
      throw error;
    }
  }

  /**
   * Applies a plan as one TSIG-signed UPDATE of single-RR adds and deletes. Refuses (UnsafePlanError)
   * a plan that deletes one of BIND's own keys or their CDS/CDNSKEY, empties the apex NS set, or
   * leaves a CDS/CDNSKEY algorithm without a DNSKEY (BIND would REFUSE it).
   */
  async applyChanges(plan: SignerPlan, options: CallOptions): Promise<ApplyResult> {
    const zone = normalizeName(plan.zone);
    throwIfAborted(options.signal, `applyChanges ${zone}`);
    assertPlanAllowed(this, plan);
    if (plan.signerId !== this.id)
      throw new UnsafePlanError(`the plan is for signer ${plan.signerId}, this is ${this.id}`);
    if (plan.changes.length === 0) return { applied: 0, warnings: [] };
    const started = performance.now();
    const [{ keys, files }, served, tsig] = await Promise.all([
      this.#ownKeys(zone, options),
      readPlannedApex(this.#server, zone, signalOption(options.signal)),
      this.#tsigKey(),
    ]);
    this.#refuseUnsafe(zone, plan, keys, files, served);
    const { update, warnings } = this.#buildUpdate(zone, plan, served);
    throwIfAborted(options.signal, `applyChanges ${zone}`);
    const result = await sendUpdate(this.#server, update, {
      tsig,
      ...signalOption(options.signal),
    });
    const adds = plan.changes.filter((change) => change.action === 'add').length;
    this.#logger.info(
      {
        zone,
        adds,
        deletes: plan.changes.length - adds,
        updateMs: Math.round(result.elapsedMs),
        totalMs: Math.round(performance.now() - started),
      },
      `applied ${plan.changes.length} change(s) to ${zone} in one UPDATE`,
    );
    return { applied: plan.changes.length, warnings };
  }

  #refuseUnsafe(
    zone: ZoneName,
    plan: SignerPlan,
    keys: readonly OwnKey[],
    files: readonly BindKeyFile[],
    served: PlannedApex,
  ): void {
    // Every key BIND can sign with: listed by rndc, or with a .private in the key directory.
    const own: DnskeyData[] = [
      ...keys.map(({ file }) => file.dnskey),
      ...files.filter((file) => file.hasPrivate).map((file) => file.dnskey),
    ];
    const ownIds = new Set(own.map(dnskeyIdentity));
    const ownSep = own.filter((key) => (key.flags & 1) === 1);
    const ownKskIds = new Set(ownSep.map(dnskeyIdentity));
    const isOwnCds = (ds: DsData) =>
      ownSep.some((key) => keyTag(key) === ds.keyTag && key.algorithm === ds.algorithm);
    for (const change of plan.changes) {
      if (change.action !== 'delete') continue;
      const own =
        (change.type === 'DNSKEY' && ownIds.has(dnskeyIdentity(change.data))) ||
        (change.type === 'CDNSKEY' && ownKskIds.has(dnskeyIdentity(change.data))) ||
        (change.type === 'CDS' && isOwnCds(change.data));
      if (own)
        throw new UnsafePlanError(
          `${describeChange(change)} would delete BIND's own ${change.type} for ${zone} (BIND ignores it silently; its keys and CDS/CDNSKEY belong to dnssec-policy)`,
        );
    }

    // The apex after the plan, to refuse an empty NS set or a CDS/CDNSKEY algorithm without DNSKEY.
    const after = <T>(
      type: SignerChange['type'],
      current: readonly T[],
      identity: (item: T) => string,
    ) => {
      const result = new Map(current.map((item) => [identity(item), item]));
      for (const change of plan.changes) {
        if (change.type !== type) continue;
        const data = change.data as T;
        if (change.action === 'add') result.set(identity(data), data);
        else result.delete(identity(data));
      }
      return [...result.values()];
    };
    const ns = after<string>('NS', served.ns?.records ?? [], canonicalName);
    if (ns.length === 0) throw new UnsafePlanError(`the plan would leave ${zone} without apex NS`);
    const algorithms = new Set(
      after<DnskeyData>('DNSKEY', served.dnskey?.records ?? [], dnskeyIdentity).map(
        (key) => key.algorithm,
      ),
    );
    const orphans = [
      ...after<DsData>('CDS', served.cds?.records ?? [], dsIdentity),
      ...after<DnskeyData>('CDNSKEY', served.cdnskey?.records ?? [], dnskeyIdentity),
      // Algorithm 0 is the RFC 8078 "delete DS" record, which needs no DNSKEY.
    ].filter((record) => record.algorithm !== 0 && !algorithms.has(record.algorithm));
    if (orphans.length > 0)
      throw new UnsafePlanError(
        `the plan would leave CDS/CDNSKEY of algorithm ${orphans[0]!.algorithm} without a DNSKEY of that algorithm in ${zone} (BIND refuses such an UPDATE)`,
      );
  }

  /**
   * One UPDATE, in plan order. Adds to an RRset BIND already serves keep its TTL: dnssec-policy
   * resets the DNSKEY/CDS/CDNSKEY TTL to dnskey-ttl at every key event anyway, and a longer TTL
   * than the policy assumes would make its rollover timing unsafe.
   */
  #buildUpdate(
    zone: ZoneName,
    plan: SignerPlan,
    served: PlannedApex,
  ): { update: UpdateBuilder; warnings: Warning[] } {
    const servedTtl: Partial<Record<SignerChange['type'], number>> = {
      ...(served.dnskey ? { DNSKEY: served.dnskey.ttl } : {}),
      ...(served.cds ? { CDS: served.cds.ttl } : {}),
      ...(served.cdnskey ? { CDNSKEY: served.cdnskey.ttl } : {}),
      ...(served.ns ? { NS: served.ns.ttl } : {}),
    };
    const update = new UpdateBuilder(zone);
    const warnings: Warning[] = [];
    const warned = new Set<string>();
    for (const change of plan.changes) {
      if (change.action === 'delete') {
        update.deleteRecord(recordOf(zone, change, 0));
        continue;
      }
      const keep = servedTtl[change.type];
      if (keep !== undefined && keep !== change.ttl && !warned.has(change.type)) {
        warned.add(change.type);
        warnings.push({
          type: 'compatibility',
          feature: 'ttl',
          details: `BIND keeps the ${change.type} RRset TTL of ${keep} s instead of ${change.ttl} s`,
        });
      }
      update.add(recordOf(zone, change, keep ?? change.ttl));
    }
    return { update, warnings };
  }

  /**
   * Tells BIND that the DS of its KSK is now published at (or withdrawn from) the parent:
   * `rndc dnssec -checkds [-key TAG] published|withdrawn ZONE`. This is the "DS is at the parent"
   * signal that lets dnssec-policy move the KSK's DS state on. rndc exits 0 even when it fails
   * ("no matching key found" for a foreign key tag), so the answer is parsed: a SignerCommandError
   * then.
   */
  async checkDs(
    zone: ZoneName,
    input: CheckDsInput,
    options: CallOptions = {},
  ): Promise<CheckDsResult> {
    const name = normalizeName(zone);
    throwIfAborted(options.signal, `checkDs ${name}`);
    const output = await this.#rndc.checkDs(name, input, options);
    this.#logger.info(
      { zone: name, keyTag: input.keyTag, state: input.state, since: output.since },
      `told BIND the DS is ${input.state}`,
    );
    return { zone: name, ...output };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
