/**
 * The rndc client (the control channel by default, or the rndc program through the kit's command
 * runner), and the parsers of its output.
 *
 * rndc exits 0 on several errors ("Error executing checkds command: no matching key found",
 * "Zone does not have dnssec-policy"), so every answer is parsed and anything unexpected becomes
 * a SignerCommandError. The rndc secret stays in its file: argv holds only paths.
 */
import type { Logger } from 'pino';
import { AbortError, SignerCommandError, type CallOptions } from '@chorus/core';
import { countCall, runCommand } from '@chorus/dns';
import { DEFAULT_RNDC_PORT, DEFAULT_RNDC_TIMEOUT_MS, type BindRndcConfig } from './config.js';
import {
  ControlChannelError,
  ControlConnectionError,
  sendControlCommand,
  type ControlEndpoint,
} from './control-channel.js';
import { controlEndpointOf, RndcConfProblem } from './rndc-conf.js';

/** What `rndc zonestatus ZONE` says about a zone (the lines this plugin relies on). */
export interface ZoneStatus {
  name: string;
  type: string | undefined;
  /** `secure: yes`: the zone is signed. */
  secure: boolean;
  /** `inline signing: yes`. The line is absent for zones that are not signed; then false. */
  inlineSigning: boolean;
  /** `dynamic: yes`: allow-update or update-policy is set (or the raw side of an inline zone is). */
  dynamic: boolean;
  /** `key maintenance: automatic|manual|none`, when printed. */
  keyMaintenance: string | undefined;
  serial: number | undefined;
}

export type BindKeyRole = 'KSK' | 'ZSK' | 'CSK';

/** One key block of `rndc dnssec -status ZONE`. */
export interface DnssecStatusKey {
  keyTag: number;
  /** As BIND prints it, e.g. `ECDSAP256SHA256`. */
  algorithmName: string;
  /** The algorithm number, when the name is known. */
  algorithm: number | undefined;
  role: BindKeyRole;
  /** `published: yes|no`. */
  published: boolean | undefined;
  /** The `- name: state` lines in order, e.g. `[['goal', 'omnipresent'], ['dnskey', 'omnipresent']]`. */
  states: [string, string][];
}

/** `rndc dnssec -status ZONE`. `policy` is null for "Zone does not have dnssec-policy". */
export interface DnssecStatus {
  policy: string | null;
  keys: DnssecStatusKey[];
}

/** What `rndc dnssec -checkds` reported. */
export interface CheckDsOutput {
  state: 'published' | 'withdrawn';
  /** The KSK named in the answer (`KSK 58940: Marked DS as …`); absent when rndc acted on all KSKs. */
  keyTag: number | undefined;
  /** The time as BIND printed it, in the server's time zone, e.g. `22-Nov-2026 13:33:16.000`. */
  since: string;
}

/** BIND's algorithm mnemonics (dst_algorithm_totext / `rndc dnssec -status`). */
const ALGORITHM_NUMBERS: Readonly<Record<string, number>> = {
  RSAMD5: 1,
  DH: 2,
  DSA: 3,
  RSASHA1: 5,
  NSEC3DSA: 6,
  NSEC3RSASHA1: 7,
  RSASHA256: 8,
  RSASHA512: 10,
  ECCGOST: 12,
  ECDSAP256SHA256: 13,
  ECDSAP384SHA384: 14,
  ED25519: 15,
  ED448: 16,
};

export function algorithmNumber(name: string): number | undefined {
  if (/^\d+$/.test(name)) return Number(name);
  return ALGORITHM_NUMBERS[name.toUpperCase()];
}

/** The zone as rndc takes it: without the trailing dot (except the root). */
export function rndcZoneArgument(zone: string): string {
  return zone === '.' ? '.' : zone.replace(/\.$/, '');
}

function outputError(command: string[], text: string, problem?: string): SignerCommandError {
  return new SignerCommandError({
    command,
    exitCode: 0,
    stderr: problem ? `${problem}: ${text.trim()}` : text.trim(),
  });
}

/** Parses `rndc zonestatus`. Throws SignerCommandError when the text has no `name:` line. */
export function parseZoneStatus(
  text: string,
  command: string[] = ['rndc', 'zonestatus'],
): ZoneStatus {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([a-z][a-z -]*?):\s*(.*)$/.exec(line.trim());
    if (match) fields.set(match[1]!, match[2]!.trim());
  }
  const name = fields.get('name');
  if (name === undefined) throw outputError(command, text, 'unexpected zonestatus output');
  const yes = (key: string) => fields.get(key) === 'yes';
  const serial = fields.get('serial');
  return {
    name,
    type: fields.get('type'),
    secure: yes('secure'),
    inlineSigning: yes('inline signing'),
    dynamic: yes('dynamic'),
    keyMaintenance: fields.get('key maintenance'),
    serial: serial !== undefined && /^\d+$/.test(serial) ? Number(serial) : undefined,
  };
}

/**
 * Parses `rndc dnssec -status`. "Zone does not have dnssec-policy" gives `policy: null`; any
 * other text without a `dnssec-policy:` line is a SignerCommandError.
 */
