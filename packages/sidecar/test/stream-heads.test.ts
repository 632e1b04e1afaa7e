import { describe, expect, it } from 'vitest';
import { StreamHeads } from '../src/stream-heads.js';

describe('stream heads: appends known to lose are not sent', () => {
  const followed = new Set(['zone/a.test.', 'zone/b.test.']);

  it('is behind once the subscription delivered a newer version, not at the same one', () => {
    const heads = new StreamHeads(followed);
    expect(heads.isBehind('zone/a.test.', 3)).toBe(false);
    heads.noteDelivered('zone/a.test.', 4);
    expect(heads.isBehind('zone/a.test.', 3)).toBe(true);
    expect(heads.isBehind('zone/a.test.', 4)).toBe(false);
    expect(heads.isBehind('zone/b.test.', 0)).toBe(false);
  });

  it('never goes back on an older delivery, and ignores streams it does not follow', () => {
    const heads = new StreamHeads(followed);
    heads.noteDelivered('zone/a.test.', 7);
    heads.noteDelivered('zone/a.test.', 5);
    expect(heads.isBehind('zone/a.test.', 6)).toBe(true);
    heads.noteDelivered('zone/other.test.', 9);
    expect(heads.isBehind('zone/other.test.', 1)).toBe(false);
  });

  it('takes the read stream as the truth: a delivery beyond it stops nothing after a read', () => {
    const heads = new StreamHeads(followed);
    heads.noteDelivered('zone/a.test.', 1_000_000);
    expect(heads.isBehind('zone/a.test.', 12)).toBe(true);
    heads.noteRead('zone/a.test.', 12);
    expect(heads.isBehind('zone/a.test.', 12)).toBe(false);
    heads.noteRead('zone/a.test.', 20);
    heads.noteDelivered('zone/a.test.', 13);
    expect(heads.isBehind('zone/a.test.', 12)).toBe(true);
  });
});
