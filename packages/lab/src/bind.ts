/**
 * BIND 9.18 for the parent, the BIND signer and the inline-signing trap: named.conf, rndc.conf
 * and the server kind (reference/nameservers.md §2; the keys are made in bind-keys.ts).
 *
 * Zones are dynamic (allow-update by TSIG) with `dnssec-policy` and no inline-signing: the only
 * 9.18 set-up in which foreign DNSKEYs can be added later (nameservers.md §2.2). The
 * `bind-inline-signing` trap turns inline-signing on, and nothing else.
 *
 * The signers' policy is timed so that a ZSK roll completes in minutes: BIND pre-publishes a
 * successor for dnskey-ttl + publish-safety + zone-propagation-delay (50 s at TTL 30, more than
 * the group's DNSKEY wait: key watch 2 s + DprpC 2 s + TTL 30 s + margin 2 s), and removes the
 * predecessor once the successor's signatures cover the zone, which with short signature
 * validity takes about a minute more instead of BIND's default nine days.
 *
 * The policy also carries the lab's algorithm (`ecdsap256sha256`, or `rsasha256` with 2048-bit
 * keys) and, for `denial: 'nsec3'`, `nsec3param iterations 0 optout no salt-length 0;` (RFC
 * 9276). dnssec-keygen reads both from it, so the keys made up front match.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createBindZoneKeys, DNSSEC_POLICY_NAME, type BindPrograms } from './bind-keys.js';
import { reportedVersion } from './commands.js';
import { RNDC_PORT, RSA_KEY_BITS, type KeyLifetimes, type LabConfig } from './config.js';
import { LabError } from './errors.js';
import { controlClients } from './hosts.js';
import { FILE_WRITES_AT_ONCE, mapLimited, TOOLS_AT_ONCE } from './limit.js';
import { toolSucceeds } from './readiness.js';
import { bindKeyStatement, newTsigSecret, writeSecretFile } from './secrets.js';
import {
  programPath,
  type LabServerKind,
  type PrepareContext,
  type Programs,
} from './server-kind.js';
import { bindSettings } from './traps.js';
import type { DenialMethod, LabAlgorithm, LabServer } from './types.js';
import { serverZoneFile } from './server-zones.js';
import { stripDot, zoneFileName } from './zones.js';

export interface BindZone {
  zone: string;
  file: string;
}

export interface BindConfigOptions {
  directory: string;
  address: string;
  port: number;
  rndcPort: number;
  /** Who may transfer zones and use rndc (default loopback). */
  clients?: readonly string[];
  ttl: number;
  /** The parent's keys never roll in the lab, so its policy accepts any TTL. */
  role: 'parent' | 'signer' | 'trap';
  /** `inline-signing yes` (the trap) instead of `no`. */
  inlineSigning: boolean;
  /** Automatic key lifetimes (signers and traps only); absent: `lifetime unlimited`. */
  keyLifetimes?: KeyLifetimes;
  /** The algorithm of every key the policy makes. */
  algorithm: LabAlgorithm;
  /** `nsec3` adds an `nsec3param` clause with the lab's parameters to the policy. */
  denial: DenialMethod;
  zones: BindZone[];
  keyDirectory: string;
  tsigKeyName: string;
  tsigKeyFile: string;
  /** The file with the dnssec-policy statement (`policyConfig`), included by named.conf. */
  policyFile: string;
  rndcKeyName: string;
  rndcKeyFile: string;
  pidFile: string;
}

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** The timing of the signers' dnssec-policy, in seconds (the parent keeps BIND's defaults). */
export interface BindPolicyTiming {
  dnskeyTtl: number;
  maxZoneTtl: number;
  publishSafety: number;
  retireSafety: number;
  zonePropagationDelay: number;
  parentDsTtl: number;
  parentPropagationDelay: number;
  /** null: BIND's defaults (validity 14 days, refresh 5 days, so a ZSK retires over 9 days). */
  signatures: { validity: number; refresh: number; jitter: number } | null;
}

