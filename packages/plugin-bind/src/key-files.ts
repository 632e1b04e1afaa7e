/**
 * BIND's key files in the zone's key-directory: `K<zone>+<alg>+<tag>.key` (the DNSKEY),
 * `.private` (only for the server's own keys) and `.state` (dnssec-policy key states).
 */
import { SignerCommandError, type CallOptions, type DnskeyData } from '@chorus/core';
import { canonicalName, isRecordOfType, normalizeName, parseZone } from '@chorus/dns';
import { KeyDirectory, zoneKeyDirectory } from './key-directory.js';

export interface BindKeyFile {
  /** e.g. `Kexample.test.+013+24582` */
  baseName: string;
  algorithm: number;
  keyTag: number;
  dnskey: DnskeyData;
  /** A `.private` file exists: BIND can sign with this key. */
  hasPrivate: boolean;
  /** Parsed `.state` file fields, when it exists (`KSK: yes`, `DSState: rumoured`…). */
  state: Record<string, string> | undefined;
}

/** `Kexample.test.+013+24582.key` → zone, algorithm, tag; undefined for other names. */
export function parseKeyFileName(
  fileName: string,
): { zone: string; algorithm: number; keyTag: number; baseName: string } | undefined {
  const match = /^K(.+)\+(\d{3})\+(\d{5})\.key$/.exec(fileName);
  if (!match) return undefined;
  return {
    zone: match[1]!,
    algorithm: Number(match[2]),
    keyTag: Number(match[3]),
    baseName: fileName.slice(0, -'.key'.length),
  };
}

/** `Key: value` lines of a `.state` file; `;` comments are skipped. */
export function parseStateFile(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line.startsWith(';')) continue;
    const match = /^([A-Za-z][\w-]*):\s*(.*)$/.exec(line.trim());
    if (match) fields[match[1]!] = match[2]!.trim();
  }
  return fields;
}

/** The DNSKEY in a `.key` file (dnssec-keygen output, comments and all). */
export function parseKeyFile(text: string, zone: string, source: string): DnskeyData {
  const records = parseZone(text, { origin: zone, defaultTtl: 0 });
  const dnskey = records.find(
    (record) =>
      record.type === 'DNSKEY' && canonicalName(record.name) === canonicalName(normalizeName(zone)),
  );
  if (!dnskey || !isRecordOfType(dnskey, 'DNSKEY'))
    throw new SignerCommandError({
      command: ['read', source],
      stderr: `no DNSKEY for ${zone} in the key file`,
    });
  return dnskey.data;
}

/**
 * Lists the key files of `zone` in `directory` (a one-off read; a signer keeps a KeyDirectory);
 * `directory` may name each zone's own with `{zone}`.
 * A missing directory, or an unreadable key that has a `.private`, is a SignerCommandError;
 * public-only files that do not parse are skipped.
 */
export async function readZoneKeyFiles(
  directory: string,
  zone: string,
  options: CallOptions = {},
): Promise<BindKeyFile[]> {
  return (await new KeyDirectory(zoneKeyDirectory(directory, zone)).zoneFiles(zone, options)).files;
}
