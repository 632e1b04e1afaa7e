/**
 * The keymgr client, on the kit's command runner. It reads Knot's KASP database (own keys); it
 * writes to it only for model 1 (pregenerate, import-skr).
 * Every failure becomes a SignerCommandError, or AbortError when the caller's signal fired.
 */
import { SignerCommandError, type DnskeyData, type KeyRole } from '@chorus/core';
import { keyTag, parseRecord, runCommand } from '@chorus/dns';
import { outputErrors } from './knotc.js';
import type { Logger } from 'pino';

export interface KeymgrOptions {
  binary: string;
  /** `-c <knot.conf>` or `-D <kasp-db directory>`. */
  source: { configFile: string } | { kaspDb: string };
  timeoutMs: number;
  logger: Logger;
}

/** One key of `keymgr <zone> list -j`. Timers are seconds since the epoch; 0 means unset. */
export interface KaspKey {
  id: string;
  ksk: boolean;
  zsk: boolean;
  tag: number;
  algorithm: number;
  publicOnly: boolean;
  timers: Record<KaspTimer, number>;
}

/** Knot's key timers, in lifecycle order (keymgr(8), "Key timers"). */
export const KASP_TIMERS = [
  'pre-active',
  'publish',
  'ready',
  'active',
  'retire-active',
  'retire',
  'post-active',
  'revoke',
  'remove',
] as const;
export type KaspTimer = (typeof KASP_TIMERS)[number];

/** The state word for the latest timer that has passed. */
const STATE_OF_TIMER: Record<KaspTimer, string> = {
  'pre-active': 'pre-active',
  publish: 'published',
  ready: 'ready',
  active: 'active',
  'retire-active': 'retire-active',
  retire: 'retired',
  'post-active': 'post-active',
  revoke: 'revoked',
  remove: 'removed',
};

function fieldError(field: string, entry: unknown): Error {
  return new Error(
    `keymgr list -j: field ${field} missing or malformed in ${JSON.stringify(entry)}`,
  );
}

/** Parses `keymgr <zone> list -j`. Throws a plain Error on malformed JSON (wrapped by the caller). */
export function parseKeymgrList(text: string): KaspKey[] {
  const trimmed = text.trim();
  // keymgr prints nothing at all for a zone without keys.
  if (trimmed === '') return [];
  const parsed: unknown = JSON.parse(trimmed);
  if (!Array.isArray(parsed)) throw new Error('keymgr list -j did not print a JSON array');
  return parsed.map((entry: unknown): KaspKey => {
    if (typeof entry !== 'object' || entry === null) throw fieldError('(key)', entry);
    const record = entry as Record<string, unknown>;
    const bool = (field: string): boolean => {
      const value = record[field];
      if (typeof value !== 'boolean') throw fieldError(field, entry);
      return value;
    };
    const int = (field: string): number => {
      const value = record[field];
      if (typeof value !== 'number' || !Number.isInteger(value)) throw fieldError(field, entry);
      return value;
    };
    const id = record.id;
    if (typeof id !== 'string' || !/^[0-9a-f]+$/i.test(id)) throw fieldError('id', entry);
    const timers = Object.fromEntries(KASP_TIMERS.map((timer) => [timer, int(timer)])) as Record<
      KaspTimer,
      number
    >;
    return {
      id,
      ksk: bool('ksk'),
      zsk: bool('zsk'),
      tag: int('tag'),
      algorithm: int('algorithm'),
      publicOnly: bool('public-only'),
      timers,
    };
  });
}

/** KSK and ZSK flags together make a CSK (single-type signing). */
export function roleOf(key: Pick<KaspKey, 'ksk' | 'zsk'>): KeyRole {
  if (key.ksk && key.zsk) return 'CSK';
  return key.ksk ? 'KSK' : 'ZSK';
}

/**
 * The key's state in Knot's own words: the latest timer, in lifecycle order, that has passed
 * (`ready` for a KSK waiting for `zone-ksk-submitted`, `active`, `retired`, `removed`…), or
 * `created` when none has.
 */
export function stateOf(key: Pick<KaspKey, 'timers'>, now: number): string {
  let state = 'created';
  for (const timer of KASP_TIMERS) {
    const at = key.timers[timer];
    if (at !== 0 && at <= now) state = STATE_OF_TIMER[timer];
  }
  return state;
}

/** Parses `keymgr <zone> dnskey <key>`: `zone. DNSKEY 256 3 13 <base64>`. */
export function parseKeymgrDnskey(text: string): DnskeyData {
  const line = text
    .split('\n')
    .map((entry) => entry.trim())
    .find((entry) => /\sDNSKEY\s/.test(entry));
  if (!line)
    throw new Error(`keymgr dnskey printed no DNSKEY record: ${text.trim().slice(0, 200)}`);
  const record = parseRecord(line, { defaultTtl: 0 });
  if (record.type !== 'DNSKEY') throw new Error(`keymgr dnskey printed a ${record.type} record`);
  return record.data as DnskeyData;
}

export interface RunOptions {
  signal?: AbortSignal | undefined;
}

export class Keymgr {
  readonly #options: KeymgrOptions;

  constructor(options: KeymgrOptions) {
    this.#options = options;
  }

  private baseArgs(): string[] {
    const source = this.#options.source;
    return 'configFile' in source ? ['-x', '-c', source.configFile] : ['-x', '-D', source.kaspDb];
  }

  /** Runs keymgr read-only and returns stdout. */
  async run(args: string[], options: RunOptions = {}): Promise<string> {
    const { stdout } = await runCommand(this.#options.binary, [...this.baseArgs(), ...args], {
      timeoutMs: this.#options.timeoutMs,
      signal: options.signal,
      outputError: (out, err) => outputErrors(`${out}\n${err}`).join('\n') || undefined,
      // The KASP database is an LMDB that knotd holds open; a busy lock clears by itself.
      isRetryable: (output) => /busy|resource temporarily unavailable/i.test(output),
      logger: this.#options.logger,
    });
    return stdout;
  }

  private wrapParse<T>(args: string[], parse: () => T): T {
    try {
      return parse();
    } catch (error) {
      throw new SignerCommandError({
        command: [this.#options.binary, ...this.baseArgs(), ...args],
        stderr: `unexpected output: ${(error as Error).message}`,
        cause: error,
      });
    }
  }

  /** `keymgr <zone> list -j`: every key in the KASP database, including import-pub keys. */
  async list(zone: string, options: RunOptions = {}): Promise<KaspKey[]> {
    const args = [zone, 'list', '-j'];
    const stdout = await this.run(args, options);
    return this.wrapParse(args, () => parseKeymgrList(stdout));
  }

  /** `keymgr <zone> dnskey <id>`: the DNSKEY rdata of one key, checked against its key tag. */
  async dnskey(zone: string, key: Pick<KaspKey, 'id' | 'tag'>, options: RunOptions = {}) {
    const args = [zone, 'dnskey', key.id];
    const stdout = await this.run(args, options);
    return this.wrapParse(args, () => {
      const dnskey = parseKeymgrDnskey(stdout);
      if (keyTag(dnskey) !== key.tag)
        throw new Error(`key ${key.id} has tag ${key.tag} but its DNSKEY has ${keyTag(dnskey)}`);
      return dnskey;
    });
  }
}
