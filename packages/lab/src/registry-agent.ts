/**
 * The lab parent's registry agent: a parental agent for `test.` that, for each lab zone,
 * observes the delegation and every delegated child nameserver, runs core's CDS/CDNSKEY and
 * CSYNC scanner (draft-ietf-dnsop-cds-consistency) and applies a consistent, validated request
 * to the parent by TSIG-signed DNS UPDATE. It never changes anything while the servers disagree.
 *
 * `runRegistryScanOnce` is one scan of one zone (tests call it directly); `runRegistryAgent` is
 * the long-running loop (every `intervalMs`, and at once on NOTIFY(CDS)/NOTIFY(CSYNC)) that the
 * lab starts as its own process (`chorus lab registry-agent`).
 */
import { readFile } from 'node:fs/promises';
import {
  buildParentUpdate,
  scanDelegation,
  type ParentScanPolicy,
  type ParentUpdateDecision,
  type ScanReason,
} from '@chorus/parent';
import { ChorusError, type Delegation, type NameServer } from '@chorus/core';
import { formatRdata, normalizeName, readTsigKeyFile, sendUpdate, type TsigKey } from '@chorus/dns';
import { LabError } from './errors.js';
import { mapLimited } from './limit.js';
import { listenForNotify, type NotifyListener } from './registry-agent-notify.js';
import type { LabStatus } from './types.js';

/** The agent's configuration file (`<lab>/registry-agent/agent.json`). Plain JSON, no secrets. */
export interface RegistryAgentConfig {
  schemaVersion: 1;
  /** The parent zone, `test.` in the lab. */
  parentZone: string;
  /** Every parent server address; the first is the primary that receives the UPDATEs. */
  parentServers: NameServer[];
  /** TSIG key file (BIND `key` syntax) allowed to update the parent zone. */
  tsigKeyFile: string;
  /** The delegations the agent maintains. */
  zones: string[];
  /** DNS port of the child nameservers (NS records carry none). */
  childPort: number;
  /** Time between two scans of a zone (at least: see maxScansPerSecond). */
  intervalMs: number;
  /**
   * At most this many zone scans a second on the schedule: with many zones each one is scanned
   * less often, every zones ÷ maxScansPerSecond seconds. The default is 50, or 10 when NOTIFY is
   * listened for: the schedule is then only the backstop and NOTIFY keeps the agent prompt.
   */
  maxScansPerSecond?: number;
  /** TTL for records the parent has no TTL to keep for. */
  ttl: number;
  /** Where NOTIFY(CDS)/NOTIFY(CSYNC) triggers an immediate scan (RFC 9859); null for none. */
  notify: NameServer | null;
  /** Per-query timeout. */
  timeoutMs: number;
  /** The agent writes its PID here at start and removes it at exit. */
  pidFile?: string;
  /** Local policy handed to the scanner. */
  policy?: Omit<ParentScanPolicy, 'now'>;
  /**
   * A validating resolver for the RFC 9615 signals of a delegation without DS: with it the
   * scanner bootstraps a first DS only from authenticated signals; without, never.
   */
  validatingResolver?: NameServer;
}

const DEFAULT_INTERVAL_MS = 1000;
const DEFAULT_MAX_SCANS_PER_SECOND = 50;
/**
 * With NOTIFY: each scan asks about 25 questions of the parent and the child servers, so 50 a
 * second kept the agent at about 15 % of a core, and the servers busy, with 1,000 zones idle.
 */
const BACKSTOP_MAX_SCANS_PER_SECOND = 10;

/** The schedule's rate: as configured, else lower when NOTIFY makes the schedule a backstop. */
export function maxScansPerSecondOf(
  config: Pick<RegistryAgentConfig, 'maxScansPerSecond' | 'notify'>,
): number {
  return (
    config.maxScansPerSecond ??
    (config.notify ? BACKSTOP_MAX_SCANS_PER_SECOND : DEFAULT_MAX_SCANS_PER_SECOND)
  );
}
/** Scans in flight at once for the first scan of every zone. */
const START_SCANS_AT_ONCE = 32;

/**
 * The timer's schedule: zones are scanned round-robin, a few per tick, so that each is scanned
 * every `periodMs` and the agent never runs more than `maxScansPerSecond` scans a second.
 */
