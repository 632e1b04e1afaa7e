import type { TimingSettings, WaitFormula } from '@chorus/core';
import type { ProcessState } from './state.js';

/**
 * Wait formulas (standards §1 and §7). Every term is either configuration (propagation delays,
 * safety margin, max zone TTL) or observed on the wire and persisted in the log (post-condition
 * times and TTLs). When a TTL changed during the process, the largest observed value counts:
 * a cached copy carries the old TTL.
 */

export interface ComputedWait {
  notBefore: string;
  /** The formula in words, e.g. `max(t_ds + DprpP + TTLds, t_dnskey + DprpC + TTLkey) + S`. */
  formula: string;
  /** Every input, so that the log shows how `notBefore` came about. Times ISO, durations seconds. */
  terms: Record<string, number | string>;
}

export class WaitInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WaitInputError';
  }
}

function seconds(iso: string): number {
  const value = Date.parse(iso);
  if (Number.isNaN(value)) throw new WaitInputError(`not a time: ${iso}`);
  return value / 1000;
}

/** The time the post-condition of the named step was met, and the TTLs observed then. */
function observation(process: ProcessState, stepName: string) {
  const index = process.steps.findIndex((step) => step.name === stepName);
  const step = index >= 0 ? process.stepStates[index] : undefined;
  if (!step?.postconditionMetAt)
    throw new WaitInputError(
      `${process.kind} ${process.id}: step ${stepName} has no observation yet`,
    );
  return { at: step.postconditionMetAt, ttls: step.ttls ?? {} };
}

/** The largest value of a TTL over every observation of the process so far (max(old, new)). */
function maxTtl(process: ProcessState, key: 'dnskey' | 'ds' | 'parentNs' | 'childNs'): number {
  const values = process.stepStates
    .map((step) => step.ttls?.[key])
    .filter((value): value is number => value !== undefined);
  if (values.length === 0)
    throw new WaitInputError(`${process.kind} ${process.id}: no ${key} TTL observed`);
  return Math.max(...values);
}

function at(secondsSinceEpoch: number): string {
  return new Date(Math.ceil(secondsSinceEpoch) * 1000).toISOString();
}

/**
 * The earliest time the step after `formula`'s step may begin. `now` (ISO) is the moment of the
 * marker step for the signature wait (t_stop).
 */
export function computeWait(
  formula: WaitFormula,
  process: ProcessState,
  timing: TimingSettings,
  now: string,
): ComputedWait {
  const S = timing.safetyMarginSeconds;
  const DprpC = timing.childPropagationSeconds;
  const DprpP = timing.parentPropagationSeconds;
  switch (formula) {
    case 'ds-and-dnskey': {
      const ds = observation(process, 'await-parent-ds');
      const dnskey = observation(process, 'sync-dnskeys');
      const TTLds = maxTtl(process, 'ds');
      const TTLkey = maxTtl(process, 'dnskey');
      const end = Math.max(seconds(ds.at) + DprpP + TTLds, seconds(dnskey.at) + DprpC + TTLkey) + S;
      return {
        notBefore: at(end),
        formula: 'max(t_ds + DprpP + TTLds, t_dnskey + DprpC + TTLkey) + S',
        terms: { t_ds: ds.at, DprpP, TTLds, t_dnskey: dnskey.at, DprpC, TTLkey, S },
      };
    }
    case 'ns': {
      const parent = observation(process, 'await-parent-ns');
      const child = observation(process, 'sync-ns');
      const TTLnsP = maxTtl(process, 'parentNs');
      const TTLnsC = maxTtl(process, 'childNs');
      const end =
        Math.max(seconds(parent.at) + DprpP + TTLnsP, seconds(child.at) + DprpC + TTLnsC) + S;
      return {
        notBefore: at(end),
        formula: 'max(t_pns + DprpP + TTLnsP, t_ns + DprpC + TTLnsC) + S',
        terms: { t_pns: parent.at, DprpP, TTLnsP, t_ns: child.at, DprpC, TTLnsC, S },
      };
    }
    case 'signatures': {
      // Remove: from the leaving signer's stop. Roll: from the last predecessor signature seen.
      const TTLsig = timing.maxZoneTtlSeconds;
      const t = process.kind === 'remove-signer' ? 't_stop' : 't_sig';
      return {
        notBefore: at(seconds(now) + DprpC + TTLsig + S),
        formula: `${t} + DprpC + TTLsig + S`,
        terms: { [t]: now, DprpC, TTLsig, S },
      };
    }
    case 'dnskey': {
      // Ipub (standards §7.3 step 2): every cached DNSKEY RRset without the successor has expired.
      const TTLkey = maxTtl(process, 'dnskey');
      return {
        notBefore: at(seconds(now) + DprpC + TTLkey + S),
        formula: 't_pub + DprpC + TTLkey + S',
        terms: { t_pub: now, DprpC, TTLkey, S },
      };
    }
    case 'ds': {
      // From this step's own observation of the parent (REMOVE-SIGNER's last step, a KSK roll's).
      const TTLds = maxTtl(process, 'ds');
      return {
        notBefore: at(seconds(now) + DprpP + TTLds + S),
        formula: 't_ds + DprpP + TTLds + S',
        terms: { t_ds: now, DprpP, TTLds, S },
      };
    }
  }
}
