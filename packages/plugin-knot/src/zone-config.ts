/**
 * The effective Knot configuration of one zone, resolved from `knotc conf-read` output the way
 * knotd resolves it (knot.conf(5)): an item set in the zone section wins; otherwise the zone's
 * template (the one it names, else `default` when that template exists); otherwise the built-in
 * default. Policy items come from the policy named by the zone's `dnssec-policy`, else from
 * Knot's built-in policy ("an imaginary policy with all default values").
 */
import { canonicalName } from '@chorus/dns';
import type { ConfEntry } from './knotc.js';

/**
 * Knot 3.2 built-in defaults of the items Chorus reads (knot.conf(5) of 3.2.6). Durations are in
 * seconds, as `knotc conf-read` prints them; an empty string means Knot derives it from the zone.
 */
export const KNOT_DEFAULTS = {
  zone: {
    'dnssec-signing': 'off',
    'dnssec-policy': '',
    'zonefile-sync': '0',
    'zonefile-load': 'whole',
    'journal-content': 'changes',
  },
  policy: {
    'dnskey-management': 'full',
    'cds-cdnskey-publish': 'rollover',
    manual: 'off',
    'offline-ksk': 'off',
    'single-type-signing': 'off',
    'propagation-delay': '3600',
    /** Unset: Knot uses the TTL of the zone's SOA record (policy.c, update_policy_from_zone). */
    'dnskey-ttl': '',
    /** Unset: Knot computes the largest TTL of the zone after loading it. */
    'zone-max-ttl': '',
    'zsk-lifetime': '2592000',
    'ksk-lifetime': '0',
  },
} as const;

export type ZoneItem = keyof typeof KNOT_DEFAULTS.zone;
export type PolicyItem = keyof typeof KNOT_DEFAULTS.policy;

/** One resolved value and where it came from, e.g. `template[default].zonefile-sync`. */
export interface ResolvedValue {
  value: string;
  /** The config path that set it, or `built-in default`. */
  source: string;
  /** Where an operator should set it: the source, else the template or zone the zone uses. */
  location: string;
  isDefault: boolean;
}

export interface ResolvedZoneConfig {
  zone: string;
  /** The zone has an entry in the zone section. */
  configured: boolean;
  /** The template the zone inherits from, if any. */
  template: string | undefined;
  /** The policy named by dnssec-policy; undefined means Knot's built-in policy. */
  policy: string | undefined;
  zoneItem(item: ZoneItem): ResolvedValue;
  policyItem(item: PolicyItem): ResolvedValue;
}

/** Zone names compare lower-case and absolute: knotd prints `c.test.` for a configured `C.Test`. */
function zoneKey(name: string): string {
  return canonicalName(name.endsWith('.') ? name : `${name}.`);
}

/** The zone section's id as knotd prints it (e.g. `conformance.test.`), matched case-insensitively. */
function zoneIdIn(entries: readonly ConfEntry[], zone: string): string | undefined {
  const wanted = zoneKey(zone);
  for (const entry of entries) {
    if (entry.section !== 'zone') continue;
    const candidate = entry.id ?? (entry.item === 'domain' ? entry.value : undefined);
    if (candidate !== undefined && zoneKey(candidate) === wanted) return candidate;
  }
  return undefined;
}

function lookup(
  entries: readonly ConfEntry[],
  section: string,
  id: string | undefined,
  item: string,
): string | undefined {
  if (id === undefined) return undefined;
  const matches = (entryId: string | undefined) =>
    entryId !== undefined &&
    (section === 'zone' ? zoneKey(entryId) === zoneKey(id) : entryId === id);
  return entries.find(
    (entry) => entry.section === section && matches(entry.id) && entry.item === item,
  )?.value;
}

/**
 * Resolves a zone's effective settings from the entries of `knotc conf-read zone`,
 * `conf-read template` and `conf-read policy` (concatenated).
 */
