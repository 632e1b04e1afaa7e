/** Commands that drive and inspect the coordination: sidecar, zone, signer, migrate, status, events. */
import { randomUUID } from 'node:crypto';
import {
  ChorusError,
  newTraceparent,
  zoneEvent,
  zoneStream,
  contextFromTraceparent,
  withSpan,
  type EventLog,
  type ProcessKind,
  type RecordedEvent,
  type ZoneEvent,
} from '@chorus/core';
import { createSqliteEventLog } from '@chorus/event-log-sqlite';
import {
  DEFAULT_TIMING,
  defineZone,
  foldZone,
  type ProcessState,
  type ZoneState,
} from '@chorus/engine';
import { normalizeName } from '@chorus/dns';
import { composeSidecar, loadSidecarConfig } from '@chorus/sidecar';
import {
  expectPositionals,
  integerOption,
  listOption,
  parseCommandArgs,
  UsageError,
} from '../args.js';
import { COORDINATION_HELP } from '../help.js';
import type { CliIo } from '../io.js';

const OPERATOR = { kind: 'cli', id: process.env.USER ?? 'operator' };

function eventLogPath(value: string | undefined, command: string): string {
  const path = value ?? process.env.CHORUS_EVENT_LOG;
  if (!path)
    throw new UsageError('give the event log with --log FILE or CHORUS_EVENT_LOG', command);
  return path;
}

function openLog(path: string): EventLog<ZoneEvent> {
  return createSqliteEventLog<ZoneEvent>({ path });
}

export async function readZone(log: EventLog<ZoneEvent>, zone: string): Promise<ZoneState> {
  return foldZone(
    zone,
    (await log.readStream(zoneStream(zone))).map((recorded) => recorded.event),
  );
}

/** One line per event, for people. */
export function describeEvent(event: ZoneEvent, state?: ZoneState): string {
  const at = event.occurredAt.slice(11, 19);
  const who = `${event.source.kind}:${event.source.id}`;
  const stepName = (processId: string, index: number) =>
    state?.processes.find((process) => process.id === processId)?.steps[index]?.name ??
    `step ${index}`;
  switch (event.type) {
    case 'zone-defined':
      return `${at} zone ${event.zone} defined with ${event.data.signers.map((signer) => signer.id).join(', ')} (parent ${event.data.parentZone})`;
    case 'signer-registered':
      return `${at} signer ${event.data.signer.id} (${event.data.signer.kind}) registered, NS ${event.data.signer.nameServerNames.join(' ')}`;
    case 'signer-keys-observed':
      return `${at} ${event.data.signerId} keys: ${event.data.keys.map((key) => `${key.role} ${key.keyTag}`).join(', ')}`;
    case 'process-requested':
      return `${at} ${event.data.kind} ${event.data.signerId} requested by ${event.data.requestedBy}`;
    case 'process-blocked':
      return `${at} ${event.data.kind} ${event.data.signerId} REFUSED before any change: ${event.data.reasons.map((reason) => `[${reason.code}] ${reason.message}`).join('; ')}`;
    case 'process-started':
      return `${at} ${event.data.kind} ${event.data.signerId} started: ${event.data.steps.map((step) => step.name).join(' → ')}`;
    case 'step-started':
      return `${at}   step ${event.data.stepIndex + 1} ${stepName(event.data.processId, event.data.stepIndex)} started${Object.keys(event.data.desired).length > 0 ? ` (signers: ${Object.keys(event.data.desired).join(', ')})` : ''} [${who}]`;
    case 'signer-reconciled':
      return `${at}     ${event.data.signerId} applied ${event.data.applied} change(s)`;
    case 'postcondition-met':
      return `${at}     post-condition seen on the wire${Object.keys(event.data.ttls).length > 0 ? ` (TTLs ${JSON.stringify(event.data.ttls)})` : ''}`;
    case 'wait-scheduled':
      return `${at}     waiting until ${event.data.notBefore.slice(11, 19)}: ${event.data.formula}`;
    case 'step-completed':
      return `${at}   step ${event.data.stepIndex + 1} ${stepName(event.data.processId, event.data.stepIndex)} completed`;
    case 'process-completed':
      return `${at} process completed; the group is now ${event.data.groupAfter.join(', ')}`;
    case 'process-failed':
      return `${at} process FAILED: [${event.data.reason.code}] ${event.data.reason.message}`;
  }
}

