import type {
  BlockReason,
  DesiredSignerState,
  ObservedTtls,
  ProcessKind,
  SignerReference,
  SigningKey,
  StepDefinition,
  TimingSettings,
  ZoneEvent,
} from '@chorus/core';

export type StepStatus = 'pending' | 'started' | 'postcondition-met' | 'waiting' | 'completed';

export interface StepState {
  status: StepStatus;
  startedAt?: string;
  desired?: Record<string, DesiredSignerState>;
  /** Which participants applied the step's desired state, and how many changes that took. */
  reconciled: Record<string, { applied: number; at: string }>;
  postconditionMetAt?: string;
  ttls?: ObservedTtls;
  wait?: { notBefore: string; formula: string; terms: Record<string, number | string> };
  completedAt?: string;
}

export type ProcessStatus = 'requested' | 'running' | 'completed' | 'blocked' | 'failed';

export interface ProcessState {
  id: string;
  kind: ProcessKind;
  signerId: string;
  status: ProcessStatus;
  steps: StepDefinition[];
  stepStates: StepState[];
  /** Index of the first step that is not completed; `steps.length` when all are. */
  currentStep: number;
  groupBefore: string[];
  groupAfter: string[];
  /** The W3C traceparent of the request: every event of the process belongs to its trace. */
  traceparent?: string;
  /** Steps whose wait is skipped: UNSAFE, for negative controls only. */
  unsafeSkipWaits?: string[];
  startedAt: string;
  endedAt?: string;
  reasons?: BlockReason[];
}

export interface SignerState extends SignerReference {
  keys: SigningKey[];
  keysObservedAt?: string;
}

/** The state of one zone: a deterministic fold of its stream, the same in every sidecar. */
export interface ZoneState {
  zone: string;
  /** How many events were folded: the stream version to expect on the next append. */
  version: number;
  defined: boolean;
  parentZone: string;
  timing: TimingSettings;
  /** TTL of the records Chorus adds (DNSKEY, CDS, CDNSKEY, CSYNC, NS). */
  recordTtlSeconds: number;
  signers: Record<string, SignerState>;
  /** The signers currently in the group (serving and signing the zone). */
  members: string[];
  processes: ProcessState[];
  /** The process in flight, if any: one per zone at a time. */
  activeProcess: ProcessState | null;
  /** Requests waiting for their pre-flight checks, oldest first. */
  pendingRequests: {
    processId: string;
    kind: ProcessKind;
    signerId: string;
    requestedBy: string;
    requestedAt: string;
    traceparent?: string;
    unsafeSkipWaits?: string[];
  }[];
}

export const DEFAULT_TIMING: TimingSettings = {
  childPropagationSeconds: 2,
  parentPropagationSeconds: 2,
  safetyMarginSeconds: 2,
  maxZoneTtlSeconds: 3600,
};

export function emptyZoneState(zone: string): ZoneState {
  return {
    zone,
    version: 0,
    defined: false,
    parentZone: '',
    timing: DEFAULT_TIMING,
    recordTtlSeconds: 3600,
    signers: {},
    members: [],
    processes: [],
    activeProcess: null,
    pendingRequests: [],
  };
}

/** Raised when a stream holds an event that cannot follow what came before: the log is not ours, or corrupt. */
export class ZoneStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZoneStreamError';
  }
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function processOf(state: ZoneState, processId: string): ProcessState {
  const process = state.processes.find((candidate) => candidate.id === processId);
  if (!process) throw new ZoneStreamError(`event refers to unknown process ${processId}`);
  return process;
}

function stepOf(process: ProcessState, stepIndex: number): StepState {
  const step = process.stepStates[stepIndex];
  if (!step) throw new ZoneStreamError(`process ${process.id} has no step ${stepIndex}`);
  if (stepIndex !== process.currentStep) {
    throw new ZoneStreamError(
      `process ${process.id}: event for step ${stepIndex} while step ${process.currentStep} is current`,
    );
  }
  return step;
}