/**
 * A signer's signatures are valid max(600 s, 20 TTL, 1 s per zone) and refreshed when ~90% of
 * that is left: BIND then replaces every signature within about a tenth of the validity (its
 * sign delay), so a retired ZSK leaves the zone in minutes. BIND refuses a refresh above 90% of
 * the validity. The second per zone keeps BIND's re-signing under ~10 zones a second (10,000
 * zones re-signed every 70 s would keep a 2-core host busy), and the jitter spreads the zones
 * signed together at start-up.
 */
function signatureTiming(
  ttl: number,
  zoneCount: number,
): NonNullable<BindPolicyTiming['signatures']> {
  const validity = Math.max(600, 20 * ttl, zoneCount);
  const signDelay = Math.ceil(validity / 10) + 10;
  return {
    validity,
    refresh: validity - signDelay,
    jitter: Math.max(10, Math.ceil(zoneCount / 60)),
  };
}

/** How many zones a second a sidecar's key watch reads by default (its keyWatchPerSecond). */
const KEY_WATCH_ZONES_PER_SECOND = 50;

/**
 * Ipub = ttl + publish-safety + 5 s. 15 s covers the lab group's DNSKEY wait (2 s watch + 2 s
 * DprpC + TTL + 2 s); with more zones than a key watch reads in 10 s, a sidecar reads each zone
 * every zones ÷ 50 s, and the pre-publication grows to cover that period.
 */
function publishSafety(zoneCount: number): number {
  return Math.max(15, Math.ceil(zoneCount / KEY_WATCH_ZONES_PER_SECOND) + 2);
}

/** The policy timing of a lab server of `role` holding `zoneCount` zones. */
export function bindPolicyTiming(
  ttl: number,
  role: BindConfigOptions['role'],
  zoneCount = 1,
): BindPolicyTiming {
  return {
    dnskeyTtl: ttl,
    // The parent's keys never roll, so its policy accepts any TTL.
    maxZoneTtl: role === 'parent' ? 86400 : ttl,
    publishSafety: publishSafety(zoneCount),
    retireSafety: 5,
    zonePropagationDelay: 5,
    parentDsTtl: ttl,
    parentPropagationDelay: 5,
    signatures: role === 'parent' ? null : signatureTiming(ttl, zoneCount),
  };
}

/**
 * The shortest lifetimes BIND 9.18 accepts for this policy (named-checkconf: "key lifetime is
 * shorter than the time it takes to do a rollover"): longer than the pre-publication interval
 * and than the role's retire interval. Measured against named-checkconf 9.18.49.
 */
export function bindMinimumLifetimes(timing: BindPolicyTiming): { zsk: number; ksk: number } {
  const ipub = timing.dnskeyTtl + timing.publishSafety + timing.zonePropagationDelay;
  const signDelay = timing.signatures
    ? timing.signatures.validity - timing.signatures.refresh
    : (14 - 5) * 86400;
  const zskRetire =
    signDelay + timing.maxZoneTtl + timing.retireSafety + timing.zonePropagationDelay;
  const kskRetire = timing.parentDsTtl + timing.parentPropagationDelay + timing.retireSafety;
  return { zsk: Math.max(ipub, zskRetire) + 1, ksk: Math.max(ipub, kskRetire) + 1 };
}

