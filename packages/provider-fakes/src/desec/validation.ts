/**
 * Validation and canonicalisation of one RRset in a request body, with deSEC's (DRF's) error
 * texts. Field errors are collected together; the RRset-level checks run only when the fields
 * are valid, as in DRF.
 */
import { canonicalRdata, RdataError, recordIdentity } from '../rdata.js';
import {
  AUTOMATIC_TYPES,
  MAX_RECORDS,
  MAXIMUM_TTL,
  SUPPORTED_TYPES,
  UNSUPPORTED_TYPES,
  type FieldErrors,
} from './types.js';

const SUBNAME_PATTERN = /^([*]|(([*][.])?([a-z0-9_-]{1,63}[.])*[a-z0-9_-]{1,63}))$/;
const TYPE_PATTERN = /^[A-Z][A-Z0-9]*$/;
const REQUIRED = 'This field is required.';

export type WriteMode = 'POST' | 'PUT' | 'PATCH';

export interface ValidationContext {
  mode: WriteMode;
  bulk: boolean;
  zone: string;
  minimumTtl: number;
  /** Detail routes: subname and type come from the URL. */
  fixedKey?: { subname: string; type: string };
  /** Whether an RRset with this key exists now. */
  exists: (subname: string, type: string) => boolean;
}

/** A valid RRset write; `ttl`/`records` absent = keep (PATCH). `records: []` = delete. */
export interface RrsetWrite {
  subname: string;
  type: string;
  ttl?: number;
  records?: string[];
}

export type ValidationResult = { write: RrsetWrite } | { errors: FieldErrors };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'list';
  if (value === null) return 'NoneType';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'boolean') return 'bool';
  return 'dict';
}

/** A subname error, or undefined when valid. */
export function subnameError(subname: string): string | undefined {
  if (subname.length > 178) return 'Ensure this field has no more than 178 characters.';
  if (subname !== '' && !SUBNAME_PATTERN.test(subname))
    return "Subname can only use (lowercase) a-z, 0-9, ., -, and _, may start with a '*.', or just be '*'. Components may not exceed 63 characters.";
  return undefined;
}

/** A type error for writes, or undefined when deSEC manages RRsets of this type. */
export function typeError(type: string): string | undefined {
  if (/^TYPE[0-9]+$/.test(type)) return 'Generic type format is not supported.';
  if (!TYPE_PATTERN.test(type))
    return 'Type must be uppercase alphanumeric and start with a letter.';
  if (AUTOMATIC_TYPES.has(type))
    return `You cannot tinker with the ${type} RR set. It is managed automatically.`;
  if (UNSUPPORTED_TYPES.has(type) || !SUPPORTED_TYPES.has(type))
    return `The ${type} RR set type is currently unsupported.`;
  return undefined;
}

function readSubname(
  raw: Record<string, unknown>,
  context: ValidationContext,
  errors: FieldErrors,
) {
  if (context.fixedKey) return context.fixedKey.subname;
  const value = raw.subname;
  if (value === undefined) {
    if (!context.bulk) return '';
    errors.subname = [REQUIRED];
    return undefined;
  }
  if (typeof value !== 'string') {
    errors.subname = ['Not a valid string.'];
    return undefined;
  }
  const problem = subnameError(value);
  if (problem !== undefined) {
    errors.subname = [problem];
    return undefined;
  }
  return value;
}

function readType(raw: Record<string, unknown>, context: ValidationContext, errors: FieldErrors) {
  if (context.fixedKey) return context.fixedKey.type;
  const value = raw.type;
  if (value === undefined) {
    errors.type = [REQUIRED];
    return undefined;
  }
  if (typeof value !== 'string') {
    errors.type = ['Not a valid string.'];
    return undefined;
  }
  const problem = typeError(value);
  if (problem !== undefined) {
    errors.type = [problem];
    return undefined;
  }
  return value;
}

