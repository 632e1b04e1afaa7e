/**
 * Parent steps through a channel that takes changes (a registrar's API): the step's DS or NS set
 * is sent once, and the outcome recorded. The wire stays the proof: the step moves on only when
 * every parent server serves the set.
 */
import { formatRdata } from '@chorus/dns';
import type { CallOptions, ParentChannel, ParentRequest } from '@chorus/core';
import type { PostconditionCheck } from '@chorus/engine';

export interface ParentSubmission {
  kind: 'ds' | 'ns';
  /** The whole set, as recorded: DS rdata in presentation form, or NS names. */
  records: string[];
  send: (options: CallOptions) => Promise<ParentRequest>;
}

/** What to send for a parent check, or undefined when the channel cannot take it. */
export function parentSubmissionFor(
  parent: ParentChannel,
  zone: string,
  check: PostconditionCheck,
): ParentSubmission | undefined {
  if (check.kind === 'parent-ds-matches' && parent.requestDsUpdate) {
    const desired = check.expectedDs;
    const request = parent.requestDsUpdate.bind(parent);
    return {
      kind: 'ds',
      records: desired.map((data) => formatRdata({ type: 'DS', data })),
      send: (options) => request(zone, desired, options),
    };
  }
  if (check.kind === 'parent-ns-matches' && parent.requestNsUpdate) {
    const desired = check.expectedNs;
    const request = parent.requestNsUpdate.bind(parent);
    return {
      kind: 'ns',
      records: [...desired],
      send: (options) => request(zone, desired, options),
    };
  }
  return undefined;
}
