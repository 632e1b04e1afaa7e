import {
  DnsResponseError,
  SignerConfigurationError,
  UnsafePlanError,
  type ApexSnapshot,
  type ApplyResult,
  type CallOptions,
  type DnskeyData,
  type DnsRecord,
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
  UpdateBuilder,
  assertPlanAllowed,
  canonicalName,
  csyncIdentity,
  describeChange,
  dnskeyIdentity,
  dsIdentity,
  dsMatchesKey,
  formatRdata,
  keyTag,
  normalizeName,
  probeUpdateAccess,
  readApexFromServer,
  readTsigKeyFile,
  sendUpdate,
  signalOption,
  throwIfAborted,
} from '@chorus/dns';
import type { Logger } from 'pino';
import { knotCapabilitiesFor } from './capabilities.js';
import type { KnotSignerConfig } from './config.js';
import { KnotKeyRoller, type KnotKeyRollerOptions, type KnotRollerHost } from './key-roller.js';
import { Keymgr, roleOf, stateOf, type KaspKey } from './keymgr.js';
import { Knotc, type KskSubmittedResult } from './knotc.js';
import { KnotOfflineKskRoller } from './offline-ksk-roller.js';
import { KnotPresignedDnskey } from './presigned-dnskey.js';
import { KnotSignaller } from './signaller.js';
import {
  findApplyMisconfigurations,
  findMisconfigurations,
  resolveZoneConfig,
  type ResolvedZoneConfig,
} from './zone-config.js';

export interface KnotSignerOptions {
  logger: Logger;
  /**
   * Skip the configuration check that applyChanges runs before every apply. Only for tests that
   * must show what a misconfigured server does; never set it in production.
   */
  unsafeSkipZoneCheck?: boolean;
  /** Waits of `keyRoller.startRoll`; the defaults suit a server on the same host. */
  keyRoll?: KnotKeyRollerOptions;
}

/** Default location of the KASP database when knot.conf sets neither kasp-db nor storage. */
const DEFAULT_STORAGE = '/var/lib/knot';

function identityOf(type: string, data: unknown): string {
  switch (type) {
    case 'DNSKEY':
    case 'CDNSKEY':
      return dnskeyIdentity(data as Parameters<typeof dnskeyIdentity>[0]);
    case 'CDS':
      return dsIdentity(data as Parameters<typeof dsIdentity>[0]);
    case 'CSYNC':
      return csyncIdentity(data as Parameters<typeof csyncIdentity>[0]);
    case 'NS':
      return canonicalName(data as string);
    default:
      return JSON.stringify(data);
  }
}

function recordOf(zone: string, change: SignerChange): DnsRecord {
  return {
    name: zone,
    type: change.type,
    class: 'IN',
    ttl: change.ttl,
    data: change.data,
  } as DnsRecord;
}

/**
 * A Knot 3.2 signer: reads its apex on the wire, its own keys with keymgr, and applies plans by
 * DNS UPDATE with TSIG (default) or knotc zone transactions.
 *
 * @example
 * const signer = createKnotSigner({ id: 'knot', server: { address: '127.53.0.4' },
 *   tsigKeyFile: '/etc/knot/chorus.key', knotc: { configFile: '/etc/knot/knot.conf' } });
 * await signer.checkZone('example.test.', {});
 */
export class KnotSigner implements Signer {
  readonly specificationVersion = 'v1' as const;
  readonly kind = 'knot';
  readonly id: string;
  readonly capabilities: SignerCapabilities;
  readonly nameServers: readonly NameServer[];
  /** Rolls in `server-timed` mode: Knot's automatic policy times each step (see rollover.ts). */
  readonly keyRoller: KnotKeyRoller;
  /** RFC 9615 signals with `updateMethod`; present when signallingZone is configured. */
  readonly bootstrapSignaller?: KnotSignaller;
  /** Model 1: serves the owner-signed DNSKEY RRset through offline-KSK (KSR/SKR). */
  readonly presignedDnskey: KnotPresignedDnskey;

  readonly #config: KnotSignerConfig;
  readonly #logger: Logger;
  readonly #knotc: Knotc;
  readonly #skipZoneCheck: boolean;
  #keymgr: Keymgr | undefined;

