/**
 * Key rolls on Knot 3.2 with automatic key management (`server-timed`): Chorus starts a roll with
 * `knotc zone-key-rollover`, and Knot's policy times every later step, which Chorus follows on
 * the wire. See rollover.ts for the timing.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AbortError,
  SignerCommandError,
  SignerConfigurationError,
  UnsafePlanError,
  UnsupportedCapabilityError,
  type ApexSnapshot,
  type CallOptions,
  type DnskeyData,
  type KeyRole,
  type KeyRoller,
  type RolloverTiming,
  type SigningKey,
  type ZoneName,
} from '@chorus/core';
import { dnskeyIdentity, normalizeName, throwIfAborted } from '@chorus/dns';
import type { Logger } from 'pino';
import { roleOf, stateOf, type KaspKey } from './keymgr.js';
import {
  findSuccessor,
  rolloverKeyType,
  rolloverPolicyOf,
  rolloverTimingOf,
  runningRollover,
  type RolloverPolicy,
} from './rollover.js';
import type { Misconfiguration, ResolvedZoneConfig } from './zone-config.js';
import type { KnotOfflineKskRoller } from './offline-ksk-roller.js';

/** What the roller needs from the signer: its reads and the one knotc command that starts a roll. */
export interface KnotRollerHost {
  signerId: string;
  logger: Logger;
  readZoneConfig(zone: ZoneName, options: CallOptions): Promise<ResolvedZoneConfig>;
  listKaspKeys(zone: ZoneName, options: CallOptions): Promise<KaspKey[]>;
  dnskeyOf(zone: ZoneName, key: KaspKey, options: CallOptions): Promise<DnskeyData>;
  readApex(zone: ZoneName, options: CallOptions): Promise<ApexSnapshot>;
  keyRollover(zone: ZoneName, keyType: 'ksk' | 'zsk', options: CallOptions): Promise<void>;
  /** `knotc zone-ksk-submitted`: Knot's ready KSK becomes active; harmless when none is ready. */
  kskSubmitted(zone: ZoneName, options: CallOptions): Promise<'submitted' | 'no-key-ready'>;
  /** The argv of `knotc <args>`, for errors. */
  knotcCommand(args: readonly string[]): string[];
  /** Rolls of model-1 zones (offline-KSK), which Chorus holds step by step. */
  offlineKsk: KnotOfflineKskRoller;
}

export interface KnotKeyRollerOptions {
  /** How long startRoll waits for the successor in keymgr and on the wire. Default 30 s. */
  successorTimeoutMs?: number;
  /** Time between two looks. Default 250 ms. */
  pollIntervalMs?: number;
}

const HELD_ONLY_REASON =
  "Knot's automatic key management times activation and removal itself: a successor signs dnskey-ttl + propagation-delay after its publication, and the predecessor leaves DNSKEY propagation-delay + zone-max-ttl after that";

const nowSeconds = () => Math.floor(Date.now() / 1000);

async function pause(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
  } catch (error) {
    throw new AbortError(what, signal?.reason ?? error);
  }
}

export class KnotKeyRoller implements KeyRoller {
  readonly #host: KnotRollerHost;
  readonly #successorTimeoutMs: number;
  readonly #pollIntervalMs: number;

  constructor(host: KnotRollerHost, options: KnotKeyRollerOptions = {}) {
    this.#host = host;
    this.#successorTimeoutMs = options.successorTimeoutMs ?? 30_000;
    this.#pollIntervalMs = options.pollIntervalMs ?? 250;
  }

  /**
   * Knot's pre-publication interval for the zone, read from the running knotd: dnskey-ttl +
   * propagation-delay of the zone's policy (through its template), with Knot's defaults (the SOA
   * TTL, 1h) for unset values.
   */
  async rolloverTiming(zone: ZoneName, options: CallOptions = {}): Promise<RolloverTiming> {
    const name = normalizeName(zone);
    const offline = await this.#offlineKsk(name, options);
    if (offline) return this.#host.offlineKsk.rolloverTiming(name, offline);
    const policy = await this.#policy(name, options);
    const soaTtl = policy.dnskeyTtlSeconds === undefined ? await this.#soaTtl(name, options) : 0;
    return rolloverTimingOf(policy, soaTtl);
  }

