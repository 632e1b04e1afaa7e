/**
 * BIND zone keys made up front: a KSK and a ZSK per zone from the `dnssec-policy`, marked as
 * already published and signing (reference/nameservers.md §5, "lab shortcut").
 */
import { readFile } from 'node:fs/promises';
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
  dnssecSettime: string;
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
  const [, , kskFile] = await Promise.all([
    runTool(programs.dnssecSettime, [
      '-s',
      ...kskStates,
      ...cdsStates,
      '-K',
      keyDirectory,
      ksk.baseName,
    ]),
    runTool(programs.dnssecSettime, ['-s', ...zskStates, '-K', keyDirectory, zsk.baseName]),
    readFile(path.join(keyDirectory, `${ksk.baseName}.key`), 'utf8'),
  ]);
  return { zone, ksk, zsk, ds: dsOfKeyFile(zone, kskFile) };
}
