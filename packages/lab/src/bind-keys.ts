/**
 * BIND zone keys made up front: a KSK and a ZSK per zone from the `dnssec-policy`, marked as
 * already published and signing (reference/nameservers.md §5, "lab shortcut").
 */
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DigestType } from '@chorus/core';
import { computeDs } from '@chorus/dns';
import { runTool } from './commands.js';
import { LabError } from './errors.js';

export const DNSSEC_POLICY_NAME = 'chorus';

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
}

/** The SHA-256 DS of the DNSKEY in a `.key` file, rdata only: `tag 13 2 HEX` (as dnssec-dsfromkey -2). */
export function dsOfKeyFile(zone: string, keyFileText: string): string {
  // "example.test. 30 IN DNSKEY 257 3 13 BASE64 BASE64"
  const line = keyFileText
    .split('\n')
    .find((text) => /\sDNSKEY\s/.test(text) && !text.startsWith(';'));
  const match = line && /\sDNSKEY\s+(\d+)\s+(\d+)\s+(\d+)\s+(.+)$/.exec(line.trim());
  if (!match) throw new LabError(`no DNSKEY in the key file of ${zone}`);
  const ds = computeDs(
    zone,
    {
      flags: Number(match[1]),
      protocol: Number(match[2]),
      algorithm: Number(match[3]),
      publicKey: match[4]!.replace(/\s+/g, ''),
    },
    DigestType.SHA256,
  );
  return `${ds.keyTag} ${ds.algorithm} ${ds.digestType} ${ds.digest}`;
}

async function readKey(keyDirectory: string, baseName: string): Promise<BindKey> {
  const match = /\+\d{3}\+(\d{1,5})$/.exec(baseName);
  if (!match) throw new LabError(`unexpected key file name from dnssec-keygen: ${baseName}`);
  const state = await readFile(path.join(keyDirectory, `${baseName}.state`), 'utf8');
  return { baseName, keyTag: Number(match[1]), isKeySigningKey: /^KSK:\s*yes/m.test(state) };
}

/** A time as BIND's key files write it: `20261202232255 (Wed Dec  2 23:22:55 2026)`, UTC. */
export function keyFileTime(date: Date): string {
  const iso = date.toISOString();
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  const [weekday, day, month, year, clock] = date.toUTCString().replace(',', '').split(' ');
  return `${digits} (${weekday} ${month} ${String(Number(day)).padStart(2, ' ')} ${clock} ${year})`;
}

/**
 * What `dnssec-settime -s` writes to mark a key of a `dnssec-policy` as published and signing
 * since `since` (and a KSK's DS as rumoured, with its CDS published, when `publishCds`): state
 * lines appended to the `.state` file and, for the CDS, `SyncPublish` in `.key` and `.private`.
 * Written here rather than by two program runs per zone, which dominated a lab of 10,000 zones.
 */
export async function markKeyStates(
  keyDirectory: string,
  key: BindKey,
  options: { publishCds: boolean; since: Date },
): Promise<void> {
  const stamp = keyFileTime(options.since);
  const file = (suffix: string) => path.join(keyDirectory, `${key.baseName}${suffix}`);
  const lines = key.isKeySigningKey
    ? [
        ...(options.publishCds ? [`PublishCDS: ${stamp}`] : []),
        `DNSKEYChange: ${stamp}`,
        `KRRSIGChange: ${stamp}`,
        ...(options.publishCds ? [`DSChange: ${stamp}`] : []),
        'DNSKEYState: omnipresent',
        'KRRSIGState: omnipresent',
        ...(options.publishCds ? ['DSState: rumoured'] : []),
        'GoalState: omnipresent',
      ]
    : [
        `DNSKEYChange: ${stamp}`,
        `ZRRSIGChange: ${stamp}`,
        'DNSKEYState: omnipresent',
        'ZRRSIGState: omnipresent',
        'GoalState: omnipresent',
      ];
  await appendFile(file('.state'), `${lines.join('\n')}\n`);
  if (!options.publishCds) return;
  const publicKey = await readFile(file('.key'), 'utf8');
  await Promise.all([
    writeFile(
      file('.key'),
      publicKey.replace(/^(; Activate: .*\n)/m, `$1; SyncPublish: ${stamp}\n`),
    ),
    appendFile(file('.private'), `SyncPublish: ${stamp.slice(0, 14)}\n`),
  ]);
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
  const since = new Date(Date.now() - 86_400_000);
  await Promise.all([
    markKeyStates(keyDirectory, ksk, { publishCds: options.publishCds, since }),
    markKeyStates(keyDirectory, zsk, { publishCds: false, since }),
  ]);
  // Only now: markKeyStates rewrites the KSK's .key file, and a read during that finds it empty.
  const kskFile = await readFile(path.join(keyDirectory, `${ksk.baseName}.key`), 'utf8');
  return { zone, ksk, zsk, ds: dsOfKeyFile(zone, kskFile) };
}