/** Refuses a key lifetime BIND would refuse, explaining the minimum. Before anything runs. */
export function checkBindKeyLifetimes(
  config: Pick<LabConfig, 'ttl' | 'keyLifetimes'> & { zones: readonly unknown[] },
): void {
  const timing = bindPolicyTiming(config.ttl, 'signer', config.zones.length);
  const minimum = bindMinimumLifetimes(timing);
  const ipub = `dnskey-ttl ${timing.dnskeyTtl} + publish-safety ${timing.publishSafety} + zone-propagation-delay ${timing.zonePropagationDelay}`;
  const signatures = timing.signatures!;
  const explain = {
    zsk: `longer than both the pre-publication interval (${ipub}) and the ZSK retire interval (sign delay ${signatures.validity - signatures.refresh} = signatures-validity ${signatures.validity} - signatures-refresh ${signatures.refresh}, + max-zone-ttl ${timing.maxZoneTtl} + retire-safety ${timing.retireSafety} + zone-propagation-delay ${timing.zonePropagationDelay})`,
    ksk: `longer than both the pre-publication interval (${ipub}) and the KSK retire interval (parent-ds-ttl ${timing.parentDsTtl} + parent-propagation-delay ${timing.parentPropagationDelay} + retire-safety ${timing.retireSafety})`,
  };
  for (const role of ['zsk', 'ksk'] as const) {
    const seconds = config.keyLifetimes?.[`${role}Seconds`];
    if (seconds === undefined || seconds >= minimum[role]) continue;
    throw new LabError(
      `a ${role.toUpperCase()} lifetime of ${seconds} s is too short for the lab's BIND signer (TTL ${config.ttl} s): BIND 9.18 refuses a policy whose ${role.toUpperCase()} lifetime is shorter than the time a rollover takes, so it must be at least ${minimum[role]} s, i.e. ${explain[role]}`,
    );
  }
}

function lifetime(seconds: number | undefined): string {
  return seconds === undefined ? 'unlimited' : String(seconds);
}

/** A `keys` entry's algorithm: BIND's mnemonic, with the key size for RSA (9.18 grammar). */
const BIND_ALGORITHM: Readonly<Record<LabAlgorithm, string>> = {
  13: 'ecdsap256sha256',
  8: `rsasha256 ${RSA_KEY_BITS}`,
};

/**
 * NSEC3PARAM 1 0 0 - (RFC 9276): BIND 9.18 always hashes with SHA-1, and `salt-length 0` is the
 * empty salt. Absent: NSEC.
 */
function denialStatement(denial: DenialMethod): string[] {
  return denial === 'nsec3' ? ['  nsec3param iterations 0 optout no salt-length 0;'] : [];
}

/** The lab's `dnssec-policy` statement, in the file that named.conf includes. */
export function policyConfig(options: BindConfigOptions): string {
  return `${policyStatement(options).join('\n')}\n`;
}

function policyStatement(options: BindConfigOptions): string[] {
  const timing = bindPolicyTiming(options.ttl, options.role, options.zones.length);
  // The parent's keys never roll.
  const lifetimes = options.role === 'parent' ? undefined : options.keyLifetimes;
  const signatures = timing.signatures
    ? [
        `  signatures-validity ${timing.signatures.validity};`,
        `  signatures-refresh ${timing.signatures.refresh};`,
        `  signatures-jitter ${timing.signatures.jitter};`,
      ]
    : [];
  return [
    `dnssec-policy ${quoted(DNSSEC_POLICY_NAME)} {`,
    '  keys {',
    `    ksk key-directory lifetime ${lifetime(lifetimes?.kskSeconds)} algorithm ${BIND_ALGORITHM[options.algorithm]};`,
    `    zsk key-directory lifetime ${lifetime(lifetimes?.zskSeconds)} algorithm ${BIND_ALGORITHM[options.algorithm]};`,
    '  };',
    ...denialStatement(options.denial),
    `  dnskey-ttl ${timing.dnskeyTtl};`,
    `  max-zone-ttl ${timing.maxZoneTtl};`,
    `  publish-safety ${timing.publishSafety};`,
    `  retire-safety ${timing.retireSafety};`,
    '  purge-keys 1d;',
    `  zone-propagation-delay ${timing.zonePropagationDelay};`,
    `  parent-ds-ttl ${timing.parentDsTtl};`,
    `  parent-propagation-delay ${timing.parentPropagationDelay};`,
    ...signatures,
    '};',
  ];
}

/** named.conf; it includes the key files, so it holds no secret itself. */
function clientList(options: BindConfigOptions): string {
  return (options.clients ?? ['127.0.0.0/8']).map((client) => `${client};`).join(' ');
}