export function scanSchedule(
  zoneCount: number,
  intervalMs: number,
  maxScansPerSecond = DEFAULT_MAX_SCANS_PER_SECOND,
): { periodMs: number; tickMs: number; zonesPerTick: number } {
  const periodMs = Math.max(50, intervalMs, (zoneCount / maxScansPerSecond) * 1000);
  const tickMs = Math.max(20, periodMs / Math.max(1, zoneCount));
  const zonesPerTick = Math.max(1, Math.round((zoneCount * tickMs) / periodMs));
  return { periodMs, tickMs, zonesPerTick };
}
/** How often the lab's agent, which listens for NOTIFY at its address, scans each of its zones. */
export function labScanPeriodMs(agent: {
  zones: readonly string[];
  intervalMs: number;
  address: string;
  port: number;
}): number {
  const rate = maxScansPerSecondOf({ notify: { address: agent.address, port: agent.port } });
  return Math.round(scanSchedule(agent.zones.length, agent.intervalMs, rate).periodMs);
}
const DEFAULT_TIMEOUT_MS = 1000;
/** An unchanged decision is logged again after this long, with a repeat count. */
const REPEAT_LOG_MS = 60_000;

/** The lab's delegation-following resolver, when the lab has signalling zones to validate. */
function validatingResolverOf(status: LabStatus): Pick<RegistryAgentConfig, 'validatingResolver'> {
  // `?? []`: a status written before the option has no list.
  if ((status.signalling ?? []).length === 0) return {};
  const resolver = status.resolvers.find((entry) => entry.id === 'resolver-delegation');
  if (!resolver) throw new LabError('the lab status has no resolver-delegation');
  return { validatingResolver: { address: resolver.address, port: resolver.port } };
}

/** The agent's configuration for a lab, from its status. */
export function registryAgentConfigFromStatus(
  status: LabStatus,
  overrides: Partial<RegistryAgentConfig> = {},
): RegistryAgentConfig {
  const parent = status.servers.find((server) => server.id === 'parent');
  if (!parent) throw new LabError('the lab status has no parent server');
  return {
    schemaVersion: 1,
    parentZone: status.parentZone,
    parentServers: [{ address: parent.address, port: parent.port }],
    tsigKeyFile: parent.tsig.keyFile,
    // The model-1 zone too: its NS moves by CSYNC (its DS only by the owner's KSK roll).
    zones: [
      ...status.zones,
      ...(status.insecureZones ?? []),
      ...(status.owner ? [status.owner.zone] : []),
    ],
    childPort: status.port,
    intervalMs: status.registryAgent?.intervalMs ?? DEFAULT_INTERVAL_MS,
    ttl: status.ttl,
    notify: status.registryAgent
      ? { address: status.registryAgent.address, port: status.registryAgent.port }
      : null,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    ...(status.registryAgent ? { pidFile: status.registryAgent.pidFile } : {}),
    ...validatingResolverOf(status),
    ...overrides,
  };
}

function isNameServer(value: unknown): value is NameServer {
  const server = value as NameServer | null;
  return (
    typeof server?.address === 'string' &&
    (server.port === undefined || Number.isInteger(server.port))
  );
}

/** Reads and checks an agent configuration file. */
export async function readRegistryAgentConfig(file: string): Promise<RegistryAgentConfig> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new LabError(`cannot read the registry agent configuration ${file}`, { cause: error });
  }
  const config = parsed as Partial<RegistryAgentConfig> | null;
  const problems: string[] = [];
  if (config?.schemaVersion !== 1) problems.push('schemaVersion must be 1');
  if (typeof config?.parentZone !== 'string') problems.push('parentZone must be a name');
  if (!Array.isArray(config?.parentServers) || config.parentServers.length === 0) {
    problems.push('parentServers must list at least one server');
  } else if (!config.parentServers.every(isNameServer)) {
    problems.push('parentServers entries need an address (and an integer port)');
  }
  if (typeof config?.tsigKeyFile !== 'string') problems.push('tsigKeyFile must be a path');
  if (!Array.isArray(config?.zones) || !config.zones.every((zone) => typeof zone === 'string')) {
    problems.push('zones must be a list of names');
  }
  if (config?.notify !== null && config?.notify !== undefined && !isNameServer(config.notify)) {
    problems.push('notify must be null or { address, port }');
  }
  if (config?.validatingResolver !== undefined && !isNameServer(config.validatingResolver)) {
    problems.push('validatingResolver must be { address, port }');
  }
  if (problems.length > 0 || !config) {
    throw new LabError(`invalid registry agent configuration ${file}: ${problems.join('; ')}`);
  }
  return {
    ...(config as RegistryAgentConfig),
    childPort: config.childPort ?? 53,
    intervalMs: config.intervalMs ?? DEFAULT_INTERVAL_MS,
    ttl: config.ttl ?? 30,
    notify: config.notify ?? null,
    timeoutMs: config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
}