  constructor(config: KnotSignerConfig, options: KnotSignerOptions) {
    this.id = config.id;
    this.#config = config;
    this.nameServers = config.nameServers.map((server) => ({ ...server }));
    this.#logger = options.logger.child({ plugin: 'knot', signerId: config.id });
    this.#skipZoneCheck = options.unsafeSkipZoneCheck ?? false;
    this.#knotc = new Knotc({
      binary: config.binaries.knotc,
      control: config.knotc,
      timeoutMs: config.timeoutMs,
      logger: this.#logger,
    });
    if ('configFile' in config.knotc || config.knotc.kaspDb !== undefined) {
      this.#keymgr = this.newKeymgr(
        'configFile' in config.knotc
          ? { configFile: config.knotc.configFile }
          : { kaspDb: config.knotc.kaspDb! },
      );
    }
    this.keyRoller = new KnotKeyRoller(this.#rollerHost(), options.keyRoll);
    this.presignedDnskey = new KnotPresignedDnskey({
      signerId: this.id,
      logger: this.#logger,
      readZoneConfig: (zone, callOptions) => this.readZoneConfig(zone, callOptions),
      keymgr: (callOptions) => this.keymgr(callOptions),
      knotc: this.#knotc,
    });
    this.capabilities = knotCapabilitiesFor(config.signallingZone);
    if (config.signallingZone)
      this.bootstrapSignaller = new KnotSignaller({
        signerId: this.id,
        signallingZones: config.signallingZone,
        updateMethod: config.updateMethod,
        server: config.server,
        tsigKeyFile: config.tsigKeyFile,
        timeoutMs: config.timeoutMs,
        knotc: this.#knotc,
        logger: this.#logger,
      });
  }

  /** The signer's reads and knotc, for the key roller. */
  #rollerHost(): KnotRollerHost {
    return {
      signerId: this.id,
      logger: this.#logger,
      readZoneConfig: (zone: ZoneName, options: CallOptions) => this.readZoneConfig(zone, options),
      listKaspKeys: (zone: ZoneName, options: CallOptions) => this.listKaspKeys(zone, options),
      dnskeyOf: async (zone: ZoneName, key: KaspKey, options: CallOptions): Promise<DnskeyData> =>
        (await this.keymgr(options)).dnskey(zone, key, { signal: options.signal }),
      readApex: (zone: ZoneName, options: CallOptions) => this.readApex(zone, options),
      keyRollover: (zone: ZoneName, keyType: 'ksk' | 'zsk', options: CallOptions) =>
        this.#knotc.keyRollover(zone, keyType, { signal: options.signal }),
      knotcCommand: (args: readonly string[]) => this.#knotc.commandLine(args),
      kskSubmitted: (zone: ZoneName, options: CallOptions) => this.kskSubmitted(zone, options),
      offlineKsk: new KnotOfflineKskRoller({
        signerId: this.id,
        logger: this.#logger,
        keymgr: (options: CallOptions) => this.keymgr(options),
        listKaspKeys: (zone: ZoneName, options: CallOptions) => this.listKaspKeys(zone, options),
        dnskeyOf: async (zone: ZoneName, key: KaspKey, options: CallOptions) =>
          (await this.keymgr(options)).dnskey(zone, key, { signal: options.signal }),
        knotc: this.#knotc,
      }),
    };
  }

  private newKeymgr(source: { configFile: string } | { kaspDb: string }): Keymgr {
    return new Keymgr({
      binary: this.#config.binaries.keymgr,
      source,
      timeoutMs: this.#config.timeoutMs,
      logger: this.#logger,
    });
  }

  /** keymgr, reading the KASP database path from knotd when only the socket is configured. */
  private async keymgr(options: CallOptions): Promise<Keymgr> {
    if (this.#keymgr) return this.#keymgr;
    const entries = await this.#knotc.confRead('database', { signal: options.signal });
    const value = (item: string) => entries.find((entry) => entry.item === item)?.value;
    const storage = value('storage') ?? DEFAULT_STORAGE;
    const kaspDb = value('kasp-db') ?? 'keys';
    this.#keymgr = this.newKeymgr({
      kaspDb: kaspDb.startsWith('/') ? kaspDb : `${storage.replace(/\/$/, '')}/${kaspDb}`,
    });
    return this.#keymgr;
  }

  /** The zone's effective configuration as the running knotd sees it (`knotc conf-read`). */
  async readZoneConfig(zone: ZoneName, options: CallOptions = {}): Promise<ResolvedZoneConfig> {
    throwIfAborted(options.signal, `reading the configuration of ${zone}`);
    const sections = await Promise.all(
      ['zone', 'template', 'policy'].map((section) =>
        this.#knotc.confRead(section, { signal: options.signal }),
      ),
    );
    return resolveZoneConfig(sections.flat(), normalizeName(zone));
  }

  /**
   * Refuses a zone Knot cannot run model 2 for (see findMisconfigurations), and, with
   * updateMethod dns-update, a TSIG key knotd rejects (TsigError BADSIG/BADKEY, not retryable) or
   * does not allow to update the zone: the same start-up check as the BIND plugin's.
   */
  async checkZone(zone: ZoneName, options: CallOptions = {}): Promise<void> {
    // In this order: a zone knotd does not serve is reported as such, not as an ACL refusal.
    await this.#checkZoneConfig(zone, options);
    await this.#probeUpdate(zone, options);
  }

  /** Model 2's settings; with `changedTypes` (applying a plan), model 1's for an offline-KSK zone. */
  async #checkZoneConfig(
    zone: ZoneName,
    options: CallOptions,
    changedTypes?: readonly string[],
  ): Promise<void> {
    const config = await this.readZoneConfig(zone, options);
    const [problem, ...others] = changedTypes
      ? findApplyMisconfigurations(config, changedTypes)
      : findMisconfigurations(config);
    if (problem) {
      if (others.length > 0)
        this.#logger.warn(
          { zone, problems: others.map((entry) => entry.setting) },
          'further configuration problems',
        );
      throw new SignerConfigurationError({
        signerId: this.id,
        zone: normalizeName(zone),
        setting: problem.setting,
        problem: problem.problem,
        fix: problem.fix,
      });
    }
  }

  /** An UPDATE with only a prerequisite: proves the TSIG key and the update ACL, changes nothing. */
  async #probeUpdate(zone: ZoneName, options: CallOptions): Promise<void> {
    if (this.#config.updateMethod !== 'dns-update' || this.#config.tsigKeyFile === undefined)
      return;
    const name = normalizeName(zone);
    const tsig = await readTsigKeyFile(this.#config.tsigKeyFile);
    try {
      await probeUpdateAccess(this.#config.server, name, tsig, {
        signal: options.signal,
        timeoutMs: this.#config.timeoutMs,
      });
    } catch (error) {
      if (DnsResponseError.isInstance(error) && ['REFUSED', 'NOTAUTH'].includes(error.rcode))
        throw new SignerConfigurationError({
          signerId: this.id,
          zone: name,
          setting: 'acl',
          problem: `knotd answers ${error.rcode} to DNS UPDATE signed with TSIG key ${tsig.name}`,
          fix: `allow key ${tsig.name.replace(/\.$/, '')} to update the zone: an acl with action: update, and the zone's acl list naming it`,
        });
      throw error;
    }
  }

  /** Every key of the zone in Knot's KASP database, including import-pub (public-only) keys. */
  async listKaspKeys(zone: ZoneName, options: CallOptions = {}): Promise<KaspKey[]> {
    throwIfAborted(options.signal, `listing the keys of ${zone}`);
    const keymgr = await this.keymgr(options);
    return keymgr.list(normalizeName(zone), { signal: options.signal });
  }

  /**
   * Knot's own keys until they leave the zone: a roll's successor from its publication, the
   * predecessor while it is retired (still in DNSKEY). `state` follows Knot's timers (published,
   * ready, active, retired, post-active…), so each step of a roll is a state change.
   */
  async listOwnKeys(zone: ZoneName, options: CallOptions = {}): Promise<SigningKey[]> {
    const name = normalizeName(zone);
    const keymgr = await this.keymgr(options);
    const now = Math.floor(Date.now() / 1000);
    const keys = (await this.listKaspKeys(name, options))
      .filter((key) => !key.publicOnly)
      .map((key) => ({ key, state: stateOf(key, now) }))
      .filter(({ state }) => state !== 'removed');
    // keymgr prints nothing and exits 0 for a zone it does not know. An empty list would let a
    // planner treat Knot's own keys as foreign, so it is an error, never "no keys".
    if (keys.length === 0)
      throw new SignerConfigurationError({
        signerId: this.id,
        zone: name,
        setting: 'dnssec-signing',
        problem: `Knot's KASP database has no signing keys for ${name} (keymgr list is empty)`,
        fix: `check that knotd serves the zone with dnssec-signing: on (knotc zone-status ${name}) and that knotc/keymgr use knotd's configuration`,
      });
    const listed = await Promise.all(
      keys.map(async ({ key, state }): Promise<SigningKey | undefined> => {
        const dnskey = await keymgr
          .dnskey(name, key, { signal: options.signal })
          .catch((error: unknown) => {
            // Knot deleted the key between `list` and `dnskey` (a roll's last step): it is gone.
            if (/key not found/.test((error as Error).message)) return undefined;
            throw error;
          });
        if (!dnskey) return undefined;
        return { role: roleOf(key), algorithm: key.algorithm, keyTag: key.tag, dnskey, state };
      }),
    );
    return listed.filter((key) => key !== undefined);
  }

  async readApex(zone: ZoneName, options: CallOptions = {}): Promise<ApexSnapshot> {
    return readApexFromServer(this.#config.server, zone, {
      ...signalOption(options.signal),
    });
  }

  /** Every record of the zone as knotd holds it now (`knotc zone-read`), DNSSEC records included. */
  async readZoneContent(zone: ZoneName, options: CallOptions = {}): Promise<DnsRecord[]> {
    const name = normalizeName(zone);
    throwIfAborted(options.signal, `reading the content of ${name}`);
    return this.#knotc.readZone(name, { signal: options.signal });
  }

  async applyChanges(plan: SignerPlan, options: CallOptions = {}): Promise<ApplyResult> {
    const zone = normalizeName(plan.zone);
    throwIfAborted(options.signal, `applying ${plan.changes.length} change(s) to ${zone}`);
    assertPlanAllowed(this, plan);
    if (plan.changes.length === 0) return { applied: 0, warnings: [] };
    const started = performance.now();
    if (!this.#skipZoneCheck)
      await this.#checkZoneConfig(
        zone,
        options,
        plan.changes.map((change) => change.type),
      );
    const warnings = await this.guardOwnKeys(zone, plan.changes, options);
    throwIfAborted(options.signal, `applying ${plan.changes.length} change(s) to ${zone}`);
    const changed =
      this.#config.updateMethod === 'knotc'
        ? await this.applyWithKnotc(zone, plan.changes, options)
        : await this.applyWithUpdate(zone, plan.changes, options);
    this.#logger.info(
      {
        zone,
        method: this.#config.updateMethod,
        changes: plan.changes.length,
        changed,
        adds: plan.changes.filter((change) => change.action === 'add').length,
        deletes: plan.changes.filter((change) => change.action === 'delete').length,
        elapsedMs: Math.round(performance.now() - started),
      },
      'applied plan',
    );
    return { applied: plan.changes.length, warnings };
  }

  /**
   * Refuses a plan that deletes one of Knot's own keys or its own CDS/CDNSKEY: Knot would put
   * them back at once (a DNS UPDATE delete of its own ZSK is a no-op), so such a plan can never
   * converge and means the caller's view of the keys is wrong.
   */
  private async guardOwnKeys(
    zone: string,
    changes: readonly SignerChange[],
    options: CallOptions,
  ): Promise<Warning[]> {
    const deletes = changes.filter(
      (change) =>
        change.action === 'delete' &&
        (change.type === 'DNSKEY' || change.type === 'CDS' || change.type === 'CDNSKEY'),
    );
    if (deletes.length === 0) return [];
    const [ownKeys, kaspKeys] = await Promise.all([
      this.listOwnKeys(zone, options),
      this.listKaspKeys(zone, options),
    ]);
    const own = new Set(ownKeys.map((key) => dnskeyIdentity(key.dnskey)));
    const ownKsks = ownKeys.filter((key) => key.role !== 'ZSK');
    const ownKskIds = new Set(ownKsks.map((key) => dnskeyIdentity(key.dnskey)));
    const warnings: Warning[] = [];
    for (const change of deletes) {
      let ownKey: string | undefined;
      if (change.type === 'DNSKEY' && own.has(dnskeyIdentity(change.data)))
        ownKey = `its own DNSKEY ${keyTag(change.data)}`;
      if (change.type === 'CDNSKEY' && ownKskIds.has(dnskeyIdentity(change.data)))
        ownKey = `the CDNSKEY of its own KSK ${keyTag(change.data)}`;
      if (
        change.type === 'CDS' &&
        ownKsks.some((key) => dsMatchesKey(zone, change.data, key.dnskey))
      )
        ownKey = `the CDS of its own KSK ${change.data.keyTag}`;
      if (ownKey !== undefined)
        throw new UnsafePlanError(
          `the plan for ${this.id} deletes ${ownKey} from ${zone}; Knot owns that record and re-adds it`,
        );
      if (change.type === 'DNSKEY') {
        const tag = keyTag(change.data);
        const imported = kaspKeys.find(
          (key) => key.publicOnly && key.tag === tag && key.algorithm === change.data.algorithm,
        );
        if (imported)
          warnings.push({
            type: 'other',
            message: `DNSKEY ${tag} was imported with keymgr import-pub (KASP key ${imported.id}); Knot republishes it after a DNS UPDATE delete. Remove it with "keymgr ${zone} delete ${imported.id}"`,
          });
      }
    }
    return warnings;
  }

  /** One atomic, idempotent UPDATE with every change, signed with TSIG. Returns the change count. */
  private async applyWithUpdate(
    zone: string,
    changes: readonly SignerChange[],
    options: CallOptions,
  ): Promise<number> {
    if (this.#config.tsigKeyFile === undefined)
      throw new SignerConfigurationError({
        signerId: this.id,
        zone,
        setting: 'tsigKeyFile',
        problem: 'the plugin is set to apply changes by DNS UPDATE but has no TSIG key file',
        fix: 'set tsigKeyFile to the key knotd allows to update the zone, or updateMethod: "knotc"',
      });
    const tsig = await readTsigKeyFile(this.#config.tsigKeyFile);
    const update = new UpdateBuilder(zone);
    for (const change of changes) {
      if (change.action === 'add') update.add(recordOf(zone, change));
      else update.deleteRecord({ name: zone, type: change.type, data: change.data });
    }
    this.#logger.debug(
      { zone, changes: changes.map(describeChange), key: tsig.name },
      'sending DNS UPDATE',
    );
    const result = await sendUpdate(this.#config.server, update, {
      tsig,
      timeoutMs: this.#config.timeoutMs,
      ...signalOption(options.signal),
    });
    this.#logger.debug({ zone, elapsedMs: result.elapsedMs }, 'DNS UPDATE answered NOERROR');
    return changes.length;
  }

  /**
   * One knotc zone transaction. Knot empties the whole transaction when a zone-set adds an
   * existing RR or a zone-unset removes an absent one, so the transaction is read first and only
   * the differences are sent. Returns how many RRs were actually set or unset.
   */
  private async applyWithKnotc(
    zone: string,
    changes: readonly SignerChange[],
    options: CallOptions,
  ): Promise<number> {
    return this.#knotc.transaction(
      zone,
      async (transaction) => {
        const types = [...new Set(changes.map((change) => change.type))];
        const present = new Map<string, Set<string>>();
        for (const type of types) {
          const records = await transaction.get(type);
          present.set(
            type,
            new Set(
              records
                .filter(
                  (record) =>
                    record.type === type && canonicalName(record.name) === canonicalName(zone),
                )
                .map((record) => identityOf(type, record.data)),
            ),
          );
        }
        let count = 0;
        for (const change of changes) {
          const held = present.get(change.type)!;
          const identity = identityOf(change.type, change.data);
          const rdata = formatRdata(recordOf(zone, change));
          if (change.action === 'add' && !held.has(identity)) {
            await transaction.set(change.ttl, change.type, rdata);
            held.add(identity);
            count += 1;
          } else if (change.action === 'delete' && held.has(identity)) {
            await transaction.unset(change.type, rdata);
            held.delete(identity);
            count += 1;
          }
        }
        this.#logger.debug(
          { zone, diff: count > 0 ? await transaction.diff() : '' },
          'knotc zone-diff',
        );
        return count;
      },
      { signal: options.signal },
    );
  }

  /**
   * Tells Knot that the DS of its ready KSK is at the parent (`knotc zone-ksk-submitted`), which
   * moves the KSK from "ready" to "active". Returns `no-key-ready` when Knot has no KSK waiting
   * (for example, it was already confirmed), so a repeated call is harmless. Any other error text
   * rejects with SignerCommandError, even when knotc exits 0.
   */
  async kskSubmitted(zone: ZoneName, options: CallOptions = {}): Promise<KskSubmittedResult> {
    const name = normalizeName(zone);
    throwIfAborted(options.signal, `zone-ksk-submitted ${name}`);
    const result = await this.#knotc.kskSubmitted(name, { signal: options.signal });
    this.#logger.info({ zone: name, result }, 'zone-ksk-submitted');
    return result;
  }

  async close(): Promise<void> {
    // Nothing is held open: every knotc/keymgr run and DNS exchange is short-lived.
  }
}
