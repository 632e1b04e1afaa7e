/**
 * Knot 3.2 (reference/nameservers.md §4): automatic signing with a policy that accepts foreign
 * DNSKEY/CDS/CDNSKEY (`dnskey-management: incremental`), publishes its own CDS/CDNSKEY at once,
 * and keeps DDNS changes across restarts (`zonefile-sync: 0`). The traps change one of the two:
 * `dnskey-management: full` (the default) or `zonefile-sync: -1`.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { reportedVersion } from './commands.js';
import { LabError } from './errors.js';
import { toolSucceeds } from './readiness.js';
import { knotKeySection, writeSecretFile } from './secrets.js';
import { programPath, type LabServerKind, type PrepareContext } from './server-kind.js';
import { knotSettings } from './traps.js';
import type { LabServer } from './types.js';
import { childZoneFile, zoneFileName } from './zones.js';

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
}

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

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
    '  - id: chorus',
    '    algorithm: ecdsap256sha256',
    '    ksk-lifetime: 0',
    '    zsk-lifetime: 0',
    `    dnskey-ttl: ${options.ttl}`,
    `    zone-max-ttl: ${options.ttl}`,
    '    propagation-delay: 0',
    '    nsec3: off',
    '    cds-cdnskey-publish: always',
    // Keep DNSKEY/CDS/CDNSKEY that others add; with "full" Knot drops them silently (§4.2).
    `    dnskey-management: ${options.dnskeyManagement}`,
    // Required with incremental.
    ...(options.dnskeyManagement === 'incremental' ? ['    delete-delay: 1d'] : []),
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
    ...options.zones.map((zone) => `  - domain: ${zone}`),
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

/** The TSIG key section (0600), knot.conf, the zone files and the KASP directory (0700). */
async function prepareKnot(server: LabServer, { config, tsigSecret }: PrepareContext) {
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
      }),
    ),
    ...server.zones.map((zone) =>
      writeFile(
        path.join(server.directory, zoneFileName(zone, 'zone')),
        childZoneFile({ zone, ttl: config.ttl, nameserverName: server.nameserverName }),
      ),
    ),
  ]);
  return [];
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
