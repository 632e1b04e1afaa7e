/**
 * BIND's key files in the zone's key-directory: `K<zone>+<alg>+<tag>.key` (the DNSKEY),
 * `.private` (only for the server's own keys) and `.state` (dnssec-policy key states).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { SignerCommandError, type CallOptions, type DnskeyData } from '@chorus/core';
import {
  canonicalName,
  isRecordOfType,
  keyTag,
  normalizeName,
  parseZone,
  throwIfAborted,
} from '@chorus/dns';

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

function fileZoneMatches(fileZone: string, zone: string): boolean {
  try {
    return canonicalName(normalizeName(fileZone)) === canonicalName(normalizeName(zone));
  } catch {
    return false;
  }
}

function readError(file: string, error: unknown): SignerCommandError {
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  return new SignerCommandError({
    command: ['read', file],
    stderr: `cannot read ${file}: ${code}`,
    cause: error,
  });
}

async function readKeyFile(
  directory: string,
  entry: { zone: string; baseName: string; algorithm: number; keyTag: number },
  hasPrivate: boolean,
  present: ReadonlySet<string>,
): Promise<BindKeyFile> {
  const keyPath = path.join(directory, `${entry.baseName}.key`);
  const statePath = path.join(directory, `${entry.baseName}.state`);
  let keyText: string;
  try {
    keyText = await readFile(keyPath, 'utf8');
  } catch (error) {
    throw readError(keyPath, error);
  }
  let state: Record<string, string> | undefined;
  if (present.has(`${entry.baseName}.state`)) {
    try {
      state = parseStateFile(await readFile(statePath, 'utf8'));
    } catch (error) {
      throw readError(statePath, error);
    }
  }
  let dnskey: DnskeyData;
  try {
    dnskey = parseKeyFile(keyText, entry.zone, keyPath);
  } catch (error) {
    if (SignerCommandError.isInstance(error)) throw error;
    throw new SignerCommandError({
      command: ['read', keyPath],
      stderr: `cannot parse the key file: ${(error as Error).message}`,
      cause: error,
    });
  }
  if (keyTag(dnskey) !== entry.keyTag || dnskey.algorithm !== entry.algorithm) {
    throw new SignerCommandError({
      command: ['read', keyPath],
      stderr: `the DNSKEY in the file has tag ${keyTag(dnskey)} algorithm ${dnskey.algorithm}, the name says ${entry.keyTag} ${entry.algorithm}`,
    });
  }
  return {
    baseName: entry.baseName,
    algorithm: entry.algorithm,
    keyTag: entry.keyTag,
    dnskey,
    hasPrivate,
    state,
  };
}

/**
 * Lists the key files of `zone` in `directory`. A missing directory, or an unreadable key that
 * has a `.private`, is a SignerCommandError; public-only files that do not parse are skipped.
 */
export async function readZoneKeyFiles(
  directory: string,
  zone: string,
  options: CallOptions = {},
): Promise<BindKeyFile[]> {
  throwIfAborted(options.signal, `reading ${directory}`);
  let entries: string[];
  try {
    entries = await readdir(directory);
  } catch (error) {
    throw readError(directory, error);
  }
  const present = new Set(entries);
  const candidates = entries
    .map(parseKeyFileName)
    .filter((entry) => entry !== undefined && fileZoneMatches(entry.zone, zone));
  const files = await Promise.all(
    candidates.map(async (entry): Promise<BindKeyFile | undefined> => {
      const hasPrivate = present.has(`${entry!.baseName}.private`);
      try {
        return await readKeyFile(directory, entry!, hasPrivate, present);
      } catch (error) {
        // A public-only file is not one of BIND's keys; a broken one must not hide the others.
        if (!hasPrivate) return undefined;
        throw error;
      }
    }),
  );
  throwIfAborted(options.signal, `reading ${directory}`);
  return files
    .filter((file): file is BindKeyFile => file !== undefined)
    .sort((a, b) => a.keyTag - b.keyTag);
}
