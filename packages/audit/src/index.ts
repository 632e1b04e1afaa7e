export { runAudit } from './audit.js';
export { AuditAnswerError, AuditInputError } from './errors.js';
export { evaluateAudit } from './evaluate.js';
export { formatAuditReport } from './format.js';
export { observeZone } from './observe.js';
export type { ObserveZoneOptions } from './observe.js';
export type { AddressLookup } from './addresses.js';
export { AUDIT_RULES } from './rules/index.js';
export type {
  AnsweredChild,
  AuditObservations,
  AuditReport,
  AuditRule,
  CheckResult,
  CheckStatus,
  ChildData,
  ChildView,
  Finding,
  ParentAnswer,
  ParentView,
  ProbeAnswer,
  ServerFailure,
  Severity,
} from './types.js';