  /**
   * Returns the roll's successor, starting the roll first when there is none: `knotc
   * zone-key-rollover`, then waits until keymgr lists the new key and knotd serves it.
   */
  async startRoll(
    zone: ZoneName,
    role: KeyRole,
    predecessorTags: readonly number[],
    options: CallOptions = {},
  ): Promise<SigningKey> {
    const name = normalizeName(zone);
    if (await this.#offlineKsk(name, options))
      return this.#host.offlineKsk.startRoll(name, role, predecessorTags, options);
    if (predecessorTags.length === 0)
      throw new UnsafePlanError(
        `a ${role} roll of ${name} needs the key tags of the keys it replaces`,
      );
    const policy = await this.#policy(name, options);
    const keyType = rolloverKeyType(role, policy);
    if ('problem' in keyType) throw this.#configurationError(name, keyType.problem);
    const keys = await this.#host.listKaspKeys(name, options);
    const existing = findSuccessor(keys, role, predecessorTags, nowSeconds());
    if (existing) return this.#published(name, existing, options);
    const args = ['zone-key-rollover', name, keyType.keyType];
    this.#refuseWhileRolling(keys, args);
    throwIfAborted(options.signal, `starting a ${role} roll of ${name}`);
    await this.#host.keyRollover(name, keyType.keyType, options);
    this.#host.logger.info({ zone: name, role, predecessorTags }, 'knotc zone-key-rollover');
    return this.#awaitSuccessor(name, role, predecessorTags, args, options);
  }

  /** knotd would ignore the command (only logging a warning) while any roll runs: say so now. */
  #refuseWhileRolling(keys: readonly KaspKey[], args: string[]): void {
    const busy = runningRollover(keys, nowSeconds());
    if (busy === undefined) return;
    throw new SignerCommandError({
      command: this.#host.knotcCommand(args),
      stderr: `not sent: knotd ignores a forced rollover while another runs (${busy}); try again when it has finished`,
      retryable: true,
    });
  }

  /**
   * Tells Knot the parent's DS names its ready successor (`knotc zone-ksk-submitted`). Knot then
   * activates it and takes the predecessor out of DNSKEY at once (measured on 3.2.6), so Chorus
   * calls this only after the old DS has expired from every cache. Idempotent.
   */
  async confirmParentDs(
    zone: ZoneName,
    change: { published: readonly number[]; withdrawn: readonly number[] },
    options: CallOptions = {},
  ): Promise<void> {
    if (change.published.length === 0) return;
    const name = normalizeName(zone);
    const result = await this.#host.kskSubmitted(name, options);
    this.#host.logger.info({ zone: name, ...change, result }, 'confirmed the parent DS to Knot');
  }