export function parseDnssecStatus(
  text: string,
  command: string[] = ['rndc', 'dnssec', '-status'],
): DnssecStatus {
  if (/does not have dnssec-policy/i.test(text)) return { policy: null, keys: [] };
  const policy = /^dnssec-policy:\s*(\S+)/m.exec(text)?.[1];
  if (policy === undefined) throw outputError(command, text, 'unexpected dnssec -status output');
  const keys: DnssecStatusKey[] = [];
  let current: DnssecStatusKey | undefined;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    const header = /^key:\s*(\d+)\s*\(([^)]+)\),\s*(KSK|ZSK|CSK)\b/.exec(line);
    if (header) {
      current = {
        keyTag: Number(header[1]),
        algorithmName: header[2]!,
        algorithm: algorithmNumber(header[2]!),
        role: header[3] as BindKeyRole,
        published: undefined,
        states: [],
      };
      keys.push(current);
      continue;
    }
    if (!current) continue;
    const published = /^published:\s*(yes|no)\b/.exec(line);
    if (published) {
      current.published = published[1] === 'yes';
      continue;
    }
    const state = /^-\s*([a-z][a-z ]*?):\s*([a-z]+)$/.exec(line);
    if (state) current.states.push([state[1]!, state[2]!]);
  }
  return { policy, keys };
}

/** `goal omnipresent, dnskey omnipresent, ds rumoured, key rrsig omnipresent`. */
export function summarizeStates(states: readonly [string, string][]): string {
  return states.map(([name, value]) => `${name} ${value}`).join(', ');
}

/**
 * Parses `rndc dnssec -checkds`. Success looks like `KSK 58940: Marked DS as published since
 * 22-Nov-2026 13:33:16.000` (or without the `KSK n:` prefix when no key was named). Anything
 * else, such as `Error executing checkds command: no matching key found`, is a SignerCommandError.
 */
export function parseCheckDs(
  text: string,
  command: string[] = ['rndc', 'dnssec', '-checkds'],
): CheckDsOutput {
  const match = /^(?:KSK\s+(\d+):\s*)?Marked DS as (published|withdrawn) since\s+(.+)$/m.exec(
    text.trim(),
  );
  if (!match || /error/i.test(text)) throw outputError(command, text);
  return {
    state: match[2] as 'published' | 'withdrawn',
    keyTag: match[1] === undefined ? undefined : Number(match[1]),
    since: match[3]!.trim(),
  };
}

/** What `rndc dnssec -rollover` reported: the key and when its roll begins. */
export interface RolloverOutput {
  keyTag: number;
  /** As BIND printed it, in the server's time zone, e.g. `02-Dec-2026 07:14:18.000`. */
  scheduledAt: string;
}

/**
 * Parses `rndc dnssec -rollover`: `Key 41221: Rollover scheduled on 02-Dec-2026 07:14:18.000`.
 * Anything else, such as `Error executing rollover command: no matching key found` (exit 0),
 * is a SignerCommandError.
 */
export function parseRollover(
  text: string,
  command: string[] = ['rndc', 'dnssec', '-rollover'],
): RolloverOutput {
  const match = /^Key\s+(\d+):\s*Rollover scheduled on\s+(.+)$/m.exec(text.trim());
  if (!match || /error/i.test(text)) throw outputError(command, text);
  return { keyTag: Number(match[1]), scheduledAt: match[2]!.trim() };
}

/** Text that means the control channel could not be reached: worth retrying later. */
const UNREACHABLE =
  /connect failed|connection refused|timed out|network is unreachable|host is unreachable|no route to host/i;

/** Runs rndc against one server. Never puts a secret in argv: the key stays in its file. */
export class Rndc {
  readonly #config: BindRndcConfig;
  readonly #logger: Logger;

  readonly #onZoneChanged: ((zone: string) => void) | undefined;
  #endpoint: Promise<ControlEndpoint> | undefined;

  /** `onZoneChanged` hears of every command that changes a zone's key states (rollover, checkds). */
  constructor(config: BindRndcConfig, logger: Logger, onZoneChanged?: (zone: string) => void) {
    this.#config = config;
    this.#logger = logger;
    this.#onZoneChanged = onZoneChanged;
  }

  /** argv before the command: `-c FILE` or `-s ADDR -p PORT -k FILE`. */
  get connectionArguments(): string[] {
    const config = this.#config;
    return 'configFile' in config
      ? ['-c', config.configFile]
      : [
          '-s',
          config.address,
          '-p',
          String(config.port ?? DEFAULT_RNDC_PORT),
          '-k',
          config.keyFile,
        ];
  }

