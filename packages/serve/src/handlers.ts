/** The API's handlers: thin, over the CLI's coordination functions (see coordination.ts). */
import {
  InvalidNameError,
  zoneEvent,
  GROUP_NAME,
  groupStream,
  observationStream,
  zoneStream,
  type KeyRole,
  type ProcessKind,
} from '@chorus/core';
import { parseZoneName } from '@chorus/dns';
import { undoRequestFor, type ZoneState } from '@chorus/engine';
import { renderProcessSvg, timelineFromLog } from '@chorus/report';
import type { ServedLog } from './coordination.js';
import { apiError } from './errors.js';
import { streamProcess } from './progress.js';
import { readTokens } from './tokens.js';
import type { HandlerResult, RequestContext } from './router.js';

export const PROCESS_KINDS: readonly ProcessKind[] = [
  'add-signer',
  'remove-signer',
  'roll-zsk',
  'roll-ksk',
  'bootstrap',
];
const KEY_ROLES: readonly KeyRole[] = ['KSK', 'ZSK', 'CSK'];
const silent = { stdout: () => undefined, stderr: () => undefined };

const ok = (body: unknown, status = 200): HandlerResult => ({ status, body });

/** The absolute zone name in the path, or a 400. */
export function zoneParam(context: RequestContext): string {
  try {
    return parseZoneName(context.params.zone ?? '');
  } catch (error) {
    if (!InvalidNameError.isInstance(error)) throw error;
    throw apiError(
      'Chorus_InvalidZoneNameError',
      `invalid zone name ${JSON.stringify(context.params.zone)}`,
    );
  }
}

const knownZone = (served: ServedLog, context: RequestContext): Promise<ZoneState> =>
  served.coordination.readKnownZone(served.log, zoneParam(context), served.path);

function processStatus(served: ServedLog, state: ZoneState, processId: string) {
  const process = state.processes.find((candidate) => candidate.id === processId);
  const pending = state.pendingRequests.find((request) => request.processId === processId);
  if (!process && pending) return { id: processId, status: 'requested', ...pending };
  if (!process)
    throw apiError('Chorus_UnknownProcessError', `${state.zone} has no process ${processId}`);
  const json = served.coordination.zoneStatusJson(state).processes.find((p) => p.id === processId);
  const error = served.coordination.processEndError(process, state.zone);
  if (!error) return json;
  const reasons = process.reasons ? { reasons: process.reasons } : {};
  return {
    ...json,
    error: { code: error.name, message: error.message, retryable: error.isRetryable, ...reasons },
  };
}

