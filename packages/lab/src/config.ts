/**
 * Lab options, their defaults and validation, and the address plan derived from them.
 */
import path from 'node:path';
import { LabError } from './errors.js';
import { HOSTS_MODES, hostAddressOf, planHosts, type HostsMode } from './hosts.js';
import {
  PROVIDER_API_PORT,
  type DesecRateLimits,
  type Ns1RateLimits,
  type Rate,
  type RegistrarRateLimits,
} from '@chorus/provider-fakes';
import type {
  DenialMethod,
  LabAlgorithm,
  LabEventLog,
  LabHosts,
  NatsNodeId,
  ProviderId,
  RegistrarId,
  RegistryAgentId,
  ResolverId,
  ServerId,
  SignerId,
  TrapId,
} from './types.js';

export interface LabOptions {
  /** Lab directory. Default `$CHORUS_LAB_DIR`, else `<cwd>/.lab`. */
  directory?: string;
  /** First three octets of every lab address, e.g. `127.53.0`. */
  addressPrefix?: string;
  /** DNS port of every server and resolver. Default 53. */
  port?: number;
  /** TTL of every record, in seconds. Default 30. */
  ttl?: number;
  /** The signed zones, each directly under `test.`. Default `example.test`. */
  zones?: readonly string[];
  /** Also start the four misconfigured trap signers. Default false. */
  traps?: boolean;
  /**
   * Run the parent's registry agent (CDS/CDNSKEY and CSYNC scanner that updates `test.`).
   * Default true; `{ intervalMs }` sets the time between scans (default 1000 ms).
   */
  registryAgent?: boolean | { intervalMs?: number };
  /**
   * Automatic key lifetimes in seconds for the signers that roll on their own (BIND, Knot).
   * Default: unlimited (keys roll only when asked). `parseKeyLifetimes` reads `zsk=5m,ksk=1h`.
   */
  keyLifetimes?: KeyLifetimes;
  /** SaaS provider fakes to start, each in front of its own PowerDNS. Default none. */
  providers?: readonly ProviderId[];
  /** Tighter (or looser) limits for the provider fakes; `parseRateLimits` reads the CLI form. */
  rateLimits?: ProviderRateLimits;
  /**
   * Start the fake registrar: a registrar's REST API in front of the parent, for an account that
   * holds the lab's zones (`<prefix>.61:8000`). Default false.
   */
  registrar?: boolean;
  /**
   * The sidecars' event log: `sqlite` (default, one file) or `nats` (a 3-node NATS JetStream
   * cluster on loopback, TLS and a user per sidecar).
   */
  eventLog?: EventLogKind;
  /**
   * `loopback` (default): every process on this host's loopback. `netns`: each server, the
   * registry agent and each NATS node in a network namespace of its own (needs root).
   */
  hosts?: HostsMode;
  /**
   * How every server (signers, providers, traps and the parent) denies existence: `nsec`
   * (default) or `nsec3`, with the same NSEC3 parameters everywhere (`1 0 0 -`, RFC 9276).
   */
  denial?: DenialMethod;
  /**
   * The DNSSEC algorithm of every key of every server: 13 (ECDSAP256SHA256, default) or 8
   * (RSASHA256, 2048-bit keys). The parent's DS and the trust anchor follow.
   */
  algorithm?: LabAlgorithm;
  /**
   * RFC 9615 signalling zones: each signer (bind, powerdns, knot) also serves its own `<id>.test.`,
   * signed and delegated with a DS, so that `_dsboot` records under its NS name validate. Needs
   * port 53 (resolvers follow NS records, which carry no port). Default false.
   */
  signalling?: boolean;
  /**
   * Model 1 (RFC 8901 §2.1.1): the Knot signer also serves `owner.test.` with offline-KSK, and
   * the NS1 fake too when it runs (presigned), with one DNSKEY RRset signed by the zone owner's
   * KSK, which `up` makes in a SoftHSM2 token of the lab's own; the parent delegates to them
   * with that KSK's DS. Default false.
   */
  owner?: boolean;
  /**
   * Zones under `test.` served and signed by bind, powerdns and knot, each with its own keys and
   * all three NS names at the apex, delegated to the three without DS. Default none.
   */
  insecureZones?: readonly string[];
}

