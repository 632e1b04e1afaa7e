/**
 * ZSK rolls of a model-1 zone (offline-KSK, `manual: on`), held by Chorus through keymgr timers:
 * a successor is generated published with its activation held far ahead, signs when told, and
 * leaves when told. Knot
 * serves only the owner's DNSKEY RRset, so a new key reaches the wire once the owner has signed
 * a set holding it: the process's post-conditions wait for that, never this roller.
 */
import {
  SignerCommandError,
  SignerConfigurationError,
  UnsafePlanError,
  UnsupportedCapabilityError,
  type CallOptions,
  type DnskeyData,
  type KeyRole,
  type RolloverTiming,
  type SigningKey,
} from '@chorus/core';
import type { Logger } from 'pino';
import { roleOf, stateOf, type KaspKey, type Keymgr } from './keymgr.js';
import type { Knotc } from './knotc.js';
import { findSuccessor, parseKnotTime } from './rollover.js';
import type { ResolvedZoneConfig } from './zone-config.js';

/** Whether the zone's policy has Knot roll ZSKs on its own (a zsk-lifetime other than 0). */
export function knotTimesZskRolls(config: ResolvedZoneConfig): boolean {
  const lifetime = config.policyItem('zsk-lifetime');
  return parseKnotTime(lifetime.value) !== 0;
}

export interface OfflineKskRollerHost {
  signerId: string;
  logger: Logger;
  keymgr(options: CallOptions): Promise<Keymgr>;
  listKaspKeys(zone: string, options: CallOptions): Promise<KaspKey[]>;
  dnskeyOf(zone: string, key: KaspKey, options: CallOptions): Promise<DnskeyData>;
  knotc: Knotc;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * A timer Chorus holds: far ahead, so that Knot neither fills it in (it times an unset `active`
 * as its own roll: dnskey-ttl + propagation-delay after publication) nor reaches it. Not beyond
 * 2038: Knot 3.2 keeps timers in 32 bits, and +50y wrapped into the past.
 */
const HELD = '+5y';

/** Whether a Knot timer (epoch seconds, 0 unset) has passed. */
const reached = (timer: number, now: number) => timer !== 0 && timer <= now;

export class KnotOfflineKskRoller {
  readonly #host: OfflineKskRollerHost;

  constructor(host: OfflineKskRollerHost) {
    this.#host = host;
  }

  /**
   * Held, when Knot rolls no ZSK itself (zsk-lifetime 0): then every timer is Chorus's. A policy
   * with a ZSK lifetime has Knot plan its own rolls, which the owner signs ahead from its KSR.
   */
  rolloverTiming(zone: string, config: ResolvedZoneConfig): RolloverTiming {
    if (!knotTimesZskRolls(config))
      return {
        mode: 'held',
        settings:
          'offline-KSK, zsk-lifetime 0: keymgr timers hold each ZSK, and the owner signs every DNSKEY RRset',
      };
    const lifetime = config.policyItem('zsk-lifetime');
    throw new SignerConfigurationError({
      signerId: this.#host.signerId,
      zone,
      setting: lifetime.location,
      problem: `zsk-lifetime is ${lifetime.value}, so Knot plans its own ZSK rolls (the owner signs them ahead from Knot's KeySigningRequest) and Chorus cannot hold a ZSK for a roll`,
      fix: 'set zsk-lifetime: 0 in the policy for rolls through "chorus roll --zsk"',
    });
  }

  /** `keymgr generate … publish=+0 active=+5y`: a ZSK in Knot's plan (KSR), held from signing. */
  async startRoll(
    zone: string,
    role: KeyRole,
    predecessorTags: readonly number[],
    options: CallOptions,
  ): Promise<SigningKey> {
    if (role !== 'ZSK') throw this.#ownersKey(zone, role);
    if (predecessorTags.length === 0)
      throw new UnsafePlanError(`a ZSK roll of ${zone} needs the key tags of the keys it replaces`);
    const keys = await this.#host.listKaspKeys(zone, options);
    const existing = findSuccessor(keys, role, predecessorTags, nowSeconds());
    if (existing) return this.#signingKey(zone, existing, options);
    const predecessor = keys.find((key) => key.tag === predecessorTags[0]);
    const algorithm = predecessor?.algorithm ?? 13;
    const generate = ['generate', `algorithm=${algorithm}`, 'ksk=no', 'zsk=yes', 'publish=+0'];
    const id = (await this.#keymgr(zone, [...generate, `active=${HELD}`], options)).trim();
    this.#host.logger.info({ zone, id, predecessorTags }, 'keymgr generated a held ZSK');
    const listed = (await this.#host.listKaspKeys(zone, options)).find((key) => key.id === id);
    if (!listed)
      throw new SignerCommandError({
        command: ['keymgr', zone, ...generate, `active=${HELD}`],
        stderr: `keymgr printed key id ${JSON.stringify(id)}, which keymgr list does not show`,
      });
    return this.#signingKey(zone, listed, options);
  }

  /** The successor signs from now on and the predecessors stop: timers, then `zone-sign`. */
  async activateSuccessor(
    zone: string,
    successorTag: number,
    predecessorTags: readonly number[],
    options: CallOptions,
  ): Promise<void> {
    const keys = await this.#host.listKaspKeys(zone, options);
    const now = nowSeconds();
    for (const key of keys) {
      if (key.tag === successorTag && !reached(key.timers.active, now))
        await this.#keymgr(zone, ['set', key.id, 'active=+0'], options);
      if (predecessorTags.includes(key.tag) && !reached(key.timers.retire, now))
        await this.#keymgr(zone, ['set', key.id, 'retire=+0', `remove=${HELD}`], options);
    }
    await this.#host.knotc.run(['zone-sign', zone], { signal: options.signal });
  }

  /** The keys leave Knot's plan; the owner's next set leaves them out. Idempotent. */
  async removeKeys(zone: string, keyTags: readonly number[], options: CallOptions): Promise<void> {
    const keys = await this.#host.listKaspKeys(zone, options);
    const now = nowSeconds();
    for (const key of keys)
      if (keyTags.includes(key.tag) && !reached(key.timers.remove, now))
        await this.#keymgr(zone, ['set', key.id, 'remove=+0'], options);
    await this.#host.knotc.run(['zone-sign', zone], { signal: options.signal });
  }

  async #keymgr(zone: string, args: string[], options: CallOptions): Promise<string> {
    const keymgr = await this.#host.keymgr(options);
    return keymgr.run([zone, ...args], { signal: options.signal });
  }

  async #signingKey(zone: string, key: KaspKey, options: CallOptions): Promise<SigningKey> {
    return {
      role: roleOf(key),
      algorithm: key.algorithm,
      keyTag: key.tag,
      dnskey: await this.#host.dnskeyOf(zone, key, options),
      state: stateOf(key, nowSeconds()),
    };
  }

  #ownersKey(zone: string, role: KeyRole): UnsupportedCapabilityError {
    return new UnsupportedCapabilityError({
      capability: 'key-roll',
      signerId: this.#host.signerId,
      reason: `${zone} is in model 1 (offline-KSK): its ${role} is the zone owner's, rolled by the owner, not by Knot`,
    });
  }
}
