/**
 * `ns-agree`: the parent servers agree on the delegation, every address's apex NS RRset is the
 * parent's NS set, and the glue is what the child serves for its in-zone NS names
 * (draft-ietf-dnsop-cds-consistency §3.2, standards §8.2 I6).
 */
import { isSubdomain } from '@chorus/dns';
import type { AnsweredChild, AuditObservations, AuditRule, Finding } from '../types.js';
import {
  answeredChildren,
  answeredParents,
  canonical,
  describeGroups,
  groupBy,
  setIdentity,
  unique,
} from '../views.js';

type Parent = ReturnType<typeof answeredParents>[number];

const parentNs = (view: Parent): string[] => unique((view.ns?.records ?? []).map(canonical));
const childNs = (child: AnsweredChild): string[] =>
  unique((child.data.ns?.records ?? []).map(canonical));
const glueOf = (view: Parent): string[] =>
  unique(
    view.glue.flatMap((entry) =>
      entry.addresses.map((address) => `${canonical(entry.name)} ${address}`),
    ),
  );
const list = (identity: string) => (JSON.parse(identity) as string[]).join(' ') || 'none';

function parentDisagreement(parents: readonly Parent[]): Finding[] {
  const groups = groupBy(
    parents,
    (view) => setIdentity([...parentNs(view), ...glueOf(view).map((text) => `glue ${text}`)]),
    (view) => view.server,
  );
  if (groups.length <= 1) return [];
  return [
    {
      severity: 'fail',
      message: `the parent servers disagree on the NS RRset or glue: ${describeGroups(groups, list)}`,
      servers: parents.map((view) => view.server),
    },
  ];
}

function apexMismatch(
  expected: readonly string[],
  child: AnsweredChild,
  parents: string[],
): Finding[] {
  const served = childNs(child);
  const extra = served.filter((name) => !expected.includes(name));
  const missing = expected.filter((name) => !served.includes(name));
  if (extra.length === 0 && missing.length === 0) return [];
  const parts = [
    ...(extra.length > 0 ? [`adds ${extra.join(', ')}`] : []),
    ...(missing.length > 0 ? [`lacks ${missing.join(', ')}`] : []),
  ];
  return [
    {
      severity: 'fail',
      message: `the apex NS RRset at ${child.server} ${parts.join(' and ')} compared with the parent's (${expected.join(' ')})`,
      servers: [child.server, ...parents],
    },
  ];
}

/** The addresses `child` serves for the in-zone name `name`. */
function childAddresses(child: AnsweredChild, name: string): string[] {
  const host = child.data.hosts.find((entry) => canonical(entry.name) === name);
  return unique([...(host?.a?.records ?? []), ...(host?.aaaa?.records ?? [])]);
}

function glueMismatch(zone: string, parent: Parent, children: readonly AnsweredChild[]): Finding[] {
  const inZone = parentNs(parent).filter((name) => isSubdomain(name, zone));
  return inZone.flatMap((name) => {
    const glue = unique(
      parent.glue
        .filter((entry) => canonical(entry.name) === name)
        .flatMap((entry) => entry.addresses),
    );
    return children.flatMap((child): Finding[] => {
      const served = childAddresses(child, name);
      if (setIdentity(served) === setIdentity(glue)) return [];
      return [
        {
          severity: 'fail',
          message: `glue for ${name} at ${parent.server} (${glue.join(' ') || 'none'}) differs from what ${child.server} serves (${served.join(' ') || 'none'})`,
          servers: [parent.server, child.server],
        },
      ];
    });
  });
}

function check(observations: AuditObservations): Finding[] {
  const parents = answeredParents(observations);
  const reference = parents[0];
  if (!reference) return [];
  const children = answeredChildren(observations);
  const expected = parentNs(reference);
  const servers = parents.map((view) => view.server);
  return [
    ...parentDisagreement(parents),
    ...children.flatMap((child) => apexMismatch(expected, child, servers)),
    ...glueMismatch(observations.zone, reference, children),
  ];
}

export const nsRule: AuditRule = {
  id: 'ns-agree',
  title: "the parent's NS set is every address's apex NS set, with matching glue",
  check,
};