export type EventLogKind = LabEventLog['kind'];

/** Rate-limit overrides per fake: a class given replaces that class's documented rates. */
export interface ProviderRateLimits {
  desec?: Partial<DesecRateLimits>;
  ns1?: Partial<Ns1RateLimits>;
  registrar?: Partial<RegistrarRateLimits>;
}

/** Key lifetimes in seconds; an absent role keeps its keys for ever. */
export interface KeyLifetimes {
  zskSeconds?: number;
  kskSeconds?: number;
}

export const LAB_DEFAULTS = {
  addressPrefix: '127.53.0',
  port: 53,
  ttl: 30,
  zones: ['example.test.'],
  traps: false,
  registrar: false,
  registryAgent: true,
  registryAgentIntervalMs: 1000,
  eventLog: 'sqlite',
  denial: 'nsec',
  algorithm: 13,
  signalling: false,
  owner: false,
} as const;

export const DENIAL_METHODS: readonly DenialMethod[] = ['nsec', 'nsec3'];
export const LAB_ALGORITHMS: readonly LabAlgorithm[] = [13, 8];
/** The mnemonic of each lab algorithm (RFC 8624 §3.1). */
export const ALGORITHM_NAMES: Readonly<Record<LabAlgorithm, string>> = {
  13: 'ECDSAP256SHA256',
  8: 'RSASHA256',
};
/** The size of every RSA key (KSK, ZSK and CSK) the lab makes; ECDSA P-256 has no choice. */
export const RSA_KEY_BITS = 2048;

/**
 * The NSEC3 parameters of every server with `denial: 'nsec3'`, as RFC 9276 §3.1 recommends:
 * SHA-1, no opt-out, no additional iterations, an empty salt. The same on every signer, so a
 * resolver sees one NSEC3 chain shape whichever signer answers.
 */
export const NSEC3_PARAMETERS = { hashAlgorithm: 1, flags: 0, iterations: 0, salt: '' } as const;
/** `NSEC3_PARAMETERS` as NSEC3PARAM rdata in presentation format. */
export const NSEC3PARAM_TEXT = '1 0 0 -';

export const PARENT_ZONE = 'test.';
export const BROKEN_ZONE = 'broken.test.';
/** The model-1 zone (`up --owner`): Knot and the NS1 fake serve the owner-signed DNSKEY RRset. */
export const OWNER_ZONE = 'owner.test.';
/** The registry agent's name in the parent zone (`scanner.test.`), the target of its DSYNC. */
export const DSYNC_TARGET_LABEL = 'scanner';
/** Served by the Knot signer alone, signed by one CSK (single-type-signing), not delegated. */
export const CSK_ZONE = 'csk.test.';
export const RNDC_PORT = 953;
export const POWERDNS_API_PORT = 8081;
export const SIGNER_IDS: readonly SignerId[] = ['bind', 'powerdns', 'knot'];
export const PROVIDER_IDS: readonly ProviderId[] = ['desec', 'ns1'];
export const TRAP_IDS: readonly TrapId[] = [
  'bind-inline-signing',
  'powerdns-no-direct-dnskey',
  'knot-full-management',
  'knot-zonefile-revert',
];
export const NATS_NODE_IDS: readonly NatsNodeId[] = ['nats-1', 'nats-2', 'nats-3'];
export const EVENT_LOG_KINDS: readonly EventLogKind[] = ['sqlite', 'nats'];
export const SERVER_IDS: readonly ServerId[] = [
  'parent',
  ...SIGNER_IDS,
  ...PROVIDER_IDS,
  ...TRAP_IDS,
];
export const RESOLVER_IDS: readonly ResolverId[] = [
  'resolver-delegation',
  'resolver-bind',
  'resolver-powerdns',
  'resolver-knot',
  'resolver-desec',
  'resolver-ns1',
  'resolver-cache',
  'resolver-forwarded',
];

/** Everything in the lab with an address of its own. */
export type LabAddressId = ServerId | ResolverId | RegistryAgentId | RegistrarId | NatsNodeId;

