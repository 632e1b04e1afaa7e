/**
 * Key rolls on BIND 9.18 with dnssec-policy, in `server-timed` mode: Chorus starts a roll with
 * `rndc dnssec -rollover`, and BIND's key manager times everything after it (nameservers.md §2.5).
 *
 * Measured on 9.18.49 (lab policy: dnskey-ttl 30, publish-safety 15, zone-propagation-delay 5):
 * the successor is created and published within a second of the command, signs next to the
 * predecessor where BIND re-signs, and becomes the only signing key dnskey-ttl + publish-safety +
 * zone-propagation-delay after its publication (Ipub). BIND withdraws the predecessor once the
 * successor's signatures cover the zone (signatures-validity - signatures-refresh + max-zone-ttl
 * + zone-propagation-delay + retire-safety after the publication).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import {
  ConvergenceError,
  SignerCommandError,
  SignerConfigurationError,
  UnsupportedCapabilityError,
  type CallOptions,
  type DnskeyData,
  type KeyRole,
  type KeyRoller,
  type RolloverTiming,
  type SigningKey,
  type ZoneName,
} from '@chorus/core';
import {
  dnskeyIdentity,
  normalizeName,
  runCommand,
  signalOption,
  throwIfAborted,
} from '@chorus/dns';
import { DEFAULT_RNDC_TIMEOUT_MS, type BindConfig } from './config.js';
import {
  parseNamedConf,
  readPolicyTiming,
  type ConfStatement,
  type PolicyProblem,
} from './named-conf.js';
import { isKept, isPublished, keyState, toSigningKey, type OwnKey } from './own-keys.js';
import { rndcZoneArgument, type Rndc } from './rndc.js';

/** How long startRoll waits for BIND to create and publish the successor. */
const SUCCESSOR_TIMEOUT_MS = 30_000;
const SUCCESSOR_POLL_MS = 250;

/** What the roller needs from its signer. */
export interface BindKeyRollerContext {
  signerId: string;
  config: BindConfig;
  rndc: Rndc;
  logger: Logger;
  /** Every key rndc lists for the zone, with its key file. */
  ownKeys(zone: ZoneName, options: CallOptions): Promise<OwnKey[]>;
  /** The DNSKEY RRset as the server serves it. */
  servedDnskeys(zone: ZoneName, options: CallOptions): Promise<DnskeyData[]>;
}

/**
 * The successor of the predecessors: a key of `role` that BIND keeps and made for one of them
 * (`Predecessor:` in its .state file). Also when the caller lists it among the predecessors
 * itself (it already signs next to the key it replaces): rolling it again would start a second
 * roll. Undefined when BIND rolls none of them.
 */
export function findSuccessor(
  keys: readonly OwnKey[],
  role: KeyRole,
  predecessorTags: readonly number[],
): OwnKey | undefined {
  const ofRole = keys.filter((key) => key.status.role === role);
  const replaced = new Set(
    ofRole
      .filter((key) => predecessorTags.includes(key.status.keyTag) && !isKept(key))
      .map((key) => key.status.keyTag),
  );
  const madeFor = (key: OwnKey, tags: { has(tag: number): boolean }) =>
    isKept(key) && tags.has(Number(key.file.state?.Predecessor));
  const listed = new Set(predecessorTags);
  return (
    ofRole.find((key) => !listed.has(key.status.keyTag) && madeFor(key, listed)) ??
    ofRole.find((key) => madeFor(key, replaced))
  );
}

/** A single line of named-checkconf's complaint, with quoted text (which may be a secret) left out. */
function firstLine(output: string): string {
  const line = output.trim().split('\n')[0] ?? '';
  return line.replace(/"[^"]*"|'[^']*'/g, '"…"').slice(0, 300);
}

/** How long one `named-checkconf -px` serves every zone's rolloverTiming (a sidecar registering many zones). */
const NAMED_CONF_REUSE_MS = 10_000;

export class BindKeyRoller implements KeyRoller {
  readonly #context: BindKeyRollerContext;
  #namedConf: { statements: Promise<ConfStatement[]>; readAt: number } | undefined;

  constructor(context: BindKeyRollerContext) {
    this.#context = context;
  }

