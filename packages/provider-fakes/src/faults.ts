/**
 * Injected faults (`POST /_fake/faults`): for the next `times` API requests that match, answer
 * with a status, answer late, or answer with fields removed from the JSON body.
 */
import { HttpError } from './errors.js';

export interface FaultSpec {
  match: { method?: string; pathPrefix?: string };
  /** Answer with this status (and `body`) instead of running the request. */
  status?: number;
  body?: unknown;
  /** Wait this long before answering; a client that disconnects meanwhile changes nothing. */
  delayMs?: number;
  /** Remove these fields (dotted paths, through arrays) from the JSON response body. */
  dropFields?: string[];
  /** How many matching requests; absent = every one until cleared. */
  times?: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(problem: string): HttpError {
  return new HttpError(400, { error: `invalid fault: ${problem}` });
}

function optionalInteger(
  value: unknown,
  field: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw invalid(`${field} must be an integer from ${min} to ${max}`);
  return value;
}

/** Validates the body of `POST /_fake/faults`. */
export function parseFault(body: unknown): FaultSpec {
  if (!isObject(body)) throw invalid('the body must be an object');
  const match = body.match ?? {};
  if (!isObject(match)) throw invalid('match must be an object');
  if (match.method !== undefined && typeof match.method !== 'string')
    throw invalid('match.method must be a string');
  if (match.pathPrefix !== undefined && typeof match.pathPrefix !== 'string')
    throw invalid('match.pathPrefix must be a string');
  const dropFields = body.dropFields;
  if (
    dropFields !== undefined &&
    (!Array.isArray(dropFields) || !dropFields.every((field) => typeof field === 'string'))
  )
    throw invalid('dropFields must be a list of strings');
  const fault: FaultSpec = { match: {} };
  if (typeof match.method === 'string') fault.match.method = match.method.toUpperCase();
  if (typeof match.pathPrefix === 'string') fault.match.pathPrefix = match.pathPrefix;
  const status = optionalInteger(body.status, 'status', 100, 599);
  if (status !== undefined) fault.status = status;
  if (body.body !== undefined) fault.body = body.body;
  const delayMs = optionalInteger(body.delayMs, 'delayMs', 0, 600_000);
  if (delayMs !== undefined) fault.delayMs = delayMs;
  if (dropFields !== undefined) fault.dropFields = dropFields;
  const times = optionalInteger(body.times, 'times', 1, 1_000_000);
  if (times !== undefined) fault.times = times;
  return fault;
}

/** The faults in force, first added first matched. */
export class FaultSet {
  #faults: FaultSpec[] = [];

  add(fault: FaultSpec): void {
    this.#faults.push({ ...fault });
  }

  /** Removes every fault; returns how many there were. */
  clear(): number {
    const count = this.#faults.length;
    this.#faults = [];
    return count;
  }

  list(): FaultSpec[] {
    return this.#faults.map((fault) => ({ ...fault }));
  }

  /** The first fault matching the request, using up one of its `times`. */
  take(method: string, path: string): FaultSpec | undefined {
    const fault = this.#faults.find(
      (entry) =>
        (entry.match.method === undefined || entry.match.method === method) &&
        (entry.match.pathPrefix === undefined || path.startsWith(entry.match.pathPrefix)),
    );
    if (fault === undefined) return undefined;
    if (fault.times !== undefined) {
      fault.times -= 1;
      if (fault.times <= 0) this.#faults = this.#faults.filter((entry) => entry !== fault);
    }
    return fault;
  }
}

function dropPath(value: unknown, path: readonly string[]): unknown {
  if (Array.isArray(value)) return value.map((item) => dropPath(item, path));
  if (!isObject(value) || path.length === 0) return value;
  const [head = '', ...rest] = path;
  if (!(head in value)) return value;
  const copy = { ...value };
  if (rest.length === 0) delete copy[head];
  else copy[head] = dropPath(copy[head], rest);
  return copy;
}

/** `body` without the `fields` (dotted paths; arrays are walked element by element). */
export function dropFields(body: unknown, fields: readonly string[]): unknown {
  return fields.reduce((current, field) => dropPath(current, field.split('.')), body);
}
