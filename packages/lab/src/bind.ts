/**
 * BIND 9.18 for the parent and for the BIND signer: named.conf, rndc.conf, and the
 * pre-created keys (reference/nameservers.md §2 and the "lab shortcut" of §5).
 *
 * Zones are dynamic (allow-update by TSIG) with `dnssec-policy` and no inline-signing: the only
 * 9.18 set-up in which foreign DNSKEYs can be added later (nameservers.md §2.2). The
 * `bind-inline-signing` trap turns inline-signing on, and nothing else.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { runTool } from './commands.js';
import { LabError } from './errors.js';

export const DNSSEC_POLICY_NAME = 'chorus';

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

export interface BindKey {
  /** Key file base name, e.g. `Kexample.test.+013+12345`. */
  baseName: string;
  keyTag: number;
  isKeySigningKey: boolean;
}

export interface BindZoneKeys {
  zone: string;
  ksk: BindKey;
  zsk: BindKey;
  /** DS of the KSK as `dnssec-dsfromkey -2` prints it, rdata only: `tag 13 2 HEX`. */
  ds: string;
}

export interface BindPrograms {
  dnssecKeygen: string;
  dnssecSettime: string;
  dnssecDsfromkey: string;
}

async function readKey(keyDirectory: string, baseName: string): Promise<BindKey> {
  const match = /\+\d{3}\+(\d{1,5})$/.exec(baseName);
  if (!match) throw new LabError(`unexpected key file name from dnssec-keygen: ${baseName}`);
  const state = await readFile(path.join(keyDirectory, `${baseName}.state`), 'utf8');
  return { baseName, keyTag: Number(match[1]), isKeySigningKey: /^KSK:\s*yes/m.test(state) };
}

/**
 * Creates a zone's KSK and ZSK with the policy from named.conf, then marks them as already
 * published and signing, so that named signs at once and (`publishCds`) publishes its own
 * CDS/CDNSKEY at once instead of after hours (nameservers.md §5, "lab shortcut").
 */
export async function createBindZoneKeys(
  programs: BindPrograms,
  options: { zone: string; keyDirectory: string; configFile: string; publishCds: boolean },
): Promise<BindZoneKeys> {
  const { keyDirectory, zone } = options;
  const generated = await runTool(
    programs.dnssecKeygen,
    ['-q', '-K', keyDirectory, '-k', DNSSEC_POLICY_NAME, '-l', options.configFile, zone],
    { cwd: keyDirectory },
  );
  const baseNames = generated.stdout
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const keys = await Promise.all(baseNames.map((baseName) => readKey(keyDirectory, baseName)));
  const ksk = keys.find((key) => key.isKeySigningKey);
  const zsk = keys.find((key) => !key.isKeySigningKey);
  if (!ksk || !zsk || keys.length !== 2) {
    throw new LabError(
      `dnssec-keygen made ${keys.length} key(s) for ${zone}; expected one KSK and one ZSK`,
    );
  }
  const kskStates = ['-g', 'OMNIPRESENT', '-k', 'OMNIPRESENT', '-1d', '-r', 'OMNIPRESENT', '-1d'];
  const cdsStates = options.publishCds ? ['-d', 'RUMOURED', '-1d', '-P', 'sync', '-1d'] : [];
  const zskStates = ['-g', 'OMNIPRESENT', '-k', 'OMNIPRESENT', '-1d', '-z', 'OMNIPRESENT', '-1d'];
  const [, , ds] = await Promise.all([
    runTool(programs.dnssecSettime, [
      '-s',
      ...kskStates,
      ...cdsStates,
      '-K',
      keyDirectory,
      ksk.baseName,
    ]),
    runTool(programs.dnssecSettime, ['-s', ...zskStates, '-K', keyDirectory, zsk.baseName]),
    runTool(programs.dnssecDsfromkey, ['-2', path.join(keyDirectory, `${ksk.baseName}.key`)]),
  ]);
  // "example.test. IN DS 12345 13 2 HEX"
  const dsMatch = /\sDS\s+(\d+\s+\d+\s+\d+\s+[0-9A-Fa-f]+)\s*$/m.exec(ds.stdout);
  if (!dsMatch)
    throw new LabError(`unexpected dnssec-dsfromkey output for ${zone}: ${ds.stdout.trim()}`);
  return { zone, ksk, zsk, ds: dsMatch[1]!.toUpperCase() };
}
