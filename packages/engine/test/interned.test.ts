import { describe, expect, it } from 'vitest';
import { Interner } from '../src/interned.js';

describe('Interner', () => {
  it('returns one frozen copy per distinct value, never the caller’s object', () => {
    const interner = new Interner();
    const given = { steps: [{ name: 'a' }] };
    const kept = interner.of(given);
    expect(kept).toEqual(given);
    expect(kept).not.toBe(given);
    expect(Object.isFrozen(kept.steps[0])).toBe(true);
    expect(Object.isFrozen(given)).toBe(false);
    expect(interner.of({ steps: [{ name: 'a' }] })).toBe(kept);
    expect(interner.of({ steps: [{ name: 'b' }] })).not.toBe(kept);
  });

  it('keeps at most its limit, dropping the oldest', () => {
    const interner = new Interner(2);
    const first = interner.of({ n: 1 });
    interner.of({ n: 2 });
    interner.of({ n: 3 });
    expect(interner.size).toBe(2);
    expect(interner.of({ n: 1 })).not.toBe(first);
  });

  it('passes values that are not objects through', () => {
    const interner = new Interner();
    expect(interner.of(undefined)).toBeUndefined();
    expect(interner.of('text')).toBe('text');
    expect(interner.size).toBe(0);
  });
});