/** Applies one event. Pure: returns a new state and never mutates its input. */
export function applyZoneEvent(previous: ZoneState, event: ZoneEvent): ZoneState {
  const state = clone(previous);
  state.version += 1;
  switch (event.type) {
    case 'zone-defined': {
      state.defined = true;
      state.parentZone = event.data.parentZone;
      state.timing = event.data.timing;
      state.recordTtlSeconds = event.data.recordTtlSeconds;
      for (const signer of event.data.signers)
        state.signers[signer.id] = { ...signer, keys: state.signers[signer.id]?.keys ?? [] };
      state.members = event.data.signers.map((signer) => signer.id);
      return state;
    }
    case 'signer-registered': {
      const signer = event.data.signer;
      state.signers[signer.id] = {
        ...signer,
        keys: state.signers[signer.id]?.keys ?? [],
        ...(state.signers[signer.id]?.keysObservedAt
          ? { keysObservedAt: state.signers[signer.id]!.keysObservedAt! }
          : {}),
      };
      return state;
    }
    case 'signer-keys-observed': {
      const signer = state.signers[event.data.signerId];
      if (!signer)
        throw new ZoneStreamError(`keys observed for unregistered signer ${event.data.signerId}`);
      signer.keys = event.data.keys;
      signer.keysObservedAt = event.occurredAt;
      return state;
    }
    case 'process-requested': {
      state.pendingRequests.push({
        ...event.data,
        requestedAt: event.occurredAt,
        ...(event.traceparent ? { traceparent: event.traceparent } : {}),
      });
      return state;
    }
    case 'process-blocked': {
      state.pendingRequests = state.pendingRequests.filter(
        (request) => request.processId !== event.data.processId,
      );
      state.processes.push({
        id: event.data.processId,
        kind: event.data.kind,
        signerId: event.data.signerId,
        status: 'blocked',
        steps: [],
        stepStates: [],
        currentStep: 0,
        groupBefore: [...state.members],
        groupAfter: [...state.members],
        startedAt: event.occurredAt,
        endedAt: event.occurredAt,
        reasons: event.data.reasons,
      });
      return state;
    }
    case 'process-started': {
      if (state.activeProcess) {
        throw new ZoneStreamError(
          `process ${event.data.processId} started while ${state.activeProcess.id} is in flight`,
        );
      }
      state.pendingRequests = state.pendingRequests.filter(
        (request) => request.processId !== event.data.processId,
      );
      const process: ProcessState = {
        id: event.data.processId,
        kind: event.data.kind,
        signerId: event.data.signerId,
        status: 'running',
        steps: event.data.steps,
        stepStates: event.data.steps.map(() => ({ status: 'pending', reconciled: {} })),
        currentStep: 0,
        groupBefore: event.data.groupBefore,
        groupAfter: event.data.groupAfter,
        ...(event.traceparent ? { traceparent: event.traceparent } : {}),
        ...(event.data.unsafeSkipWaits ? { unsafeSkipWaits: event.data.unsafeSkipWaits } : {}),
        startedAt: event.occurredAt,
      };
      state.processes.push(process);
      state.activeProcess = process;
      return state;
    }
    case 'step-started': {
      const process = processOf(state, event.data.processId);
      const step = stepOf(process, event.data.stepIndex);
      if (step.status !== 'pending')
        throw new ZoneStreamError(`step ${event.data.stepIndex} of ${process.id} started twice`);
      step.status = 'started';
      step.startedAt = event.occurredAt;
      step.desired = event.data.desired;
      break;
    }
    case 'signer-reconciled': {
      const step = stepOf(processOf(state, event.data.processId), event.data.stepIndex);
      step.reconciled[event.data.signerId] = { applied: event.data.applied, at: event.occurredAt };
      break;
    }
    case 'postcondition-met': {
      const step = stepOf(processOf(state, event.data.processId), event.data.stepIndex);
      if (step.status !== 'started')
        throw new ZoneStreamError(
          `post-condition of step ${event.data.stepIndex} met in status ${step.status}`,
        );
      step.status = 'postcondition-met';
      step.postconditionMetAt = event.data.observedAt;
      step.ttls = event.data.ttls;
      break;
    }
    case 'wait-scheduled': {
      const step = stepOf(processOf(state, event.data.processId), event.data.stepIndex);
      if (step.status !== 'postcondition-met')
        throw new ZoneStreamError(
          `wait scheduled for step ${event.data.stepIndex} in status ${step.status}`,
        );
      step.status = 'waiting';
      step.wait = {
        notBefore: event.data.notBefore,
        formula: event.data.formula,
        terms: event.data.terms,
      };
      break;
    }
    case 'step-completed': {
      const process = processOf(state, event.data.processId);
      const step = stepOf(process, event.data.stepIndex);
      if (step.status === 'completed' || step.status === 'pending') {
        throw new ZoneStreamError(
          `step ${event.data.stepIndex} of ${process.id} completed in status ${step.status}`,
        );
      }
      step.status = 'completed';
      step.completedAt = event.occurredAt;
      process.currentStep += 1;
      break;
    }
    case 'process-completed': {
      const process = processOf(state, event.data.processId);
      process.status = 'completed';
      process.endedAt = event.occurredAt;
      state.members = event.data.groupAfter;
      break;
    }
    case 'process-failed': {
      const process = processOf(state, event.data.processId);
      process.status = 'failed';
      process.endedAt = event.occurredAt;
      process.reasons = [event.data.reason];
      break;
    }
  }
  state.activeProcess = state.processes.find((process) => process.status === 'running') ?? null;
  return state;
}

/** The state of a zone after all its events, in order. */
export function foldZone(zone: string, events: readonly ZoneEvent[]): ZoneState {
  return events.reduce(applyZoneEvent, emptyZoneState(zone));
}
