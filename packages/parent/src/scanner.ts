/**
 * The parental agent's decision (pure): given what every child nameserver answered and the
 * current delegation, should the parent replace or delete the DS RRset, and replace the NS RRset
 * and glue? Implements draft-ietf-dnsop-cds-consistency (§3 all servers, §3.1 CDS/CDNSKEY,
 * §3.2 CSYNC) on top of RFC 7344 §4.1 (Signer, Continuity), RFC 8078 §4 (delete) and RFC 7477
 * (CSYNC flags, bitmap, soaminimum, NS and glue), and RFC 9615 §4.2 (bootstrapping a DS for a
 * delegation without one). All or nothing per RRset: any inconsistency,
 * unreachable server or validation failure means no change, with typed reasons.
 */
import type { ChildObservations, ParentScanPolicy, ParentUpdateDecision } from './types.js';
import { Context, type CurrentDelegation } from './scanner-context.js';
import { decideDs } from './scanner-ds-rules.js';
import { decideNs } from './scanner-ns-rules.js';

export { isDeleteCdnskey, isDeleteCds } from './scanner-ds-signals.js';
export type { CurrentDelegation } from './scanner-context.js';

/**
 * Decides what the parent should change for one delegation, from what every child nameserver
 * answered (see `observeChildServers`) and what the parent has now. Pure: no I/O; the time for
 * signature validity comes from `policy.now` (default: the clock).
 *
 * DS and NS are decided separately (they are separate RRsets and separate draft sections); each
 * is all or nothing. A DS change applies first, and the NS part checks added nameservers against
 * the DS set in force after it.
 *
 * @example
 * const delegation = await parent.getDelegation('example.test.', {});
 * const observations = await observeChildServers({ zone: 'example.test.', delegation, parentServers });
 * const decision = decideParentUpdate(observations, delegation);
 * if (decision.ds.action === 'replace') console.log(decision.ds.records);
 */
export function decideParentUpdate(
  observations: ChildObservations,
  delegation: CurrentDelegation,
  policy: ParentScanPolicy = {},
): ParentUpdateDecision {
  const context = new Context(observations, delegation, policy);
  const ds = decideDs(context);
  const ns = decideNs(context, ds);
  return {
    zone: context.zone,
    observedAt: observations.observedAt,
    ds,
    ns,
    servers: observations.servers.map((entry) => ({
      server: entry.server,
      nameserver: entry.nameserver,
      inDelegation: entry.inDelegation,
      status: entry.status,
    })),
  };
}