  /** Model 1 (offline-KSK) only; otherwise rejects: Knot activates the successor itself. */
  async activateSuccessor(
    zone: ZoneName,
    successorTag: number,
    predecessorTags: readonly number[],
    options: CallOptions = {},
  ): Promise<void> {
    const name = normalizeName(zone);
    if (!(await this.#offlineKsk(name, options)))
      throw this.#heldOnly('activate a successor', name);
    await this.#host.offlineKsk.activateSuccessor(name, successorTag, predecessorTags, options);
  }

  /** Model 1 (offline-KSK) only; otherwise rejects: Knot removes the predecessor itself. */
  async removeKeys(
    zone: ZoneName,
    keyTags: readonly number[],
    options: CallOptions = {},
  ): Promise<void> {
    const name = normalizeName(zone);
    if (!(await this.#offlineKsk(name, options))) throw this.#heldOnly('remove keys', name);
    await this.#host.offlineKsk.removeKeys(name, keyTags, options);
  }

  /** The zone's configuration when its policy is offline-KSK (model 1), else undefined. */
  async #offlineKsk(zone: string, options: CallOptions): Promise<ResolvedZoneConfig | undefined> {
    const config = await this.#host.readZoneConfig(zone, options);
    const offline = config.configured && config.policyItem('offline-ksk').value === 'on';
    return offline ? config : undefined;
  }

  #heldOnly(what: string, zone: ZoneName): UnsupportedCapabilityError {
    return new UnsupportedCapabilityError({
      capability: 'key-hold-published',
      signerId: this.#host.signerId,
      reason: `it does not ${what} on request (zone ${normalizeName(zone)}): ${HELD_ONLY_REASON}`,
    });
  }

  async #policy(zone: string, options: CallOptions): Promise<RolloverPolicy> {
    const result = rolloverPolicyOf(await this.#host.readZoneConfig(zone, options));
    if ('problem' in result) throw this.#configurationError(zone, result.problem);
    return result.policy;
  }

  /** The TTL of the SOA as served: Knot's DNSKEY TTL when the policy sets none. */
  async #soaTtl(zone: string, options: CallOptions): Promise<number> {
    const apex = await this.#host.readApex(zone, options);
    if (apex.soa) return apex.soa.ttl;
    throw this.#configurationError(zone, {
      setting: 'dnskey-ttl',
      problem: `dnskey-ttl is unset, so Knot uses the SOA TTL, but knotd served no SOA for ${zone}`,
      fix: "set dnskey-ttl in the zone's policy",
    });
  }

  #configurationError(zone: string, problem: Misconfiguration): SignerConfigurationError {
    return new SignerConfigurationError({ signerId: this.#host.signerId, zone, ...problem });
  }

  /** Polls keymgr, then the wire, until the successor is listed and served, or the time is up. */
  async #awaitSuccessor(
    zone: string,
    role: KeyRole,
    predecessorTags: readonly number[],
    args: string[],
    options: CallOptions,
  ): Promise<SigningKey> {
    const deadline = Date.now() + this.#successorTimeoutMs;
    for (;;) {
      const keys = await this.#host.listKaspKeys(zone, options);
      const successor = findSuccessor(keys, role, predecessorTags, nowSeconds());
      if (successor) return this.#published(zone, successor, options, deadline, args);
      if (Date.now() > deadline)
        throw this.#timeout(args, `knotd listed no new ${role} in its KASP database`);
      await pause(this.#pollIntervalMs, options.signal, `waiting for a new ${role} of ${zone}`);
    }
  }

  /** The successor as a SigningKey, once knotd serves it in DNSKEY. */
  async #published(
    zone: string,
    key: KaspKey,
    options: CallOptions,
    deadline = Date.now() + this.#successorTimeoutMs,
    args = ['zone-key-rollover', zone],
  ): Promise<SigningKey> {
    const dnskey = await this.#host.dnskeyOf(zone, key, options);
    const identity = dnskeyIdentity(dnskey);
    for (;;) {
      const apex = await this.#host.readApex(zone, options);
      if (apex.dnskey?.records.some((record) => dnskeyIdentity(record) === identity))
        return {
          role: roleOf(key),
          algorithm: key.algorithm,
          keyTag: key.tag,
          dnskey,
          state: stateOf(key, nowSeconds()),
        };
      if (Date.now() > deadline)
        throw this.#timeout(args, `knotd does not serve the new key ${key.tag} in DNSKEY`);
      await pause(this.#pollIntervalMs, options.signal, `waiting for DNSKEY ${key.tag} of ${zone}`);
    }
  }

  #timeout(args: string[], what: string): SignerCommandError {
    const seconds = Math.round(this.#successorTimeoutMs / 1000);
    return new SignerCommandError({
      command: this.#host.knotcCommand(args),
      stderr: `${what} within ${seconds} s (knotd logs "ignoring forced … rollover" when it does not start one)`,
      timedOut: true,
    });
  }
}
