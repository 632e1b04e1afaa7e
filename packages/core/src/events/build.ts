import type { GroupEvent, GroupEventOf, GroupEventType } from './group-events.js';
import type { ObservationEvent, ObservationEventType } from './observation-events.js';
import {
  EVENT_SCHEMA_VERSION,
  type EventSource,
  type ZoneEvent,
  type ZoneEventOf,
  type ZoneEventType,
} from './zone-events.js';

/** Every event in the log: the zone stream's, the observation stream's and the group stream's. */
export type ChorusEvent = ZoneEvent | ObservationEvent | GroupEvent;

/** Every group event type, once. */
const GROUP_EVENT_TYPES: Record<GroupEventType, true> = {
  'group-defined': true,
  'group-zones-added': true,
};

/** True for an event of the group catalogue (`group/<name>` streams). */
export function isGroupEvent(event: ChorusEvent): event is GroupEvent {
  return Object.hasOwn(GROUP_EVENT_TYPES, event.type);
}

/** Every observation event type, once: the compiler insists on each. */
const OBSERVATION_EVENT_TYPES: Record<ObservationEventType, true> = {
  'wire-version-observed': true,
  'invariant-violated': true,
  'invariant-restored': true,
  'validation-failed': true,
  'validator-disagreed': true,
  'observer-summary': true,
};

/** True for an event of the observation catalogue (`observations/<zone>` streams). */
export function isObservationEvent(event: ChorusEvent): event is ObservationEvent {
  return Object.hasOwn(OBSERVATION_EVENT_TYPES, event.type);
}

/** True for an event of the zone catalogue (`zone/<zone>` streams). */
export function isZoneEvent(event: ChorusEvent): event is ZoneEvent {
  return !isObservationEvent(event) && !isGroupEvent(event);
}

export type ObservationEventOf<Type extends ObservationEventType> = Extract<
  ObservationEvent,
  { type: Type }
>;

/** The envelope fields a builder needs besides the type and the data. */
export interface EventFields {
  zone: string;
  source: EventSource;
  /** ISO 8601; the current time when absent. */
  occurredAt?: string;
  traceparent?: string;
}

function envelope<Type extends string, Data>(type: Type, fields: EventFields, data: Data) {
  return {
    schemaVersion: EVENT_SCHEMA_VERSION,
    type,
    zone: fields.zone,
    occurredAt: fields.occurredAt ?? new Date().toISOString(),
    source: fields.source,
    ...(fields.traceparent ? { traceparent: fields.traceparent } : {}),
    data,
  };
}

/**
 * Builds a zone-stream event of `type`: the data is checked against the catalogue at compile time.
 *
 * @example
 * zoneEvent('signer-registered', { zone, source }, { signer });
 */
export function zoneEvent<Type extends ZoneEventType>(
  type: Type,
  fields: EventFields,
  data: ZoneEventOf<Type>['data'],
): ZoneEventOf<Type> {
  return envelope(type, fields, data) as ZoneEvent as ZoneEventOf<Type>;
}

/** Builds an observation-stream event of `type` (see {@link zoneEvent}). */
export function observationEvent<Type extends ObservationEventType>(
  type: Type,
  fields: EventFields,
  data: ObservationEventOf<Type>['data'],
): ObservationEventOf<Type> {
  return envelope(type, fields, data) as ObservationEvent as ObservationEventOf<Type>;
}

/** Builds a group-stream event of `type` (see {@link zoneEvent}). */
export function groupEvent<Type extends GroupEventType>(
  type: Type,
  fields: Omit<EventFields, 'zone'> & { group: string },
  data: GroupEventOf<Type>['data'],
): GroupEventOf<Type> {
  const event = {
    schemaVersion: EVENT_SCHEMA_VERSION,
    type,
    group: fields.group,
    occurredAt: fields.occurredAt ?? new Date().toISOString(),
    source: fields.source,
    ...(fields.traceparent ? { traceparent: fields.traceparent } : {}),
    data,
  };
  return event as GroupEvent as GroupEventOf<Type>;
}