/** Last octet of each lab address. */
const HOST_NUMBER: Record<LabAddressId, number> = {
  parent: 1,
  bind: 2,
  powerdns: 3,
  knot: 4,
  desec: 5,
  ns1: 6,
  'bind-inline-signing': 12,
  'powerdns-no-direct-dnskey': 13,
  'knot-full-management': 14,
  'knot-zonefile-revert': 15,
  'resolver-delegation': 50,
  'resolver-bind': 51,
  'resolver-powerdns': 52,
  'resolver-knot': 53,
  'resolver-desec': 56,
  'resolver-ns1': 57,
  'resolver-cache': 54,
  'resolver-forwarded': 55,
  'registry-agent': 60,
  registrar: 61,
  'nats-1': 71,
  'nats-2': 72,
  'nats-3': 73,
};

/** The name the parent zone maps to each server's address. */
export const NAMESERVER_NAME: Record<ServerId, string> = {
  parent: 'ns.test.',
  bind: 'ns.bind.test.',
  powerdns: 'ns.powerdns.test.',
  knot: 'ns.knot.test.',
  desec: 'ns.desec.test.',
  ns1: 'ns.ns1.test.',
  'bind-inline-signing': 'ns.bind-inline-signing.test.',
  'powerdns-no-direct-dnskey': 'ns.powerdns-no-direct-dnskey.test.',
  'knot-full-management': 'ns.knot-full-management.test.',
  'knot-zonefile-revert': 'ns.knot-zonefile-revert.test.',
};

/** The NS names of the three signers: the apex NS of every insecure zone. */
export const SIGNER_NAMESERVER_NAMES: readonly string[] = SIGNER_IDS.map(
  (id) => NAMESERVER_NAME[id],
);

/** Labels under `test.` that the lab itself uses (reserved whether or not traps run). */
const RESERVED_LABELS = new Set([
  'ns',
  'bind',
  'powerdns',
  'knot',
  'broken',
  'csk',
  DSYNC_TARGET_LABEL,
  ...PROVIDER_IDS,
  ...TRAP_IDS,
]);

export interface LabConfig {
  directory: string;
  addressPrefix: string;
  port: number;
  ttl: number;
  zones: string[];
  traps: boolean;
  /** null: no registry agent. */
  registryAgent: { intervalMs: number } | null;
  /**
   * Automatic key lifetimes for the servers that roll on their own (BIND dnssec-policy, Knot
   * policy), in seconds; absent: unlimited (no server-initiated rolls).
   */
  keyLifetimes?: KeyLifetimes;
  providers: ProviderId[];
  rateLimits: ProviderRateLimits;
  /** Whether the fake registrar runs (on loopback, also with `hosts.mode` netns). */
  registrar: boolean;
  eventLog: EventLogKind;
  denial: DenialMethod;
  algorithm: LabAlgorithm;
  /** Whether each signer serves its signalling zone `<id>.test.` (RFC 9615). */
  signalling: boolean;
  /** Whether Knot (and the NS1 fake) serve the model-1 zone `owner.test.` (owner KSK in SoftHSM2). */
  owner: boolean;
  /** Zones served by the three signers, delegated without DS. */
  insecureZones: string[];
  /** Every process's address: on loopback, or in its namespace with `hosts.mode` netns. */
  addresses: Record<LabAddressId, string>;
  hosts: LabHosts;
}

/** The SQLite event log of `chorus demo`'s sidecars (they create it; `up` does not). */
export function demoEventLogPath(labDirectory: string): string {
  return path.join(labDirectory, 'demo', 'events.sqlite');
}

export function defaultLabDirectory(): string {
  const fromEnvironment = process.env.CHORUS_LAB_DIR;
  return path.resolve(fromEnvironment && fromEnvironment !== '' ? fromEnvironment : '.lab');
}

