/**
 * Turns what observers report into observation events and appends them, in order, to the zone's
 * observation stream. One writer per stream is expected; a lost race is re-read and retried.
 */
import { formatRdata, keyTag } from '@chorus/dns';
import {
  DNSKEY_FLAG_SEP,
  observationEvent,
  observationStream,
  type DnskeyData,
  type EventLog,
  type EventSource,
  type ObservationEvent,
  type ObservationEventOf,
  type ObservationEventType,
} from '@chorus/core';
import type { InvariantViolation } from './invariants.js';
import type { ValidationFinding } from './validation-observer.js';
import { serverLabel, type ObservedVersion } from './wire-history.js';

export interface ObservationRecorder {
  version(version: ObservedVersion): void;
  violated(violation: InvariantViolation & { processId?: string }, at: number): void;
  restored(
    violation: InvariantViolation & { processId?: string },
    violatedAt: number,
    at: number,
  ): void;
  finding(finding: ValidationFinding): void;
  summary(data: Extract<ObservationEvent, { type: 'observer-summary' }>['data']): void;
  /** Resolves once everything recorded so far is in the log. */
  flush(): Promise<void>;
  /** Events that could not be appended (logged by the caller). */
  readonly errors: unknown[];
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** What the recorder needs of the log: a log of both families (`EventLog<ChorusEvent>`) will do. */
export type ObservationLog = Pick<EventLog<ObservationEvent>, 'append' | 'streamVersion'>;

/** Tries per event: a conflict re-reads the stream's version, a retryable failure (busy) waits. */
const APPEND_ATTEMPTS = 6;
const RETRY_DELAY_MS = 100;

const isConflict = (error: unknown) =>
  (error as { name?: string } | null)?.name === 'Chorus_WrongExpectedVersionError';
const isRetryable = (error: unknown) =>
  (error as { isRetryable?: boolean } | null)?.isRetryable === true;

export function createObservationRecorder(
  log: ObservationLog,
  zone: string,
  source: EventSource,
  options: {
    keyOwner?: (tag: number) => string | undefined;
    /** Called with an event that could not be recorded after the retries (it is lost). */
    onError?: (error: unknown, type: ObservationEventType) => void;
  } = {},
): ObservationRecorder {
  const stream = observationStream(zone);
  const errors: unknown[] = [];
  let tail: Promise<void> = Promise.resolve();
  let expected: number | undefined;

  const append = <Type extends ObservationEventType>(
    type: Type,
    data: ObservationEventOf<Type>['data'],
    occurredAt: string,
  ) => {
    const event = observationEvent(type, { zone, occurredAt, source }, data);
    tail = tail.then(async () => {
      let lastError: unknown;
      for (let attempt = 0; attempt < APPEND_ATTEMPTS; attempt += 1) {
        try {
          if (expected === undefined) expected = await log.streamVersion(stream);
          const result = await log.append(stream, expected, [event]);
          expected = result.streamVersion;
          return;
        } catch (error) {
          expected = undefined;
          lastError = error;
          if (isConflict(error)) continue;
          if (!isRetryable(error)) break;
          await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS * (attempt + 1)));
        }
      }
      errors.push(lastError);
      options.onError?.(lastError, type);
    });
  };

  return {
    errors,
    version(version) {
      const rrset = version.answer.rrset;
      const type = version.answer.type;
      const records = rrset ? rrset.records.map((data) => formatRdata({ type: type, data })) : [];
      const keys =
        type === 'DNSKEY' && rrset
          ? (rrset.records as DnskeyData[]).map((key) => {
              const tag = keyTag(key);
              const owner = options.keyOwner?.(tag);
              return {
                keyTag: tag,
                algorithm: key.algorithm,
                role: (key.flags & DNSKEY_FLAG_SEP) !== 0 ? ('KSK' as const) : ('ZSK' as const),
                ...(owner ? { owner } : {}),
              };
            })
          : undefined;
      append(
        'wire-version-observed',
        {
          provider: version.server.provider,
          server: serverLabel(version.server),
          owner: version.answer.owner,
          rrtype: type,
          version: version.id,
          rcode: version.answer.rcode,
          ttl: rrset?.ttl ?? 0,
          records,
          signedBy: rrset ? [...new Set(rrset.signatures.map((sig) => sig.keyTag))] : [],
          ...(keys ? { keys } : {}),
        },
        iso(version.firstSeen),
      );
    },
    violated(violation, at) {
      append(
        'invariant-violated',
        {
          invariant: violation.invariant,
          key: violation.key,
          providers: violation.providers,
          records: violation.records,
          detail: violation.detail,
          ...(violation.processId ? { processId: violation.processId } : {}),
        },
        iso(at),
      );
    },
    restored(violation, violatedAt, at) {
      append(
        'invariant-restored',
        {
          invariant: violation.invariant,
          key: violation.key,
          violatedAt: iso(violatedAt),
          ...(violation.processId ? { processId: violation.processId } : {}),
        },
        iso(at),
      );
    },
    finding(finding) {
      const common = {
        name: finding.name,
        rrtype: finding.type,
        detail: finding.detail,
        ...(finding.provider ? { provider: finding.provider } : {}),
        ...(finding.processId ? { processId: finding.processId } : {}),
      };
      if (finding.kind === 'disagreement')
        append('validator-disagreed', { ...common, resolver: finding.resolver ?? '' }, finding.at);
      else
        append(
          'validation-failed',
          {
            ...common,
            ...(finding.resolver ? { resolver: finding.resolver } : {}),
            ...(finding.invariant ? { invariant: finding.invariant } : {}),
          },
          finding.at,
        );
    },
    summary(data) {
      append('observer-summary', data, new Date().toISOString());
    },
    flush: () => tail,
  };
}