export function namedConfig(options: BindConfigOptions): string {
  if (options.role !== 'parent') checkBindKeyLifetimes(options);
  const zones = options.zones.map((zone) =>
    [
      `zone ${quoted(zone.zone)} {`,
      '  type primary;',
      `  file ${quoted(zone.file)};`,
      // One directory per zone: BIND lists a zone's whole key-directory each time it manages its
      // keys, so 10,000 zones sharing one would cost it 10,000 times 60,000 entries.
      `  key-directory ${quoted(path.join(options.keyDirectory, zone.zone))};`,
      `  dnssec-policy ${quoted(DNSSEC_POLICY_NAME)};`,
      `  inline-signing ${options.inlineSigning ? 'yes' : 'no'};`,
      `  allow-update { key ${quoted(options.tsigKeyName)}; };`,
      '};',
    ].join('\n'),
  );
  return [
    `include ${quoted(options.tsigKeyFile)};`,
    `include ${quoted(options.rndcKeyFile)};`,
    // The policy alone in its own file: dnssec-keygen -l reads it, not the 10,000 zone statements.
    `include ${quoted(options.policyFile)};`,
    '',
    'options {',
    `  directory ${quoted(options.directory)};`,
    `  pid-file ${quoted(options.pidFile)};`,
    `  session-keyfile ${quoted(path.join(options.directory, 'session.key'))};`,
    `  managed-keys-directory ${quoted(options.directory)};`,
    `  dump-file ${quoted(path.join(options.directory, 'named_dump.db'))};`,
    `  statistics-file ${quoted(path.join(options.directory, 'named.stats'))};`,
    `  listen-on port ${options.port} { ${options.address}; };`,
    '  listen-on-v6 { none; };',
    '  recursion no;',
    '  dnssec-validation no;',
    '  notify no;',
    `  allow-transfer { ${clientList(options)} };`,
    // Small transfer messages: every AXFR of a signed zone spans several, so each test that
    // reads content checks the chained TSIG of later messages (RFC 8945 §5.3.1).
    '  transfer-message-size 1024;',
    '};',
    '',
    'controls {',
    `  inet ${options.address} port ${options.rndcPort} allow { ${clientList(options)} } keys { ${quoted(options.rndcKeyName)}; };`,
    '};',
    '',
    ...zones,
    '',
  ].join('\n');
}

/** rndc.conf for `rndc -c`: includes the key and names the server. */
export function rndcConfig(options: {
  address: string;
  rndcPort: number;
  rndcKeyName: string;
  rndcKeyFile: string;
}): string {
  return [
    `include ${quoted(options.rndcKeyFile)};`,
    'options {',
    `  default-key ${quoted(options.rndcKeyName)};`,
    `  default-server ${options.address};`,
    `  default-port ${options.rndcPort};`,
    '};',
    '',
  ].join('\n');
}

function rndcKeyName(server: LabServer): string {
  return `chorus-rndc-${server.id}`;
}

/** Where a BIND server keeps the zone file of `zone`. */
export function bindZoneFile(server: LabServer, zone: string): string {
  return path.join(server.directory, zoneFileName(zone, 'db'));
}

function rndcControl(server: LabServer) {
  if (server.control.kind !== 'rndc') throw new LabError(`internal: ${server.id} is not BIND`);
  return server.control;
}

