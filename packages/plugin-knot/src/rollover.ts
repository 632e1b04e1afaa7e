/**
 * How Knot 3.2's automatic key management times a roll, and how to find a roll's successor in
 * the KASP database. Pure functions over `knotc conf-read` and `keymgr list -j` output.
 *
 * Knot 3.2.6 (src/knot/dnssec/key-events.c), measured in the lab with dnskey-ttl 30,
 * zone-max-ttl 30 and propagation-delay 10:
 * - `zone-key-rollover Z zsk`: a new ZSK is published at once; it replaces the old one
 *   (new: active, old: retired, no longer signing) at publish + propagation-delay + dnskey-ttl
 *   (40 s); the old ZSK leaves DNSKEY at retire + propagation-delay + zone-max-ttl (40 s later),
 *   and the KASP database forgets it after delete-delay.
 * - `zone-key-rollover Z ksk`: a new KSK is published, becomes ready after
 *   propagation-delay + dnskey-ttl, and waits for `zone-ksk-submitted` (or the ksk-submission
 *   check); then the old KSK is removed at once.
 * - Knot ignores a forced roll (warning "ignoring forced … rollover due to running rollover",
 *   knotc prints OK) while any roll runs, and under `manual: on`.
 */
import type { KeyRole, RolloverTiming } from '@chorus/core';
import { roleOf, stateOf, type KaspKey } from './keymgr.js';
import type { Misconfiguration, ResolvedValue, ResolvedZoneConfig } from './zone-config.js';

const SECONDS_PER_UNIT: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * A Knot TIME value in seconds. `knotc conf-read` prints plain seconds; knot.conf also accepts
 * one unit letter (s, m, h, d). Undefined for anything else.
 */
export function parseKnotTime(value: string): number | undefined {
  const match = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!match) return undefined;
  return Number(match[1]) * SECONDS_PER_UNIT[match[2] || 's']!;
}

/** The settings of the zone's policy that time a roll. */
export interface RolloverPolicy {
  /** The policy named by dnssec-policy; undefined: Knot's built-in policy. */
  policy: string | undefined;
  propagationDelaySeconds: number;
  /** True when propagation-delay is unset (Knot's default 1h). */
  propagationDelayIsDefault: boolean;
  /** Undefined when dnskey-ttl is unset: Knot then uses the TTL of the zone's SOA record. */
  dnskeyTtlSeconds: number | undefined;
  /** `single-type-signing: on`: the zone has CSKs, rolled with `zone-key-rollover Z ksk`. */
  singleTypeSigning: boolean;
  /** Where an operator raises propagation-delay. */
  propagationDelayLocation: string;
}

function unreadable(value: ResolvedValue, item: string): Misconfiguration {
  return {
    setting: value.location,
    problem: `${item} is ${JSON.stringify(value.value)}, which is not a Knot duration`,
    fix: `set ${item} to a number of seconds (or with one of the units s, m, h, d)`,
  };
}

/**
 * The zone's roll timing settings, or the setting that keeps Knot from rolling the zone's keys
 * by itself (not configured, not signed, or a manual policy).
 */
export function rolloverPolicyOf(
  config: ResolvedZoneConfig,
): { policy: RolloverPolicy } | { problem: Misconfiguration } {
  if (!config.configured)
    return {
      problem: {
        setting: 'zone',
        problem: `knotd has no zone ${config.zone} in its configuration`,
        fix: `add "- domain: ${config.zone}" to the zone section and reload knotd`,
      },
    };
  const signing = config.zoneItem('dnssec-signing');
  if (signing.value !== 'on')
    return {
      problem: {
        setting: signing.location,
        problem: `dnssec-signing is ${signing.value}, so Knot has no keys of its own to roll`,
        fix: 'set dnssec-signing: on',
      },
    };
  const manual = config.policyItem('manual');
  if (manual.value === 'on')
    return {
      problem: {
        setting: manual.location,
        problem:
          'the policy is manual: Knot ignores zone-key-rollover and times nothing, and the Knot plugin rolls keys only with automatic key management',
        fix: 'set manual: off (automatic key management); Knot then times the roll by propagation-delay and dnskey-ttl',
      },
    };
  const delay = config.policyItem('propagation-delay');
  const delaySeconds = parseKnotTime(delay.value);
  if (delaySeconds === undefined) return { problem: unreadable(delay, 'propagation-delay') };
  const ttl = config.policyItem('dnskey-ttl');
  const ttlSeconds = ttl.isDefault ? undefined : parseKnotTime(ttl.value);
  if (!ttl.isDefault && ttlSeconds === undefined) return { problem: unreadable(ttl, 'dnskey-ttl') };
  return {
    policy: {
      policy: config.policy,
      propagationDelaySeconds: delaySeconds,
      propagationDelayIsDefault: delay.isDefault,
      dnskeyTtlSeconds: ttlSeconds,
      singleTypeSigning: config.policyItem('single-type-signing').value === 'on',
      propagationDelayLocation: delay.location,
    },
  };
}

