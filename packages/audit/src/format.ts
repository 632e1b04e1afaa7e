/** The report as text: one line per check, its findings indented below it. */
import type { AuditReport, CheckResult, CheckStatus } from './types.js';

const LABEL: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' };

function checkLines(check: CheckResult): string[] {
  const head = `${LABEL[check.status]}  ${check.id.padEnd(20)} ${check.title}`;
  const servers = check.status === 'pass' ? [] : [`      servers: ${check.servers.join(', ')}`];
  const details = check.details.flatMap((finding) => [
    `      ${finding.severity}: ${finding.message}`,
    ...(finding.records ?? []).map((record) => `        ${record}`),
  ]);
  return [head, ...servers, ...details];
}

function summary(report: AuditReport): string {
  const answered = (entries: readonly { status: string }[]) =>
    `${entries.filter((entry) => entry.status === 'answered').length}/${entries.length}`;
  return `${answered(report.servers.parent)} parent servers and ${answered(report.servers.child)} child addresses answered`;
}

export function formatAuditReport(report: AuditReport): string {
  const counts = (status: CheckStatus) =>
    report.checks.filter((check) => check.status === status).length;
  return [
    `audit of ${report.zone} (parent ${report.parentZone}) at ${report.observedAt}: ${summary(report)}`,
    ...report.checks.flatMap(checkLines),
    `${LABEL[report.status]}: ${counts('pass')} passed, ${counts('warn')} warned, ${counts('fail')} failed`,
    '',
  ].join('\n');
}
