import { createHash } from 'node:crypto';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type SpanContext,
} from '@opentelemetry/api';
import {
  spanContextFromTraceparent,
  tracer,
  type BlockReason,
  type ProcessKind,
  type ZoneEvent,
} from '@chorus/core';
import type { ProcessState, ZoneState } from '@chorus/engine';
import { canChooseSpanIds, startSpanWithIds } from './telemetry.js';

/**
 * One trace per process, across every sidecar process.
 *
 * The trace id and the root span id are the ones in the `process-requested` event's traceparent
 * (the requester chose them). Every sidecar parents its spans to that root, or to the span of
 * the step they belong to, whose id every sidecar derives alike from the trace id, the process id
 * and the step index. Nobody holds a span open across processes: the sidecar that records
 * `step-completed` emits the step's span (from its `step-started` time), and the one that records
 * the process's end (`process-completed`, `-failed` or `-blocked`) emits the root span (from the
 * request's time), both with those precomputed ids. A process therefore has exactly one trace, with
 * one root and one span per step, however many sidecars worked on it and however often they
 * restarted.
 */

export interface RequestTrace {
  processId: string;
  kind: ProcessKind;
  signerId: string;
  /** The `process-requested` event's time (ISO). */
  requestedAt: string;
  /** Its traceparent: the trace of the process and the root span's id. */
  root: SpanContext | undefined;
}

export type ProcessEnd = 'completed' | 'failed' | 'blocked' | 'stopped';

