/**
 * BIND 9.18 for the parent, the BIND signer and the inline-signing trap: named.conf, rndc.conf
 * and the server kind (reference/nameservers.md §2; the keys are made in bind-keys.ts).
 *
 * Zones are dynamic (allow-update by TSIG) with `dnssec-policy` and no inline-signing: the only
 * 9.18 set-up in which foreign DNSKEYs can be added later (nameservers.md §2.2). The
 * `bind-inline-signing` trap turns inline-signing on, and nothing else.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createBindZoneKeys, DNSSEC_POLICY_NAME, type BindPrograms } from './bind-keys.js';
import { reportedVersion } from './commands.js';
import { RNDC_PORT } from './config.js';
import { LabError } from './errors.js';
import { toolSucceeds } from './readiness.js';
import { bindKeyStatement, newTsigSecret, writeSecretFile } from './secrets.js';
import {
  programPath,
  type LabServerKind,
  type PrepareContext,
  type Programs,
} from './server-kind.js';
import { bindSettings } from './traps.js';
import type { LabServer } from './types.js';
import { childZoneFile, stripDot, zoneFileName } from './zones.js';

export interface BindZone {
  zone: string;
  file: string;
}

export interface BindConfigOptions {
  directory: string;
  address: string;
  port: number;
  rndcPort: number;
  ttl: number;
  /** The parent's keys never roll in the lab, so its policy accepts any TTL. */
  role: 'parent' | 'signer' | 'trap';
  /** `inline-signing yes` (the trap) instead of `no`. */
  inlineSigning: boolean;
  zones: BindZone[];
  keyDirectory: string;
  tsigKeyName: string;
  tsigKeyFile: string;
  rndcKeyName: string;
  rndcKeyFile: string;
  pidFile: string;
}

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** named.conf; it includes the key files, so it holds no secret itself. */
export function namedConfig(options: BindConfigOptions): string {
  const { ttl } = options;
  // Short timings so that BIND's own key states move in seconds, not hours.
  const maxZoneTtl = options.role === 'parent' ? 86400 : ttl;
  const zones = options.zones.map((zone) =>
    [
      `zone ${quoted(zone.zone)} {`,
      '  type primary;',
      `  file ${quoted(zone.file)};`,
      `  key-directory ${quoted(options.keyDirectory)};`,
      `  dnssec-policy ${quoted(DNSSEC_POLICY_NAME)};`,
      `  inline-signing ${options.inlineSigning ? 'yes' : 'no'};`,
      `  allow-update { key ${quoted(options.tsigKeyName)}; };`,
      '};',
    ].join('\n'),
  );
  return [
    `include ${quoted(options.tsigKeyFile)};`,
    `include ${quoted(options.rndcKeyFile)};`,
    '',
    `dnssec-policy ${quoted(DNSSEC_POLICY_NAME)} {`,
    '  keys {',
    '    ksk key-directory lifetime unlimited algorithm ecdsap256sha256;',
    '    zsk key-directory lifetime unlimited algorithm ecdsap256sha256;',
    '  };',
    `  dnskey-ttl ${ttl};`,
    `  max-zone-ttl ${maxZoneTtl};`,
    '  publish-safety 5;',
    '  retire-safety 5;',
    '  purge-keys 1d;',
    '  zone-propagation-delay 5;',
    `  parent-ds-ttl ${ttl};`,
    '  parent-propagation-delay 5;',
    '};',
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
    '  allow-transfer { 127.0.0.0/8; };',
    '};',
    '',
    'controls {',
    `  inet ${options.address} port ${options.rndcPort} allow { 127.0.0.0/8; } keys { ${quoted(options.rndcKeyName)}; };`,
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
async function writeBindConfig(server: LabServer, ttl: number): Promise<void> {
  const control = rndcControl(server);
  await mkdir(server.keys.path, { recursive: true, mode: 0o700 });
  await chmod(server.keys.path, 0o700);
  const options = {
    directory: server.directory,
    address: server.address,
    port: server.port,
    rndcPort: control.port,
    rndcKeyName: rndcKeyName(server),
    rndcKeyFile: control.keyFile,
  };
  await Promise.all([
    writeSecretFile(control.keyFile, bindKeyStatement(rndcKeyName(server), newTsigSecret())),
    writeFile(
      server.configFile,
      namedConfig({
        ...options,
        ttl,
        role: server.role,
        ...bindSettings(server.id),
        zones: server.zones.map((zone) => ({
          zone: stripDot(zone),
          file: bindZoneFile(server, zone),
        })),
        keyDirectory: server.keys.path,
        tsigKeyName: server.tsig.name,
        tsigKeyFile: server.tsig.keyFile,
        pidFile: server.pidFile,
      }),
    ),
    writeFile(control.configFile, rndcConfig(options)),
  ]);
}

function bindPrograms(programs: Programs): BindPrograms {
  return {
    dnssecKeygen: programPath(programs, 'dnssec-keygen'),
    dnssecSettime: programPath(programs, 'dnssec-settime'),
    dnssecDsfromkey: programPath(programs, 'dnssec-dsfromkey'),
  };
}

/**
 * Config, then zone files (a signer's; the parent's zone file needs every DS, so the lab writes
 * it later), then keys. The parent publishes no CDS.
 */
async function prepareBind(server: LabServer, { config, programs }: PrepareContext) {
  await writeBindConfig(server, config.ttl);
  const isParent = server.role === 'parent';
  if (!isParent) {
    await Promise.all(
      server.zones.map((zone) =>
        writeFile(
          bindZoneFile(server, zone),
          childZoneFile({ zone, ttl: config.ttl, nameserverName: server.nameserverName }),
        ),
      ),
    );
  }
  const keys = await Promise.all(
    server.zones.map((zone) =>
      createBindZoneKeys(bindPrograms(programs), {
        zone: stripDot(zone),
        keyDirectory: server.keys.path,
        configFile: server.configFile,
        publishCds: !isParent,
      }),
    ),
  );
  return keys.map((entry) => ({ zone: `${entry.zone}.`, ds: entry.ds }));
}

/** BIND 9.18: the parent, the BIND signer and the inline-signing trap. */
export const bindKind: LabServerKind = {
  software: 'bind',
  programs: {
    named: 'bind9',
    rndc: 'bind9-utils',
    'dnssec-keygen': 'bind9-utils',
    'dnssec-settime': 'bind9-utils',
    'dnssec-dsfromkey': 'bind9-utils',
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
    keys: { kind: 'key-directory', path: path.join(home, 'keys') },
  }),
  prepare: prepareBind,
  daemonArguments: (server) => ['-g', '-c', server.configFile],
  sockets: () => [],
  controlCheck: (server, programs) => () =>
    toolSucceeds(programPath(programs, 'rndc'), ['-c', rndcControl(server).configFile, 'status']),
};
