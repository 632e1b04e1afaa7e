/** CDS, CDNSKEY and CSYNC compared across addresses (the CSYNC serial may differ). */
import type { CsyncData, DnskeyData, DsData } from '@chorus/core';
import { dnskeyIdentity, dsIdentity } from '@chorus/dns';
import type { AnsweredChild, Finding } from '../types.js';
import { describeGroups, groupBy, setIdentity } from '../views.js';

export type SignalType = 'CDS' | 'CDNSKEY' | 'CSYNC';

/** CSYNC without its serial: RFC 7477 lets each server put its own SOA serial there. */
function csyncShape(csync: CsyncData): string {
  const types = [...csync.types].map((type) => type.toUpperCase()).sort();
  return `flags ${csync.flags} types ${types.join(' ')}`;
}

/** The identities of one address's RRset of `type`; empty for NODATA. */
export function signalIdentities(child: AnsweredChild, type: SignalType): string[] {
  const { data } = child;
  switch (type) {
    case 'CDS':
      return (data.cds?.records ?? []).map((ds: DsData) => dsIdentity(ds));
    case 'CDNSKEY':
      return (data.cdnskey?.records ?? []).map((key: DnskeyData) => dnskeyIdentity(key));
    case 'CSYNC':
      return (data.csync?.records ?? []).map(csyncShape);
  }
}

function label(type: SignalType) {
  return (identity: string): string => {
    const records = JSON.parse(identity) as string[];
    return records.length > 0 ? records.map((text) => `${type} ${text}`).join(', ') : 'none';
  };
}

/** One failure when the addresses do not all serve the same `type` RRset. */
export function disagreement(children: readonly AnsweredChild[], type: SignalType): Finding[] {
  const groups = groupBy(
    children,
    (child) => setIdentity(signalIdentities(child, type)),
    (child) => child.server,
  );
  if (groups.length <= 1) return [];
  return [
    {
      severity: 'fail',
      message: `the ${type} RRsets differ (a parental agent will not act): ${describeGroups(groups, label(type))}`,
      servers: children.map((child) => child.server),
    },
  ];
}
