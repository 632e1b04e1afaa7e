/**
 * Knot 3.2 (reference/nameservers.md §4): automatic signing with a policy that accepts foreign
 * DNSKEY/CDS/CDNSKEY (`dnskey-management: incremental`), publishes its own CDS/CDNSKEY at once,
 * and keeps DDNS changes across restarts (`zonefile-sync: 0`). The traps change one of the two:
 * `dnskey-management: full` (the default) or `zonefile-sync: -1`.
 *
 * Every policy uses the lab's algorithm (`ecdsap256sha256`, or `rsasha256` with 2048-bit keys)
 * and denial: `nsec3: off`, or NSEC3 `1 0 0 -` (RFC 9276: no extra iterations, an empty salt,
 * no opt-out; Knot 3.2's default salt is 8 octets, so the length is spelled out).
 *
 * Key rolls: Knot activates a new ZSK dnskey-ttl + propagation-delay after publishing it. The
 * signer's propagation-delay makes that long enough for a lab group; the traps keep 0, so their
 * shorter interval is a negative control for Chorus's check of it.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { formatSkr, parseKsr } from '@chorus/dns';
import path from 'node:path';
import { reportedVersion, runTool } from './commands.js';
import { LabError } from './errors.js';
import { toolSucceeds } from './readiness.js';
import { FILE_WRITES_AT_ONCE, mapLimited } from './limit.js';
import { knotKeySection, writeSecretFile } from './secrets.js';
import {
  programPath,
  sha256DsFrom,
  type LabServerKind,
  type PrepareContext,
  type ZoneDs,
} from './server-kind.js';
import { signallingZoneOf } from './signalling.js';
import { isTrap, knotSettings } from './traps.js';
import { CSK_ZONE, OWNER_ZONE, RSA_KEY_BITS, type LabConfig } from './config.js';
import type { DenialMethod, LabAlgorithm, LabServer, ServerId } from './types.js';
import { serverZoneFile } from './server-zones.js';
import { zoneFileName } from './zones.js';

export interface KnotConfigOptions {
  directory: string;
  address: string;
  port: number;
  ttl: number;
  zones: string[];
  controlSocket: string;
  pidFile: string;
  keyDirectory: string;
  tsigKeyName: string;
  /** A file with the `key:` section (mode 0600), included so knot.conf holds no secret. */
  tsigKeySectionFile: string;
  /** `incremental` keeps foreign DNSKEY/CDS/CDNSKEY; `full` (Knot's default) drops them (§4.2). */
  dnskeyManagement: 'incremental' | 'full';
  /** 0 writes DDNS changes back to the zone file; -1 never does, so a restart reverts them (§4.3). */
  zonefileSync: 0 | -1;
  /** Seconds Knot adds to each roll step; a new ZSK signs dnskey-ttl + this after publication. */
  propagationDelaySeconds: number;
  /** Seconds from a key's activation to Knot's next roll of it; 0: never (no automatic rolls). */
  zskLifetimeSeconds: number;
  kskLifetimeSeconds: number;
  /** The algorithm of every key (KSK, ZSK, CSK). */
  algorithm: LabAlgorithm;
  denial: DenialMethod;
}

/** knot.conf's policy lines for each lab algorithm (RSA with its key size). */
const KNOT_ALGORITHM: Readonly<Record<LabAlgorithm, string[]>> = {
  13: ['    algorithm: ecdsap256sha256'],
  8: ['    algorithm: rsasha256', `    ksk-size: ${RSA_KEY_BITS}`, `    zsk-size: ${RSA_KEY_BITS}`],
};

/** NSEC, or NSEC3PARAM 1 0 0 - (Knot always hashes with SHA-1); a salt never to renew. */
const KNOT_DENIAL: Readonly<Record<DenialMethod, string[]>> = {
  nsec: ['    nsec3: off'],
  nsec3: [
    '    nsec3: on',
    '    nsec3-iterations: 0',
    '    nsec3-salt-length: 0',
    '    nsec3-opt-out: off',
    '    nsec3-salt-lifetime: 0',
  ],
};