/** An error as plain JSON, for results and log lines. */
export interface ErrorSummary {
  name: string;
  message: string;
  retryable: boolean;
}

function summarize(error: unknown): ErrorSummary {
  if (ChorusError.isInstance(error)) {
    return { name: error.name, message: error.message, retryable: error.isRetryable };
  }
  const name = error instanceof Error ? error.name : 'Error';
  return {
    name,
    message: error instanceof Error ? error.message : String(error),
    retryable: false,
  };
}

/** What one scan of one zone did. Plain JSON. */
export interface RegistryScanResult {
  zone: string;
  /** ISO 8601. */
  startedAt: string;
  durationMs: number;
  /** The delegation as the parent served it before any change. */
  delegation: Delegation | null;
  decision: ParentUpdateDecision | null;
  /** What was sent to the parent; null when nothing was (no change, dry run or failure). */
  applied: {
    ds: ParentUpdateDecision['ds']['action'];
    ns: ParentUpdateDecision['ns']['action'];
    server: string;
  } | null;
  /** Why the scan or the UPDATE failed (a parent server unreachable, UPDATE refused…). */
  error: ErrorSummary | null;
}

export interface RegistryScanOptions {
  signal?: AbortSignal;
  /** Decide but do not UPDATE the parent. */
  dryRun?: boolean;
  /** The TSIG key, when the caller has read it already. */
  tsig?: TsigKey;
}

/**
 * One scan of one zone: observe the delegation and every delegated child nameserver, decide,
 * and (unless `dryRun`) send one UPDATE to the primary parent server when the decision changes
 * something. Never throws for DNS trouble: failures are in `error`.
 *
 * @example
 * const result = await runRegistryScanOnce(registryAgentConfigFromStatus(lab), 'conformance.test.');
 * result.decision?.ds.status; // 'no-signal' | 'in-sync' | 'change' | 'refused'
 */