function validateAddressPrefix(prefix: string): string {
  const match = /^127\.(\d{1,3})\.(\d{1,3})$/.exec(prefix.trim());
  const octets = match ? [Number(match[1]), Number(match[2])] : [];
  if (!match || octets.some((octet) => octet > 255)) {
    throw new LabError(
      `invalid address prefix ${JSON.stringify(prefix)}: expected three octets in 127.0.0.0/8, e.g. 127.53.0`,
    );
  }
  if (octets[0] === 0 && octets[1] === 0) {
    throw new LabError(
      'address prefix 127.0.0 is left to the host’s own services; use e.g. 127.53.0',
    );
  }
  return `127.${octets[0]}.${octets[1]}`;
}

function validateInteger(value: number, what: string, minimum: number, maximum: number): number {
  if (!Number.isInteger(value) || value < minimum || value > maximum) {
    throw new LabError(
      `invalid ${what} ${String(value)}: expected an integer from ${minimum} to ${maximum}`,
    );
  }
  return value;
}

function validatePort(port: number): number {
  validateInteger(port, 'port', 1, 65535);
  if (port === RNDC_PORT || port === POWERDNS_API_PORT || port === PROVIDER_API_PORT) {
    throw new LabError(
      `invalid port ${port}: the lab uses it for rndc (${RNDC_PORT}), the PowerDNS API (${POWERDNS_API_PORT}) or the provider APIs (${PROVIDER_API_PORT})`,
    );
  }
  return port;
}

/** The most zones a lab serves (start-up grows with them: about 0.2 s per zone at PowerDNS). */
export const MAX_LAB_ZONES = 10_000;

/** `count` zones for scale runs: example.test. then z00001.test., z00002.test., … */
export function numberedZones(count: number): string[] {
  if (!Number.isInteger(count) || count < 1 || count > MAX_LAB_ZONES)
    throw new LabError(`a zone count is 1 to ${MAX_LAB_ZONES}, not ${count}`);
  return [
    'example.test.',
    ...Array.from(
      { length: count - 1 },
      (_, index) => `z${String(index + 1).padStart(5, '0')}.test.`,
    ),
  ];
}

/** One zone name, absolute and lower-case: a single label under `test.`, not reserved. */
function validateZoneName(input: string): string {
  const zone = input.trim().toLowerCase().replace(/\.?$/, '.');
  const match = /^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)\.test\.$/.exec(zone);
  if (!match) {
    throw new LabError(
      `invalid zone ${JSON.stringify(input)}: the lab's zones are single labels under test., e.g. example.test`,
    );
  }
  if (RESERVED_LABELS.has(match[1]!)) {
    throw new LabError(
      `zone ${zone} is reserved by the lab (it uses ${[...RESERVED_LABELS].map((label) => `${label}.test.`).join(', ')})`,
    );
  }
  return zone;
}

/** Each name valid and listed once. */
function validateZoneNames(zones: readonly string[]): string[] {
  const result: string[] = [];
  for (const zone of zones.map(validateZoneName)) {
    if (result.includes(zone)) throw new LabError(`zone ${zone} is listed twice`);
    result.push(zone);
  }
  return result;
}

/** Zones must be single labels under `test.` so the parent can delegate them directly. */
export function validateZones(zones: readonly string[]): string[] {
  if (zones.length === 0) throw new LabError('at least one zone is needed, e.g. example.test');
  if (zones.length > MAX_LAB_ZONES)
    throw new LabError(`too many zones (${zones.length}); the lab takes at most ${MAX_LAB_ZONES}`);
  return validateZoneNames(zones);
}

/** Insecure zones: named like the lab's zones, and none of them also a signed zone. */
export function validateInsecureZones(
  insecureZones: readonly string[],
  zones: readonly string[],
): string[] {
  const result = validateZoneNames(insecureZones);
  const signed = result.find((zone) => zones.includes(zone));
  if (signed !== undefined)
    throw new LabError(`zone ${signed} is given both as a zone and as an insecure zone`);
  return result;
}

/**
 * Signalling needs port 53 (resolvers reach the signalling zones through NS records only) and,
 * with `netns`, no registry agent (in its namespace it cannot reach the host's resolvers).
 */