/** named.conf, rndc.conf and the rndc key; the key directory, 0700 (it holds private keys). */
async function writeBindConfig(server: LabServer, config: LabConfig): Promise<void> {
  const control = rndcControl(server);
  await mkdir(server.keys.path, { recursive: true, mode: 0o700 });
  await chmod(server.keys.path, 0o700);
  const options = {
    directory: server.directory,
    address: server.address,
    port: server.port,
    clients: controlClients(config.hosts, server.address),
    rndcPort: control.port,
    rndcKeyName: rndcKeyName(server),
    rndcKeyFile: control.keyFile,
  };
  const named: BindConfigOptions = {
    ...options,
    ttl: config.ttl,
    role: server.role,
    ...(config.keyLifetimes ? { keyLifetimes: config.keyLifetimes } : {}),
    algorithm: config.algorithm,
    denial: config.denial,
    ...bindSettings(server.id),
    zones: server.zones.map((zone) => ({
      zone: stripDot(zone),
      file: bindZoneFile(server, zone),
    })),
    keyDirectory: server.keys.path,
    tsigKeyName: server.tsig.name,
    tsigKeyFile: server.tsig.keyFile,
    pidFile: server.pidFile,
    policyFile: bindPolicyFile(server),
  };
  await Promise.all([
    writeSecretFile(control.keyFile, bindKeyStatement(rndcKeyName(server), newTsigSecret())),
    writeFile(named.policyFile, policyConfig(named)),
    writeFile(server.configFile, namedConfig(named)),
    writeFile(control.configFile, rndcConfig(options)),
  ]);
}

/** A zone's own key-directory under the server's `keys` directory (named after the zone). */
function zoneKeyDirectory(server: LabServer, zone: string): string {
  return path.join(server.keys.path, stripDot(zone));
}

/** The file holding the lab's dnssec-policy, which named.conf includes. */
function bindPolicyFile(server: LabServer): string {
  return path.join(server.directory, 'dnssec-policy.conf');
}

function bindPrograms(programs: Programs): BindPrograms {
  return {
    dnssecKeygen: programPath(programs, 'dnssec-keygen'),
  };
}

/**
 * Config, then zone files (a signer's; the parent's zone file needs every DS, so the lab writes
 * it later), then keys. The parent publishes no CDS.
 */
async function prepareBind(server: LabServer, { config, programs }: PrepareContext) {
  await writeBindConfig(server, config);
  const isParent = server.role === 'parent';
  if (!isParent) {
    await mapLimited(server.zones, FILE_WRITES_AT_ONCE, (zone) =>
      writeFile(bindZoneFile(server, zone), serverZoneFile(server, zone, config)),
    );
  }
  const keys = await mapLimited(server.zones, TOOLS_AT_ONCE, async (zone) => {
    const keyDirectory = zoneKeyDirectory(server, zone);
    await mkdir(keyDirectory, { recursive: true, mode: 0o700 });
    return createBindZoneKeys(bindPrograms(programs), {
      zone: stripDot(zone),
      keyDirectory,
      configFile: bindPolicyFile(server),
      publishCds: !isParent,
    });
  });
  return keys.map((entry) => ({ zone: `${entry.zone}.`, ds: entry.ds }));
}

/** BIND 9.18: the parent, the BIND signer and the inline-signing trap. */
export const bindKind: LabServerKind = {
  software: 'bind',
  programs: {
    named: 'bind9',
    rndc: 'bind9-utils',
    'dnssec-keygen': 'bind9-utils',
  },
  needsLoopbackAlias: true,
  version: (programs) => reportedVersion(programPath(programs, 'named'), ['-v'], /BIND\s+(\S+)/),
  layout: (home, address, programs) => ({
    software: 'bind',
    binary: programPath(programs, 'named'),
    configFile: path.join(home, 'named.conf'),
    logFile: path.join(home, 'named.log'),
    pidFile: path.join(home, 'named.pid'),
    control: {
      kind: 'rndc',
      address,
      port: RNDC_PORT,
      keyFile: path.join(home, 'rndc.key'),
      configFile: path.join(home, 'rndc.conf'),
    },
    keys: {
      kind: 'key-directory',
      path: path.join(home, 'keys'),
      zonePath: path.join(home, 'keys', '{zone}'),
    },
  }),
  prepare: prepareBind,
  daemonArguments: (server) => ['-g', '-c', server.configFile],
  sockets: () => [],
  controlCheck: (server, programs) => () =>
    toolSucceeds(programPath(programs, 'rndc'), ['-c', rndcControl(server).configFile, 'status']),
};
