import {
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
  type SignerChange,
  type SignerPlan,
  type SigningKey,
  type Warning,
  type ZoneName,
} from '@chorus/core';
import {
  assertPlanAllowed,
  describeServer,
  keyTag,
  normalizeName,
  readApexFromServer,
  signalOption,
  throwIfAborted,
} from '@chorus/dns';
import type { Logger } from 'pino';
import type { RecordType } from './answers.js';
import { Ns1Api, apexDomain, isApiError } from './api.js';
import { ns1Capabilities } from './capabilities.js';
import type { ResolvedNs1Config } from './config.js';
import { listedContent } from './content.js';
import { ownCdnskeys, ownCds, ownKeysOf } from './keys.js';
import {
  planKeySet,
  planRecord,
  refuseUnsupportedAlgorithms,
  type KeySetWrite,
  type RecordWrite,
} from './plan-writes.js';
import type { ExternalKeySet } from './responses.js';
import { Ns1PresignedDnskey } from './presigned-dnskey.js';
import { servedRecords } from './served.js';

const KEY_RECORD_TYPES: ReadonlySet<string> = new Set(['DNSKEY', 'CDS', 'CDNSKEY']);

/** The order of record writes: CDS/CDNSKEY after the keys they point at, NS before CSYNC. */
const RECORD_ORDER: readonly RecordType[] = ['CDS', 'CDNSKEY', 'NS', 'CSYNC'];

/** What one apply will send, in order. */
interface Writes {
  keySet: KeySetWrite | undefined;
  records: { type: RecordType; write: RecordWrite }[];
  alreadyApplied: number;
  warnings: Warning[];
}

/**
 * An NS1 (IBM NS1 Connect) account, driven through its REST API. NS1 signs online with its own
 * algorithm-13 keys; foreign DNSKEYs go into one external key set, CDS, CDNSKEY, CSYNC and the
 * apex NS are ordinary records. NS1 does not publish CDS/CDNSKEY for its own KSK, so the plugin
 * writes them next to the foreign ones.
 */
export class Ns1Signer implements Signer {
  readonly specificationVersion = 'v1' as const;
  readonly kind = 'ns1';
  readonly id: string;
  readonly capabilities: SignerCapabilities = ns1Capabilities;
  readonly nameServers: readonly NameServer[];
  /** Model 1: serves the DNSKEY RRset the zone owner signed (inferred API, presigned-dnskey.ts). */
  readonly presignedDnskey: Ns1PresignedDnskey;
  readonly #config: ResolvedNs1Config;
  readonly #api: Ns1Api;
  readonly #logger: Logger;

