/**
 * `denial`: every address proves nonexistence with NSEC or NSEC3 (its signatures are checked by
 * `dnskey-consistent`), one method everywhere and one NSEC3PARAM. Mixing methods or parameters
 * still validates (RFC 8901 §5.2), so it is a warning; an unsigned denial in a signed zone fails.
 */
import type { Nsec3Data, Nsec3ParamData } from '@chorus/core';
import type { AnsweredChild, AuditObservations, AuditRule, Finding } from '../types.js';
import { answeredChildren, denialRrsets, describeGroups, groupBy, isSigned } from '../views.js';

type Method = 'NSEC' | 'NSEC3' | 'none';

function methodOf(child: AnsweredChild): Method {
  const types = new Set(denialRrsets(child).map((rrset) => rrset.type));
  if (types.has('NSEC3')) return 'NSEC3';
  return types.has('NSEC') ? 'NSEC' : 'none';
}

const parameters = (value: Nsec3ParamData | Nsec3Data) =>
  `${value.hashAlgorithm} ${value.iterations} ${value.salt || '-'}`;

function nsec3paramOf(child: AnsweredChild): string {
  const records = child.data.nsec3param?.records ?? [];
  return records.length > 0
    ? records
        .map((record) => `${parameters(record)} flags ${record.flags}`)
        .sort()
        .join(', ')
    : 'none';
}

function unsignedDenial(child: AnsweredChild): Finding[] {
  if (methodOf(child) !== 'none') return [];
  const { probe } = child.data;
  return [
    {
      severity: 'fail',
      message: `${child.server} denies ${probe.name} (${probe.rcode}) without NSEC or NSEC3 records`,
      servers: [child.server],
    },
  ];
}

function mixed(
  children: readonly AnsweredChild[],
  what: string,
  identity: (child: AnsweredChild) => string,
): Finding[] {
  const groups = groupBy(children, identity, (child) => child.server);
  if (groups.length <= 1) return [];
  return [
    {
      severity: 'warn',
      message: `${what} differs between addresses (validators cope, RFC 8901 §5.2, but aggressive negative caching and NSEC3's resistance to zone walking suffer): ${describeGroups(groups, (value) => value)}`,
      servers: children.map((child) => child.server),
    },
  ];
}

/** At one address: the NSEC3 chain uses the parameters its NSEC3PARAM announces. */
function chainParameters(child: AnsweredChild): Finding[] {
  const chain = denialRrsets(child).flatMap((rrset) =>
    rrset.type === 'NSEC3' ? (rrset.records as Nsec3Data[]) : [],
  );
  const announced = (child.data.nsec3param?.records ?? []).map(parameters);
  const used = [...new Set(chain.map(parameters))];
  if (chain.length === 0 || used.every((value) => announced.includes(value))) return [];
  return [
    {
      severity: 'warn',
      message: `${child.server} denies with NSEC3 parameters ${used.join(', ')} but its NSEC3PARAM says ${announced.join(', ') || 'none'}`,
      servers: [child.server],
    },
  ];
}

function check(observations: AuditObservations): Finding[] {
  if (!isSigned(observations)) return [];
  const children = answeredChildren(observations);
  const proving = children.filter((child) => methodOf(child) !== 'none');
  return [
    ...children.flatMap(unsignedDenial),
    ...mixed(proving, 'the denial method', methodOf),
    ...mixed(children, 'NSEC3PARAM', nsec3paramOf),
    ...children.flatMap(chainParameters),
  ];
}

export const denialRule: AuditRule = {
  id: 'denial',
  title: 'one authenticated denial method everywhere, with the same NSEC3PARAM',
  check,
};
