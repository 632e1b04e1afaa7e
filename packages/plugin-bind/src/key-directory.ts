/**
 * A key-directory shared by every zone of one BIND server, read cheaply at scale:
 * - one `readdir` serves all zones while the directory's mtime stands (any create, delete or
 *   rename changes it), instead of one listing per zone per key-watch round;
 * - a key's DNSKEY and `.state` fields are parsed again only when the file's inode, mtime or
 *   size moved;
 * - each zone's files get a fingerprint, so a caller can tell that nothing of the zone changed.
 *
 * A stat taken within RACY_MS of the file's mtime is "racy" (a second write in the same clock
 * tick would leave the same mtime): nothing is reused on the strength of it.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { SignerCommandError, type CallOptions, type DnskeyData } from '@chorus/core';
import { canonicalName, keyTag, normalizeName, throwIfAborted } from '@chorus/dns';
import { parseKeyFile, parseKeyFileName, parseStateFile, type BindKeyFile } from './key-files.js';

/** Writes closer together than this may share an mtime (coarse kernel clock ticks). */
const RACY_MS = 100;

interface Listing {
  /** The directory's mtime when it was listed. */
  mtimeMs: number;
  racy: boolean;
  present: ReadonlySet<string>;
  /** Key base names (`Kzone+alg+tag`) by canonical zone. */
  byZone: ReadonlyMap<string, ParsedName[]>;
}

type ParsedName = NonNullable<ReturnType<typeof parseKeyFileName>>;

interface Parsed<T> {
  signature: string;
  value: T;
}

export interface ZoneKeyFiles {
  files: BindKeyFile[];
  /** Changes whenever any of the zone's key files is created, removed or rewritten. */
  fingerprint: string;
  /** A stat was too close to a write to vouch that nothing changes unseen. */
  racy: boolean;
}

function zoneKey(zone: string): string | undefined {
  try {
    return canonicalName(normalizeName(zone));
  } catch {
    return undefined;
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

/**
 * A file's stat, synchronously: a key-watch round stats every key file of every zone, and a
 * local stat costs microseconds where a promise through the thread pool costs a hundred.
 */
function statOf(file: string): Stats {
  try {
    return statSync(file);
  } catch (error) {
    throw readError(file, error);
  }
}

/**
 * `value` in strings of its own: V8 keeps a substring as a view of the text it was cut from, so
 * a cached value parsed from a file would keep the whole file's text for as long as it is cached.
 */
export function detached<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function signatureOf(stats: Stats): string {
  return `${stats.ino}:${stats.mtimeMs}:${stats.size}`;
}

function isRacy(stats: Stats, now: number): boolean {
  return now - stats.mtimeMs < RACY_MS;
}

export class KeyDirectory {
  #listing: Listing | undefined;
  #listingRead: Promise<Listing> | undefined;
  readonly #dnskeys = new Map<string, Parsed<DnskeyData>>();
  readonly #states = new Map<string, Parsed<Record<string, string>>>();

  constructor(readonly directory: string) {}

  /** The key files of `zone`, sorted by key tag, with their fingerprint. */
  async zoneFiles(zone: string, options: CallOptions = {}): Promise<ZoneKeyFiles> {
    throwIfAborted(options.signal, `reading ${this.directory}`);
    const listing = await this.#currentListing();
    const names = listing.byZone.get(zoneKey(zone) ?? '') ?? [];
    let racy = listing.racy;
    const parts: string[] = [];
    const files = await Promise.all(
      names.map(async (entry): Promise<BindKeyFile | undefined> => {
        const hasPrivate = listing.present.has(`${entry.baseName}.private`);
        try {
          const read = await this.#readKey(entry, hasPrivate, listing.present);
          racy ||= read.racy;
          parts.push(`${entry.baseName}:${read.signature}:${hasPrivate ? 'p' : ''}`);
          return read.file;
        } catch (error) {
          // A public-only file is not one of BIND's keys; a broken one must not hide the others.
          if (!hasPrivate) return undefined;
          throw error;
        }
      }),
    );
    throwIfAborted(options.signal, `reading ${this.directory}`);
    return {
      files: files
        .filter((file): file is BindKeyFile => file !== undefined)
        .sort((a, b) => a.keyTag - b.keyTag),
      fingerprint: createHash('sha256').update(parts.sort().join(' ')).digest('base64'),
      racy,
    };
  }

  /** The listing, read again only when the directory changed (or was racy). */
  async #currentListing(): Promise<Listing> {
    const directoryStats = statOf(this.directory);
    const cached = this.#listing;
    if (cached && !cached.racy && cached.mtimeMs === directoryStats.mtimeMs) return cached;
    this.#listingRead ??= this.#list().finally(() => {
      this.#listingRead = undefined;
    });
    return this.#listingRead;
  }

  async #list(): Promise<Listing> {
    const before = statOf(this.directory);
    let entries: string[];
    try {
      entries = await readdir(this.directory);
    } catch (error) {
      throw readError(this.directory, error);
    }
    const byZone = new Map<string, ParsedName[]>();
    for (const name of entries) {
      const parsed = parseKeyFileName(name);
      const zone = parsed && zoneKey(parsed.zone);
      if (!parsed || zone === undefined) continue;
      const list = byZone.get(zone);
      if (list) list.push(parsed);
      else byZone.set(zone, [parsed]);
    }
    const listing: Listing = {
      mtimeMs: before.mtimeMs,
      racy: isRacy(before, Date.now()),
      present: new Set(entries),
      byZone,
    };
    this.#listing = listing;
    for (const cache of [this.#dnskeys, this.#states])
      for (const file of cache.keys())
        if (!listing.present.has(path.basename(file))) cache.delete(file);
    return listing;
  }

  async #readKey(
    entry: ParsedName,
    hasPrivate: boolean,
    present: ReadonlySet<string>,
  ): Promise<{ file: BindKeyFile; signature: string; racy: boolean }> {
    const keyPath = path.join(this.directory, `${entry.baseName}.key`);
    const statePath = path.join(this.directory, `${entry.baseName}.state`);
    const now = Date.now();
    const keyStats = statOf(keyPath);
    const stateStats = present.has(`${entry.baseName}.state`) ? statOf(statePath) : undefined;
    const dnskey = await this.#parsed(this.#dnskeys, keyPath, keyStats, (text) =>
      parseKeyText(text, entry, keyPath),
    );
    const state = stateStats
      ? await this.#parsed(this.#states, statePath, stateStats, parseStateFile)
      : undefined;
    return {
      file: {
        baseName: entry.baseName,
        algorithm: entry.algorithm,
        keyTag: entry.keyTag,
        dnskey,
        hasPrivate,
        state,
      },
      signature: `${signatureOf(keyStats)}/${stateStats ? signatureOf(stateStats) : '-'}`,
      racy: isRacy(keyStats, now) || (stateStats !== undefined && isRacy(stateStats, now)),
    };
  }

  /** A file's parsed content, read again only when its stat signature moved. */
  async #parsed<T>(
    cache: Map<string, Parsed<T>>,
    file: string,
    stats: Stats,
    parse: (text: string) => T,
  ): Promise<T> {
    const signature = signatureOf(stats);
    const cached = cache.get(file);
    if (cached?.signature === signature) return cached.value;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw readError(file, error);
    }
    const value = detached(parse(text));
    cache.set(file, { signature, value });
    return value;
  }
}

