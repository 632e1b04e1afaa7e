/**
 * The knotc client, on the kit's command runner. Every failure becomes a SignerCommandError (or
 * AbortError when the caller's signal fired); knotc sometimes prints `error: …` while exiting 0,
 * so the output is checked as well as the exit code.
 */
import { SignerCommandError, type DnsRecord } from '@chorus/core';
import { parseRecord, runCommand } from '@chorus/dns';
import type { Logger } from 'pino';
import type { KnotControl } from './config.js';

export interface KnotcOptions {
  binary: string;
  control: KnotControl;
  timeoutMs: number;
  logger: Logger;
}

export interface RunOptions {
  signal?: AbortSignal | undefined;
}

/** One line of `knotc conf-read`: `section[id].item = value` or `section.item = value`. */
export interface ConfEntry {
  section: string;
  /** The identifier in brackets (zone name, template id, policy id), if any. */
  id: string | undefined;
  item: string;
  /** The value as knotc printed it (a list is space-separated). */
  value: string;
}

/** What `knotc zone-ksk-submitted` answered. */
export type KskSubmittedResult =
  /** Knot confirmed the submission: the ready KSK became active. */
  | 'submitted'
  /** Knot had no KSK in the submission phase (for example, it was already confirmed). */
  | 'no-key-ready';

/** The `error: …` lines of knotc or keymgr output. */
export function outputErrors(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^error:/i.test(line));
}

/** Parses `knotc conf-read` output. Lines that do not look like `key = value` are ignored. */
export function parseConfRead(text: string): ConfEntry[] {
  const entries: ConfEntry[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-z][a-z0-9-]*)(?:\[([^\]]*)\])?\.([a-z][a-z0-9-]*)\s*=\s?(.*)$/.exec(
      line.trim(),
    );
    if (!match) continue;
    entries.push({ section: match[1]!, id: match[2], item: match[3]!, value: match[4]!.trim() });
  }
  return entries;
}

/**
 * Parses `knotc zone-read`/`zone-get` output: `[zone.] owner ttl TYPE rdata` per line.
 * Lines of other shapes are ignored.
 */
export function parseZoneRead(text: string): DnsRecord[] {
  const records: DnsRecord[] = [];
  for (const line of text.split('\n')) {
    const match = /^\[[^\]]+\]\s+(.+)$/.exec(line.trim());
    if (!match) continue;
    records.push(parseRecord(match[1]!));
  }
  return records;
}

/** Interprets `knotc zone-ksk-submitted` output. Throws for anything but OK or "no key ready". */
export function interpretKskSubmitted(stdout: string, stderr: string): KskSubmittedResult {
  const errors = outputErrors(`${stdout}\n${stderr}`);
  if (errors.length === 0 && /^OK$/m.test(stdout.trim())) return 'submitted';
  if (errors.length > 0 && errors.every((line) => /no key ready for submission/i.test(line)))
    return 'no-key-ready';
  throw new Error(errors.join('; ') || `unexpected output: ${`${stdout} ${stderr}`.trim()}`);
}

/** Connection problems mean knotd is down or restarting: worth retrying. */
function looksLikeServerDown(text: string): boolean {
  return /failed to connect|connection refused|not exists|timed out|no such file/i.test(text);
}

export class Knotc {
  readonly #options: KnotcOptions;

  constructor(options: KnotcOptions) {
    this.#options = options;
  }