  #configError(zone: ZoneName, problem: PolicyProblem): SignerConfigurationError {
    return new SignerConfigurationError({ signerId: this.#context.signerId, zone, ...problem });
  }

  /**
   * BIND's ZSK pre-publication interval for the zone (RFC 7583 Ipub as BIND implements it):
   * dnskey-ttl + publish-safety + zone-propagation-delay of its dnssec-policy, read with
   * `named-checkconf -px` from namedConfigFile, BIND's defaults for what the policy omits.
   */
  async rolloverTiming(zone: ZoneName, options: CallOptions): Promise<RolloverTiming> {
    const name = normalizeName(zone);
    throwIfAborted(options.signal, `rolloverTiming ${name}`);
    const timing = readPolicyTiming(
      await this.#namedConfStatements(name, options),
      name,
      this.#configFile(name),
    );
    if ('setting' in timing) throw this.#configError(name, timing);
    const { dnskeyTtl, publishSafety, zonePropagationDelay } = timing;
    return {
      mode: 'server-timed',
      prePublicationSeconds: dnskeyTtl + publishSafety + zonePropagationDelay,
      settings: `dnskey-ttl ${dnskeyTtl} + publish-safety ${publishSafety} + zone-propagation-delay ${zonePropagationDelay}`,
      settingToRaise: `publish-safety in the dnssec-policy of ${name}`,
      confirmsParentDs: true,
    };
  }

  #configFile(zone: ZoneName): string {
    const file = this.#context.config.namedConfigFile;
    if (file === undefined)
      throw this.#configError(zone, {
        setting: 'namedConfigFile',
        problem:
          "the plugin configuration does not name BIND's named.conf, so the timing of the zone's dnssec-policy cannot be read",
        fix: 'set namedConfigFile to the named.conf BIND runs with; the plugin reads it with named-checkconf -px (secrets obscured)',
      });
    return file;
  }

  /**
   * named.conf parsed, read once for all zones within NAMED_CONF_REUSE_MS (with 1,000 zones each
   * read is a process and a parse of the whole file). A failed read is not kept.
   */
  #namedConfStatements(zone: ZoneName, options: CallOptions): Promise<ConfStatement[]> {
    const cached = this.#namedConf;
    if (cached && performance.now() - cached.readAt < NAMED_CONF_REUSE_MS) return cached.statements;
    const statements = this.#namedConfText(zone, options).then(parseNamedConf);
    const entry = { statements, readAt: performance.now() };
    this.#namedConf = entry;
    statements.catch(() => {
      if (this.#namedConf === entry) this.#namedConf = undefined;
    });
    return statements;
  }

  /** named.conf in canonical form, secrets obscured (`-x`). Its text is never logged. */
  async #namedConfText(zone: ZoneName, options: CallOptions): Promise<string> {
    const file = this.#configFile(zone);
    const { config, logger } = this.#context;
    const result = await runCommand(
      config.namedCheckconfBinary ?? 'named-checkconf',
      ['-px', file],
      {
        timeoutMs: config.rndc.timeoutMs ?? DEFAULT_RNDC_TIMEOUT_MS,
        signal: options.signal,
        allowFailure: true,
        missingHint: 'install bind9-utils or set namedCheckconfBinary',
        logger,
      },
    );
    if (result.exitCode === 0) return result.stdout;
    throw this.#configError(zone, {
      setting: 'namedConfigFile',
      problem: `named-checkconf -px ${file} failed (exit ${String(result.exitCode)}): ${firstLine(`${result.stderr}\n${result.stdout}`)}`,
      fix: 'set namedConfigFile to the named.conf BIND runs with, readable by the sidecar (with the files it includes)',
    });
  }

  /**
   * Starts BIND's roll of the predecessors (`rndc dnssec -rollover`) unless a successor already
   * exists, then waits until BIND lists the successor and serves it in DNSKEY.
   */
  async startRoll(
    zone: ZoneName,
    role: KeyRole,
    predecessorTags: readonly number[],
    options: CallOptions,
  ): Promise<SigningKey> {
    const name = normalizeName(zone);
    throwIfAborted(options.signal, `startRoll ${name}`);
    const keys = await this.#context.ownKeys(name, options);
    if (!findSuccessor(keys, role, predecessorTags)) {
      for (const predecessor of this.#predecessors(name, keys, role, predecessorTags)) {
        const { file, status } = predecessor;
        const output = await this.#context.rndc.rollover(
          name,
          { keyTag: status.keyTag, algorithm: file.algorithm },
          options,
        );
        this.#context.logger.info(
          { zone: name, role, keyTag: status.keyTag, scheduledAt: output.scheduledAt },
          `asked BIND to roll ${role} ${status.keyTag}`,
        );
      }
    }
    return this.#awaitSuccessor(name, role, predecessorTags, options);
  }

  /** The keys to roll: BIND's own keys of `role` among the tags, which it still keeps. */
  #predecessors(
    zone: ZoneName,
    keys: readonly OwnKey[],
    role: KeyRole,
    predecessorTags: readonly number[],
  ): OwnKey[] {
    const found = keys.filter(
      (key) =>
        key.status.role === role && predecessorTags.includes(key.status.keyTag) && isKept(key),
    );
    if (found.length > 0) return found;
    // rndc would "schedule" a roll of a retired key and do nothing: refuse before asking it.
    const known = keys
      .filter((key) => key.status.role === role)
      .map((key) => `${key.status.keyTag} (goal ${keyState(key, 'goal') ?? '?'})`);
    throw new SignerCommandError({
      command: [
        'rndc',
        'dnssec',
        '-rollover',
        '-key',
        predecessorTags.join(','),
        rndcZoneArgument(zone),
      ],
      stderr: `not sent: BIND has no ${role} ${predecessorTags.join(', ')} that it still keeps for ${zone} (its ${role} keys: ${known.join(', ') || 'none'})`,
    });
  }

  /** Polls rndc, the key files and the wire until the successor is published, within a bound. */
  async #awaitSuccessor(
    zone: ZoneName,
    role: KeyRole,
    predecessorTags: readonly number[],
    options: CallOptions,
  ): Promise<SigningKey> {
    const deadline = Date.now() + SUCCESSOR_TIMEOUT_MS;
    let detail = 'BIND has not created a successor';
    for (;;) {
      const keys = await this.#context.ownKeys(zone, options);
      const successor = findSuccessor(keys, role, predecessorTags);
      if (successor && isPublished(successor)) {
        const served = await this.#context.servedDnskeys(zone, options);
        const identity = dnskeyIdentity(successor.file.dnskey);
        if (served.some((key) => dnskeyIdentity(key) === identity)) return toSigningKey(successor);
        detail = `successor ${successor.status.keyTag} is not in the DNSKEY RRset BIND serves yet`;
      } else if (successor) {
        detail = `successor ${successor.status.keyTag} is not published yet (dnskey ${keyState(successor, 'dnskey') ?? '?'})`;
      }
      if (Date.now() >= deadline)
        throw new ConvergenceError({
          zone,
          signerId: this.#context.signerId,
          remaining: 1,
          detail: `rolling ${role} ${predecessorTags.join(', ')}: ${detail} after ${SUCCESSOR_TIMEOUT_MS / 1000} s`,
        });
      await this.#pause(options.signal, `startRoll ${zone}`);
    }
  }

  async #pause(signal: AbortSignal | undefined, what: string): Promise<void> {
    try {
      await sleep(SUCCESSOR_POLL_MS, undefined, signalOption(signal));
    } catch (error) {
      throwIfAborted(signal, what);
      throw error;
    }
  }

  /**
   * Tells BIND the parent's DS change: `rndc dnssec -checkds -key TAG published|withdrawn` per
   * key (BIND then moves the DS states on and retires the predecessor after its own
   * parent-propagation-delay + DS TTL + retire-safety). A key BIND no longer lists is skipped,
   * so a repeat after a crash is harmless.
   */
  async confirmParentDs(
    zone: ZoneName,
    change: { published: readonly number[]; withdrawn: readonly number[] },
    options: CallOptions,
  ): Promise<void> {
    const name = normalizeName(zone);
    throwIfAborted(options.signal, `confirmParentDs ${name}`);
    const keys = await this.#context.ownKeys(name, options);
    const tell = [
      ...change.published.map((keyTag) => ({ keyTag, state: 'published' as const })),
      ...change.withdrawn.map((keyTag) => ({ keyTag, state: 'withdrawn' as const })),
    ];
    for (const { keyTag, state } of tell) {
      const key = keys.find((candidate) => candidate.status.keyTag === keyTag);
      if (!key || key.status.role === 'ZSK') continue;
      const output = await this.#context.rndc.checkDs(
        name,
        { keyTag, algorithm: key.file.algorithm, state },
        options,
      );
      this.#context.logger.info(
        { zone: name, keyTag, state, since: output.since },
        `told BIND the DS of ${keyTag} is ${state}`,
      );
    }
  }

  activateSuccessor(
    _zone: ZoneName,
    _successorTag: number,
    _predecessorTags: readonly number[],
    _options: CallOptions,
  ): Promise<void> {
    return Promise.reject(this.#timedByBind('activates a successor'));
  }

  removeKeys(_zone: ZoneName, _keyTags: readonly number[], _options: CallOptions): Promise<void> {
    return Promise.reject(this.#timedByBind('removes a predecessor'));
  }

  #timedByBind(what: string): UnsupportedCapabilityError {
    return new UnsupportedCapabilityError({
      capability: 'key-hold-published',
      signerId: this.#context.signerId,
      reason: `BIND's dnssec-policy times activation and removal (server-timed): it ${what} on its own schedule once rndc dnssec -rollover has started the roll`,
    });
  }
}
