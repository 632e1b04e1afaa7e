import { metrics, type Counter, type Histogram, type MeterProvider } from '@opentelemetry/api';

/**
 * Chorus's metric instruments, on `@opentelemetry/api` only (no-ops without an SDK). They are
 * created on first use from the meter provider registered at that moment, and created again when
 * another provider is registered, so a provider set up after this module loaded is never missed.
 * Attribute values are low-cardinality words (kinds, names, outcomes): never zones or secrets.
 */

export const METER_NAME = '@chorus/core';

export type ProcessOutcome = 'started' | 'completed' | 'failed' | 'blocked' | 'stopped';
export type ValidationVerdict = 'secure' | 'bogus' | 'indeterminate';
export type CallOutcome = 'ok' | 'error';

interface Instruments {
  processes: Counter;
  steps: Counter;
  waits: Histogram;
  validationChecks: Counter;
  validationFailures: Counter;
  pluginCalls: Histogram;
}

/** Bucket boundaries in seconds: plugin calls take milliseconds to a minute. */
const CALL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Waits are TTL-sized: seconds in the lab, hours to days in production. */
const WAIT_BUCKETS = [1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200, 21600, 86400, 172800, 604800];

let cache: { provider: MeterProvider; instruments: Instruments } | undefined;

function instruments(): Instruments {
  const provider = metrics.getMeterProvider();
  if (cache?.provider === provider) return cache.instruments;
  const meter = provider.getMeter(METER_NAME);
  const created: Instruments = {
    processes: meter.createCounter('chorus.processes', {
      description:
        'Processes by kind and outcome (started, completed, failed, blocked), counted by the sidecar that recorded the event',
      unit: '{process}',
    }),
    steps: meter.createCounter('chorus.steps', {
      description: 'Completed process steps, by process kind and step name',
      unit: '{step}',
    }),
    waits: meter.createHistogram('chorus.waits.duration', {
      description:
        'Mandated waits scheduled after a post-condition held (from the observation to notBefore), by formula',
      unit: 's',
      advice: { explicitBucketBoundaries: WAIT_BUCKETS },
    }),
    validationChecks: meter.createCounter('chorus.validation.checks', {
      description: 'Independent validation checks, by provider and verdict',
      unit: '{check}',
    }),
    validationFailures: meter.createCounter('chorus.validation.failures', {
      description: 'Validation failures and disagreements seen by the observers, by kind',
      unit: '{failure}',
    }),
    pluginCalls: meter.createHistogram('chorus.plugin.call.duration', {
      description: 'Duration of calls into signer and parent-channel plugins',
      unit: 's',
      advice: { explicitBucketBoundaries: CALL_BUCKETS },
    }),
  };
  cache = { provider, instruments: created };
  return created;
}

/** A process event this caller recorded in the log: `started`, `completed`, `failed` or `blocked`. */
export function recordProcess(kind: string, outcome: ProcessOutcome): void {
  instruments().processes.add(1, {
    'chorus.process.kind': kind,
    'chorus.process.outcome': outcome,
  });
}

/** A step this caller recorded as completed. */
export function recordStep(processKind: string, stepName: string): void {
  instruments().steps.add(1, { 'chorus.process.kind': processKind, 'chorus.step.name': stepName });
}

/** A wait this caller scheduled: its length in seconds and its formula's name (e.g. `ds-and-dnskey`). */
export function recordWait(seconds: number, formula: string): void {
  if (!Number.isFinite(seconds) || seconds < 0) return;
  instruments().waits.record(seconds, { 'chorus.wait.formula': formula });
}

/** One validation check of a provider by an independent validator. */
export function recordValidationCheck(provider: string, verdict: ValidationVerdict): void {
  instruments().validationChecks.add(1, {
    'chorus.validation.provider': provider,
    'chorus.validation.verdict': verdict,
  });
}

/** One failure an observer saw, e.g. `validation-failure` or `disagreement`. */
export function recordValidationFailure(
  kind: string,
  attributes: { provider?: string; invariant?: string } = {},
): void {
  instruments().validationFailures.add(1, {
    'chorus.validation.failure.kind': kind,
    ...(attributes.provider ? { 'chorus.validation.provider': attributes.provider } : {}),
    ...(attributes.invariant ? { 'chorus.validation.invariant': attributes.invariant } : {}),
  });
}

/** One call into a plugin: its duration in seconds and whether it succeeded. */
export function recordPluginCall(
  plugin: string,
  method: string,
  outcome: CallOutcome,
  seconds: number,
): void {
  instruments().pluginCalls.record(seconds, {
    'chorus.plugin': plugin,
    'chorus.plugin.method': method,
    'chorus.outcome': outcome,
  });
}
