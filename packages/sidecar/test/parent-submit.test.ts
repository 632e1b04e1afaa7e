import { describe, expect, it } from 'vitest';
import type { DsData, ParentChannel } from '@chorus/core';
import type { PostconditionCheck } from '@chorus/engine';
import { parentSubmissionFor } from '../src/parent-submit.js';

const DS: DsData = { keyTag: 40696, algorithm: 13, digestType: 2, digest: 'AF'.repeat(32) };

/** A channel that records what it was asked; `takes` says which requests it has. */
function channel(takes: { ds?: boolean; ns?: boolean }) {
  const asked: { zone: string; desired: unknown }[] = [];
  const parent: ParentChannel = {
    specificationVersion: 'v1',
    kind: takes.ds || takes.ns ? 'registrar-api' : 'observe-only',
    id: 'registrar',
    capabilities: {},
    getDelegation: () => Promise.reject(new Error('not observed here')),
    ...(takes.ds
      ? {
          requestDsUpdate: (zone: string, desired: DsData[]) => {
            asked.push({ zone, desired });
            return Promise.resolve({ requestId: 'r-ds' });
          },
        }
      : {}),
    ...(takes.ns
      ? {
          requestNsUpdate: (zone: string, desired: string[]) => {
            asked.push({ zone, desired });
            return Promise.resolve({ requestId: 'r-ns' });
          },
        }
      : {}),
  };
  return { parent, asked };
}

const dsCheck: PostconditionCheck = { kind: 'parent-ds-matches', expectedDs: [DS] };
const nsCheck: PostconditionCheck = {
  kind: 'parent-ns-matches',
  expectedNs: ['ns.bind.test.', 'ns.powerdns.test.'],
};

describe('parentSubmissionFor', () => {
  it('sends the whole DS set and records it in presentation form', async () => {
    const { parent, asked } = channel({ ds: true });
    const submission = parentSubmissionFor(parent, 'example.test.', dsCheck)!;
    expect(submission.kind).toBe('ds');
    expect(submission.records).toEqual([`40696 13 2 ${'AF'.repeat(32)}`]);
    expect(await submission.send({})).toEqual({ requestId: 'r-ds' });
    expect(asked).toEqual([{ zone: 'example.test.', desired: [DS] }]);
  });

  it('sends the whole NS set', async () => {
    const { parent, asked } = channel({ ns: true });
    const submission = parentSubmissionFor(parent, 'example.test.', nsCheck)!;
    expect(submission.records).toEqual(['ns.bind.test.', 'ns.powerdns.test.']);
    await submission.send({});
    expect(asked).toEqual([{ zone: 'example.test.', desired: nsCheck.expectedNs }]);
  });

  it('has nothing to send through a channel that only observes, or for other checks', () => {
    const { parent } = channel({});
    expect(parentSubmissionFor(parent, 'example.test.', dsCheck)).toBeUndefined();
    expect(parentSubmissionFor(parent, 'example.test.', nsCheck)).toBeUndefined();
    const { parent: dsOnly } = channel({ ds: true });
    expect(parentSubmissionFor(dsOnly, 'example.test.', nsCheck)).toBeUndefined();
    expect(parentSubmissionFor(dsOnly, 'example.test.', { kind: 'none' })).toBeUndefined();
  });
});