/**
 * The lab Knot's propagation-delay. With it a successor ZSK signs after dnskey-ttl + 10 s, which
 * covers a lab group's DNSKEY wait: key watch every 2 s + child propagation 2 s + the largest
 * DNSKEY TTL + safety margin 2 s.
 */
export const KNOT_PROPAGATION_DELAY_SECONDS = 10;

/** The signer's propagation-delay; the traps keep 0 (Knot then activates after dnskey-ttl alone). */
export function knotPropagationDelay(id: ServerId): number {
  return isTrap(id) ? 0 : KNOT_PROPAGATION_DELAY_SECONDS;
}

/**
 * The key lifetimes for knot.conf (0: unlimited), checked against the minimums knotd 3.2 enforces
 * at start-up (src/knot/conf/tools.c, check_policy), so a too-short one fails here with the reason:
 * zsk-lifetime ≥ 2 × propagation-delay + dnskey-ttl + zone-max-ttl, and
 * ksk-lifetime ≥ 2 × propagation-delay + 2 × dnskey-ttl (the lab sets both TTLs to its TTL).
 */
export function knotKeyLifetimes(
  lifetimes: LabConfig['keyLifetimes'],
  ttl: number,
  propagationDelaySeconds: number,
): { zskLifetimeSeconds: number; kskLifetimeSeconds: number } {
  const minimum = 2 * propagationDelaySeconds + 2 * ttl;
  const checked = (seconds: number | undefined, item: string): number => {
    if (seconds === undefined || seconds === 0) return 0;
    if (!Number.isInteger(seconds) || seconds < minimum)
      throw new LabError(
        `key lifetime ${String(seconds)} s is too short for Knot: knotd 3.2 refuses ${item} below 2 × propagation-delay (${propagationDelaySeconds}) + dnskey-ttl (${ttl}) + ${item === 'zsk-lifetime' ? 'zone-max-ttl' : 'dnskey-ttl'} (${ttl}) = ${minimum} s`,
      );
    return seconds;
  };
  return {
    zskLifetimeSeconds: checked(lifetimes?.zskSeconds, 'zsk-lifetime'),
    kskLifetimeSeconds: checked(lifetimes?.kskSeconds, 'ksk-lifetime'),
  };
}

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * One `policy:` entry of the lab: its algorithm and denial, the lab TTL, CDS published, `extra`
 * lines added.
 */
function knotPolicy(id: string, options: KnotConfigOptions, extra: string[]): string[] {
  return [
    `  - id: ${id}`,
    ...KNOT_ALGORITHM[options.algorithm],
    ...extra,
    `    ksk-lifetime: ${options.kskLifetimeSeconds}`,
    `    dnskey-ttl: ${options.ttl}`,
    `    zone-max-ttl: ${options.ttl}`,
    `    propagation-delay: ${options.propagationDelaySeconds}`,
    ...KNOT_DENIAL[options.denial],
    '    cds-cdnskey-publish: always',
    // Keep DNSKEY/CDS/CDNSKEY that others add; with "full" Knot drops them silently (§4.2).
    `    dnskey-management: ${options.dnskeyManagement}`,
    // Required with incremental.
    ...(options.dnskeyManagement === 'incremental' ? ['    delete-delay: 1d'] : []),
  ];
}

/**
 * Model 1 (OWNER_ZONE): offline-KSK, so Knot signs with its own ZSK and serves the DNSKEY RRset
 * the owner signed (imported SKRs). One ZSK for ever (zsk-lifetime 0); no CDS of its own.
 */