function validateSignalling(options: LabOptions, port: number, hosts: LabHosts): boolean {
  if (!(options.signalling ?? LAB_DEFAULTS.signalling)) return false;
  if (port !== 53)
    throw new LabError(
      `signalling needs port 53, not ${port}: resolvers reach the signalling zones through NS records, which carry no port`,
    );
  if (hosts.mode === 'netns' && options.registryAgent !== false)
    throw new LabError(
      'signalling with hosts netns needs no registry agent (--no-registry-agent): in its namespace the agent cannot reach the validating resolver on this host',
    );
  return true;
}

/** Ten years: a longer lifetime is `unlimited` in all but name. */
const MAX_KEY_LIFETIME_SECONDS = 10 * 365 * 86400;
const DURATION_UNITS: Readonly<Record<string, number>> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };
const KEY_LIFETIMES_FORMAT =
  'expected zsk=DURATION,ksk=DURATION (either or both), DURATION like 120, 120s, 5m, 1h or 2d';

/** `120`, `120s`, `5m`, `1h`, `2d` in seconds; undefined when the text is not such a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,9})\s*([smhd]?)$/i.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * DURATION_UNITS[match[2]!.toLowerCase()]!;
}

/** `zsk=5m,ksk=1h` (either or both) as key lifetimes. Throws LabError naming the bad part. */
export function parseKeyLifetimes(text: string): KeyLifetimes {
  const result: KeyLifetimes = {};
  const parts = text.split(',').map((part) => part.trim());
  if (parts.every((part) => part === ''))
    throw new LabError(`invalid key lifetimes ${JSON.stringify(text)}: ${KEY_LIFETIMES_FORMAT}`);
  for (const part of parts) {
    const match = /^(zsk|ksk)\s*=\s*(.*)$/i.exec(part);
    const seconds = match ? parseDuration(match[2]!) : undefined;
    if (!match || seconds === undefined)
      throw new LabError(
        `invalid key lifetime ${JSON.stringify(part)} in ${JSON.stringify(text)}: ${KEY_LIFETIMES_FORMAT}`,
      );
    const key = match[1]!.toLowerCase() === 'zsk' ? 'zskSeconds' : 'kskSeconds';
    if (result[key] !== undefined)
      throw new LabError(
        `invalid key lifetimes ${JSON.stringify(text)}: ${match[1]} is given twice`,
      );
    result[key] = seconds;
  }
  return validateKeyLifetimes(result);
}

/** Whole seconds from 1 s to ten years per role; the servers check their own minimums. */
function validateKeyLifetimes(lifetimes: KeyLifetimes): KeyLifetimes {
  const result: KeyLifetimes = {};
  for (const [key, role] of [
    ['zskSeconds', 'ZSK'],
    ['kskSeconds', 'KSK'],
  ] as const) {
    const value = lifetimes[key];
    if (value === undefined) continue;
    result[key] = validateInteger(value, `${role} lifetime (s)`, 1, MAX_KEY_LIFETIME_SECONDS);
  }
  return result;
}

export function resolveLabConfig(options: LabOptions = {}): LabConfig {
  const addressPrefix = validateAddressPrefix(options.addressPrefix ?? LAB_DEFAULTS.addressPrefix);
  const hosts = planHosts(
    parseHostsMode(options.hosts ?? 'loopback'),
    addressPrefix,
    HOST_NUMBER,
    runningIds(options),
    path.resolve(options.directory ?? defaultLabDirectory()),
  );
  const addresses = Object.fromEntries(
    Object.entries(HOST_NUMBER).map(([id, host]) => [
      id,
      hostAddressOf(hosts, id) ?? `${addressPrefix}.${host}`,
    ]),
  ) as Record<LabAddressId, string>;
  const agent = options.registryAgent ?? LAB_DEFAULTS.registryAgent;
  const keyLifetimes = validateKeyLifetimes(options.keyLifetimes ?? {});
  const port = validatePort(options.port ?? LAB_DEFAULTS.port);
  const zones = validateZones(options.zones ?? LAB_DEFAULTS.zones);
  return {
    directory: path.resolve(options.directory ?? defaultLabDirectory()),
    addressPrefix,
    port,
    ttl: validateInteger(options.ttl ?? LAB_DEFAULTS.ttl, 'TTL', 1, 86400),
    zones,
    traps: options.traps ?? LAB_DEFAULTS.traps,
    registryAgent:
      agent === false
        ? null
        : {
            intervalMs: validateInteger(
              (agent === true ? undefined : agent.intervalMs) ??
                LAB_DEFAULTS.registryAgentIntervalMs,
              'registry agent interval (ms)',
              50,
              3_600_000,
            ),
          },
    ...(Object.keys(keyLifetimes).length > 0 ? { keyLifetimes } : {}),
    providers: validateProviders(options.providers ?? []),
    rateLimits: options.rateLimits ?? {},
    registrar: options.registrar ?? LAB_DEFAULTS.registrar,
    eventLog: parseEventLog(options.eventLog ?? LAB_DEFAULTS.eventLog),
    denial: validateDenial(options.denial ?? LAB_DEFAULTS.denial),
    algorithm: validateAlgorithm(options.algorithm ?? LAB_DEFAULTS.algorithm),
    signalling: validateSignalling(options, port, hosts),
    owner: options.owner ?? LAB_DEFAULTS.owner,
    insecureZones: validateInsecureZones(options.insecureZones ?? [], zones),
    addresses,
    hosts,
  };
}

