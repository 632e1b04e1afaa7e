/**
 * A demo step that is stopped and undone: the process is requested, stopped once a named step
 * has started (so it ends at the safe point after that step), and its reverse is run from there.
 */
import {
  zoneEvent,
  type EventLog,
  type KeyRole,
  type ProcessKind,
  type ZoneEvent,
} from '@chorus/core';
import { undoRequestFor, whyNotUndoable, type ProcessState, type ZoneState } from '@chorus/engine';
import { LabError } from '@chorus/lab';
import { appendToZone, readZone } from '../coordination/event-log.js';
import { follow, OPERATOR, requestAndFollow } from '../coordination/follow.js';
import type { CliIo } from '../io.js';

export interface StopAndUndoStep {
  kind: ProcessKind;
  signerId: string;
  role?: KeyRole;
  /** Stop once this step has started: the process stops after it. */
  stopAfter: string;
  /** Run the reverse process afterwards (default true). */
  undo?: boolean;
}

const inFlight = (process: ProcessState | undefined) =>
  process?.status === 'running' || process?.status === 'needs-operator';

/** Follows the zone until `until` holds for the process. */
async function followProcess(
  log: EventLog<ZoneEvent>,
  zone: string,
  io: CliIo,
  processId: string,
  until: (process: ProcessState | undefined) => boolean,
): Promise<ProcessState | undefined> {
  const find = (state: ZoneState) => state.processes.find((process) => process.id === processId);
  const state = await follow(log, zone, io, {
    json: false,
    afterVersion: (await readZone(log, zone)).version,
    until: (next) => until(find(next)),
    include: (event) => 'processId' in event.data && event.data.processId === processId,
  });
  return find(state);
}

/** Runs `step`, stops it after `stopAfter`, then undoes it (unless told not to); returns the last process. */
export async function stopThenUndo(
  log: EventLog<ZoneEvent>,
  zone: string,
  step: StopAndUndoStep,
  io: CliIo,
  say: (line: string) => void,
  onUndo: (undo: { kind: ProcessKind; signerId: string }) => void,
): Promise<ProcessState> {
  const started = await requestAndFollow(log, zone, step.kind, step.signerId, io, {
    json: false,
    detach: true,
    ...(step.role ? { role: step.role } : {}),
  });
  const index = started.steps.findIndex((definition) => definition.name === step.stopAfter);
  if (index < 0) throw new LabError(`${step.kind} has no step named ${step.stopAfter}`);
  await followProcess(
    log,
    zone,
    io,
    started.id,
    (process) => !inFlight(process) || process!.stepStates[index]!.status !== 'pending',
  );
  say(`stopping ${step.kind} ${step.signerId} during its step ${step.stopAfter}`);
  await appendToZone(log, zone, () =>
    zoneEvent(
      'process-stop-requested',
      { zone, source: OPERATOR },
      { processId: started.id, requestedBy: OPERATOR.id, reason: 'demo: stop, then undo' },
    ),
  );
  const stopped = await followProcess(log, zone, io, started.id, (process) => !inFlight(process));
  if (stopped?.status !== 'stopped')
    throw new LabError(`${step.kind} ${step.signerId} ended ${stopped?.status}, not stopped`);
  if (step.undo === false) {
    say(`stopped before step ${(stopped.stoppedAtStep ?? 0) + 1} of ${stopped.steps.length}`);
    return stopped;
  }
  const problem = whyNotUndoable(await readZone(log, zone), stopped);
  if (problem) throw new LabError(`${step.kind} ${step.signerId} cannot be undone: ${problem}`);
  const undo = undoRequestFor(stopped);
  say(
    `stopped before step ${(stopped.stoppedAtStep ?? 0) + 1} of ${stopped.steps.length}; undoing it with ${undo.kind} ${undo.signerId}${undo.successorTag === undefined ? '' : `, back to ${undo.role} ${undo.successorTag}`}`,
  );
  onUndo({ kind: undo.kind, signerId: undo.signerId });
  return requestAndFollow(log, zone, undo.kind, undo.signerId, io, {
    json: false,
    detach: false,
    undoOf: started.id,
    ...(undo.role ? { role: undo.role } : {}),
    ...(undo.successorTag !== undefined ? { successorTag: undo.successorTag } : {}),
  });
}
