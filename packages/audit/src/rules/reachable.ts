/** `reachable`: every parent server and every address of every NS name answers. */
import type { AuditObservations, AuditRule, Finding } from '../types.js';

function parentFindings(observations: AuditObservations): Finding[] {
  if (observations.parent.length === 0) {
    return [{ severity: 'fail', message: 'no parent server was asked', servers: [] }];
  }
  return observations.parent.flatMap((view): Finding[] =>
    view.status === 'answered'
      ? []
      : [
          {
            severity: 'fail',
            message: `parent server ${view.server} is ${view.status}: ${view.error}`,
            servers: [view.server],
          },
        ],
  );
}

function childFindings(observations: AuditObservations): Finding[] {
  const failed = observations.children.flatMap((child): Finding[] =>
    child.status === 'answered'
      ? []
      : [
          {
            severity: 'fail',
            message: `${child.nameserver} at ${child.server} is ${child.status}: ${child.error}`,
            servers: [child.server],
          },
        ],
  );
  const unresolved = observations.unresolved.map((entry): Finding => ({
    severity: 'fail',
    message: `no address for ${entry.nameserver}: ${entry.error}`,
    servers: [entry.nameserver],
  }));
  return [...failed, ...unresolved];
}

function emptyDelegation(observations: AuditObservations): Finding[] {
  const anyParent = observations.parent.some((view) => view.status === 'answered');
  if (!anyParent || observations.children.length > 0 || observations.unresolved.length > 0) {
    return [];
  }
  return [{ severity: 'fail', message: 'the delegation names no nameserver', servers: [] }];
}

export const reachableRule: AuditRule = {
  id: 'reachable',
  title: 'every parent server and every address of every NS name answers authoritatively',
  check: (observations) => [
    ...parentFindings(observations),
    ...childFindings(observations),
    ...emptyDelegation(observations),
  ],
};