export async function runRegistryScanOnce(
  config: RegistryAgentConfig,
  zone: string,
  options: RegistryScanOptions = {},
): Promise<RegistryScanResult> {
  const started = performance.now();
  const result: RegistryScanResult = {
    zone: normalizeName(zone).toLowerCase(),
    startedAt: new Date().toISOString(),
    durationMs: 0,
    delegation: null,
    decision: null,
    applied: null,
    error: null,
  };
  const finish = () => {
    result.durationMs = Math.round(performance.now() - started);
    return result;
  };
  try {
    const scan = await scanDelegation({
      zone,
      parentZone: config.parentZone,
      parentServers: config.parentServers,
      childPort: config.childPort,
      timeoutMs: config.timeoutMs,
      retries: 0,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(config.policy ? { policy: config.policy } : {}),
      ...(config.validatingResolver ? { validatingResolver: config.validatingResolver } : {}),
    });
    result.delegation = scan.delegation;
    result.decision = scan.decision;
    const update = buildParentUpdate({
      parentZone: config.parentZone,
      decision: scan.decision,
      delegation: scan.delegation,
      ttl: config.ttl,
    });
    if (!update || options.dryRun) return finish();
    const primary = config.parentServers[0]!;
    const tsig = options.tsig ?? (await readTsigKeyFile(config.tsigKeyFile));
    const sent = await sendUpdate(primary, update, {
      tsig,
      timeoutMs: config.timeoutMs * 2,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    result.applied = {
      ds: scan.decision.ds.action,
      ns: scan.decision.ns.action,
      server: sent.server,
    };
  } catch (error) {
    result.error = summarize(error);
  }
  return finish();
}

/** One JSON line of the agent's log. */
export type RegistryAgentLogEntry = { time: string; level: 'info' | 'warn' | 'error' } & (
  | {
      event: 'started';
      pid: number;
      parentZone: string;
      zones: string[];
      intervalMs: number;
      /** How often the schedule scans each zone (intervalMs, or longer with many zones). */
      scanEveryMs: number;
      notify: string | null;
    }
  | {
      event: 'decision';
      zone: string;
      trigger: 'timer' | 'notify' | 'start';
      ds: { action: string; status: string; records?: string[] };
      ns: { action: string; status: string; records?: string[]; glue?: string[] };
      reasons: ScanReason[];
      /** How many identical decisions were made since this one was last logged. */
      repeated?: number;
    }
  | {
      event: 'applied';
      zone: string;
      server: string;
      ds: { action: string; records?: string[] };
      ns: { action: string; records?: string[]; glue?: string[] };
    }
  | { event: 'scan-failed' | 'apply-failed'; zone: string; error: ErrorSummary; repeated?: number }
  | { event: 'notify'; zone: string; type: string; from: string; accepted: boolean }
  | { event: 'stopped'; reason: string }
);

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type LogBody = DistributiveOmit<RegistryAgentLogEntry, 'time' | 'level'>;

export interface RegistryAgentOptions {
  /** Receives every log entry (the process writes each as one JSON line to stdout). */
  log: (entry: RegistryAgentLogEntry) => void;
  /** Stops the agent. */
  signal: AbortSignal;
}

function presentDecision(decision: ParentUpdateDecision) {
  const zone = decision.zone;
  const ds = {
    action: decision.ds.action,
    status: decision.ds.status,
    ...(decision.ds.records
      ? {
          records: decision.ds.records.map(
            (data) => `${zone} DS ${formatRdata({ type: 'DS', data })}`,
          ),
        }
      : {}),
  };
  const ns = {
    action: decision.ns.action,
    status: decision.ns.status,
    ...(decision.ns.records
      ? { records: decision.ns.records.map((name) => `${zone} NS ${name}`) }
      : {}),
    ...(decision.ns.glue
      ? { glue: decision.ns.glue.map((entry) => `${entry.name} ${entry.addresses.join(' ')}`) }
      : {}),
  };
  return { ds, ns };
}

interface ZoneState {
  running: boolean;
  pending: 'timer' | 'notify' | null;
  lastKey: string | null;
  lastLoggedAt: number;
  repeated: number;
}

/**
 * Runs the agent until `signal` fires: scans every zone once (32 at a time), then on the schedule
 * (scanSchedule) and immediately on an accepted NOTIFY. A zone is never scanned twice at the same
 * time; triggers that arrive during a scan are folded into one more scan (this is also the
 * NOTIFY rate limit).
 */
export async function runRegistryAgent(
  config: RegistryAgentConfig,
  options: RegistryAgentOptions,
): Promise<void> {
  const { signal } = options;
  const zones = config.zones.map((zone) => normalizeName(zone).toLowerCase());
  const emit = (body: LogBody, level: RegistryAgentLogEntry['level'] = 'info') =>
    options.log({ time: new Date().toISOString(), level, ...body });
  const tsig = await readTsigKeyFile(config.tsigKeyFile);
  const states = new Map<string, ZoneState>(
    zones.map((zone) => [
      zone,
      { running: false, pending: null, lastKey: null, lastLoggedAt: 0, repeated: 0 },
    ]),
  );
  const inFlight = new Set<Promise<void>>();

  /** Logs `body` unless it repeats the zone's last entry within REPEAT_LOG_MS. */
  const report = (state: ZoneState, key: string, body: LogBody, level: 'info' | 'warn') => {
    const now = Date.now();
    if (key === state.lastKey && now - state.lastLoggedAt < REPEAT_LOG_MS) {
      state.repeated += 1;
      return;
    }
    const repeated = key === state.lastKey ? state.repeated : 0;
    emit(repeated > 0 ? ({ ...body, repeated } as LogBody) : body, level);
    state.lastKey = key;
    state.lastLoggedAt = now;
    state.repeated = 0;
  };

  const scanOnce = async (
    zone: string,
    state: ZoneState,
    trigger: 'timer' | 'notify' | 'start',
  ) => {
    const result = await runRegistryScanOnce(config, zone, { signal, tsig });
    if (signal.aborted) return;
    if (result.decision) {
      const shown = presentDecision(result.decision);
      const reasons = [...result.decision.ds.reasons, ...result.decision.ns.reasons];
      const key = JSON.stringify({
        shown,
        reasons: reasons.map((item) => [item.code, item.servers, item.records]),
      });
      const refused =
        result.decision.ds.status === 'refused' || result.decision.ns.status === 'refused';
      // An applied change is always logged, so the next identical decision is news again.
      report(
        state,
        result.applied ? `${key} ${result.startedAt}` : key,
        { event: 'decision', zone, trigger, ...shown, reasons },
        refused ? 'warn' : 'info',
      );
    }
    if (result.applied && result.decision) {
      const shown = presentDecision(result.decision);
      emit({
        event: 'applied',
        zone,
        server: result.applied.server,
        ds: { action: shown.ds.action, ...(shown.ds.records ? { records: shown.ds.records } : {}) },
        ns: {
          action: shown.ns.action,
          ...(shown.ns.records ? { records: shown.ns.records } : {}),
          ...(shown.ns.glue ? { glue: shown.ns.glue } : {}),
        },
      });
      state.lastKey = null;
    } else if (result.error) {
      const event = result.decision ? 'apply-failed' : 'scan-failed';
      report(
        state,
        `${event} ${result.error.message}`,
        { event, zone, error: result.error },
        'warn',
      );
    }
  };

  /** Scans `zone` now, or once more after the scan in flight; returns the zone's scan task. */
  const scan = (zone: string, trigger: 'timer' | 'notify' | 'start'): Promise<void> => {
    const state = states.get(zone);
    if (!state || signal.aborted) return Promise.resolve();
    if (state.running) {
      if (state.pending !== 'notify') state.pending = trigger === 'start' ? 'timer' : trigger;
      return Promise.resolve();
    }
    state.running = true;
    const task = (async () => {
      let next: 'timer' | 'notify' | 'start' | null = trigger;
      while (next !== null && !signal.aborted) {
        state.pending = null;
        try {
          await scanOnce(zone, state, next);
        } catch (error) {
          emit({ event: 'scan-failed', zone, error: summarize(error) }, 'error');
        }
        next = state.pending;
      }
    })().finally(() => {
      state.running = false;
      inFlight.delete(task);
    });
    inFlight.add(task);
    return task;
  };

  let listener: NotifyListener | null = null;
  if (config.notify) {
    listener = await listenForNotify(config.notify, (notice) => {
      const zone = notice.zone.toLowerCase();
      const accepted = states.has(zone) && (notice.type === 'CDS' || notice.type === 'CSYNC');
      emit({ event: 'notify', zone, type: notice.type, from: notice.from, accepted });
      if (accepted) void scan(zone, 'notify');
      return accepted;
    });
  }
  const schedule = scanSchedule(zones.length, config.intervalMs, maxScansPerSecondOf(config));
  emit({
    event: 'started',
    pid: process.pid,
    parentZone: config.parentZone,
    zones: zones.length > 20 ? [...zones.slice(0, 20), `and ${zones.length - 20} more`] : zones,
    intervalMs: config.intervalMs,
    scanEveryMs: Math.round(schedule.periodMs),
    notify: config.notify ? `${config.notify.address}:${config.notify.port ?? 53}` : null,
  });
  // Every zone once at start, a bounded number at a time: 10,000 scans at once would flood the
  // servers (and time out) while they are still loading.
  const startScans = mapLimited(zones, START_SCANS_AT_ONCE, (zone) => scan(zone, 'start'));
  let cursor = 0;
  const timer = setInterval(() => {
    for (let count = 0; count < schedule.zonesPerTick; count += 1) {
      void scan(zones[cursor]!, 'timer');
      cursor = (cursor + 1) % zones.length;
    }
  }, schedule.tickMs);

  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  clearInterval(timer);
  await startScans;
  await listener?.close();
  await Promise.allSettled([...inFlight]);
  const reason: unknown = signal.reason;
  emit({
    event: 'stopped',
    reason:
      reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'stopped',
  });
}