function toTime(iso: string | undefined): Date | undefined {
  if (!iso) return undefined;
  const time = new Date(iso);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

/** The span id of a step: the same in every sidecar, unique within the trace. */
export function stepSpanId(traceId: string, processId: string, stepIndex: number): string {
  return createHash('sha256')
    .update(`${traceId}/${processId}/step/${stepIndex}`)
    .digest('hex')
    .slice(0, 16);
}

export class ProcessTracer {
  private readonly requests = new Map<string, RequestTrace>();

  constructor(private readonly sidecarId: string) {}

  /** Called with every event folded, in order: remembers each request's traceparent and time. */
  note(event: ZoneEvent): void {
    if (
      event.type === 'process-completed' ||
      event.type === 'process-failed' ||
      event.type === 'process-blocked'
    ) {
      // Read after this sidecar emitted the root span (if it recorded the end): no longer needed.
      this.requests.delete(event.data.processId);
      return;
    }
    if (event.type !== 'process-requested') return;
    this.requests.set(event.data.processId, {
      processId: event.data.processId,
      kind: event.data.kind,
      signerId: event.data.signerId,
      requestedAt: event.occurredAt,
      root: spanContextFromTraceparent(event.traceparent),
    });
  }

  /** The root span context of a process: its request's traceparent, else its start event's. */
  root(process: Pick<ProcessState, 'id' | 'traceparent'>): SpanContext | undefined {
    return this.requests.get(process.id)?.root ?? spanContextFromTraceparent(process.traceparent);
  }

  /** The context whose parent is the process's root span (ROOT_CONTEXT when it has no trace). */
  rootContext(process: Pick<ProcessState, 'id' | 'traceparent'>): Context {
    const root = this.root(process);
    return root ? trace.setSpanContext(ROOT_CONTEXT, root) : ROOT_CONTEXT;
  }

  /** The context whose parent is a step's span (the root when span ids cannot be chosen). */
  stepContext(process: Pick<ProcessState, 'id' | 'traceparent'>, stepIndex: number): Context {
    const root = this.root(process);
    if (!root || !canChooseSpanIds()) return this.rootContext(process);
    return trace.setSpanContext(ROOT_CONTEXT, {
      ...root,
      spanId: stepSpanId(root.traceId, process.id, stepIndex),
    });
  }

  /** The parent of the span of an action on a process's request (its pre-flight). */
  requestContext(processId: string, state: ZoneState): Context {
    const pending = state.pendingRequests.find((request) => request.processId === processId);
    return this.rootContext({ id: processId, traceparent: pending?.traceparent });
  }

  /**
   * The span of a step this sidecar just recorded as completed: from `step-started` to now, child
   * of the root, with the step's derived span id (so every sidecar's spans of the step nest in it).
   */
  emitStep(zone: string, process: ProcessState, stepIndex: number, end = new Date()): void {
    const root = this.root(process);
    if (!root) return;
    const definition = process.steps[stepIndex];
    const step = process.stepStates[stepIndex];
    if (!definition || !step) return;
    const attributes: Attributes = {
      'chorus.sidecar.id': this.sidecarId,
      'chorus.zone': zone,
      'chorus.process.id': process.id,
      'chorus.process.kind': process.kind,
      'chorus.process.signer': process.signerId,
      'chorus.step.index': stepIndex,
      'chorus.step.name': definition.name,
      'chorus.step.postcondition': definition.postcondition.kind,
      ...(definition.wait ? { 'chorus.wait.formula': definition.wait } : {}),
      ...(step.wait
        ? {
            'chorus.wait.not_before': step.wait.notBefore,
            'chorus.wait.expression': step.wait.formula,
          }
        : {}),
    };
    const options = {
      kind: SpanKind.INTERNAL,
      attributes,
      startTime: toTime(step.startedAt) ?? end,
    };
    const name = `step ${stepIndex + 1} ${definition.name}`;
    const parent = this.rootContext(process);
    const span = canChooseSpanIds()
      ? startSpanWithIds(name, options, parent, {
          traceId: root.traceId,
          spanId: stepSpanId(root.traceId, process.id, stepIndex),
        })
      : tracer.startSpan(name, options, parent);
    for (const [signerId, reconciled] of Object.entries(step.reconciled))
      span.addEvent(
        'signer-reconciled',
        { 'chorus.signer.id': signerId, 'chorus.changes': reconciled.applied },
        toTime(reconciled.at),
      );
    const met = toTime(step.postconditionMetAt);
    if (met) span.addEvent('postcondition-met', {}, met);
    span.end(end);
  }

  /**
   * The root span of a process this sidecar just recorded the end of: from the request to now,
   * with the trace and span id of the request's traceparent, so it has no parent and every span of
   * the process descends from it.
   */
  emitProcess(
    zone: string,
    process: {
      id: string;
      kind: ProcessKind;
      signerId: string;
      traceparent?: string;
      startedAt?: string;
      steps?: number;
      groupBefore?: string[];
      groupAfter?: string[];
    },
    outcome: ProcessEnd,
    reasons: readonly BlockReason[] = [],
    end = new Date(),
  ): void {
    const root = this.root(process);
    if (!root) return;
    const request = this.requests.get(process.id);
    const attributes: Attributes = {
      'chorus.sidecar.id': this.sidecarId,
      'chorus.zone': zone,
      'chorus.process.id': process.id,
      'chorus.process.kind': process.kind,
      'chorus.process.signer': process.signerId,
      'chorus.process.outcome': outcome,
      ...(process.steps === undefined ? {} : { 'chorus.process.steps': process.steps }),
      ...(process.groupBefore ? { 'chorus.group.before': process.groupBefore } : {}),
      ...(process.groupAfter ? { 'chorus.group.after': process.groupAfter } : {}),
      ...(reasons.length > 0 ? { 'chorus.process.reasons': reasons.map((r) => r.code) } : {}),
    };
    const options = {
      kind: SpanKind.INTERNAL,
      attributes,
      startTime: toTime(request?.requestedAt) ?? toTime(process.startedAt) ?? end,
    };
    const name = `process ${process.kind} ${process.signerId}`;
    // Without this file's SDK the ids cannot be chosen: the span then joins the trace as a child.
    const span = canChooseSpanIds()
      ? startSpanWithIds(name, options, ROOT_CONTEXT, root)
      : tracer.startSpan(name, options, this.rootContext(process));
    const started = toTime(process.startedAt);
    if (started && request) span.addEvent('process-started', {}, started);
    // A stop is the operator's choice, not an error.
    if (outcome === 'failed' || outcome === 'blocked')
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: `${outcome}: ${reasons.map((reason) => reason.code).join(', ') || 'no reason given'}`,
      });
    span.end(end);
  }
}
