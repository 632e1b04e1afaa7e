/**
 * Key events and rolls: the keys entering and leaving each signer's own DNSKEY RRset, from the
 * `changes` of `signer-keys-observed`, and what each roll process replaced with what.
 */
import type { RollSubject, ZoneEvent } from '@chorus/core';
import type { KeyEvent, RollTimeline } from './model.js';

type KeyEventDraft = Omit<KeyEvent, 'id'>;

/** The part of a process the key events need. */
export interface KeyProcess {
  id: string;
  signerId: string;
  startedAt?: string;
  endedAt?: string;
  rollSubject?: unknown;
}

const time = (iso: string | undefined): number => (iso === undefined ? NaN : Date.parse(iso));

/** Every key that appeared or disappeared, in the order of `events` (sorted by time). */
export function keyEventsOf(
  events: readonly ZoneEvent[],
  laneOf: (signerId: string) => string,
): KeyEventDraft[] {
  const drafts: KeyEventDraft[] = [];
  for (const event of events) {
    if (event.type !== 'signer-keys-observed') continue;
    for (const change of event.data.changes ?? []) {
      if (change.change !== 'appeared' && change.change !== 'disappeared') continue;
      drafts.push({
        signerId: event.data.signerId,
        laneId: laneOf(event.data.signerId),
        at: event.occurredAt,
        keyTag: change.keyTag,
        role: change.role,
        change: change.change,
      });
    }
  }
  return drafts;
}

/** The roll of `signerId` in flight at `at`, if any. */
function rollAt(processes: readonly KeyProcess[], signerId: string, at: string) {
  const moment = time(at);
  return processes.find(
    (process) =>
      process.rollSubject !== undefined &&
      process.signerId === signerId &&
      time(process.startedAt) <= moment &&
      (process.endedAt === undefined || moment <= time(process.endedAt)),
  );
}

/** Numbers the key events `K1`, `K2`, … and names the roll each belongs to. */
export function numberKeyEvents(
  drafts: readonly KeyEventDraft[],
  processes: readonly KeyProcess[],
): KeyEvent[] {
  return drafts.map((draft, index) => {
    const roll = rollAt(processes, draft.signerId, draft.at);
    return { id: `K${index + 1}`, ...draft, ...(roll ? { processId: roll.id } : {}) };
  });
}

/** A roll as the report shows it: the successor named at the start, else the keys that entered. */
export function rollTimeline(
  processId: string,
  roll: RollSubject,
  keyEvents: readonly KeyEvent[],
): RollTimeline {
  const entered = keyEvents
    .filter(
      (event) =>
        event.processId === processId && event.change === 'appeared' && event.role === roll.role,
    )
    .map((event) => event.keyTag);
  const successors = roll.successorTag === undefined ? entered : [roll.successorTag];
  return {
    role: roll.role,
    mode: roll.mode,
    predecessorTags: [...roll.predecessorTags],
    successorTags: [...new Set(successors)],
  };
}

/** `roll-zsk bind (held)`; `add-signer powerdns`. */
export const processLabel = (kind: string, signerId: string, roll?: { mode: string }): string =>
  `${kind} ${signerId}${roll ? ` (${roll.mode})` : ''}`;

/** `ZSK 1111 → 2345`, or `ZSK 1111 → ?` before a successor is known. */
export function rollText(roll: RollTimeline): string {
  const tags = (list: readonly number[]) => (list.length > 0 ? list.join(' ') : '?');
  return `${roll.role} ${tags(roll.predecessorTags)} → ${tags(roll.successorTags)}`;
}
