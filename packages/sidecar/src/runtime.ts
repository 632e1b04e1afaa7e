import {
  ChorusError,
  decide,
  foldZone,
  applyZoneEvent,
  childTraceparent,
  observePostcondition,
  observeSignerForPreflight,
  postconditionMet,
  preflightChecks,
  reconcileSigner,
  requestProcess,
  signerReconciled,
  zoneStream,
  type DecideContext,
  createObserverPipeline,
  type Observer,
  type ObserverPipeline,
  type Decision,
  type EventLog,
  type ParentChannel,
  type Signer,
  type SignerObservation,
  type ZoneEvent,
  type ZoneState,
} from '@chorus/core';
import type { Logger } from 'pino';

export interface SidecarRuntimeOptions {
  /** This sidecar's signer id. */
  id: string;
  zones: readonly string[];
  /** The NS names the signer serves the zones under. */
  nameServerNames: readonly string[];
  log: EventLog<ZoneEvent>;
  signer: Signer;
  parent: ParentChannel;
  logger: Logger;
  /** Observers that see every event of the sidecar's zones, isolated by core's observer pipeline. */
  observers?: readonly Observer<ZoneEvent>[];
  /** How often to look again while a post-condition does not hold yet. Default 500 ms. */
  observeIntervalMs?: number;
  now?: () => Date;
}

const isWrongVersion = (error: unknown) =>
  (error as { name?: string } | null)?.name === 'Chorus_WrongExpectedVersionError';

/**
 * Follows each zone's stream, decides with the shared fold, and acts: reconciles its OWN signer
 * only, observes the public DNS, and appends events with optimistic concurrency. Everything it
 * needs after a restart is in the log (waits are persisted as `notBefore`), so a killed sidecar
 * resumes where the stream says, and a step is never recorded twice.
 */
export class SidecarRuntime {
  private readonly states = new Map<string, ZoneState>();
  private readonly wakers = new Map<string, () => void>();
  private readonly loops: Promise<void>[] = [];
  private readonly abort = new AbortController();
  /** Changes applied per step, across attempts: an append that lost a race is retried with an idempotent re-apply of 0 changes. */
  private readonly appliedInStep = new Map<string, number>();
  private subscription: { close(): Promise<void> } | undefined;
  private readonly observers: ObserverPipeline<ZoneEvent>;

  constructor(private readonly options: SidecarRuntimeOptions) {
    this.observers = createObserverPipeline(options.observers ?? [], { logger: options.logger });
  }

  private get log() {
    return this.options.log;
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /** The decision context; events about a process carry a traceparent in the process's trace. */
  private context(zone: string): DecideContext {
    const state = this.states.get(zone);
    const trace = state?.activeProcess?.traceparent ?? state?.pendingRequests[0]?.traceparent;
    return {
      selfSignerId: this.options.id,
      source: { kind: 'sidecar', id: this.options.id },
      now: this.now().toISOString(),
      ...(trace ? { traceparent: childTraceparent(trace) } : {}),
    };
  }

  /** Checks the signer, registers it in every zone, and starts following the streams. */
  async start(): Promise<void> {
    const { signer, logger } = this.options;
    for (const zone of this.options.zones) {
      await signer.checkZone(zone, { signal: this.abort.signal });
      await this.register(zone);
    }
    const seen = await this.log.readAll({ streamPrefix: 'zone/' });
    this.subscription = this.log.subscribe({
      streamPrefix: 'zone/',
      afterPosition: seen.at(-1)?.position ?? 0,
      onEvent: (recorded) => {
        this.observers.publish(recorded.event);
        this.wakers.get(recorded.stream)?.();
      },
      onError: (error) => logger.error({ err: error }, 'event log subscription failed'),
    });
    for (const zone of this.options.zones) this.loops.push(this.run(zone));
    logger.info(
      { zones: this.options.zones, signer: signer.id, kind: signer.kind },
      'sidecar started',
    );
  }

  async stop(): Promise<void> {
    this.abort.abort();
    for (const wake of this.wakers.values()) wake();
    await Promise.allSettled(this.loops);
    await this.subscription?.close();
    await this.observers.shutdown();
    await this.options.signer.close?.();
  }

  /** Reads the stream from where the cached fold stopped. */
  private async refresh(zone: string): Promise<ZoneState> {
    const stream = zoneStream(zone);
    let state = this.states.get(zone) ?? foldZone(zone, []);
    const fresh = await this.log.readStream(stream, { fromVersion: state.version + 1 });
    for (const recorded of fresh) state = applyZoneEvent(state, recorded.event);
    this.states.set(zone, state);
    return state;
  }

  private async append(zone: string, state: ZoneState, event: ZoneEvent): Promise<boolean> {
    try {
      await this.log.append(zoneStream(zone), state.version, [event]);
      this.options.logger.info(
        {
          zone,
          event: event.type,
          ...('stepIndex' in event.data ? { step: event.data.stepIndex } : {}),
        },
        'event appended',
      );
      return true;
    } catch (error) {
      if (isWrongVersion(error)) return true; // another sidecar was first: re-read and decide again
      throw error;
    }
  }

  private async register(zone: string): Promise<void> {
    const { signer, id } = this.options;
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const state = await this.refresh(zone);
      const reference = {
        id,
        kind: signer.kind,
        nameServerNames: [...this.options.nameServerNames],
        endpoints: [...signer.nameServers],
      };
      const known = state.signers[id];
      const context = this.context(zone);
      if (
        !known ||
        JSON.stringify({
          id: known.id,
          kind: known.kind,
          nameServerNames: known.nameServerNames,
          endpoints: known.endpoints,
        }) !== JSON.stringify(reference)
      ) {
        await this.append(zone, state, {
          schemaVersion: 1,
          type: 'signer-registered',
          zone,
          occurredAt: context.now,
          source: context.source,
          data: { signer: reference },
        });
        continue;
      }
      const keys = await signer.listOwnKeys(zone, { signal: this.abort.signal });
      if (JSON.stringify(known.keys) !== JSON.stringify(keys)) {
        await this.append(zone, state, {
          schemaVersion: 1,
          type: 'signer-keys-observed',
          zone,
          occurredAt: context.now,
          source: context.source,
          data: { signerId: id, keys },
        });
        continue;
      }
      return;
    }
  }

