/**
 * `ds-ksk`: the DS RRset at the parent authenticates the DNSKEY RRset of every address (standards
 * §8.2 I2: in model 2 each provider's own KSK needs its DS), and each DS names a key that signs
 * some DNSKEY RRset. A DS for a key published nowhere is only a warning (a Double-DS roll
 * pre-publishes one).
 */
import type { DnskeyData, DsData } from '@chorus/core';
import { dsIdentity, formatRdata, isSupportedDigestType } from '@chorus/dns';
import { dsReferencesKey, validateDnskeyRrset } from '@chorus/parent';
import type { AnsweredChild, AuditObservations, AuditRule, Finding } from '../types.js';
import {
  answeredChildren,
  answeredParents,
  describeGroups,
  groupBy,
  isSigned,
  setIdentity,
} from '../views.js';

const dsText = (zone: string, ds: DsData) => `${zone} DS ${formatRdata({ type: 'DS', data: ds })}`;

interface DsView {
  servers: string[];
  ds: DsData[];
}

/** The distinct DS RRsets the parent servers serve, each with the servers serving it. */
function dsViews(observations: AuditObservations): DsView[] {
  const parents = answeredParents(observations);
  const byIdentity = new Map(
    parents.map((view) => [
      setIdentity((view.ds?.records ?? []).map(dsIdentity)),
      view.ds?.records ?? [],
    ]),
  );
  return groupBy(
    parents,
    (view) => setIdentity((view.ds?.records ?? []).map(dsIdentity)),
    (view) => view.server,
  ).map((group) => ({ servers: group.servers, ds: byIdentity.get(group.identity) ?? [] }));
}

function parentDisagreement(zone: string, views: readonly DsView[]): Finding[] {
  if (views.length <= 1) return [];
  const label = (identity: string) => {
    const records = (JSON.parse(identity) as string[]).map((text) => `DS ${text}`);
    return records.length > 0 ? records.join(', ') : 'no DS';
  };
  const groups = views.map((view) => ({
    identity: setIdentity(view.ds.map(dsIdentity)),
    servers: view.servers,
  }));
  return [
    {
      severity: 'fail',
      message: `the parent servers disagree on the DS RRset of ${zone}: ${describeGroups(groups, label)}`,
      servers: views.flatMap((view) => view.servers),
    },
  ];
}

function unauthenticated(observations: AuditObservations, view: DsView): Finding[] {
  const { zone, now } = observations;
  return answeredChildren(observations).flatMap((child): Finding[] => {
    const result = validateDnskeyRrset(zone, child.data.dnskey, view.ds, now);
    if (result.ok) return [];
    return [
      {
        severity: 'fail',
        message: `the DNSKEY RRset at ${child.server} is authenticated by no DS: ${result.reason}`,
        servers: [child.server, ...view.servers],
        records: view.ds.map((ds) => dsText(zone, ds)),
      },
    ];
  });
}

/** Keys that match a DS and sign their server's DNSKEY RRset, over every address. */
function anchors(observations: AuditObservations, ds: readonly DsData[]): DnskeyData[] {
  const { zone, now } = observations;
  return answeredChildren(observations).flatMap((child: AnsweredChild) => {
    const result = validateDnskeyRrset(zone, child.data.dnskey, ds, now);
    return result.ok ? result.anchors : [];
  });
}

function unusedDs(observations: AuditObservations, view: DsView): Finding[] {
  const { zone } = observations;
  const signing = anchors(observations, view.ds);
  const published = answeredChildren(observations).flatMap(
    (child) => child.data.dnskey?.records ?? [],
  );
  return view.ds.flatMap((ds): Finding[] => {
    if (!isSupportedDigestType(ds.digestType) && ds.digestType !== 1) {
      return [
        warn(zone, ds, view, `uses digest type ${ds.digestType}, which the audit cannot check`),
      ];
    }
    if (signing.some((key) => dsReferencesKey(zone, ds, key))) return [];
    const present = published.some((key) => dsReferencesKey(zone, ds, key));
    return [
      warn(
        zone,
        ds,
        view,
        present
          ? 'names a published key that signs no DNSKEY RRset (a stand-by key?)'
          : 'matches no DNSKEY at any address',
      ),
    ];
  });
}

function warn(zone: string, ds: DsData, view: DsView, what: string): Finding {
  return {
    severity: 'warn',
    message: `DS ${ds.keyTag} (algorithm ${ds.algorithm}, digest type ${ds.digestType}) ${what}`,
    servers: view.servers,
    records: [dsText(zone, ds)],
  };
}

function insecure(observations: AuditObservations, views: readonly DsView[]): Finding[] | null {
  if (views.some((view) => view.ds.length > 0)) return null;
  const message = isSigned(observations)
    ? 'the parent has no DS: validators treat the zone as insecure although it is signed'
    : 'the zone is not signed: no DS at the parent and no DNSKEY at any address';
  return [{ severity: 'warn', message, servers: views.flatMap((view) => view.servers) }];
}

function check(observations: AuditObservations): Finding[] {
  const views = dsViews(observations);
  if (views.length === 0) return [];
  const unsigned = insecure(observations, views);
  if (unsigned) return unsigned;
  return [
    ...parentDisagreement(observations.zone, views),
    ...views.flatMap((view) => unauthenticated(observations, view)),
    ...views.flatMap((view) => unusedDs(observations, view)),
  ];
}

export const dsRule: AuditRule = {
  id: 'ds-ksk',
  title: "the parent's DS authenticates the DNSKEY RRset at every address",
  check,
};
