/**
 * The group catalogue: a named set of zones that the same signers sign and that follow one
 * request together (MUSIC's "signer group"). One stream per group, `group/<name>`, written only
 * by operators. Sidecars never read it: each zone's own stream stays the only thing they act on.
 */
import type { EnvelopeFields, TimingSettings } from './zone-events.js';

/** Letters, digits, `-`, `_` and `.`, 1–63 characters, starting with a letter or digit. */
export const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** The stream of a group's events. */
export function groupStream(group: string): string {
  return `group/${group}`;
}

/** The envelope of group events: like a zone event's, named by group instead of zone. */
export interface GroupEnvelope<Type extends string, Data> extends EnvelopeFields<Type, Data> {
  group: string;
}

export type GroupEvent =
  | GroupEnvelope<
      'group-defined',
      {
        /** The signers that sign the group's zones now; a later definition replaces it. */
        signers: string[];
        timing: TimingSettings;
        recordTtlSeconds: number;
      }
    >
  | GroupEnvelope<'group-zones-added', { zones: string[] }>;

export type GroupEventType = GroupEvent['type'];
export type GroupEventOf<Type extends GroupEventType> = Extract<GroupEvent, { type: Type }>;
