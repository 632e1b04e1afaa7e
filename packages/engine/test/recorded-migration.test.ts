import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyZoneEvent, emptyZoneState, foldZone, withoutFinishedDetail } from '../src/state.js';
import { computeWait } from '../src/waits.js';
import { decide } from '../src/decide.js';
import type { ZoneEvent } from '@chorus/core';

// A stream recorded from a real `chorus demo` run against the lab (BIND, PowerDNS and Knot,
// three sidecar processes, the registry agent): example.test migrated from BIND to PowerDNS + Knot.
const events = JSON.parse(
  readFileSync(new URL('./fixtures/coordination/demo-migration.json', import.meta.url), 'utf8'),
) as ZoneEvent[];

/** Every state of the fold, and each one's JSON right after it was made. */
function everyState() {
  const states = [emptyZoneState('example.test.')];
  for (const event of events) states.push(applyZoneEvent(states.at(-1)!, event));
  return { states, snapshots: states.map((one) => JSON.stringify(one)) };
}

describe('the fold of a recorded migration', () => {
  const state = foldZone('example.test.', events);

  it('ends with exactly the new group and three completed processes', () => {
    expect(state.members).toEqual(['powerdns', 'knot']);
    expect(
      state.processes.map((process) => `${process.kind} ${process.signerId} ${process.status}`),
    ).toEqual([
      'add-signer powerdns completed',
      'add-signer knot completed',
      'remove-signer bind completed',
    ]);
    expect(state.activeProcess).toBeNull();
    expect(
      decide(state, { source: { kind: 'test', id: 'replay' }, now: new Date().toISOString() }),
    ).toEqual({ kind: 'idle' });
  });

  it('records every step once, each with every participant reconciled once', () => {
    for (const process of state.processes) {
      const mine = events.filter(
        (event) => 'processId' in event.data && event.data.processId === process.id,
      );
      const count = (type: ZoneEvent['type']) => mine.filter((event) => event.type === type).length;
      expect(count('step-started')).toBe(process.steps.length);
      expect(count('step-completed')).toBe(process.steps.length);
      for (const [index, step] of process.stepStates.entries()) {
        expect(Object.keys(step.reconciled).sort()).toEqual(Object.keys(step.desired ?? {}).sort());
        expect(step.status, `${process.kind} step ${index}`).toBe('completed');
      }
    }
  });

  it('persisted waits that the formulas reproduce from the recorded observations', () => {
    let replay = emptyZoneState('example.test.');
    let checked = 0;
    for (const event of events) {
      if (event.type === 'wait-scheduled') {
        const process = replay.activeProcess!;
        const formula = process.steps[event.data.stepIndex]!.wait!;
        const step = process.stepStates[event.data.stepIndex]!;
        const recomputed = computeWait(formula, process, replay.timing, step.postconditionMetAt!);
        expect(recomputed.notBefore).toBe(event.data.notBefore);
        expect(recomputed.terms).toEqual(event.data.terms);
        checked += 1;
      }
      replay = applyZoneEvent(replay, event);
    }
    expect(checked).toBe(2 + 2 + 3);
  });

  it('never waited less than a TTL after the parent or the signers changed', () => {
    for (const event of events.filter((candidate) => candidate.type === 'wait-scheduled')) {
      const data = event.data as { notBefore: string; terms: Record<string, number | string> };
      const observed = ['t_ds', 't_pns', 't_stop']
        .map((key) => data.terms[key])
        .find((value) => typeof value === 'string') as string;
      const ttl = Math.max(
        ...['TTLds', 'TTLnsP', 'TTLsig'].map((key) => Number(data.terms[key] ?? 0)),
      );
      expect(Date.parse(data.notBefore) - Date.parse(observed)).toBeGreaterThanOrEqual(ttl * 1000);
    }
  });

  it('shares finished processes between states, and never changes a state it was given', () => {
    const states = [emptyZoneState('example.test.')];
    for (const event of events) states.push(applyZoneEvent(states.at(-1)!, event));
    const snapshots = states.map((one) => JSON.stringify(one));
    // A second process-completed for the finished first process: the fold copies it first.
    const last = states.at(-1)!;
    const finished = last.processes[0]!;
    const repeated = applyZoneEvent(last, {
      ...events.find((event) => event.type === 'process-completed')!,
      occurredAt: '2099-01-01T00:00:00.000Z',
    });
    expect(repeated.processes[0]!.endedAt).toBe('2099-01-01T00:00:00.000Z');
    expect(repeated.processes[0]).not.toBe(finished);
    expect(repeated.processes[1]).toBe(last.processes[1]);
    // The first process ended long before the last event: the last states share it.
    expect(states.at(-2)!.processes[0]).toBe(finished);
    states.forEach((one, index) => expect(JSON.stringify(one)).toBe(snapshots[index]));
    expect(JSON.stringify(last)).toBe(snapshots.at(-1));
  });

  it('shares the signers an event leaves alone, and copies the one it changes', () => {
    const { states, snapshots } = everyState();
    let changedSigners = 0;
    events.forEach((event, index) => {
      const [before, after] = [states[index]!, states[index + 1]!];
      const changed =
        event.type === 'signer-keys-observed' || event.type === 'signer-content-observed'
          ? event.data.signerId
          : undefined;
      if (!['signer-keys-observed', 'signer-content-observed', 'step-started'].includes(event.type))
        return;
      for (const id of Object.keys(before.signers)) {
        if (id === changed) {
          expect(after.signers[id]).not.toBe(before.signers[id]);
          changedSigners += 1;
        } else expect(after.signers[id], `${event.type}: ${id}`).toBe(before.signers[id]);
      }
    });
    expect(changedSigners).toBeGreaterThan(0);
    expect(states.map((one) => JSON.stringify(one))).toEqual(snapshots);
  });

  it('shares the steps an event leaves alone, and copies the one it changes', () => {
    const { states, snapshots } = everyState();
    let checked = 0;
    events.forEach((event, index) => {
      if (event.type !== 'signer-reconciled' && event.type !== 'postcondition-met') return;
      const { processId, stepIndex } = event.data;
      const find = (one: (typeof states)[number]) =>
        one.processes.find((process) => process.id === processId)!;
      const [before, after] = [find(states[index]!), find(states[index + 1]!)];
      after.stepStates.forEach((step, at) => {
        if (at === stepIndex) expect(step).not.toBe(before.stepStates[at]);
        else
          expect(step, `${event.type} step ${stepIndex}: step ${at}`).toBe(before.stepStates[at]);
      });
      checked += 1;
    });
    expect(checked).toBeGreaterThan(10);
    expect(states.map((one) => JSON.stringify(one))).toEqual(snapshots);
  });

  it('copies a finished process an event changes again, once, leaving the state it was given', () => {
    const before = foldZone('example.test.', events);
    const snapshot = JSON.stringify(before);
    const finished = before.processes[0]!;
    const notified = (stepIndex: number): ZoneEvent => ({
      schemaVersion: 1,
      type: 'parent-notified',
      zone: 'example.test.',
      occurredAt: '2026-11-22T15:00:00.000Z',
      source: { kind: 'sidecar', id: 'powerdns' },
      data: { processId: finished.id, stepIndex, rrtype: 'CDS', targets: ['scanner.test.'] },
    });
    const once = applyZoneEvent(before, notified(0));
    const twice = applyZoneEvent(once, notified(1));

    expect(JSON.stringify(before)).toBe(snapshot);
    expect(once.processes[0]).not.toBe(finished);
    expect(once.processes[0]!.stepStates[0]!.parentNotified?.targets).toEqual(['scanner.test.']);
    expect(once.processes[0]!.stepStates[1]).toBe(finished.stepStates[1]);
    expect(once.processes[0]!.steps).toBe(finished.steps);
    expect(twice.processes[0]!.stepStates[0]).toBe(once.processes[0]!.stepStates[0]);
    expect(twice.processes[0]!.stepStates[1]!.parentNotified?.rrtype).toBe('CDS');
    expect(once.processes[0]!.stepStates[1]!.parentNotified).toBeUndefined();
  });

  it('keeps one frozen copy of what every zone holds alike, however many zones parse it', () => {
    const parsed = () => JSON.parse(JSON.stringify(events)) as ZoneEvent[];
    const [one, other] = [foldZone('example.test.', parsed()), foldZone('example.test.', parsed())];
    for (const [index, process] of one.processes.entries()) {
      expect(process.steps).toBe(other.processes[index]!.steps);
      expect(Object.isFrozen(process.steps[0])).toBe(true);
    }
    for (const [id, signer] of Object.entries(one.signers)) {
      expect(signer.endpoints).toBe(other.signers[id]!.endpoints);
      expect(signer.nameServerNames).toBe(other.signers[id]!.nameServerNames);
      expect(signer.keys).not.toBe(other.signers[id]!.keys);
    }
    expect(one.timing).toBe(other.timing);
    expect(JSON.stringify(one)).toBe(JSON.stringify(state));
  });

  it('decides the same at every point without the finished processes’ desired states', () => {
    const context = { source: { kind: 'test', id: 'replay' }, now: '2030-01-01T00:00:00.000Z' };
    let replay = emptyZoneState('example.test.');
    let trimmedSome = 0;
    for (const event of events) {
      replay = applyZoneEvent(replay, event);
      const trimmed = withoutFinishedDetail(replay);
      if (trimmed !== replay) trimmedSome += 1;
      expect(decide(trimmed, context)).toEqual(decide(replay, context));
      for (const process of trimmed.processes)
        if (process.status === 'completed')
          expect(process.stepStates.every((step) => step.desired === undefined)).toBe(true);
    }
    expect(trimmedSome).toBeGreaterThan(10);
    const once = withoutFinishedDetail(replay);
    expect(withoutFinishedDetail(once)).toBe(once);
  });
});