export function resolveZoneConfig(entries: readonly ConfEntry[], zone: string): ResolvedZoneConfig {
  const zoneId = zoneIdIn(entries, zone);
  const templateIds = new Set(
    entries
      .filter(
        (entry) => entry.section === 'template' && entry.id === undefined && entry.item === 'id',
      )
      .map((entry) => entry.value),
  );
  const namedTemplate = lookup(entries, 'zone', zoneId, 'template');
  const template = namedTemplate ?? (templateIds.has('default') ? 'default' : undefined);
  const zonePath = `zone[${zoneId ?? zoneKey(zone)}]`;

  const zoneItem = (item: ZoneItem): ResolvedValue => {
    const own = lookup(entries, 'zone', zoneId, item);
    if (own !== undefined) {
      const source = `${zonePath}.${item}`;
      return { value: own, source, location: source, isDefault: false };
    }
    const inherited = lookup(entries, 'template', template, item);
    if (inherited !== undefined) {
      const source = `template[${template}].${item}`;
      return { value: inherited, source, location: source, isDefault: false };
    }
    return {
      value: KNOT_DEFAULTS.zone[item],
      source: 'built-in default',
      location: template !== undefined ? `template[${template}].${item}` : `${zonePath}.${item}`,
      isDefault: true,
    };
  };

  const policyName = zoneItem('dnssec-policy').value;
  const policy = policyName === '' ? undefined : policyName;
  const policyItem = (item: PolicyItem): ResolvedValue => {
    const own = lookup(entries, 'policy', policy, item);
    if (own !== undefined) {
      const source = `policy[${policy}].${item}`;
      return { value: own, source, location: source, isDefault: false };
    }
    return {
      value: KNOT_DEFAULTS.policy[item],
      source: 'built-in default',
      location:
        policy !== undefined ? `policy[${policy}].${item}` : zoneItem('dnssec-policy').location,
      isDefault: true,
    };
  };

  return {
    zone: zoneKey(zone),
    configured: zoneId !== undefined,
    template,
    policy,
    zoneItem,
    policyItem,
  };
}

/** A configuration that breaks multi-signer, with the setting to change and how. */
export interface Misconfiguration {
  setting: string;
  problem: string;
  fix: string;
}

function shown(value: ResolvedValue): string {
  return value.isDefault ? `${value.value} (the built-in default)` : value.value;
}

/**
 * Everything that makes Knot 3.2 fail at multi-signer for this zone, most fundamental first.
 * Empty when the zone is fine. See reference/nameservers.md §4 for the measurements.
 */
export function findMisconfigurations(config: ResolvedZoneConfig): Misconfiguration[] {
  const problems: Misconfiguration[] = [];
  if (!config.configured) {
    problems.push({
      setting: 'zone',
      problem: `knotd has no zone ${config.zone} in its configuration`,
      fix: `add "- domain: ${config.zone}" to the zone section and reload knotd`,
    });
    return problems;
  }
  const signing = config.zoneItem('dnssec-signing');
  if (signing.value !== 'on') {
    problems.push({
      setting: signing.location,
      problem: `dnssec-signing is ${shown(signing)}, so Knot does not sign the zone with its own keys`,
      fix: 'set dnssec-signing: on (model 2: every signer signs with its own keys)',
    });
  }
  const management = config.policyItem('dnskey-management');
  if (management.value !== 'incremental') {
    problems.push({
      setting: management.location,
      problem: `dnskey-management is ${shown(management)}: Knot answers NOERROR to DNS UPDATEs of foreign DNSKEY, CDS and CDNSKEY records and then silently drops them on the next signing`,
      fix:
        config.policy === undefined
          ? 'define a policy with dnskey-management: incremental and delete-delay (e.g. 1d), and name it in dnssec-policy'
          : `set dnskey-management: incremental (it requires delete-delay, e.g. 1d) in policy ${config.policy}`,
    });
  }
  const cds = config.policyItem('cds-cdnskey-publish');
  if (cds.value !== 'always' && cds.value !== 'double-ds') {
    problems.push({
      setting: cds.location,
      problem: `cds-cdnskey-publish is ${shown(cds)}, so Knot does not keep CDS/CDNSKEY for its own KSK published and the parent cannot learn its DS`,
      fix: 'set cds-cdnskey-publish: always',
    });
  }
  const sync = config.zoneItem('zonefile-sync');
  const load = config.zoneItem('zonefile-load');
  const journal = config.zoneItem('journal-content');
  if (Number(sync.value) === -1 && load.value !== 'none') {
    // Measured on Knot 3.2.6: difference-no-serial reverts on every restart; whole and
    // difference keep the journal's changes until the stale zone file is edited and reloaded,
    // and then revert them too.
    const when =
      load.value === 'difference-no-serial'
        ? 'every restart of knotd re-applies the stale zone file'
        : 'the next edit and reload of the stale zone file re-applies it';
    problems.push({
      setting: sync.location,
      problem: `zonefile-sync is -1 with zonefile-load ${shown(load)}: the zone file is never written back, and ${when}, reverting every DNS UPDATE (foreign DNSKEYs disappear)`,
      fix: 'set zonefile-sync: 0 (Knot then writes the signed zone, foreign records included, back to the zone file), or zonefile-load: none together with journal-content: all',
    });
  }
  if (load.value === 'none' && journal.value !== 'all') {
    problems.push({
      setting: journal.location,
      problem: `zonefile-load is none but journal-content is ${shown(journal)}, so knotd has no copy of the zone after a restart`,
      fix: 'set journal-content: all, or load the zone from a zone file with zonefile-sync: 0',
    });
  }
  return problems;
}