function knotOwnerPolicy(options: KnotConfigOptions): string[] {
  return [
    '  - id: chorus-owner',
    ...KNOT_ALGORITHM[options.algorithm],
    '    offline-ksk: on',
    '    manual: on',
    '    zsk-lifetime: 0',
    `    dnskey-ttl: ${options.ttl}`,
    `    zone-max-ttl: ${options.ttl}`,
    `    propagation-delay: ${options.propagationDelaySeconds}`,
    ...KNOT_DENIAL[options.denial],
    '    cds-cdnskey-publish: none',
  ];
}

/** The zones with a policy other than the template's. */
const ZONE_POLICY: Readonly<Record<string, string>> = {
  [CSK_ZONE]: 'chorus-csk',
  [OWNER_ZONE]: 'chorus-owner',
};

export function knotConfig(options: KnotConfigOptions): string {
  return [
    'server:',
    `  rundir: ${quoted(options.directory)}`,
    `  pidfile: ${quoted(options.pidFile)}`,
    `  listen: ${options.address}@${options.port}`,
    '',
    'log:',
    '  - target: stderr',
    '    any: info',
    '',
    'database:',
    `  storage: ${quoted(options.directory)}`,
    `  kasp-db: ${quoted(options.keyDirectory)}`,
    '',
    'control:',
    `  listen: ${quoted(options.controlSocket)}`,
    '',
    `include: ${quoted(options.tsigKeySectionFile)}`,
    '',
    'acl:',
    '  - id: tsig-update',
    `    key: ${options.tsigKeyName}`,
    '    action: update',
    '',
    'policy:',
    ...knotPolicy('chorus', options, [
      // Plain seconds (knotd 3.2 also takes one unit: s, m, h or d); 0 means no automatic roll.
      `    zsk-lifetime: ${options.zskLifetimeSeconds}`,
    ]),
    // The same, with one CSK instead of a KSK and a ZSK (for CSK_ZONE).
    ...knotPolicy('chorus-csk', options, ['    single-type-signing: on']),
    // Model 1 (`up --owner`).
    ...(options.zones.includes(OWNER_ZONE) ? knotOwnerPolicy(options) : []),
    '',
    'template:',
    '  - id: default',
    `    storage: ${quoted(options.directory)}`,
    '    file: "%s.zone"',
    // 0: flush the signed zone, foreign keys included, so a restart keeps DDNS changes (§4.3).
    `    zonefile-sync: ${options.zonefileSync}`,
    '    zonefile-load: difference-no-serial',
    '    journal-content: all',
    '    dnssec-signing: on',
    '    dnssec-policy: chorus',
    '    acl: tsig-update',
    '',
    'zone:',
    ...options.zones.flatMap((zone) => [
      `  - domain: ${zone}`,
      ...(ZONE_POLICY[zone] ? [`    dnssec-policy: ${ZONE_POLICY[zone]}`] : []),
    ]),
    '',
  ].join('\n');
}

function knotcControl(server: LabServer) {
  if (server.control.kind !== 'knotc') throw new LabError(`internal: ${server.id} is not Knot`);
  return server.control;
}

function knotKeySectionFile(server: LabServer): string {
  return path.join(server.directory, 'tsig.knot.conf');
}

/**
 * A KSK and a ZSK for `zone`, made up front by keymgr from the zone's policy in knot.conf: knotd
 * signs with them from its start, so the parent can delegate with their DS before Knot runs.
 */
async function createKnotZoneKeys(
  keymgr: string,
  server: LabServer,
  zone: string,
): Promise<ZoneDs> {
  const run = (...args: string[]) =>
    runTool(keymgr, ['-c', server.configFile, zone, ...args], { cwd: server.directory });
  await run('generate', 'ksk=yes');
  await run('generate', 'ksk=no');
  return sha256DsFrom(zone, (await run('ds')).stdout);
}

/**
 * The TSIG key section (0600), knot.conf, the zone files and the KASP directory (0700); with a
 * signalling zone, its keys, whose DS it returns.
 */
