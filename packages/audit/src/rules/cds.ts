/**
 * `cds-consistent`: what a parental agent needs before it acts (draft-ietf-dnsop-cds-consistency
 * §3): CDS, CDNSKEY and CSYNC alike at every address (NODATA counts as an answer), CDS and
 * CDNSKEY naming the same keys at each, and the DS set they ask for still authenticating every
 * address's DNSKEY RRset (RFC 7344 §4.1 continuity).
 */
import type { AuditObservations, AuditRule, Finding } from '../types.js';
import { answeredChildren } from '../views.js';
import { cdsAgreement, continuity } from './cds-keys.js';
import { disagreement } from './cds-sets.js';

function check(observations: AuditObservations): Finding[] {
  const children = answeredChildren(observations);
  return [
    ...disagreement(children, 'CDS'),
    ...disagreement(children, 'CDNSKEY'),
    ...disagreement(children, 'CSYNC'),
    ...children.flatMap((child) => cdsAgreement(observations.zone, child)),
    ...continuity(observations, children),
  ];
}

export const cdsRule: AuditRule = {
  id: 'cds-consistent',
  title: 'CDS, CDNSKEY and CSYNC are alike at every address and CDS matches CDNSKEY',
  check,
};
