/**
 * Key rolls on PowerDNS 4.7 in `held` mode. PowerDNS never rolls a key by itself, so Chorus drives
 * every step through the cryptokeys API: a successor is generated published and (for a ZSK)
 * inactive, activated when the group is ready, and its predecessors deleted after the waits.
 *
 * PowerDNS signs on the fly, so a change is in the next answer it computes. Answers it already
 * cached are not: its packet and query caches (`cache-ttl`, default 20 s; `query-cache-ttl`)
 * serve the old DNSKEY RRset and old signatures until they expire. After each change the roller
 * flushes the zone's apex name (`PUT /cache/flush`), so the apex SOA and DNSKEY, which Chorus
 * checks, are fresh at once. 4.7 flushes that one name only: other names keep their cached
 * signatures for up to `cache-ttl`, which validate as long as the predecessor stays published.
 */
import {
  ApiCallError,
  UnsafePlanError,
  type CallOptions,
  type KeyRoller,
  type KeyRole,
  type RolloverTiming,
  type SigningKey,
  type ZoneName,
} from '@chorus/core';
import { normalizeName, throwIfAborted } from '@chorus/dns';
import type { Logger } from 'pino';
import type { PdnsNewCryptokey, PowerDnsApi } from './api.js';
import { ownKeysOf, signingKeyOf, withTags, type OwnKey } from './keys.js';
import { newKeyRequest, predecessorsOf, removalRefusal, successorOf } from './roll-rules.js';

/** How often a generated key whose key tag collides with another key is replaced. */
const KEY_TAG_ATTEMPTS = 3;

export class PowerDnsKeyRoller implements KeyRoller {
  readonly #api: PowerDnsApi;
  readonly #signerId: string;
  readonly #logger: Logger;

  constructor(api: PowerDnsApi, signerId: string, logger: Logger) {
    this.#api = api;
    this.#signerId = signerId;
    this.#logger = logger;
  }

  /** Always `held`: PowerDNS 4.7 has no automatic rolls. Reads nothing. */
  rolloverTiming(zone: ZoneName, options: CallOptions): Promise<RolloverTiming> {
    return Promise.resolve().then((): RolloverTiming => {
      throwIfAborted(options.signal, `rolloverTiming ${zone}`);
      return { mode: 'held' };
    });
  }

  /**
   * Returns the successor when one is published already; otherwise generates it with the
   * predecessors' algorithm and size: a ZSK inactive and published, a KSK or CSK active and
   * published (double signature of the DNSKEY RRset).
   */
  async startRoll(
    zone: ZoneName,
    role: KeyRole,
    predecessorTags: readonly number[],
    options: CallOptions,
  ): Promise<SigningKey> {
    const name = normalizeName(zone);
    const { signal } = options;
    const keys = await this.#keys(name, `startRoll ${name}`, signal);
    predecessorsOf(keys, role, predecessorTags, this.#signerId);
    let successor = successorOf(keys, role, predecessorTags);
    if (successor) {
      this.#logger.info({ zone: name, role, keyTag: successor.key.keyTag }, 'roll in progress');
    } else {
      const request = newKeyRequest(keys, role, predecessorTags, this.#signerId);
      successor = await this.#generate(name, request, keys, signal);
      this.#logger.info(
        { zone: name, role, predecessorTags, keyTag: successor.key.keyTag },
        'successor key generated',
      );
    }
    await this.#flush(name, signal);
    return successor.key;
  }

  /**
   * Activates the successor first, then deactivates each active predecessor (keeping it
   * published), so the zone always has an active key of the role.
   */
  async activateSuccessor(
    zone: ZoneName,
    successorTag: number,
    predecessorTags: readonly number[],
    options: CallOptions,
  ): Promise<void> {
    const name = normalizeName(zone);
    const { signal } = options;
    const keys = await this.#keys(name, `activateSuccessor ${name}`, signal);
    const successor = this.#successorToActivate(keys, successorTag, predecessorTags);
    await this.#setState(name, successor, true, signal);
    for (const predecessor of withTags(keys, predecessorTags))
      await this.#setState(name, predecessor, false, signal);
    await this.#flush(name, signal);
    this.#logger.info(
      { zone: name, keyTag: successorTag, predecessorTags },
      'successor activated, predecessors deactivated',
    );
  }

