/** The audit's rule table, in report order. */
import type { AuditRule } from '../types.js';
import { cdsRule } from './cds.js';
import { denialRule } from './denial.js';
import { dnskeyRule } from './dnskey.js';
import { dsRule } from './ds.js';
import { keyTagsRule } from './key-tags.js';
import { lifetimesRule } from './lifetimes.js';
import { nsRule } from './ns.js';
import { reachableRule } from './reachable.js';

export const AUDIT_RULES: readonly AuditRule[] = [
  reachableRule,
  dnskeyRule,
  dsRule,
  cdsRule,
  nsRule,
  denialRule,
  lifetimesRule,
  keyTagsRule,
];
