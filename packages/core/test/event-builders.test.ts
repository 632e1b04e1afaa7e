// The event builders: every event carries the same envelope, and stays plain JSON.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  assertNoSecrets,
  assertPlainJson,
  EVENT_SCHEMA_VERSION,
  isObservationEvent,
  isZoneEvent,
  observationEvent,
  zoneEvent,
  ZONE_EVENT_AUTHORITY,
  type ChorusEvent,
  type EventFields,
} from '../src/index.js';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const fields: EventFields = {
  zone: 'example.test.',
  source: { kind: 'sidecar', id: 'ns1-bind' },
  occurredAt: '2026-01-02T03:04:05.678Z',
};

afterEach(() => {
  vi.useRealTimers();
});

describe('zoneEvent', () => {
  it('wraps the data in the envelope: schema version, type, zone, time, source, traceparent', () => {
    const event = zoneEvent(
      'step-completed',
      { ...fields, traceparent: TRACEPARENT },
      { processId: 'p-1', stepIndex: 2 },
    );
    expect(event).toStrictEqual({
      schemaVersion: 1,
      type: 'step-completed',
      zone: 'example.test.',
      occurredAt: '2026-01-02T03:04:05.678Z',
      source: { kind: 'sidecar', id: 'ns1-bind' },
      traceparent: TRACEPARENT,
      data: { processId: 'p-1', stepIndex: 2 },
    });
    expect(event.schemaVersion).toBe(EVENT_SCHEMA_VERSION);
  });

  it('leaves traceparent out when there is none, so the JSON has no undefined member', () => {
    for (const traceparent of [undefined, '']) {
      const event = zoneEvent(
        'process-completed',
        { ...fields, traceparent },
        { processId: 'p-1', groupAfter: ['a'] },
      );
      expect(Object.keys(event)).not.toContain('traceparent');
      expect(() => assertPlainJson(event)).not.toThrow();
    }
  });

  it('stamps the current time when occurredAt is absent', () => {
    vi.useFakeTimers({ now: new Date('2030-05-06T07:08:09.010Z') });
    const event = zoneEvent(
      'step-completed',
      { zone: fields.zone, source: fields.source },
      { processId: 'p-1', stepIndex: 0 },
    );
    expect(event.occurredAt).toBe('2030-05-06T07:08:09.010Z');
  });

  it('builds plain JSON that survives a round trip and carries no secret-looking key', () => {
    const event = zoneEvent(
      'process-failed',
      { ...fields, traceparent: TRACEPARENT },
      { processId: 'p-9', reason: { code: 'last-signer', message: 'cannot remove the last one' } },
    );
    expect(() => assertPlainJson(event)).not.toThrow();
    expect(() => assertNoSecrets(event)).not.toThrow();
    expect(JSON.parse(JSON.stringify(event))).toStrictEqual(event);
  });
});

describe('parent-change-needed', () => {
  it('is plain JSON without secrets, written by the same authors as postcondition-met', () => {
    const event = zoneEvent('parent-change-needed', fields, {
      processId: 'p-1',
      stepIndex: 5,
      parentZone: 'test.',
      kind: 'ns',
      ns: { add: ['ns1.example.test.'], remove: [], keep: ['ns1.other.example.'] },
      glue: { add: [{ name: 'ns1.example.test.', addresses: ['192.0.2.2'] }], remove: [] },
      differs: ['the parent lists NS ns9.elsewhere.example., which no signer serves'],
    });
    expect(isZoneEvent(event)).toBe(true);
    expect(() => assertPlainJson(event)).not.toThrow();
    expect(() => assertNoSecrets(event)).not.toThrow();
    expect(JSON.parse(JSON.stringify(event))).toStrictEqual(event);
    expect(ZONE_EVENT_AUTHORITY['parent-change-needed']).toEqual(
      ZONE_EVENT_AUTHORITY['postcondition-met'],
    );
    expect(ZONE_EVENT_AUTHORITY['parent-change-needed'].roles).toEqual(['sidecar']);
  });
});

describe('observationEvent', () => {
  it('uses the same envelope as zone events', () => {
    const data = {
      invariant: 'I2' as const,
      key: 'I2 ns1',
      providers: ['bind'],
      records: ['example.test. DNSKEY 257 3 13 AA=='],
      detail: 'a DS without a DNSKEY',
    };
    const event = observationEvent('invariant-violated', fields, data);
    expect(event).toStrictEqual({
      schemaVersion: EVENT_SCHEMA_VERSION,
      type: 'invariant-violated',
      zone: fields.zone,
      occurredAt: fields.occurredAt,
      source: fields.source,
      data,
    });
    expect(JSON.parse(JSON.stringify(event))).toStrictEqual(event);
  });
});

describe('isZoneEvent and isObservationEvent', () => {
  const zone = ['zone-defined', 'signer-registered', 'process-requested', 'step-completed'];
  const observation = [
    'wire-version-observed',
    'invariant-violated',
    'invariant-restored',
    'validation-failed',
    'validator-disagreed',
    'observer-summary',
  ];
  const build = (type: string) => ({ ...fields, schemaVersion: 1, type, data: {} }) as ChorusEvent;

  it('tells the two catalogues apart', () => {
    for (const type of zone) {
      expect([type, isZoneEvent(build(type)), isObservationEvent(build(type))]).toEqual([
        type,
        true,
        false,
      ]);
    }
    for (const type of observation) {
      expect([type, isZoneEvent(build(type)), isObservationEvent(build(type))]).toEqual([
        type,
        false,
        true,
      ]);
    }
  });

  it('does not take inherited property names for observation types', () => {
    for (const type of ['toString', 'constructor', 'hasOwnProperty']) {
      expect(isObservationEvent(build(type))).toBe(false);
    }
  });
});