function parseKeyText(text: string, entry: ParsedName, keyPath: string): DnskeyData {
  let dnskey: DnskeyData;
  try {
    dnskey = parseKeyFile(text, entry.zone, keyPath);
  } catch (error) {
    if (SignerCommandError.isInstance(error)) throw error;
    throw new SignerCommandError({
      command: ['read', keyPath],
      stderr: `cannot parse the key file: ${(error as Error).message}`,
      cause: error,
    });
  }
  if (keyTag(dnskey) !== entry.keyTag || dnskey.algorithm !== entry.algorithm)
    throw new SignerCommandError({
      command: ['read', keyPath],
      stderr: `the DNSKEY in the file has tag ${keyTag(dnskey)} algorithm ${dnskey.algorithm}, the name says ${entry.keyTag} ${entry.algorithm}`,
    });
  return dnskey;
}

/** In a `keyDirectory` setting: the zone's name, lower case, without its trailing dot. */
export const ZONE_PLACEHOLDER = '{zone}';

/**
 * The key-directory of `zone` under the plugin's `keyDirectory` setting: the setting itself, or
 * with `{zone}` each zone's own (BIND lists a zone's whole key-directory each time it manages the
 * zone's keys, so thousands of zones sharing one slow it down by the square).
 */
export function zoneKeyDirectory(setting: string, zone: string): string {
  if (!setting.includes(ZONE_PLACEHOLDER)) return setting;
  const name = canonicalName(normalizeName(zone)).replace(/\.$/, '') || '.';
  if (name.includes('/') || name === '.' || name === '..')
    throw new SignerCommandError({
      command: ['read', setting],
      stderr: `zone ${zone} cannot name a key directory`,
    });
  return setting.replaceAll(ZONE_PLACEHOLDER, name);
}

/** The key directories of a signer's zones: one shared listing, or one per zone with `{zone}`. */
export class KeyDirectories {
  readonly #byPath = new Map<string, KeyDirectory>();

  constructor(readonly setting: string) {}

  directoryOf(zone: string): string {
    return zoneKeyDirectory(this.setting, zone);
  }

  zoneFiles(zone: string, options: CallOptions = {}): Promise<ZoneKeyFiles> {
    const directory = this.directoryOf(zone);
    let keys = this.#byPath.get(directory);
    if (!keys) {
      keys = new KeyDirectory(directory);
      this.#byPath.set(directory, keys);
    }
    return keys.zoneFiles(zone, options);
  }
}
