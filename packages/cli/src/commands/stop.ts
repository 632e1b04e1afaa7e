/**
 * `chorus stop ZONE`: ends the process in flight at its next safe point (a `process-stop-requested`
 * the sidecars act on), and follows it until it has stopped. `chorus undo ZONE`: runs the reverse
 * of the last stopped process from wherever it stopped, with the same waits and proofs.
 */
import { ChorusError, zoneEvent } from '@chorus/core';
import { undoRequestFor, whyNotUndoable, type ProcessState, type ZoneState } from '@chorus/engine';
import { expectPositionals, parseCommandArgs, UsageError } from '../args.js';
import { describeEvent, processName } from '../coordination/describe.js';
import { appendToZone, LOG_OPTIONS, readZone, withEventLog } from '../coordination/event-log.js';
import { follow, OPERATOR, requestAndFollow } from '../coordination/follow.js';
import { zoneArgument } from '../coordination/zone-argument.js';
import { STOP_HELP, UNDO_HELP } from '../help.js';
import type { CliIo } from '../io.js';

const inFlight = (process: ProcessState) =>
  process.status === 'running' || process.status === 'needs-operator';

/** The process to stop: the one named, or the only one in flight. */
export function processToStop(state: ZoneState, processId: string | undefined): ProcessState {
  const active = state.processes.filter(inFlight);
  if (processId !== undefined) {
    const named = state.processes.find((process) => process.id === processId);
    if (!named) throw new UsageError(`${state.zone} has no process ${processId}`, 'stop');
    if (!inFlight(named))
      throw new ChorusError('Chorus_NotInFlightError', {
        message: `${processName(named.kind, named.signerId)} (${named.id}) is ${named.status}: nothing to stop`,
      });
    return named;
  }
  if (active.length === 0)
    throw new ChorusError('Chorus_NotInFlightError', {
      message: `no process is in flight for ${state.zone}: nothing to stop`,
    });
  if (active.length > 1)
    throw new UsageError(
      `${active.length} processes are in flight for ${state.zone}; name one with --process: ${active.map((process) => `${process.id} (${processName(process.kind, process.signerId)})`).join(', ')}`,
      'stop',
    );
  return active[0]!;
}

export async function stopCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('stop', args, {
    ...LOG_OPTIONS,
    process: { type: 'string' },
    reason: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(STOP_HELP);
    return 0;
  }
  expectPositionals(positionals, 1, 'stop');
  const zone = zoneArgument(positionals[0], 'stop', 'chorus stop ZONE');
  const json = values.json === true;
  const ended = await withEventLog(values, 'stop', async (log) => {
    let target: ProcessState | undefined;
    const event = await appendToZone(log, zone, (state) => {
      target = processToStop(state, values.process);
      return zoneEvent(
        'process-stop-requested',
        { zone, source: OPERATOR },
        {
          processId: target.id,
          requestedBy: OPERATOR.id,
          ...(values.reason ? { reason: values.reason } : {}),
        },
      );
    });
    if (!json) io.stderr(`${describeEvent(event)}\n`);
    const processId = target!.id;
    const state = await follow(log, zone, io, {
      json,
      afterVersion: (await readZone(log, zone)).version,
      until: (next) => !inFlight(next.processes.find((process) => process.id === processId)!),
      include: (next) => 'processId' in next.data && next.data.processId === processId,
    });
    return state.processes.find((process) => process.id === processId)!;
  });
  if (!json) io.stdout(`${processName(ended.kind, ended.signerId)}: ${ended.status}\n`);
  return ended.status === 'stopped' || ended.status === 'completed' ? 0 : 1;
}

/** The last stopped process of the zone that nothing has undone yet. */
export function processToUndo(state: ZoneState): ProcessState {
  const stopped = state.processes.filter(
    (process) => process.status === 'stopped' && process.undoneBy === undefined,
  );
  const last = stopped.at(-1);
  if (!last)
    throw new ChorusError('Chorus_NothingToUndoError', {
      message: `${state.zone} has no stopped process to undo ("chorus stop" ends one at a safe point first)`,
    });
  const problem = whyNotUndoable(state, last);
  if (problem)
    throw new ChorusError('Chorus_NotUndoableError', {
      message: `${processName(last.kind, last.signerId)} cannot be undone: ${problem}`,
    });
  return last;
}

export async function undoCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('undo', args, {
    ...LOG_OPTIONS,
    detach: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(UNDO_HELP);
    return 0;
  }
  expectPositionals(positionals, 1, 'undo');
  const zone = zoneArgument(positionals[0], 'undo', 'chorus undo ZONE');
  const json = values.json === true;
  const process = await withEventLog(values, 'undo', async (log) => {
    const undone = processToUndo(await readZone(log, zone));
    const undo = undoRequestFor(undone);
    if (!json)
      io.stderr(
        `undoing ${processName(undone.kind, undone.signerId)} (${undone.id}, stopped before step ${(undone.stoppedAtStep ?? 0) + 1}): ${processName(undo.kind, undo.signerId)}${undo.successorTag === undefined ? '' : `, back to ${undo.role} ${undo.successorTag}`}\n`,
      );
    return requestAndFollow(log, zone, undo.kind, undo.signerId, io, {
      json,
      detach: values.detach === true,
      undoOf: undone.id,
      ...(undo.role ? { role: undo.role } : {}),
      ...(undo.successorTag !== undefined ? { successorTag: undo.successorTag } : {}),
    });
  });
  if (!json) io.stdout(`${processName(process.kind, process.signerId)}: ${process.status}\n`);
  return 0;
}