  /** Whether commands go over the control channel (default) rather than through the program. */
  get usesChannel(): boolean {
    return (this.#config.client ?? (this.#config.binary ? 'program' : 'channel')) === 'channel';
  }

  /**
   * Runs `rndc <args>` and returns its text (stdout, then stderr). Rejects with
   * SignerCommandError or AbortError.
   */
  async run(
    args: string[],
    options: CallOptions = {},
  ): Promise<{ stdout: string; command: string[] }> {
    if (options.signal?.aborted)
      throw new AbortError(['rndc', ...args].join(' '), options.signal.reason);
    return this.usesChannel ? this.#runOverChannel(args, options) : this.#runProgram(args, options);
  }

  async #runProgram(
    args: string[],
    options: CallOptions,
  ): Promise<{ stdout: string; command: string[] }> {
    const result = await runCommand(
      this.#config.binary ?? 'rndc',
      [...this.connectionArguments, ...args],
      {
        timeoutMs: this.#timeoutMs,
        signal: options.signal,
        isRetryable: (output) => UNREACHABLE.test(output),
        missingHint: 'install bind9-utils or set rndc.binary',
        logger: this.#logger,
      },
    );
    // A few errors are printed on stdout with exit status 0; callers parse the text.
    const { stdout, stderr, command } = result;
    return { stdout: `${stdout}${stderr ? `\n${stderr}` : ''}`, command };
  }

  get #timeoutMs(): number {
    return this.#config.timeoutMs ?? DEFAULT_RNDC_TIMEOUT_MS;
  }

  /** The same command over the control channel; failures read as the program's would. */
  async #runOverChannel(
    args: string[],
    options: CallOptions,
  ): Promise<{ stdout: string; command: string[] }> {
    const command = ['rndc', ...args];
    const started = performance.now();
    countCall('command rndc (channel)');
    try {
      this.#endpoint ??= controlEndpointOf(this.#config);
      const endpoint = await this.#endpoint;
      const answer = await sendControlCommand(endpoint, args.join(' '), {
        timeoutMs: this.#timeoutMs,
        signal: options.signal,
      });
      this.#logger.debug(
        { command, elapsedMs: Math.round(performance.now() - started) },
        'rndc (control channel)',
      );
      if (answer.error === undefined) return { stdout: answer.text, command };
      throw new SignerCommandError({
        command,
        exitCode: 1,
        stderr: `'${args.join(' ')}' failed: ${answer.error}${answer.text ? `\n${answer.text}` : ''}`,
      });
    } catch (error) {
      throw this.#channelFailure(command, error, options);
    }
  }

  #channelFailure(command: string[], error: unknown, options: CallOptions): unknown {
    if (options.signal?.aborted) return new AbortError(command.join(' '), options.signal.reason);
    if (SignerCommandError.isInstance(error)) return error;
    countCall('command rndc (channel) failed');
    // The file is read again next time: a fixed rndc.conf or a new key needs no restart.
    this.#endpoint = undefined;
    if (error instanceof RndcConfProblem)
      return new SignerCommandError({
        command,
        stderr: `${error.message} (or set rndc.client to "program" to run the rndc program)`,
      });
    if (error instanceof ControlConnectionError)
      return new SignerCommandError({
        command,
        stderr: error.message,
        timedOut: error.timedOut,
        retryable: !error.reachable || error.timedOut,
      });
    if (error instanceof ControlChannelError)
      return new SignerCommandError({ command, stderr: `control channel: ${error.message}` });
    return error;
  }

  async zoneStatus(zone: string, options: CallOptions = {}): Promise<ZoneStatus> {
    const { stdout, command } = await this.run(['zonestatus', rndcZoneArgument(zone)], options);
    return parseZoneStatus(stdout, command);
  }

  async dnssecStatus(zone: string, options: CallOptions = {}): Promise<DnssecStatus> {
    const { stdout, command } = await this.run(
      ['dnssec', '-status', rndcZoneArgument(zone)],
      options,
    );
    return parseDnssecStatus(stdout, command);
  }

  /** `rndc dnssec -checkds [-key TAG [-alg ALG]] published|withdrawn ZONE`. */
  async checkDs(
    zone: string,
    input: { keyTag?: number; algorithm?: number; state: 'published' | 'withdrawn' },
    options: CallOptions = {},
  ): Promise<CheckDsOutput> {
    const args = ['dnssec', '-checkds'];
    if (input.keyTag !== undefined) {
      args.push('-key', String(input.keyTag));
      if (input.algorithm !== undefined) args.push('-alg', String(input.algorithm));
    }
    args.push(input.state, rndcZoneArgument(zone));
    this.#onZoneChanged?.(zone);
    const { stdout, command } = await this.run(args, options);
    return parseCheckDs(stdout, command);
  }

  /** `rndc dnssec -rollover -key TAG [-alg ALG] ZONE`: BIND rolls that key from now on. */
  async rollover(
    zone: string,
    key: { keyTag: number; algorithm?: number | undefined },
    options: CallOptions = {},
  ): Promise<RolloverOutput> {
    const args = ['dnssec', '-rollover', '-key', String(key.keyTag)];
    if (key.algorithm !== undefined) args.push('-alg', String(key.algorithm));
    args.push(rndcZoneArgument(zone));
    this.#onZoneChanged?.(zone);
    const { stdout, command } = await this.run(args, options);
    return parseRollover(stdout, command);
  }
}