  /** Deletes the keys; absent keys are fine. Refuses to delete the last active key of a role. */
  async removeKeys(
    zone: ZoneName,
    keyTags: readonly number[],
    options: CallOptions,
  ): Promise<void> {
    const name = normalizeName(zone);
    const { signal } = options;
    const keys = await this.#keys(name, `removeKeys ${name}`, signal);
    const targets = withTags(keys, keyTags);
    if (targets.length === 0) return;
    const refusal = removalRefusal(keys, targets, this.#signerId);
    if (refusal) throw new UnsafePlanError(refusal);
    for (const target of targets) await this.#delete(name, target, signal);
    await this.#flush(name, signal);
    this.#logger.info(
      { zone: name, keyTags: targets.map((own) => own.key.keyTag) },
      'keys removed',
    );
  }

  async #keys(zone: string, what: string, signal: AbortSignal | undefined): Promise<OwnKey[]> {
    throwIfAborted(signal, what);
    return ownKeysOf(await this.#api.getCryptokeys(zone, { signal }));
  }

  #successorToActivate(
    keys: readonly OwnKey[],
    successorTag: number,
    predecessorTags: readonly number[],
  ): OwnKey {
    const [successor] = withTags(keys, [successorTag]);
    const refuse = (why: string) =>
      new UnsafePlanError(
        `${this.#signerId} will not activate key tag ${successorTag} and deactivate ${predecessorTags.join(', ')}: ${why}`,
      );
    if (!successor) throw refuse('it has no own key with that key tag');
    if (predecessorTags.includes(successorTag)) throw refuse('the successor is a predecessor');
    const otherRole = withTags(keys, predecessorTags).find(
      (own) => own.key.role !== successor.key.role,
    );
    if (otherRole)
      throw refuse(
        `key tag ${otherRole.key.keyTag} is a ${otherRole.key.role}, the successor a ${successor.key.role}`,
      );
    return successor;
  }

  /** Generates a key; one whose key tag another key already has is deleted and made again. */
  async #generate(
    zone: string,
    request: PdnsNewCryptokey,
    keys: readonly OwnKey[],
    signal: AbortSignal | undefined,
  ): Promise<OwnKey> {
    const taken = new Set(keys.map((own) => own.key.keyTag));
    for (let attempt = 1; attempt <= KEY_TAG_ATTEMPTS; attempt += 1) {
      const cryptokey = await this.#api.createCryptokey(zone, request, { signal });
      const created = { cryptokey, key: signingKeyOf(cryptokey) };
      if (!taken.has(created.key.keyTag)) return created;
      this.#logger.warn(
        { zone, keyTag: created.key.keyTag, id: cryptokey.id },
        'the generated key has the key tag of another key; deleting it',
      );
      await this.#delete(zone, created, signal);
    }
    throw new UnsafePlanError(
      `PowerDNS generated ${KEY_TAG_ATTEMPTS} keys for ${zone} whose key tags another key has already`,
    );
  }

  /** PUTs `active`, always with `published: true` (4.7 would publish anyway when it is left out). */
  async #setState(
    zone: string,
    own: OwnKey,
    active: boolean,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (own.cryptokey.active === active && own.cryptokey.published) return;
    throwIfAborted(signal, `set key ${own.key.keyTag} of ${zone} active=${active}`);
    await this.#api.setCryptokeyState(
      zone,
      own.cryptokey.id,
      { active, published: true },
      { signal },
    );
  }

  async #delete(zone: string, own: OwnKey, signal: AbortSignal | undefined): Promise<void> {
    throwIfAborted(signal, `delete key ${own.key.keyTag} of ${zone}`);
    try {
      await this.#api.deleteCryptokey(zone, own.cryptokey.id, { signal });
    } catch (error) {
      // Deleted meanwhile (a retry, or another caller): what we wanted.
      if (!(ApiCallError.isInstance(error) && error.statusCode === 404)) throw error;
    }
  }

  /** Drops the cached answers at the apex, so the wire shows the change at once. */
  async #flush(zone: string, signal: AbortSignal | undefined): Promise<void> {
    await this.#api.flushCache(zone, { signal });
  }
}