  /** The argv prefix that selects the server (no secrets: knot.conf includes its key files). */
  private baseArgs(): string[] {
    const control = this.#options.control;
    const timeoutSeconds = String(Math.max(1, Math.ceil(this.#options.timeoutMs / 1000)));
    return 'configFile' in control
      ? ['-x', '-t', timeoutSeconds, '-c', control.configFile]
      : ['-x', '-t', timeoutSeconds, '-s', control.socket];
  }

  /** Runs knotc and returns stdout. Rejects on a non-zero exit, an `error:` line or a timeout. */
  async run(args: string[], options: RunOptions = {}): Promise<string> {
    const { stdout } = await this.runRaw(args, options, { allowErrors: false });
    return stdout;
  }

  private async runRaw(
    args: string[],
    options: RunOptions,
    { allowErrors }: { allowErrors: boolean },
  ): Promise<{ stdout: string; stderr: string }> {
    const errorLines = (stdout: string, stderr: string) => outputErrors(`${stdout}\n${stderr}`);
    const result = await runCommand(this.#options.binary, [...this.baseArgs(), ...args], {
      timeoutMs: this.#options.timeoutMs,
      signal: options.signal,
      allowFailure: allowErrors,
      outputError: (stdout, stderr) => {
        const errors = errorLines(stdout, stderr);
        return errors.length > 0 && !allowErrors ? errors.join('\n') : undefined;
      },
      isRetryable: looksLikeServerDown,
      logger: this.#options.logger,
    });
    const { stdout, stderr, exitCode, command } = result;
    // With allowErrors, a failure is tolerated only when knotc said why in an `error:` line.
    if (exitCode !== 0 && errorLines(stdout, stderr).length === 0) {
      const text = `${stderr}\n${stdout}`.trim();
      throw new SignerCommandError({
        command,
        ...(exitCode === undefined ? {} : { exitCode }),
        stderr: text,
        retryable: looksLikeServerDown(text),
      });
    }
    return { stdout, stderr };
  }

  /**
   * Runs knotc and returns stdout, or undefined when every `error:` line matches `tolerated`
   * (e.g. "no such node in zone found"). Any other error rejects like `run`.
   */
  async runTolerating(
    args: string[],
    tolerated: RegExp,
    options: RunOptions = {},
  ): Promise<string | undefined> {
    const { stdout, stderr } = await this.runRaw(args, options, { allowErrors: true });
    const errors = outputErrors(`${stdout}\n${stderr}`);
    if (errors.length === 0) return stdout;
    if (errors.every((line) => tolerated.test(line))) return undefined;
    throw new SignerCommandError({ command: this.commandLine(args), stderr: errors.join('\n') });
  }

  /** `knotc conf-read <section>`: the running server's configuration, explicitly set items only. */
  async confRead(section: string, options: RunOptions = {}): Promise<ConfEntry[]> {
    return parseConfRead(await this.run(['conf-read', section], options));
  }

  /**
   * `knotc zone-ksk-submitted <zone>`: tells Knot the DS of its ready KSK is at the parent.
   * "no key ready for submission" is reported, not thrown, so the call is idempotent.
   */
  async kskSubmitted(zone: string, options: RunOptions = {}): Promise<KskSubmittedResult> {
    const args = ['zone-ksk-submitted', zone];
    const { stdout, stderr } = await this.runRaw(args, options, { allowErrors: true });
    try {
      return interpretKskSubmitted(stdout, stderr);
    } catch (error) {
      throw new SignerCommandError({
        command: [this.#options.binary, ...this.baseArgs(), ...args],
        stderr: (error as Error).message,
      });
    }
  }

  /**
   * `knotc -b zone-key-rollover <zone> <ksk|zsk>`: Knot generates and publishes a new key, then
   * times the rest of the roll itself. Blocks until that first step ran. knotd ignores the
   * command (a warning in its log, OK on knotc) while another rollover runs or under a manual policy.
   */
  async keyRollover(zone: string, keyType: 'ksk' | 'zsk', options: RunOptions = {}): Promise<void> {
    await this.run(['-b', 'zone-key-rollover', zone, keyType], options);
  }

  /** The argv of a knotc run, for errors (no secrets: see baseArgs). */
  commandLine(args: readonly string[]): string[] {
    return [this.#options.binary, ...this.baseArgs(), ...args];
  }

  /** `knotc zone-read <zone> @ <type>`: what the server holds at the apex. */
  async zoneRead(zone: string, type: string, options: RunOptions = {}): Promise<DnsRecord[]> {
    return parseZoneRead(await this.run(['zone-read', zone, '@', type], options));
  }

  /** `knotc zone-read <zone>`: every record knotd holds for the zone, DNSSEC records included. */
  async readZone(zone: string, options: RunOptions = {}): Promise<DnsRecord[]> {
    return parseZoneRead(await this.run(['zone-read', zone], options));
  }

  /**
   * Runs `body` inside a zone transaction (`zone-begin` … `zone-commit`). On any failure, or
   * when the signal fires, the transaction is aborted without the signal: an open transaction
   * blocks every DNS UPDATE to the zone (measured on Knot 3.2.6).
   */
  async transaction<T>(
    zone: string,
    body: (transaction: KnotcTransaction) => Promise<T>,
    options: RunOptions = {},
  ): Promise<T> {
    await this.run(['zone-begin', zone], options);
    const transaction = new KnotcTransaction(this, zone, options);
    try {
      const result = await body(transaction);
      await this.run(['zone-commit', zone], options);
      return result;
    } catch (error) {
      await this.run(['zone-abort', zone], {}).catch((abortError: unknown) => {
        this.#options.logger.warn(
          { err: abortError, zone },
          'knotc zone-abort failed; the zone transaction may still be open',
        );
      });
      throw error;
    }
  }
}

/** The commands valid inside a knotc zone transaction. */
export class KnotcTransaction {
  readonly #knotc: Knotc;
  readonly #zone: string;
  readonly #options: RunOptions;

  constructor(knotc: Knotc, zone: string, options: RunOptions) {
    this.#knotc = knotc;
    this.#zone = zone;
    this.#options = options;
  }

  /** `zone-get`: the transaction's view of the records of one type at the apex. */
  async get(type: string): Promise<DnsRecord[]> {
    return parseZoneRead(await this.#knotc.run(['zone-get', this.#zone, '@', type], this.#options));
  }

  /** `zone-set @ <ttl> <type> <rdata>`. Fails (and Knot empties the transaction) if it exists. */
  async set(ttl: number, type: string, rdata: string): Promise<void> {
    await this.#knotc.run(['zone-set', this.#zone, '@', String(ttl), type, rdata], this.#options);
  }

  /** `zone-unset @ <type> <rdata>`. Fails (and Knot empties the transaction) if it is absent. */
  async unset(type: string, rdata: string): Promise<void> {
    await this.#knotc.run(['zone-unset', this.#zone, '@', type, rdata], this.#options);
  }

  /** `zone-get <owner> <type>`: the transaction's records there; none when the name does not exist. */
  async getAt(owner: string, type: string): Promise<DnsRecord[]> {
    const args = ['zone-get', this.#zone, owner, type];
    // A failed zone-get leaves the transaction as it was (Knot 3.2.6).
    const output = await this.#knotc.runTolerating(args, /no such node in zone/i, this.#options);
    return parseZoneRead(output ?? '').filter((record) => record.type === type);
  }

  /** `zone-set <owner> <ttl> <type> <rdata>`. Fails (and Knot empties the transaction) if it exists. */
  async setAt(owner: string, ttl: number, type: string, rdata: string): Promise<void> {
    await this.#knotc.run(['zone-set', this.#zone, owner, String(ttl), type, rdata], this.#options);
  }

  /** `zone-unset <owner> <type>`: the whole RRset. Fails (and Knot empties the transaction) if it is absent. */
  async unsetRrset(owner: string, type: string): Promise<void> {
    await this.#knotc.run(['zone-unset', this.#zone, owner, type], this.#options);
  }

  /** `zone-diff`: the pending changes, one `[zone] +record` / `-record` per line. */
  async diff(): Promise<string> {
    return this.#knotc.run(['zone-diff', this.#zone], this.#options);
  }
}