  constructor(config: ResolvedNs1Config, dependencies: PluginDependencies) {
    this.id = config.id;
    this.nameServers = Object.freeze(config.nameServers.map((server) => ({ ...server })));
    this.#config = config;
    this.#logger = dependencies.logger.child({ plugin: 'ns1', signerId: config.id });
    this.#api = new Ns1Api({
      url: config.api.url,
      apiKeyFile: config.api.apiKeyFile,
      timeoutMs: config.requestTimeoutMs,
      logger: this.#logger,
    });
    this.presignedDnskey = new Ns1PresignedDnskey({
      signerId: this.id,
      api: this.#api,
      logger: this.#logger,
    });
  }

  /**
   * Start-up: the key works (401 is not retryable and names the key file), the account has the
   * zone, online DNSSEC signing is on, NS1 lists a KSK, and the configured nameserver serves the
   * zone with that KSK.
   */
  async checkZone(zone: ZoneName, options: CallOptions): Promise<void> {
    const name = normalizeName(zone);
    const { signal } = options;
    throwIfAborted(signal, `checkZone ${name}`);
    const refuse = (setting: string, problem: string, fix: string) =>
      new SignerConfigurationError({ signerId: this.id, zone: name, setting, problem, fix });
    const dnssecOff = () =>
      refuse(
        'dnssec',
        'DNSSEC online signing is off for the zone at NS1',
        `turn DNSSEC on: POST /v1/zones/${apexDomain(name)} {"dnssec": true}`,
      );

    let info;
    try {
      info = await this.#api.getZone(name, { signal });
    } catch (error) {
      if (isApiError(error, 404))
        throw refuse(
          'zone',
          `the NS1 account has no zone ${apexDomain(name)} (NS1 answered: ${error.responseBody})`,
          `create it in NS1 (PUT /v1/zones/${apexDomain(name)}) or use the API key of the account that has it`,
        );
      throw error;
    }
    if (info.dnssec === false) throw dnssecOff();

    let ownKeys: SigningKey[];
    try {
      ownKeys = await this.listOwnKeys(name, { signal });
    } catch (error) {
      if (
        isApiError(error, 400, /DNSSEC is not enabled/i) ||
        isApiError(error, 404, /DNSSEC is not enabled/i)
      )
        throw dnssecOff();
      throw error;
    }
    const ksks = ownKeys.filter((key) => key.role !== 'ZSK');
    if (ksks.length === 0)
      throw refuse(
        'dnssec',
        'NS1 lists no KSK for the zone (GET /dnssec)',
        `turn DNSSEC off and on again: POST /v1/zones/${apexDomain(name)} {"dnssec": true}`,
      );
    await this.#checkNameServer(name, ksks, refuse, signal);
    this.#logger.debug({ zone: name, ksks: ksks.map((key) => key.keyTag) }, 'zone checked');
  }

  /** The configured nameserver must answer for the zone, with NS1's KSK (model 1: the owner's keys) in its DNSKEY set. */
  async #checkNameServer(
    zone: string,
    ksks: readonly SigningKey[],
    refuse: (setting: string, problem: string, fix: string) => SignerConfigurationError,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const server = describeServer(this.#config.server);
    let apex: ApexSnapshot;
    try {
      apex = await this.readApex(zone, signalOption(signal));
    } catch (error) {
      if (DnsResponseError.isInstance(error))
        throw refuse(
          'server',
          `${server} does not answer authoritatively for the zone (${error.message})`,
          'set server to an NS1 nameserver of the zone (one of its dns_servers)',
        );
      throw error;
    }
    const served = new Set((apex.dnskey?.records ?? []).map((key) => keyTag(key)));
    if (ksks.some((key) => served.has(key.keyTag))) return;
    // Model 1: the owner's DNSKEY RRset replaces NS1's KSK; it must be what the server serves.
    const presigned = await this.#api.getPresignedDnskey(zone, { signal });
    if (presigned !== undefined && presigned.every((key) => served.has(keyTag(key)))) return;
    throw refuse(
      'server',
      `${server} does not serve NS1's KSK (key tag ${ksks.map((key) => key.keyTag).join(', ')}) in the zone's DNSKEY set${presigned ? ', nor the owner-signed DNSKEY RRset NS1 holds' : ''}`,
      'set server to an NS1 nameserver of the zone (one of its dns_servers)',
    );
  }

  /** `GET /dnssec`, less every key of the external key sets. */
  async listOwnKeys(zone: ZoneName, options: CallOptions): Promise<SigningKey[]> {
    const name = normalizeName(zone);
    throwIfAborted(options.signal, `listOwnKeys ${name}`);
    const keySets = await this.#api.listExternalKeySets(name, { signal: options.signal });
    return this.#ownKeys(name, keySets, options.signal);
  }

  async #ownKeys(
    zone: string,
    keySets: readonly ExternalKeySet[],
    signal: AbortSignal | undefined,
  ): Promise<SigningKey[]> {
    return ownKeysOf(await this.#api.getDnssecKeys(zone, { signal }), keySets);
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
   * The zone's `records` list (`GET /v1/zones/{zone}`, page by page) as records, less DNSSEC
   * types and CSYNC, with the apex SOA read on the wire at `server`. A linked record, or one
   * whose answers cannot be read here, is read on the wire too.
   */
  async readZoneContent(zone: ZoneName, options: CallOptions): Promise<DnsRecord[]> {
    const name = normalizeName(zone);
    const { signal } = options;
    throwIfAborted(signal, `readZoneContent ${name}`);
    const served = { timeoutMs: this.#config.requestTimeoutMs, signal };
    const [soa, listed] = await Promise.all([
      servedRecords(this.#config.server, name, 'SOA', served),
      this.#api.listZoneRecords(name, { signal }),
    ]);
    const content = listedContent(listed);
    const records = [...soa, ...content.records];
    for (const record of content.unparsed)
      records.push(
        ...(await servedRecords(this.#config.server, record.owner, record.type, served)),
      );
    this.#logger.debug(
      { zone: name, records: listed.length, onTheWire: content.unparsed.length },
      'read zone content',
    );
    return records;
  }

  /**
   * Reads what the plan touches (the key sets, NS1's keys, the CDS and CDNSKEY records, and the
   * NS/CSYNC records when changed), computes every write, and only then writes: the key set
   * first, then CDS, CDNSKEY, NS and CSYNC. The CDS/CDNSKEY of NS1's own KSK are added whenever
   * missing. Sends no write when everything already matches.
   */
  async applyChanges(plan: SignerPlan, options: CallOptions): Promise<ApplyResult> {
    assertPlanAllowed(this, plan);
    const zone = normalizeName(plan.zone);
    const { signal } = options;
    throwIfAborted(signal, `applyChanges ${zone}`);
    if (plan.changes.length === 0) return { applied: 0, warnings: [] };
    refuseUnsupportedAlgorithms(this.id, plan);
    const started = performance.now();

    const writes = await this.#planWrites(zone, plan.changes, signal);
    throwIfAborted(signal, `applyChanges ${zone}`);
    const keySetName = this.#config.api.externalKeySet;
    if (writes.keySet)
      await this.#api.writeExternalKeySet(zone, keySetName, writes.keySet, { signal });
    for (const { type, write } of writes.records)
      await this.#api.writeApexRecord(zone, type, write, { signal });

    const sent = [
      ...(writes.keySet ? [`${writes.keySet.method} external key set ${keySetName}`] : []),
      ...writes.records.map(({ type, write }) => `${write.method} ${type}`),
    ];
    this.#logger.info(
      {
        zone,
        changes: plan.changes.length,
        alreadyApplied: writes.alreadyApplied,
        writes: sent,
        ms: Math.round(performance.now() - started),
      },
      sent.length > 0 ? 'applied plan' : 'plan already applied',
    );
    return { applied: plan.changes.length, warnings: writes.warnings };
  }

  /**
   * Whether NS1 serves the owner's signed DNSKEY RRset (model 1). Asked only for a plan without
   * key records: model 1's plans change NS and CSYNC alone.
   */
  async #servesOwnerSet(
    zone: string,
    changes: readonly SignerChange[],
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    const keyRecords = changes.some((change) => KEY_RECORD_TYPES.has(change.type));
    if (keyRecords) return false;
    return (await this.#api.getPresignedDnskey(zone, { signal })) !== undefined;
  }

  /** Every read of an apply, and the writes they call for. */
  async #planWrites(
    zone: string,
    changes: readonly SignerChange[],
    signal: AbortSignal | undefined,
  ): Promise<Writes> {
    const keySets = await this.#api.listExternalKeySets(zone, { signal });
    const ownKeys = await this.#ownKeys(zone, keySets, signal);
    const keySet = changes.some((change) => change.type === 'DNSKEY')
      ? planKeySet(this.#config.api.externalKeySet, keySets, changes)
      : undefined;
    const writes: Writes = {
      keySet: keySet?.write,
      records: [],
      alreadyApplied: keySet?.alreadyApplied ?? 0,
      warnings: [...(keySet?.warnings ?? [])],
    };
    // Model 1: the owner's signed set is the DNSKEY RRset, and NS1's own KSK is not in it.
    const ownerSigned = await this.#servesOwnerSet(zone, changes, signal);
    const required = {
      CDS: ownerSigned ? [] : ownCds(zone, ownKeys),
      CDNSKEY: ownerSigned ? [] : ownCdnskeys(ownKeys),
      NS: [],
      CSYNC: [],
    };
    const fallbackTtl = changes[0]!.ttl;
    for (const type of RECORD_ORDER) {
      if (required[type].length === 0 && !changes.some((change) => change.type === type)) continue;
      const current = await this.#api.getApexRecord(zone, type, { signal });
      const planned = planRecord(zone, type, current, changes, required[type], fallbackTtl);
      writes.alreadyApplied += planned.alreadyApplied;
      if (planned.write) writes.records.push({ type, write: planned.write });
    }
    return writes;
  }
}