function readTtl(value: unknown, minimumTtl: number, errors: FieldErrors): number | undefined {
  const number = typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number)) {
    errors.ttl = ['A valid integer is required.'];
    return undefined;
  }
  if (number < minimumTtl) {
    errors.ttl = [`Ensure this value is greater than or equal to ${minimumTtl}.`];
    return undefined;
  }
  if (number > MAXIMUM_TTL) {
    errors.ttl = [`Ensure this value is less than or equal to ${MAXIMUM_TTL}.`];
    return undefined;
  }
  return number;
}

function ownerName(subname: string | undefined, zone: string): string {
  return subname ? `${subname}.${zone}.` : `${zone}.`;
}

/** Canonical records, or an error list under `records`. */
function readRecords(
  value: unknown,
  type: string | undefined,
  owner: string,
  errors: FieldErrors,
): string[] | undefined {
  if (!Array.isArray(value)) {
    errors.records = [`Expected a list of items but got type "${jsonKind(value)}".`];
    return undefined;
  }
  if (value.length > MAX_RECORDS) {
    errors.records = [`Ensure this field has no more than ${MAX_RECORDS} elements.`];
    return undefined;
  }
  if (!value.every((record) => typeof record === 'string')) {
    errors.records = ['Not a valid string.'];
    return undefined;
  }
  if (type === undefined) return value;
  const canonical: string[] = [];
  for (const content of value) {
    try {
      canonical.push(canonicalRdata(type, content));
    } catch (error) {
      const reason = error instanceof RdataError ? error.reason : String(error);
      errors.records = [`Record content of ${type} ${owner} invalid: '${content}': ${reason}`];
      return undefined;
    }
  }
  const identities = new Set(canonical.map((record) => recordIdentity(type, record)));
  if (identities.size !== canonical.length) {
    errors.records = ['Duplicate: records must be semantically unique'];
    return undefined;
  }
  return [...canonical].sort();
}

/** Checks that need the whole RRset: apex-only and non-apex types. */
function rrsetError(subname: string, type: string): string | undefined {
  if (type === 'DNSKEY' && subname !== '') return 'DNSKEY RRset must have empty subname.';
  if (type === 'DS' && subname === '') return 'DS RRset cannot have empty subname.';
  return undefined;
}

/** Validates one RRset of a request body. */
export function validateRrset(raw: unknown, context: ValidationContext): ValidationResult {
  if (!isObject(raw))
    return {
      errors: {
        non_field_errors: [`Invalid data. Expected a dictionary, but got ${jsonKind(raw)}.`],
      },
    };
  const errors: FieldErrors = {};
  const subname = readSubname(raw, context, errors);
  const type = readType(raw, context, errors);
  const known = subname !== undefined && type !== undefined && context.exists(subname, type);
  const emptyRecords = Array.isArray(raw.records) && raw.records.length === 0;
  // TTL and records may be left out only by PATCH of an existing RRset, or to delete one.
  const partial = context.mode === 'PATCH' && known;
  let ttl: number | undefined;
  if (raw.ttl !== undefined) ttl = readTtl(raw.ttl, context.minimumTtl, errors);
  else if (!partial && !emptyRecords) errors.ttl = [REQUIRED];
  let records: string[] | undefined;
  if (raw.records !== undefined)
    records = readRecords(raw.records, type, ownerName(subname, context.zone), errors);
  else if (!partial) errors.records = [REQUIRED];
  if (context.mode === 'POST' && emptyRecords)
    errors.records = ['This field must not be empty when using POST.'];
  if (Object.keys(errors).length > 0 || subname === undefined || type === undefined)
    return { errors };
  const problem = rrsetError(subname, type);
  if (problem !== undefined) return { errors: { non_field_errors: [problem] } };
  const write: RrsetWrite = { subname, type };
  if (ttl !== undefined) write.ttl = ttl;
  if (records !== undefined) write.records = records;
  return { write };
}