async function prepareKnot(
  server: LabServer,
  { config, programs, tsigSecret, owner }: PrepareContext,
) {
  const propagationDelaySeconds = knotPropagationDelay(server.id);
  const lifetimes = knotKeyLifetimes(config.keyLifetimes, config.ttl, propagationDelaySeconds);
  await mkdir(server.keys.path, { recursive: true, mode: 0o700 });
  await chmod(server.keys.path, 0o700);
  await Promise.all([
    writeSecretFile(knotKeySectionFile(server), knotKeySection(server.tsig.name, tsigSecret)),
    writeFile(
      server.configFile,
      knotConfig({
        directory: server.directory,
        address: server.address,
        port: server.port,
        ttl: config.ttl,
        zones: server.zones,
        controlSocket: knotcControl(server).socket,
        pidFile: server.pidFile,
        keyDirectory: server.keys.path,
        tsigKeyName: server.tsig.name,
        tsigKeySectionFile: knotKeySectionFile(server),
        ...knotSettings(server.id),
        propagationDelaySeconds,
        ...lifetimes,
        algorithm: config.algorithm,
        denial: config.denial,
      }),
    ),
    mapLimited(server.zones, FILE_WRITES_AT_ONCE, (zone) =>
      writeFile(
        path.join(server.directory, zoneFileName(zone, 'zone')),
        serverZoneFile(server, zone, config),
      ),
    ),
  ]);
  if (owner) await importOwnerSkr(programPath(programs, 'keymgr'), server, owner);
  const signalling = signallingZoneOf(server, config);
  if (signalling === undefined) return [];
  return [await createKnotZoneKeys(programPath(programs, 'keymgr'), server, signalling)];
}

/**
 * The model-1 zone's first DNSKEY RRset: Knot pre-generates its ZSK, the owner signs the KSR's
 * snapshots (with the other servers' ZSKs), and keymgr imports them, so knotd serves the zone
 * signed from its start.
 */
async function importOwnerSkr(
  keymgr: string,
  server: LabServer,
  owner: NonNullable<PrepareContext['owner']>,
): Promise<void> {
  const zone = owner.status.zone;
  const run = (...args: string[]) =>
    runTool(keymgr, ['-c', server.configFile, zone, ...args], { cwd: server.directory });
  const until = String(Math.floor(Date.now() / 1000) + 30 * 86_400);
  await run('pregenerate', until);
  const planned = parseKsr((await run('generate-ksr', '+0', until)).stdout, zone);
  const snapshots = await owner.signFirst(server.id, planned);
  const file = path.join(server.directory, 'owner.skr');
  await writeFile(file, formatSkr(zone, snapshots));
  await run('import-skr', file);
}

/** Knot 3.2: the Knot signer and its two traps. */
export const knotKind: LabServerKind = {
  software: 'knot',
  programs: { knotd: 'knot', knotc: 'knot', keymgr: 'knot' },
  needsLoopbackAlias: false,
  version: (programs) => reportedVersion(programPath(programs, 'knotd'), ['-V'], /version\s+(\S+)/),
  layout: (home, _address, programs) => ({
    software: 'knot',
    binary: programPath(programs, 'knotd'),
    configFile: path.join(home, 'knot.conf'),
    logFile: path.join(home, 'knotd.log'),
    pidFile: path.join(home, 'knot.pid'),
    control: {
      kind: 'knotc',
      socket: path.join(home, 'knot.sock'),
      configFile: path.join(home, 'knot.conf'),
    },
    keys: { kind: 'kasp-database', path: path.join(home, 'keys') },
  }),
  prepare: prepareKnot,
  daemonArguments: (server) => ['-c', server.configFile],
  sockets: (server) => [knotcControl(server).socket],
  controlCheck: (server, programs) => () =>
    toolSucceeds(programPath(programs, 'knotc'), ['-c', knotcControl(server).configFile, 'status']),
};