/** What a process waits for right now, in words. */
export function describeProcess(process: ProcessState, now = new Date()): string {
  const total = process.steps.length;
  if (process.status !== 'running') return `${process.kind} ${process.signerId}: ${process.status}`;
  const index = process.currentStep;
  const step = process.stepStates[index];
  const name = process.steps[index]?.name ?? 'finishing';
  let waiting = 'finishing';
  if (step?.status === 'pending') waiting = 'about to start';
  if (step?.status === 'started') {
    const missing = Object.keys(step.desired ?? {}).filter((id) => !step.reconciled[id]);
    waiting =
      missing.length > 0
        ? `waiting for ${missing.join(', ')} to apply its changes`
        : 'waiting to see the post-condition on the wire';
  }
  if (step?.status === 'postcondition-met') waiting = 'scheduling its wait';
  if (step?.status === 'waiting') {
    const left = Math.max(0, Math.round((Date.parse(step.wait!.notBefore) - now.getTime()) / 1000));
    waiting = `waiting until ${step.wait!.notBefore} (${left} s left): ${step.wait!.formula}`;
  }
  return `${process.kind} ${process.signerId}: step ${Math.min(index + 1, total)}/${total} ${name}, ${waiting}`;
}

/** Prints the stream's events as they arrive until `until` holds. */
async function follow(
  log: EventLog<ZoneEvent>,
  zone: string,
  io: CliIo,
  json: boolean,
  afterVersion: number,
  until: (state: ZoneState) => boolean,
): Promise<ZoneState> {
  let state = await readZone(log, zone);
  const print = (recorded: RecordedEvent<ZoneEvent>, current: ZoneState) => {
    if (json) io.stdout(`${JSON.stringify(recorded)}\n`);
    else io.stderr(`${describeEvent(recorded.event, current)}\n`);
  };
  const history = await log.readStream(zoneStream(zone), { fromVersion: afterVersion + 1 });
  for (const recorded of history) print(recorded, state);
  if (until(state)) return state;
  let printed = history.at(-1)?.streamVersion ?? afterVersion;
  return new Promise<ZoneState>((resolve, reject) => {
    const subscription = log.subscribe({
      afterPosition: history.at(-1)?.position ?? 0,
      streamPrefix: zoneStream(zone),
      onEvent: async (recorded) => {
        // Print each event once, in order, even when one re-read already folded several.
        if (recorded.stream !== zoneStream(zone) || recorded.streamVersion <= printed) return;
        printed = recorded.streamVersion;
        state = await readZone(log, zone);
        print(recorded, state);
        if (until(state)) {
          await subscription.close();
          for (const rest of await log.readStream(zoneStream(zone), { fromVersion: printed + 1 }))
            print(rest, state);
          resolve(state);
        }
      },
      onError: (error) => reject(error instanceof Error ? error : new Error(String(error))),
    });
  });
}

