/** `runAudit`: observe the zone on the public DNS, then judge the snapshot with the rule table. */
import { isSubdomain, namesEqual, normalizeName } from '@chorus/dns';
import { AuditInputError } from './errors.js';
import { evaluateAudit } from './evaluate.js';
import { observeZone, type ObserveZoneOptions } from './observe.js';
import type { AuditReport } from './types.js';

function checkInput(options: ObserveZoneOptions): void {
  if (options.parentServers.length === 0) {
    throw new AuditInputError('the audit needs at least one parent server');
  }
  const zone = normalizeName(options.zone);
  const parent = normalizeName(options.parentZone);
  if (namesEqual(zone, parent) || !isSubdomain(zone, parent)) {
    throw new AuditInputError(`${zone} is not below its parent zone ${parent}`);
  }
}

/**
 * Audits `zone` as any resolver could see it: no event log, no credentials. Resolves with the
 * report; servers that fail are rows of it. Rejects only for bad input or an abort.
 */
export async function runAudit(options: ObserveZoneOptions): Promise<AuditReport> {
  checkInput(options);
  return evaluateAudit(await observeZone(options));
}
