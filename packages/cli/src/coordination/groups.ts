/** Reading and writing groups: named sets of zones that follow one request together. */
import {
  ChorusError,
  GROUP_NAME,
  groupEvent,
  groupStream,
  hasValidSignature,
  type EventLog,
  type GroupEvent,
  type TimingSettings,
  type ZoneEvent,
} from '@chorus/core';
import { UsageError } from '../args.js';
import { foldPolicyOf } from './event-log.js';
import { OPERATOR } from './follow.js';

export interface GroupState {
  name: string;
  /** The stream version: what to expect on the next append. */
  version: number;
  defined: boolean;
  signers: string[];
  timing?: TimingSettings;
  recordTtlSeconds?: number;
  /** Zones in the order they were added. */
  zones: string[];
  /** Events refused because no trusted operator signed them, described. */
  refused: string[];
  /** False when the log was read without a trust file: nothing was verified. */
  verified: boolean;
}

/** The group name from the command line, or a usage error saying what a name may hold. */
export function groupArgument(value: string | undefined, command: string): string {
  if (value === undefined || !GROUP_NAME.test(value))
    throw new UsageError(
      `expected a group name (letters, digits, ".", "-" and "_", at most 63 characters), not ${JSON.stringify(value ?? '')}`,
      command,
    );
  return value;
}

/** The group log view: group events live beside zone events in the same log. */
export function groupLog(log: EventLog<ZoneEvent>): EventLog<GroupEvent> {
  return log as unknown as EventLog<GroupEvent>;
}

/** Why an operator's group event is not to be trusted, or undefined when it is. */
function refusal(event: GroupEvent, operators: readonly string[] | undefined): string | undefined {
  if (!operators) return undefined;
  if (!hasValidSignature(event)) return 'unsigned or badly signed';
  if (!operators.includes(event.signature!.keyId)) return 'signed by a key of no operator';
  return undefined;
}

function applyGroupEvent(state: GroupState, event: GroupEvent): void {
  switch (event.type) {
    case 'group-defined':
      state.defined = true;
      state.signers = [...event.data.signers];
      state.timing = event.data.timing;
      state.recordTtlSeconds = event.data.recordTtlSeconds;
      return;
    case 'group-zones-added':
      for (const zone of event.data.zones) if (!state.zones.includes(zone)) state.zones.push(zone);
      return;
  }
}

/** The group's state from its stream; with a trust file, only trusted operators' events count. */
export async function readGroup(log: EventLog<ZoneEvent>, name: string): Promise<GroupState> {
  const anchor = foldPolicyOf(log)?.anchor;
  const operators = anchor ? Object.values(anchor.operators) : undefined;
  const events = await groupLog(log).readStream(groupStream(name));
  const state: GroupState = {
    name,
    version: events.length,
    defined: false,
    signers: [],
    zones: [],
    refused: [],
    verified: operators !== undefined,
  };
  for (const recorded of events) {
    const why = refusal(recorded.event, operators);
    if (why)
      state.refused.push(`${recorded.event.type} at version ${recorded.streamVersion}: ${why}`);
    else applyGroupEvent(state, recorded.event);
  }
  return state;
}

/** The group's state; an error when it was never defined. */
export async function readDefinedGroup(
  log: EventLog<ZoneEvent>,
  name: string,
): Promise<GroupState> {
  const state = await readGroup(log, name);
  if (state.defined) return state;
  throw new ChorusError('Chorus_UnknownGroupError', {
    message: `no group ${name} in the log${state.refused.length > 0 ? ` (refused: ${state.refused.join('; ')})` : ''}; define it with "chorus group define ${name} --signer ID"`,
  });
}

/** Appends the zones the group does not list yet (nothing when it lists them all). */
export async function addZonesToGroup(
  log: EventLog<ZoneEvent>,
  name: string,
  zones: readonly string[],
): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    const state = await readGroup(log, name);
    const added = zones.filter((zone) => !state.zones.includes(zone));
    if (added.length === 0) return;
    const event = groupEvent(
      'group-zones-added',
      { group: name, source: OPERATOR },
      { zones: added },
    );
    try {
      await groupLog(log).append(groupStream(name), state.version, [event]);
      return;
    } catch (error) {
      if (attempt >= 4 || !(error instanceof ChorusError) || !error.isRetryable) throw error;
    }
  }
}