/** Each provider once, in the lab's order. */
export function validateProviders(providers: readonly string[]): ProviderId[] {
  const unknown = providers.filter((id) => !(PROVIDER_IDS as readonly string[]).includes(id));
  if (unknown.length > 0)
    throw new LabError(
      `unknown provider ${unknown.map((id) => JSON.stringify(id)).join(', ')}: the lab fakes ${PROVIDER_IDS.join(' and ')}`,
    );
  return PROVIDER_IDS.filter((id) => providers.includes(id));
}

/** `sqlite` or `nats` (any case) as the event-log kind. */
export function parseEventLog(text: string): EventLogKind {
  const kind = EVENT_LOG_KINDS.find((entry) => entry === text.trim().toLowerCase());
  if (!kind)
    throw new LabError(
      `unknown event log ${JSON.stringify(text)}: expected ${EVENT_LOG_KINDS.join(' or ')}`,
    );
  return kind;
}

const DENIAL_CHOICES = 'nsec (default) or nsec3 (NSEC3PARAM 1 0 0 -, as RFC 9276 recommends)';
const ALGORITHM_CHOICES = '13 (ECDSAP256SHA256, default) or 8 (RSASHA256, 2048-bit keys)';

/** Checks `LabOptions.denial` (callers from JavaScript can pass anything). */
function validateDenial(denial: unknown): DenialMethod {
  const method = DENIAL_METHODS.find((entry) => entry === denial);
  if (method === undefined)
    throw new LabError(
      `invalid denial ${JSON.stringify(denial)}: the lab option denial takes ${DENIAL_CHOICES}`,
    );
  return method;
}

/** Checks `LabOptions.algorithm` (callers from JavaScript can pass anything). */
function validateAlgorithm(algorithm: unknown): LabAlgorithm {
  const found = LAB_ALGORITHMS.find((entry) => entry === algorithm);
  if (found === undefined)
    throw new LabError(
      `invalid algorithm ${JSON.stringify(algorithm)}: the lab option algorithm takes ${ALGORITHM_CHOICES}`,
    );
  return found;
}

/** `nsec` or `nsec3` (any case), as `--denial` takes it. */
export function parseDenial(text: string): DenialMethod {
  const method = DENIAL_METHODS.find((entry) => entry === text.trim().toLowerCase());
  if (method === undefined)
    throw new LabError(`invalid denial ${JSON.stringify(text)}: expected ${DENIAL_CHOICES}`);
  return method;
}

/** `13` or `8`, or their mnemonics in any case, as `--algorithm` takes it. */
export function parseAlgorithm(text: string): LabAlgorithm {
  const wanted = text.trim().toUpperCase();
  const found = LAB_ALGORITHMS.find(
    (algorithm) => String(algorithm) === wanted || ALGORITHM_NAMES[algorithm] === wanted,
  );
  if (found === undefined)
    throw new LabError(`invalid algorithm ${JSON.stringify(text)}: expected ${ALGORITHM_CHOICES}`);
  return found;
}