  /** Resolves on the next event of the zone, or after `ms`, or when stopping. */
  private sleep(zone: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
      const stream = zoneStream(zone);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakers.set(stream, done);
      this.abort.signal.addEventListener('abort', done, { once: true });
    });
  }

  private async run(zone: string): Promise<void> {
    const { logger } = this.options;
    let failures = 0;
    while (!this.abort.signal.aborted) {
      try {
        const state = await this.refresh(zone);
        const decision = decide(state, this.context(zone));
        const pause = await this.act(zone, state, decision);
        failures = 0;
        if (pause > 0) await this.sleep(zone, pause);
      } catch (error) {
        if (this.abort.signal.aborted) return;
        failures += 1;
        const retryable = ChorusError.isInstance(error) ? error.isRetryable : false;
        logger.warn(
          { err: error, zone, retryable, failures },
          'step action failed; will try again',
        );
        await this.sleep(zone, Math.min(30_000, 500 * 2 ** Math.min(failures, 6)));
      }
    }
  }

  /** Carries out one decision. Returns how long to pause before deciding again (0 = at once). */
  private async act(zone: string, state: ZoneState, decision: Decision): Promise<number> {
    const { signer, parent, logger } = this.options;
    const signal = this.abort.signal;
    const context = this.context(zone);
    switch (decision.kind) {
      case 'idle':
      case 'await-others':
        return 60_000;
      case 'sleep-until':
        return Date.parse(decision.until) - this.now().getTime();
      case 'append':
        await this.append(zone, state, decision.event);
        return 0;
      case 'reconcile': {
        const result = await reconcileSigner(signer, zone, decision.desired, { signal });
        const key = `${decision.processId}/${decision.stepIndex}`;
        const applied = (this.appliedInStep.get(key) ?? 0) + result.plan.changes.length;
        this.appliedInStep.set(key, applied);
        logger.info(
          { zone, step: decision.stepIndex, changes: result.plan.changes.length },
          'signer reconciled',
        );
        await this.append(
          zone,
          state,
          signerReconciled(
            state,
            context,
            decision.processId,
            decision.stepIndex,
            decision.signerId,
            applied,
          ),
        );
        return 0;
      }
      case 'check-precondition': {
        const result = await observePostcondition(state, decision.check, { parent, signal });
        if (!result.met) {
          logger.info(
            { zone, step: decision.stepIndex, pending: result.pending },
            'pre-condition does not hold yet',
          );
          return this.options.observeIntervalMs ?? 500;
        }
        await this.append(zone, state, decision.event);
        return 0;
      }
      case 'observe': {
        const result = await observePostcondition(state, decision.check, { parent, signal });
        if (!result.met) {
          logger.debug(
            { zone, step: decision.stepIndex, pending: result.pending },
            'post-condition not met yet',
          );
          return this.options.observeIntervalMs ?? 500;
        }
        await this.append(
          zone,
          state,
          postconditionMet(
            state,
            this.context(zone),
            decision.processId,
            decision.stepIndex,
            result.ttls,
          ),
        );
        return 0;
      }
      case 'preflight': {
        const group =
          decision.processKind === 'add-signer'
            ? [...state.members, decision.signerId]
            : state.members;
        const observations: Record<string, SignerObservation> = {};
        for (const id of group) {
          if (state.signers[id])
            observations[id] = await observeSignerForPreflight(state, id, { signal });
        }
        const delegation = await parent.getDelegation(zone, { signal });
        const reasons = preflightChecks({
          state,
          kind: decision.processKind,
          signerId: decision.signerId,
          observations,
          parentDs: delegation.ds?.records ?? [],
          now: this.now().getTime() / 1000,
        });
        logger.info(
          { zone, process: decision.processId, reasons },
          reasons.length === 0 ? 'pre-flight passed' : 'pre-flight refused',
        );
        await this.append(
          zone,
          state,
          requestProcess(state, context, {
            processId: decision.processId,
            kind: decision.processKind,
            signerId: decision.signerId,
            preflight: reasons,
          }),
        );
        return 0;
      }
    }
  }
}