/** A JSON object body, or a 400. */
function objectBody(context: RequestContext): Record<string, unknown> {
  const body = context.body ?? {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw apiError('Chorus_BadRequestError', 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || typeof value === 'string') return value;
  throw apiError('Chorus_BadRequestError', `${field} must be a string`);
}

/** The process request in the body: kind, signerId and, for rolls, role. */
function processRequest(context: RequestContext) {
  const body = objectBody(context);
  const kind = body.kind as ProcessKind;
  if (!PROCESS_KINDS.includes(kind))
    throw apiError('Chorus_BadRequestError', `kind must be one of ${PROCESS_KINDS.join(', ')}`);
  const signerId = optionalString(body, 'signerId');
  if (!signerId) throw apiError('Chorus_BadRequestError', 'signerId is required');
  const role = optionalString(body, 'role') as KeyRole | undefined;
  if (role !== undefined && !KEY_ROLES.includes(role))
    throw apiError('Chorus_BadRequestError', `role must be one of ${KEY_ROLES.join(', ')}`);
  return { kind, signerId, role };
}

export function createHandlers(served: ServedLog, tokensFile: string) {
  const { log, coordination } = served;
  /** Appends a process request made by the token's owner; 202 with its id. */
  async function request(
    context: RequestContext,
    zone: string,
    kind: ProcessKind,
    signerId: string,
    role?: KeyRole,
    undoOf?: string,
    successorTag?: number,
  ) {
    const built = coordination.requestEvent(
      zone,
      kind,
      signerId,
      undefined,
      role,
      undoOf,
      successorTag,
    );
    const event = { ...built, data: { ...built.data, requestedBy: context.caller ?? 'api' } };
    await coordination.appendRequest(log, zone, event, silent);
    return ok(
      { zone, processId: event.data.processId, kind, signerId, ...(undoOf ? { undoOf } : {}) },
      202,
    );
  }
  return {
    whoami: (context: RequestContext) =>
      Promise.resolve(ok({ name: context.caller, role: context.callerRole })),
    tokens: async () =>
      ok({
        tokens: (await readTokens(tokensFile)).map(({ name, role, created }) => ({
          name,
          role,
          created,
        })),
      }),
    timeline: async (context: RequestContext) => {
      const state = await knownZone(served, context);
      const id = context.params.id ?? '';
      const model = await timelineFromLog(log, state.zone);
      if (!model.processes.some((process) => process.id === id))
        throw apiError('Chorus_UnknownProcessError', `${state.zone} has no process ${id}`);
      return { status: 200, raw: renderProcessSvg(model, id), contentType: 'image/svg+xml' };
    },
    zones: async () => {
      const states = await Promise.all(
        (await coordination.knownZones(log)).map((zone) => coordination.readZone(log, zone)),
      );
      return ok({
        zones: states.map(({ zone, group, members, defined }) => ({
          zone,
          group: group ?? null,
          members,
          defined,
        })),
      });
    },
    zone: async (context: RequestContext) =>
      ok(coordination.zoneStatusJson(await knownZone(served, context))),
    events: async (context: RequestContext) => {
      const state = await knownZone(served, context);
      const after = afterVersion(context);
      const events = await log.readStream(zoneStream(state.zone));
      return ok({
        zone: state.zone,
        events: events.filter((recorded) => recorded.streamVersion > after),
      });
    },
    observations: async (context: RequestContext) => {
      const state = await knownZone(served, context);
      const after = afterVersion(context);
      const events = await log.readStream(observationStream(state.zone));
      return ok({
        zone: state.zone,
        events: events.filter((recorded) => recorded.streamVersion > after),
      });
    },
    audit: async (context: RequestContext) => {
      const zone = zoneParam(context);
      const port = context.query.get('childPort');
      const childPort = port === null ? undefined : Number(port);
      if (
        childPort !== undefined &&
        !(Number.isInteger(childPort) && childPort > 0 && childPort < 65536)
      )
        throw apiError('Chorus_BadRequestError', 'childPort must be a port number');
      const parentServers = context.query.getAll('parentServer');
      return ok(
        await coordination.auditZone(zone, {
          parentServers,
          ...(childPort !== undefined ? { childPort } : {}),
        }),
      );
    },
    groups: async () => {
      const streams = await log.readAll({ streamPrefix: groupStream('') });
      const names = [...new Set(streams.map((recorded) => recorded.stream.slice(6)))].sort();
      const groups = await Promise.all(names.map((name) => coordination.readGroup(log, name)));
      return ok({ groups: groups.filter((group) => group.defined) });
    },
    group: async (context: RequestContext) => {
      const name = context.params.group ?? '';
      if (!GROUP_NAME.test(name))
        throw apiError('Chorus_BadRequestError', `${JSON.stringify(name)} is not a group name`);
      const group = await coordination.readGroup(log, name);
      if (!group.defined) throw apiError('Chorus_UnknownGroupError', `no group ${name}`);
      return ok(group);
    },
    signers: async (context: RequestContext) => {
      const state = await knownZone(served, context);
      return ok({ zone: state.zone, signers: signersOf(state) });
    },
    requestProcess: async (context: RequestContext) => {
      const { kind, signerId, role } = processRequest(context);
      const state = await knownZone(served, context);
      return request(context, state.zone, kind, signerId, role);
    },
    process: async (context: RequestContext) =>
      ok(processStatus(served, await knownZone(served, context), context.params.id ?? '')),
    progress: async (context: RequestContext) => {
      const state = await knownZone(served, context);
      processStatus(served, state, context.params.id ?? '');
      await streamProcess(served, state.zone, context.params.id ?? '', context.response);
      return undefined;
    },
    stop: async (context: RequestContext) => {
      const body = objectBody(context);
      const processId = optionalString(body, 'processId');
      const reason = optionalString(body, 'reason');
      const zone = (await knownZone(served, context)).zone;
      const requestedBy = context.caller ?? 'api';
      const event = await coordination.appendToZone(log, zone, (state) => {
        const target = coordination.processToStop(state, processId);
        const data = { processId: target.id, requestedBy, ...(reason ? { reason } : {}) };
        return zoneEvent(
          'process-stop-requested',
          { zone, source: { kind: 'cli', id: requestedBy } },
          data,
        );
      });
      return ok({ zone, processId: event.data.processId, stopRequested: true }, 202);
    },
    undo: async (context: RequestContext) => {
      const state = await knownZone(served, context);
      const undone = coordination.processToUndo(state);
      const undo = undoRequestFor(undone);
      return request(
        context,
        state.zone,
        undo.kind,
        undo.signerId,
        undo.role,
        undone.id,
        undo.successorTag,
      );
    },
    stats: async (context: RequestContext) => {
      const state = await knownZone(served, context);
      return ok(await coordination.zoneStats(log, state.zone));
    },
  };
}

/** `?after=N`: a whole number, 0 when absent. */
function afterVersion(context: RequestContext): number {
  const after = Number(context.query.get('after') ?? '0');
  if (!Number.isInteger(after) || after < 0)
    throw apiError('Chorus_BadRequestError', 'after must be a whole number');
  return after;
}

/** Each registered signer: who it is, where it answers, its keys by tag and role, membership. */
function signersOf(state: ZoneState) {
  return Object.values(state.signers).map((signer) => ({
    id: signer.id,
    kind: signer.kind,
    member: state.members.includes(signer.id),
    nameServerNames: signer.nameServerNames,
    endpoints: signer.endpoints,
    keys: signer.keys.map(({ keyTag, role, algorithm, state: keyState }) => ({
      keyTag,
      role,
      algorithm,
      ...(keyState ? { state: keyState } : {}),
    })),
    ...(signer.keysObservedAt ? { keysObservedAt: signer.keysObservedAt } : {}),
    ...(signer.content && signer.contentObservedAt
      ? { content: { serial: signer.content.serial, observedAt: signer.contentObservedAt } }
      : {}),
    ...(signer.limits ? { limits: signer.limits } : {}),
  }));
}