/** `desec,ns1` (or `all`) as a provider list. */
export function parseProviders(text: string): ProviderId[] {
  const parts = text
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part !== '');
  if (parts.length === 0)
    throw new LabError(`invalid provider list ${JSON.stringify(text)}: expected e.g. desec,ns1`);
  return validateProviders(parts.includes('all') ? PROVIDER_IDS : parts);
}

const RATE_FORMAT =
  'expected FAKE.CLASS=LIMIT/DURATION[+LIMIT/DURATION…], comma-separated, e.g. desec.write=5/1m or ns1.write=10/60s; classes: desec.read, desec.write (per domain), desec.user, ns1.read, ns1.write, registrar.api (per token)';
type RateFake = keyof ProviderRateLimits;
const RATE_CLASSES: Readonly<Record<string, readonly [RateFake, string, 'list' | 'bucket']>> = {
  'desec.read': ['desec', 'read', 'list'],
  'desec.write': ['desec', 'perDomainWrite', 'list'],
  'desec.user': ['desec', 'user', 'list'],
  'ns1.read': ['ns1', 'read', 'bucket'],
  'ns1.write': ['ns1', 'write', 'bucket'],
  'registrar.api': ['registrar', 'api', 'bucket'],
};

function parseRate(text: string, whole: string): Rate {
  const match = /^(\d{1,7})\s*\/\s*(.+)$/.exec(text.trim());
  const periodSeconds = match ? parseDuration(match[2]!) : undefined;
  if (!match || periodSeconds === undefined || periodSeconds === 0 || Number(match[1]) === 0)
    throw new LabError(
      `invalid rate ${JSON.stringify(text)} in ${JSON.stringify(whole)}: ${RATE_FORMAT}`,
    );
  return { limit: Number(match[1]), periodSeconds };
}

/** `desec.write=5/1m,ns1.write=10/60s` as rate-limit overrides. Throws LabError naming the bad part. */
export function parseRateLimits(text: string): ProviderRateLimits {
  const result: Record<RateFake, Record<string, Rate | Rate[]>> = {
    desec: {},
    ns1: {},
    registrar: {},
  };
  for (const part of text.split(',').map((entry) => entry.trim())) {
    const [name, value] = part.split('=', 2).map((entry) => entry.trim());
    const target = name === undefined ? undefined : RATE_CLASSES[name.toLowerCase()];
    if (!target || value === undefined || value === '')
      throw new LabError(`invalid rate limit ${JSON.stringify(part)}: ${RATE_FORMAT}`);
    const [provider, rateClass, shape] = target;
    const rates = value.split('+').map((rate) => parseRate(rate, text));
    if (shape === 'bucket' && rates.length !== 1)
      throw new LabError(
        `invalid rate limit ${JSON.stringify(part)}: a token bucket (NS1, the registrar) takes one rate`,
      );
    result[provider][rateClass] = shape === 'bucket' ? rates[0]! : rates;
  }
  const limits: ProviderRateLimits = {};
  if (Object.keys(result.desec).length > 0) limits.desec = result.desec;
  if (Object.keys(result.ns1).length > 0) limits.ns1 = result.ns1;
  if (Object.keys(result.registrar).length > 0) limits.registrar = result.registrar;
  return limits;
}

/** The ids of everything `up` starts with these options, resolvers aside. */
function runningIds(options: LabOptions): LabAddressId[] {
  return [
    'parent',
    ...SIGNER_IDS,
    ...validateProviders(options.providers ?? []),
    ...(options.traps ? TRAP_IDS : []),
    ...(options.registryAgent === false ? [] : ['registry-agent' as const]),
    ...(parseEventLog(options.eventLog ?? LAB_DEFAULTS.eventLog) === 'nats' ? NATS_NODE_IDS : []),
  ];
}

/** `loopback` or `netns`, as `--hosts` takes it. */
export function parseHostsMode(text: string): HostsMode {
  const mode = HOSTS_MODES.find((candidate) => candidate === text.trim());
  if (mode === undefined)
    throw new LabError(
      `invalid hosts ${JSON.stringify(text)}: expected ${HOSTS_MODES.join(' or ')} (netns: each server in a network namespace of its own)`,
    );
  return mode;
}