/**
 * What keeps Knot 3.2 from serving a DNSKEY RRset the zone owner signed (model 1) for this zone:
 * it must sign the zone with its own ZSKs, and take its DNSKEY RRset from imported SKRs.
 */
export function findModel1Misconfigurations(config: ResolvedZoneConfig): Misconfiguration[] {
  const unconfigured = findMisconfigurations(config).filter((entry) => entry.setting === 'zone');
  if (unconfigured.length > 0) return unconfigured;
  const problems: Misconfiguration[] = [];
  const signing = config.zoneItem('dnssec-signing');
  if (signing.value !== 'on')
    problems.push({
      setting: signing.location,
      problem: `dnssec-signing is ${shown(signing)}, so Knot does not sign the zone with its ZSKs`,
      fix: 'set dnssec-signing: on',
    });
  const offline = config.policyItem('offline-ksk');
  if (offline.value !== 'on')
    problems.push({
      setting: offline.location,
      problem: `offline-ksk is ${shown(offline)}, so Knot signs its DNSKEY RRset with a KSK of its own instead of serving the owner's signature`,
      fix:
        config.policy === undefined
          ? 'define a policy with offline-ksk: on and name it in dnssec-policy'
          : `set offline-ksk: on in policy ${config.policy}`,
    });
  return problems;
}

/** The record types only model 2 writes at the apex: the owner's signed set carries them in model 1. */
const KEY_RECORD_TYPES: ReadonlySet<string> = new Set(['DNSKEY', 'CDS', 'CDNSKEY']);

/**
 * What keeps Knot from applying changes of `types` to the zone. A zone whose policy has
 * `offline-ksk: on` is in model 1: NS and CSYNC changes need only model 1's settings, and a
 * DNSKEY, CDS or CDNSKEY change is refused (the owner's signed set is the zone's DNSKEY RRset).
 */
export function findApplyMisconfigurations(
  config: ResolvedZoneConfig,
  types: readonly string[],
): Misconfiguration[] {
  const offline = config.configured ? config.policyItem('offline-ksk') : undefined;
  if (offline?.value !== 'on') return findMisconfigurations(config);
  const problems = findModel1Misconfigurations(config);
  const keyTypes = [...new Set(types.filter((type) => KEY_RECORD_TYPES.has(type)))];
  if (keyTypes.length > 0)
    problems.unshift({
      setting: offline.location,
      problem: `offline-ksk is on, so ${config.zone}'s DNSKEY RRset is the one its owner signed (model 1), and Knot takes no ${keyTypes.join(', ')} change by UPDATE`,
      fix: "publish keys through the owner's signed set (model 1: the zone's definition names an owner), or set offline-ksk: off for model 2",
    });
  return problems;
}
