/** Runs the rule table over one snapshot: one row per rule, and the overall verdict. */
import { AUDIT_RULES } from './rules/index.js';
import type {
  AuditObservations,
  AuditReport,
  AuditRule,
  CheckResult,
  CheckStatus,
  ChildView,
  Finding,
  ParentView,
} from './types.js';

/** Every server the snapshot has: the rows of passing checks name them all. */
function everyServer(observations: AuditObservations): string[] {
  return [
    ...observations.parent.map((view) => view.server),
    ...observations.children.map((child) => child.server),
  ];
}

function statusOf(findings: readonly Finding[]): CheckStatus {
  if (findings.some((finding) => finding.severity === 'fail')) return 'fail';
  return findings.length > 0 ? 'warn' : 'pass';
}

function row(rule: AuditRule, observations: AuditObservations): CheckResult {
  const details = rule.check(observations);
  const concerned =
    details.length > 0 ? details.flatMap((finding) => finding.servers) : everyServer(observations);
  return {
    id: rule.id,
    title: rule.title,
    status: statusOf(details),
    servers: [...new Set(concerned)],
    details,
  };
}

function worst(checks: readonly CheckResult[]): CheckStatus {
  if (checks.some((check) => check.status === 'fail')) return 'fail';
  return checks.some((check) => check.status === 'warn') ? 'warn' : 'pass';
}

/** `{ error }` for a server that gave no answer, nothing otherwise. */
function errorOf(view: ParentView | ChildView): { error?: string } {
  return 'error' in view ? { error: view.error } : {};
}

function serverSummary(observations: AuditObservations): AuditReport['servers'] {
  return {
    parent: observations.parent.map((view) => ({
      server: view.server,
      status: view.status,
      ...errorOf(view),
    })),
    child: observations.children.map((child) => ({
      server: child.server,
      nameserver: child.nameserver,
      inDelegation: child.inDelegation,
      status: child.status,
      ...errorOf(child),
    })),
    unresolved: observations.unresolved,
  };
}

/** Judges `observations` with `rules` (default: every audit rule). Pure. */
export function evaluateAudit(
  observations: AuditObservations,
  rules: readonly AuditRule[] = AUDIT_RULES,
): AuditReport {
  const checks = rules.map((rule) => row(rule, observations));
  return {
    zone: observations.zone,
    parentZone: observations.parentZone,
    observedAt: observations.observedAt,
    status: worst(checks),
    servers: serverSummary(observations),
    checks,
  };
}