export async function requestAndFollow(
  log: EventLog<ZoneEvent>,
  zone: string,
  kind: ProcessKind,
  signerId: string,
  io: CliIo,
  options: { json: boolean; detach: boolean; unsafeSkipWaits?: string[] },
): Promise<ProcessState> {
  const state = await readZone(log, zone);
  if (!state.defined)
    throw new ChorusError('Chorus_ZoneUndefinedError', {
      message: `zone ${zone} is not defined; run "chorus zone define ${zone} --signer ID" first`,
    });
  const processId = randomUUID();
  const event = zoneEvent(
    'process-requested',
    { zone, source: OPERATOR, traceparent: newTraceparent() },
    {
      processId,
      kind,
      signerId,
      requestedBy: OPERATOR.id,
      ...(options.unsafeSkipWaits?.length ? { unsafeSkipWaits: options.unsafeSkipWaits } : {}),
    },
  );
  const done = (current: ZoneState) => {
    const process = current.processes.find((candidate) => candidate.id === processId);
    if (!process) return false;
    return options.detach ? true : process.status !== 'running';
  };
  // A span in the process's trace (whose root span a sidecar emits when the process ends).
  const spanAttributes = { 'chorus.process.id': processId, 'chorus.process.kind': kind };
  const final = await withSpan(
    `request ${kind} ${signerId}`,
    spanAttributes,
    contextFromTraceparent(event.traceparent),
    async () => {
      await log.append(zoneStream(zone), state.version, [event]);
      return follow(log, zone, io, options.json, state.version, done);
    },
  );
  const process = final.processes.find((candidate) => candidate.id === processId)!;
  if (process.status === 'blocked') {
    throw new ChorusError('Chorus_ProcessBlockedError', {
      message: `${kind} ${signerId} refused before any change:\n${process.reasons!.map((reason) => `  - [${reason.code}] ${reason.message}`).join('\n')}`,
    });
  }
  if (process.status === 'failed')
    throw new ChorusError('Chorus_ProcessFailedError', {
      message: `${kind} ${signerId} failed: ${process.reasons?.[0]?.message ?? 'unknown reason'}`,
    });
  return process;
}

