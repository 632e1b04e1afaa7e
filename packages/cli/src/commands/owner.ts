/**
 * `chorus owner ZONE`: the zone owner of a model-1 zone (RFC 8901 §2.1.1). It keeps the owner's
 * KSK open (a 0600 PKCS#8 file, or an HSM through PKCS#11) and signs the one DNSKEY RRset every
 * member serves whenever the fold says so: the first set, a member's planned ZSKs changed, or
 * the newest signature has less than the refresh lead left. The KSK signs nothing else, and
 * nothing of it enters the log.
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChorusError,
  zoneEvent,
  type DnskeyData,
  type EventLog,
  type OwnerKey,
  type ZoneEvent,
} from '@chorus/core';
import { keyTag } from '@chorus/dns';
import {
  ownerKsksInEffect,
  ownerSignaturesExpireAt,
  ownerSigningDue,
  ownerSigningPlan,
  type ZoneState,
} from '@chorus/engine';
import {
  openFileOwnerKey,
  openPkcs11OwnerKey,
  signDnskeySnapshots,
  type Pkcs11OwnerKeyConfig,
} from '@chorus/owner';
import { expectPositionals, parseCommandArgs, UsageError } from '../args.js';
import { appendToZone, LOG_OPTIONS, readZone, withEventLog } from '../coordination/event-log.js';
import { OPERATOR } from '../coordination/follow.js';
import { zoneArgument } from '../coordination/zone-argument.js';
import { OWNER_HELP } from '../help.js';
import type { CliIo } from '../io.js';

const sameKey = (a: DnskeyData, b: DnskeyData) =>
  a.algorithm === b.algorithm && a.publicKey === b.publicKey;

/** The owner's KSKs from `--owner-key FILE` and `--owner-hsm CONFIG.json` (each repeatable). */
async function openOwnerKeys(values: { 'owner-key'?: string[]; 'owner-hsm'?: string[] }) {
  const files = values['owner-key'] ?? [];
  const hsms = values['owner-hsm'] ?? [];
  if (files.length + hsms.length === 0)
    throw new UsageError(
      'give the owner KSK with --owner-key FILE or --owner-hsm CONFIG.json',
      'owner',
    );
  const keys: OwnerKey[] = [];
  try {
    for (const file of files) keys.push(await openFileOwnerKey(file));
    for (const file of hsms) keys.push(await openPkcs11OwnerKey(await hsmConfig(file)));
  } catch (error) {
    await Promise.all(keys.map((key) => key.close()));
    throw error;
  }
  return keys;
}

async function hsmConfig(file: string): Promise<Pkcs11OwnerKeyConfig> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Pkcs11OwnerKeyConfig;
  } catch (error) {
    throw new UsageError(`--owner-hsm ${file}: ${(error as Error).message}`, 'owner');
  }
}

/**
 * Refuses keys none of which is an owner KSK of the zone: their signatures would be refused. A
 * key that is not one yet is kept for a KSK roll that introduces it.
 */
function checkOwnerKeys(state: ZoneState, keys: readonly OwnerKey[]): void {
  if (!state.owner)
    throw new ChorusError('Chorus_NotModel1Error', {
      message: `${state.zone} is in model 2: define it with --owner-dnskey to give it an owner`,
    });
  const accepted = ownerKsksInEffect(state);
  if (!keys.some((key) => accepted.some((known) => sameKey(known, key.dnskey))))
    throw new ChorusError('Chorus_NotOwnerKeyError', {
      message: `${keys.map((key) => `${key.description} (key ${keyTag(key.dnskey)})`).join(', ')}: no owner KSK of ${state.zone} (${accepted.map(keyTag).join(', ')})`,
    });
}

/** The opened keys that sign now: exactly the owner KSKs in effect, each one held. */
function signingKeys(state: ZoneState, keys: readonly OwnerKey[]): OwnerKey[] {
  const inEffect = ownerKsksInEffect(state);
  const missing = inEffect.filter((ksk) => !keys.some((key) => sameKey(ksk, key.dnskey)));
  if (missing.length > 0)
    throw new ChorusError('Chorus_OwnerKeyMissingError', {
      message: `the DNSKEY RRset of ${state.zone} needs owner KSK ${missing.map(keyTag).join(', ')}, which this owner does not hold: start it with that key too (--owner-key or --owner-hsm, repeatable)`,
    });
  return keys.filter((key) => inEffect.some((ksk) => sameKey(ksk, key.dnskey)));
}

/** One look: signs and appends when due; returns what happened, in words. */
export async function signIfDue(
  log: EventLog<ZoneEvent>,
  zone: string,
  keys: readonly OwnerKey[],
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const state = await readZone(log, zone);
  const decision = ownerSigningDue(state, now);
  if (decision.kind === 'wait') return decision.why;
  const snapshots = await signDnskeySnapshots(
    signingKeys(state, keys),
    ownerSigningPlan(state, now),
  );
  await appendToZone(log, zone, () =>
    zoneEvent(
      'dnskey-set-signed',
      { zone, source: OPERATOR },
      { snapshots, reason: decision.reason },
    ),
  );
  const until = new Date(
    ownerSignaturesExpireAt({ snapshots, reason: decision.reason, signedAt: '' }) * 1000,
  );
  return `signed the DNSKEY RRset (${decision.reason}): keys ${snapshots[0]!.dnskeys.map(keyTag).join(' ')}, valid until ${until.toISOString()}`;
}

export async function ownerCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('owner', args, {
    ...LOG_OPTIONS,
    'owner-key': { type: 'string', multiple: true },
    'owner-hsm': { type: 'string', multiple: true },
    once: { type: 'boolean' },
    interval: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(OWNER_HELP);
    return 0;
  }
  expectPositionals(positionals, 1, 'owner');
  const zone = zoneArgument(positionals[0], 'owner', 'chorus owner ZONE --owner-key FILE');
  const intervalMs = Number(values.interval ?? '2') * 1000;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0)
    throw new UsageError(`--interval takes seconds, not ${values.interval}`, 'owner');
  const keys = await openOwnerKeys(values);
  try {
    return await withEventLog(values, 'owner', async (log) => {
      checkOwnerKeys(await readZone(log, zone), keys);
      const held = keys.map((key) => `${key.description} (key ${keyTag(key.dnskey)})`);
      io.stderr(`owner of ${zone}: ${held.join(', ')}\n`);
      let last = '';
      for (;;) {
        const round = values.once
          ? { said: await signIfDue(log, zone, keys) }
          : await signIfDue(log, zone, keys).then(
              (said) => ({ said }),
              // A failed round (the log busy, a key missing for a roll) is said and tried again.
              (error: unknown) => ({
                failed: error instanceof Error ? error.message : String(error),
              }),
            );
        const line = 'said' in round ? round.said : `cannot sign: ${round.failed}`;
        const time = new Date().toISOString().slice(11, 19);
        if (line !== last) {
          if ('said' in round) io.stdout(`${time} ${line}\n`);
          else io.stderr(`${time} ${line}\n`);
        }
        last = line;
        if (values.once) return 0;
        await sleep(intervalMs);
      }
    });
  } finally {
    await Promise.all(keys.map((key) => key.close()));
  }
}
