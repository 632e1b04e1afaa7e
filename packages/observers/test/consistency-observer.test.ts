import { describe, expect, it } from 'vitest';
import { createConsistencyObserver } from '../src/consistency-observer.js';
import type { InvariantViolation } from '../src/invariants.js';

// The observer's bookkeeping, with a scripted evaluator: each violation is reported once when it
// appears and once when it clears; liveness differences (I6, I7) only when they outlast the grace.

const violation = (
  invariant: InvariantViolation['invariant'],
  key: string,
): InvariantViolation => ({
  invariant,
  key,
  providers: ['bind'],
  records: [],
  detail: key,
});

function scripted(rounds: InvariantViolation[][]) {
  let clock = 1000;
  let round = 0;
  const reported: string[] = [];
  const observer = createConsistencyObserver({
    zone: 'example.test.',
    parentZone: 'test.',
    parentServers: [],
    providers: [],
    margins: { childSeconds: 1, parentSeconds: 2 },
    graceSeconds: 3,
    now: () => clock,
    evaluate: () => rounds[round] ?? [],
    onViolation: (found, at) => reported.push(`+${found.key}@${at - 1000}`),
    onRestored: (found, since, at) => reported.push(`-${found.key}@${since - 1000}..${at - 1000}`),
  });
  const step = async () => {
    await observer.checkOnce();
    round += 1;
    clock += 1;
  };
  return { observer, reported, step };
}

describe('the consistency observer', () => {
  it('reports a lasting violation once, and once more when it clears', async () => {
    const i1 = violation('I1', 'I1|bind');
    const { observer, reported, step } = scripted([[], [i1], [i1], [i1], []]);
    for (let index = 0; index < 5; index += 1) await step();
    expect(reported).toEqual(['+I1|bind@1', '-I1|bind@1..4']);
    expect(observer.stats()).toMatchObject({ checks: 5, violations: 1, open: 0 });
    await observer.shutdown?.();
  });

  it('holds back an I6/I7 difference that clears within the grace period, and reports one that outlasts it', async () => {
    const short = violation('I6', 'I6|CDS|short');
    const long = violation('I7', 'I7|www|long');
    const { observer, reported, step } = scripted([
      [short, long],
      [short, long],
      [long],
      [long],
      [long],
      [],
    ]);
    for (let index = 0; index < 6; index += 1) await step();
    // Reported with the time it began, when it had lasted 3 s.
    expect(reported).toEqual(['+I7|www|long@0', '-I7|www|long@0..5']);
    expect(observer.stats()).toMatchObject({ violations: 1, transients: 1 });
    await observer.shutdown?.();
  });

  it('a safety invariant has no grace: one round is enough (the control)', async () => {
    const i3 = violation('I3', 'I3|knot');
    const { reported, step, observer } = scripted([[i3], []]);
    await step();
    await step();
    expect(reported).toEqual(['+I3|knot@0', '-I3|knot@0..1']);
    await observer.shutdown?.();
  });
});