/**
 * Knot's pre-publication interval: a new ZSK signs (a new KSK or CSK becomes ready)
 * dnskey-ttl + propagation-delay after its publication. zone-max-ttl only times the removal of
 * the old key. `soaTtlSeconds` stands in for an unset dnskey-ttl.
 */
export function rolloverTimingOf(policy: RolloverPolicy, soaTtlSeconds: number): RolloverTiming {
  const ttl = policy.dnskeyTtlSeconds ?? soaTtlSeconds;
  const ttlNote = policy.dnskeyTtlSeconds === undefined ? ' (unset: the SOA TTL)' : '';
  const delayNote = policy.propagationDelayIsDefault ? ' (unset: the default 1h)' : '';
  return {
    mode: 'server-timed',
    prePublicationSeconds: ttl + policy.propagationDelaySeconds,
    settings: `dnskey-ttl ${ttl}${ttlNote} + propagation-delay ${policy.propagationDelaySeconds}${delayNote}`,
    settingToRaise:
      policy.policy === undefined
        ? `propagation-delay in a Knot policy named by the zone's dnssec-policy (it now uses Knot's built-in policy; set it at ${policy.propagationDelayLocation})`
        : `propagation-delay in Knot policy ${policy.policy}`,
    confirmsParentDs: true,
  };
}

/**
 * The `zone-key-rollover` key type for a role. A CSK rolls as `ksk`. A ZSK roll on a CSK
 * policy would add a ZSK next to the CSK (and a KSK roll would make a CSK), so those are problems.
 */
export function rolloverKeyType(
  role: KeyRole,
  policy: RolloverPolicy,
): { keyType: 'ksk' | 'zsk' } | { problem: Misconfiguration } {
  const csk = role === 'CSK';
  if (csk === policy.singleTypeSigning) return { keyType: role === 'ZSK' ? 'zsk' : 'ksk' };
  const where = policy.policy === undefined ? "Knot's built-in policy" : `policy ${policy.policy}`;
  return {
    problem: {
      setting: `policy[${policy.policy ?? 'default'}].single-type-signing`,
      problem: csk
        ? `a CSK roll was asked for, but ${where} signs with a KSK and a ZSK (single-type-signing off)`
        : `a ${role} roll was asked for, but ${where} signs with CSKs (single-type-signing on); Knot would add a ${role === 'ZSK' ? 'ZSK next to the CSK' : 'second CSK'}`,
      fix: csk ? 'roll the KSK or the ZSK instead' : 'roll the CSK instead',
    },
  };
}

/** States of a key that has not begun to leave: a successor is in one of these. */
const INCOMING_STATES = new Set(['pre-active', 'published', 'ready', 'active']);

/**
 * The successor of a roll: Knot's own key of `role` that is not a predecessor and is coming in
 * or in use (not retiring or removed). The newest one when there are several.
 */
export function findSuccessor(
  keys: readonly KaspKey[],
  role: KeyRole,
  predecessorTags: readonly number[],
  now: number,
): KaspKey | undefined {
  const introduced = (key: KaspKey) => Math.max(key.timers.publish, key.timers['pre-active']);
  return keys
    .filter(
      (key) =>
        !key.publicOnly &&
        roleOf(key) === role &&
        !predecessorTags.includes(key.tag) &&
        INCOMING_STATES.has(stateOf(key, now)),
    )
    .sort((a, b) => introduced(b) - introduced(a))[0];
}

/** States in which Knot counts a key as part of a running rollover (key-events.c, running_rollover). */
const ROLLING_STATES = new Set(['pre-active', 'published', 'retire-active', 'post-active']);

/**
 * Why Knot would ignore a forced rollover now, or undefined when it would start one: a key is
 * on its way in or out, or a new KSK waits for submission while the old one is active.
 */
export function runningRollover(keys: readonly KaspKey[], now: number): string | undefined {
  const own = keys.filter((key) => !key.publicOnly);
  const rolling = own.find((key) => ROLLING_STATES.has(stateOf(key, now)));
  if (rolling)
    return `${roleOf(rolling)} ${rolling.tag} is ${stateOf(rolling, now)}, part of a rollover Knot is running`;
  const ksks = own.filter((key) => key.ksk);
  const ready = ksks.find((key) => stateOf(key, now) === 'ready');
  const active = ksks.find((key) => stateOf(key, now) === 'active');
  if (ready && active)
    return `${roleOf(ready)} ${ready.tag} is ready and waits for zone-ksk-submitted while ${active.tag} is active`;
  return undefined;
}