export async function coordinationCommand(
  command: string,
  args: string[],
  io: CliIo,
): Promise<number> {
  const { values, positionals } = parseCommandArgs(command, args, {
    log: { type: 'string' },
    config: { type: 'string' },
    signer: { type: 'string', multiple: true },
    'parent-zone': { type: 'string' },
    'record-ttl': { type: 'string' },
    'child-propagation': { type: 'string' },
    'parent-propagation': { type: 'string' },
    'safety-margin': { type: 'string' },
    'max-zone-ttl': { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    detach: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(COORDINATION_HELP);
    return 0;
  }
  const json = values.json === true;
  const [sub, ...rest] = positionals;

  if (command === 'sidecar') {
    expectPositionals(positionals, 0, command);
    if (!values.config)
      throw new UsageError('give the sidecar configuration with --config FILE', command);
    const config = await loadSidecarConfig(values.config);
    // Plugin packages resolve from the CLI, which depends on every plugin shipped with Chorus.
    const { runtime, telemetry } = await composeSidecar(config, {
      importModule: (specifier: string) => import(specifier),
    });
    await runtime.start();
    io.stderr(
      `[sidecar ${config.id}] following ${config.zones.join(', ')} in ${config.eventLog.path}\n`,
    );
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    await runtime.stop();
    await telemetry.shutdown();
    return 0;
  }

  const log = openLog(eventLogPath(values.log, command));
  try {
    switch (command) {
      case 'zone': {
        if (sub !== 'define')
          throw new UsageError('expected "chorus zone define ZONE --signer ID"', 'zone');
        const zone = normalizeName(rest[0] ?? '');
        const signers = values.signer ?? [];
        if (signers.length === 0)
          throw new UsageError(
            'name the signer(s) that serve the zone now with --signer ID',
            'zone',
          );
        const state = await readZone(log, zone);
        if (state.defined)
          throw new ChorusError('Chorus_ZoneDefinedError', {
            message: `${zone} is already defined (group: ${state.members.join(', ')})`,
          });
        const seconds = (name: string, fallback: number) =>
          integerOption(values[name as 'record-ttl'], name, 'zone') ?? fallback;
        const event = defineZone(
          state,
          { source: OPERATOR, now: new Date().toISOString() },
          {
            parentZone: normalizeName(
              values['parent-zone'] ?? (zone.split('.').slice(1).join('.') || '.'),
            ),
            signerIds: signers,
            timing: {
              childPropagationSeconds: seconds(
                'child-propagation',
                DEFAULT_TIMING.childPropagationSeconds,
              ),
              parentPropagationSeconds: seconds(
                'parent-propagation',
                DEFAULT_TIMING.parentPropagationSeconds,
              ),
              safetyMarginSeconds: seconds('safety-margin', DEFAULT_TIMING.safetyMarginSeconds),
              maxZoneTtlSeconds: seconds('max-zone-ttl', DEFAULT_TIMING.maxZoneTtlSeconds),
            },
            recordTtlSeconds: seconds('record-ttl', 3600),
          },
        );
        await log.append(zoneStream(zone), state.version, [event]);
        io.stdout(json ? `${JSON.stringify(event)}\n` : `${describeEvent(event)}\n`);
        return 0;
      }
      case 'signer': {
        if (sub !== 'add' && sub !== 'remove')
          throw new UsageError('expected "chorus signer add|remove ZONE SIGNER"', 'signer');
        if (rest.length !== 2)
          throw new UsageError(`expected "chorus signer ${sub} ZONE SIGNER"`, 'signer');
        const process = await requestAndFollow(
          log,
          normalizeName(rest[0]!),
          sub === 'add' ? 'add-signer' : 'remove-signer',
          rest[1]!,
          io,
          { json, detach: values.detach === true },
        );
        if (!json) io.stdout(`${process.kind} ${process.signerId}: ${process.status}\n`);
        return 0;
      }
      case 'migrate': {
        expectPositionals(positionals, 1, command);
        const zone = normalizeName(sub ?? '');
        const from = listOption(values.from) ?? [];
        const to = listOption(values.to) ?? [];
        if (to.length === 0)
          throw new UsageError('name the new signer(s) with --to A[,B]', 'migrate');
        for (const id of to)
          await requestAndFollow(log, zone, 'add-signer', id, io, { json, detach: false });
        for (const id of from)
          await requestAndFollow(log, zone, 'remove-signer', id, io, { json, detach: false });
        const state = await readZone(log, zone);
        if (!json) io.stdout(`migrated ${zone}: the group is now ${state.members.join(', ')}\n`);
        return 0;
      }
      case 'status': {
        expectPositionals(positionals, 1, command);
        const zones = sub
          ? [normalizeName(sub)]
          : [
              ...new Set(
                (await log.readAll({ streamPrefix: 'zone/' })).map(
                  (recorded) => recorded.event.zone,
                ),
              ),
            ];
        const states = await Promise.all(zones.map((zone) => readZone(log, zone)));
        if (json) {
          io.stdout(
            `${JSON.stringify(
              states.map((state) => ({
                zone: state.zone,
                members: state.members,
                activeProcess: state.activeProcess,
                pendingRequests: state.pendingRequests,
                processes: state.processes.map((process) => ({
                  id: process.id,
                  kind: process.kind,
                  signerId: process.signerId,
                  status: process.status,
                  currentStep: process.currentStep,
                  steps: process.steps.map((step) => step.name),
                })),
              })),
              null,
              2,
            )}\n`,
          );
          return 0;
        }
        for (const state of states) {
          io.stdout(`${state.zone}  group: ${state.members.join(', ') || '(undefined)'}\n`);
          io.stdout(
            `  ${state.activeProcess ? describeProcess(state.activeProcess) : 'no process in flight'}\n`,
          );
          for (const process of state.processes
            .filter((candidate) => candidate !== state.activeProcess)
            .slice(-5))
            io.stdout(`  earlier: ${describeProcess(process)}\n`);
        }
        return 0;
      }
      case 'events': {
        expectPositionals(positionals, 1, command);
        const zone = normalizeName(sub ?? '');
        const events = await log.readStream(zoneStream(zone));
        let state = foldZone(zone, []);
        for (const recorded of events) {
          state = foldZone(
            zone,
            events.slice(0, recorded.streamVersion).map((entry) => entry.event),
          );
          io.stdout(
            json
              ? `${JSON.stringify(recorded)}\n`
              : `${String(recorded.streamVersion).padStart(4)} ${describeEvent(recorded.event, state)}\n`,
          );
        }
        return 0;
      }
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } finally {
    await log.close();
  }
}
