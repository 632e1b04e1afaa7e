import { describe, expect, it } from 'vitest';
import type { Decision } from '@chorus/engine';
import { sameWorkIn, workKey } from '../src/append-race.js';

const desired = {
  foreignDnskeys: [{ flags: 256, protocol: 3, algorithm: 13, publicKey: 'AAAA' }],
  foreignCds: [],
  foreignCdnskeys: [],
  csync: null,
  ttl: 10,
};
const reconcile: Decision = {
  kind: 'reconcile',
  processId: 'add-signer-1',
  stepIndex: 2,
  signerId: 'bind',
  desired,
};
const observe: Decision = {
  kind: 'observe',
  processId: 'add-signer-1',
  stepIndex: 3,
  check: { kind: 'parent-ns-matches', expectedNs: ['ns1.example.', 'ns2.example.'] },
};

describe('work kept across a lost append', () => {
  it('finds the same reconcile or observation in the newer decisions', () => {
    const idle: Decision = { kind: 'idle' };
    expect(sameWorkIn(reconcile, [idle, structuredClone(reconcile)])).toEqual(reconcile);
    expect(sameWorkIn(observe, [structuredClone(observe)])).toEqual(observe);
  });

  it('does not when the newer state asks for other work (the controls)', () => {
    const otherKeys = {
      ...reconcile,
      desired: { ...desired, foreignDnskeys: [{ ...desired.foreignDnskeys[0]!, flags: 257 }] },
    };
    expect(sameWorkIn(reconcile, [otherKeys])).toBeUndefined();
    expect(sameWorkIn(reconcile, [{ ...reconcile, stepIndex: 3 }])).toBeUndefined();
    expect(sameWorkIn(reconcile, [{ ...reconcile, desiredDigest: 'abc' }])).toBeUndefined();
    const otherNs = {
      ...observe,
      check: { kind: 'parent-ns-matches', expectedNs: ['ns1.example.'] },
    };
    expect(sameWorkIn(observe, [otherNs as Decision])).toBeUndefined();
    // The same check at another kind of decision is other work too.
    expect(
      sameWorkIn(observe, [{ ...observe, kind: 'check-precondition' } as Decision]),
    ).toBeUndefined();
    expect(sameWorkIn(observe, [])).toBeUndefined();
  });

  it('keeps nothing for decisions without wire work', () => {
    const append = { kind: 'append', event: {} } as unknown as Decision;
    expect(workKey(append)).toBeUndefined();
    expect(sameWorkIn(append, [append])).toBeUndefined();
  });
});
