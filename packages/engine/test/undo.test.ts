import { describe, expect, it } from 'vitest';
import type { RollSubject, SigningKey } from '@chorus/core';
import {
  emptyZoneState,
  preflightChecks,
  undoRequestFor,
  whyNotUndoable,
  type ProcessState,
  type ZoneState,
} from '@chorus/engine';

const PREDECESSOR = 1111;
const SUCCESSOR = 2222;

const key = (keyTag: number): SigningKey => ({ keyTag, role: 'ZSK', algorithm: 13 }) as SigningKey;

/** A zone whose PowerDNS ZSK roll (1111 → 2222) stopped, with `keys` still listed. */
function stoppedRoll(roll: Partial<RollSubject> = {}, keys = [PREDECESSOR, SUCCESSOR]) {
  const state = emptyZoneState('example.test.');
  const process = {
    id: 'p1',
    kind: 'roll-zsk',
    signerId: 'powerdns',
    status: 'stopped',
    stoppedAtStep: 3,
    roll: { role: 'ZSK', predecessorTags: [PREDECESSOR], mode: 'held', ...roll },
  } as ProcessState;
  const withRoll: ZoneState = {
    ...state,
    defined: true,
    members: ['bind', 'powerdns'],
    signers: {
      powerdns: { id: 'powerdns', keys: keys.map(key) },
    } as unknown as ZoneState['signers'],
    processes: [process],
  };
  return { state: withRoll, process };
}

describe('undoing a stopped roll', () => {
  it('rolls back: the predecessor becomes the successor of a roll of the same role', () => {
    const { state, process } = stoppedRoll();
    expect(whyNotUndoable(state, process)).toBeUndefined();
    expect(undoRequestFor(process)).toEqual({
      kind: 'roll-zsk',
      signerId: 'powerdns',
      role: 'ZSK',
      successorTag: PREDECESSOR,
    });
  });

  it.each([
    ['a server-timed roll', stoppedRoll({ mode: 'server-timed' }), /server-timed/],
    ['a roll of two keys at once', stoppedRoll({ predecessorTags: [PREDECESSOR, 3333] }), /2 ZSKs/],
    ['a roll whose successor never appeared', stoppedRoll({}, [PREDECESSOR]), /never appeared/],
    ['a roll whose predecessor is gone', stoppedRoll({}, [SUCCESSOR]), /gone from powerdns/],
  ])('refuses %s, saying why', (_what, { state, process }, reason) => {
    expect(whyNotUndoable(state, process)).toMatch(reason);
  });

  it('refuses a roll back that names another key than the predecessor', () => {
    const { state } = stoppedRoll();
    const reasons = (successorTag: number) =>
      preflightChecks({
        state,
        kind: 'roll-zsk',
        signerId: 'powerdns',
        role: 'ZSK',
        successorTag,
        observations: {},
        parentDs: [],
        now: 0,
        undoOf: 'p1',
      }).filter((reason) => reason.code === 'not-undoable');
    expect(reasons(SUCCESSOR)[0]!.message).toContain(`makes ZSK ${PREDECESSOR} sign again`);
    expect(reasons(PREDECESSOR)).toEqual([]);
  });

  it('still refuses a bootstrap, saying why', () => {
    const { state, process } = stoppedRoll();
    expect(whyNotUndoable(state, { ...process, kind: 'bootstrap' })).toMatch(/parent took the DS/);
  });
});
