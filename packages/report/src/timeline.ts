/**
 * `buildTimeline`: folds a zone's stream and its observation stream into the timeline model.
 * Pure and deterministic: the same events give the same model. The zone stream is folded by the
 * engine's own fold; an event that does not fit (unknown process, a step out of order) is
 * skipped rather than refused, so a partial log still draws.
 */
import type { ObservationEvent, RollSubject, StepDefinition, ZoneEvent } from '@chorus/core';
import {
  applyZoneEvent,
  foldZone,
  ZoneStreamError,
  type ProcessState,
  type StepState,
  type ZoneState,
} from '@chorus/engine';
import { keyEventsOf, numberKeyEvents, processLabel, rollTimeline } from './keys.js';
import {
  TIMELINE_SCHEMA_VERSION,
  type Glitch,
  type KeyEvent,
  type Lane,
  type LaneSegment,
  type ObserverReport,
  type ObserverTotals,
  type ProcessTimeline,
  type ProviderInfo,
  type StepTimeline,
  type TimelineKey,
  type TimelineModel,
} from './model.js';

export interface BuildTimelineOptions {
  /** ISO 8601. Default: the time of the latest event (so that the output is deterministic). */
  generatedAt?: string;
}

/** Key colours, one per provider in lane order (red is kept for glitches). */
const PALETTE = [
  '#1f6fb4',
  '#2a8c2a',
  '#8a4fc0',
  '#a0622d',
  '#c2399a',
  '#158a99',
  '#7d7d00',
  '#d97706',
  '#4b5563',
  '#0f766e',
];

/** Lane id of a provider. */
export const providerLaneId = (provider: string): string => `provider/${provider}`;

const MIN_MARGIN_MS = 2000;
const MARGIN_FRACTION = 0.05;

const time = (iso: string | undefined): number => (iso === undefined ? NaN : Date.parse(iso));
const iso = (ms: number): string => new Date(ms).toISOString();
const seconds = (from: string | undefined, to: string | undefined): number | undefined => {
  const span = (time(to) - time(from)) / 1000;
  return Number.isFinite(span) ? Math.max(0, span) : undefined;
};
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const sameName = (a: string, b: string): boolean =>
  a.toLowerCase().replace(/\.$/, '') === b.toLowerCase().replace(/\.$/, '');

/** Stable sort by time: events with the same (or no valid) time keep their stream order. */
function byTime<T extends { occurredAt: string }>(events: readonly T[]): T[] {
  return events
    .map((event, order) => ({ event, order, at: time(event.occurredAt) }))
    .filter((entry) => Number.isFinite(entry.at))
    .sort((a, b) => a.at - b.at || a.order - b.order)
    .map((entry) => entry.event);
}

function sortKeys(keys: TimelineKey[]): TimelineKey[] {
  return [...keys].sort(
    (a, b) =>
      (a.role === b.role ? 0 : a.role === 'KSK' ? -1 : 1) ||
      a.keyTag - b.keyTag ||
      a.algorithm - b.algorithm,
  );
}

const keyLabel = (keys: readonly TimelineKey[]): string =>
  keys.map((key) => `${key.role} ${key.keyTag}`).join(' / ');

/** What a segment shows when the answer is not a plain positive RRset. */
function answerLabel(rcode: string | null, empty: boolean, positive: () => string): string {
  if (rcode === null) return 'no answer';
  if (rcode !== 'NOERROR') return rcode;
  return empty ? 'NODATA' : positive();
}

type ProcessDraft = Omit<
  ProcessTimeline,
  't0' | 'window' | 'laneIds' | 'glitchIds' | 'keyEventIds' | 'concurrentIds' | 'roll'
> & { rollSubject?: RollSubject };

/** The report's status of a process as the engine's fold has it (one held for the operator is still in flight). */
const reportStatus = (status: ProcessState['status']): ProcessDraft['status'] =>
  status === 'needs-operator' ? 'running' : status;

/** One step of a folded process, as the timeline shows it. */
function stepTimeline(definition: StepDefinition, index: number, state?: StepState): StepTimeline {
  const wait = state?.wait;
  const from = state?.postconditionMetAt;
  const skipped = wait?.formula.trimStart().toUpperCase().startsWith('SKIPPED') ?? false;
  const mandated = wait?.terms.mandatedNotBefore;
  return {
    index,
    number: index + 1,
    name: definition.name,
    description: definition.description,
    ...(state?.startedAt === undefined ? {} : { startedAt: state.startedAt }),
    ...(from === undefined ? {} : { postconditionMetAt: from }),
    ...(state?.completedAt === undefined
      ? {}
      : {
          completedAt: state.completedAt,
          ...(seconds(state.startedAt, state.completedAt) === undefined
            ? {}
            : { seconds: seconds(state.startedAt, state.completedAt)! }),
        }),
    reconciled: Object.entries(state?.reconciled ?? {})
      .map(([signerId, entry]) => ({ signerId, at: entry.at, applied: entry.applied }))
      .sort((a, b) => compare(a.at, b.at)),
    ...(wait && from !== undefined
      ? {
          wait: {
            from,
            notBefore: wait.notBefore,
            seconds: seconds(from, wait.notBefore) ?? 0,
            formula: wait.formula,
            terms: { ...wait.terms },
            skipped,
            ...(skipped && typeof mandated === 'string' && Number.isFinite(time(mandated))
              ? { mandatedNotBefore: mandated }
              : {}),
          },
        }
      : {}),
  };
}

/** What the report keeps besides the fold: request times, process order and every key owner. */
interface StreamExtras {
  requestedAt: Map<string, string>;
  /** Process ids in order of first appearance: their numbers. */
  order: string[];
  owners: Map<string, Set<string>>;
}

function noteExtras(extras: StreamExtras, event: ZoneEvent): void {
  if (
    event.type === 'process-requested' ||
    event.type === 'process-blocked' ||
    event.type === 'process-started'
  ) {
    const id = event.data.processId;
    if (!extras.order.includes(id)) extras.order.push(id);
    if (!extras.requestedAt.has(id)) extras.requestedAt.set(id, event.occurredAt);
  } else if (event.type === 'signer-keys-observed')
    for (const key of event.data.keys) {
      const id = `${key.algorithm}/${key.keyTag}`;
      extras.owners.set(id, (extras.owners.get(id) ?? new Set<string>()).add(event.data.signerId));
    }
}

function providersOf(state: ZoneState) {
  return new Map(
    Object.values(state.signers).map((signer) => [
      signer.id,
      {
        kind: signer.kind,
        nameServerNames: [...signer.nameServerNames],
        keys: sortKeys(
          signer.keys.map((key) => ({
            keyTag: key.keyTag,
            algorithm: key.algorithm,
            role: key.role === 'ZSK' ? ('ZSK' as const) : ('KSK' as const),
            owner: signer.id,
          })),
        ),
      },
    ]),
  );
}

function processDraft(process: ProcessState, requestedAt: string | undefined): ProcessDraft {
  const blocked = process.status === 'blocked';
  return {
    id: process.id,
    number: 0,
    kind: process.kind,
    signerId: process.signerId,
    label: processLabel(process.kind, process.signerId, process.roll),
    ...(process.roll ? { rollSubject: process.roll } : {}),
    status: reportStatus(process.status),
    requestedAt: requestedAt ?? process.startedAt,
    // A blocked request never started: the fold's start is when it was refused.
    ...(blocked ? {} : { startedAt: process.startedAt }),
    ...(process.endedAt === undefined ? {} : { endedAt: process.endedAt }),
    mandatedWaitSeconds: 0,
    groupBefore: blocked ? [] : [...process.groupBefore],
    groupAfter: blocked ? [] : [...process.groupAfter],
    reasons: (process.reasons ?? []).map((reason) => ({ ...reason })),
    steps: process.steps.map((definition, index) =>
      stepTimeline(definition, index, process.stepStates[index]),
    ),
  };
}

function requestDraft(request: ZoneState['pendingRequests'][number]): ProcessDraft {
  return {
    id: request.processId,
    number: 0,
    kind: request.kind,
    signerId: request.signerId,
    label: processLabel(request.kind, request.signerId),
    status: 'requested',
    requestedAt: request.requestedAt,
    mandatedWaitSeconds: 0,
    groupBefore: [],
    groupAfter: [],
    reasons: [],
    steps: [],
  };
}

function numberAndMeasure(drafts: ProcessDraft[], order: readonly string[]): ProcessDraft[] {
  for (const draft of drafts) {
    draft.number = order.indexOf(draft.id) + 1;
    const span = seconds(draft.startedAt ?? draft.requestedAt, draft.endedAt);
    if (span !== undefined) draft.seconds = span;
    draft.mandatedWaitSeconds = draft.steps.reduce(
      (sum, entry) => sum + (entry.wait && !entry.wait.skipped ? entry.wait.seconds : 0),
      0,
    );
  }
  return drafts.sort((a, b) => a.number - b.number);
}

/**
 * Processes, providers and key owners from the zone stream, by the engine's own fold. An event the
 * fold refuses (unknown process, a step out of order) is skipped, so a partial log still draws.
 */
function foldZoneEvents(zone: string, events: readonly ZoneEvent[]) {
  let state = foldZone(zone, []);
  const extras: StreamExtras = { requestedAt: new Map(), order: [], owners: new Map() };
  for (const event of events) {
    try {
      state = applyZoneEvent(state, event);
    } catch (error) {
      if (error instanceof ZoneStreamError) continue;
      throw error;
    }
    noteExtras(extras, event);
  }
  const drafts = [
    ...state.processes.map((process) => processDraft(process, extras.requestedAt.get(process.id))),
    ...state.pendingRequests.map(requestDraft),
  ];
  // A key tag claimed by exactly one signer names its owner.
  const ownerOf = (algorithm: number, keyTag: number): string | undefined => {
    const set = extras.owners.get(`${algorithm}/${keyTag}`);
    return set?.size === 1 ? [...set][0] : undefined;
  };
  return {
    parentZone: state.defined ? state.parentZone : undefined,
    providers: providersOf(state),
    processes: numberAndMeasure(drafts, extras.order),
    ownerOf,
  };
}

type WireEvent = Extract<ObservationEvent, { type: 'wire-version-observed' }>;

/** The three kinds of lane data, one segment per version per server. */
function buildLanes(
  zone: string,
  wire: readonly WireEvent[],
  ownerOf: (algorithm: number, keyTag: number) => string | undefined,
): { lanes: Map<string, Lane>; observed: Set<string> } {
  const lanes = new Map<string, Lane>();
  const observed = new Set<string>();
  const lane = (id: string, kind: Lane['kind'], label: string, provider: string) => {
    let entry = lanes.get(id);
    if (!entry) lanes.set(id, (entry = { id, kind, label, provider, servers: [], segments: [] }));
    return entry;
  };
  lane('parent-ds', 'parent-ds', 'parent DS', 'parent');
  lane('parent-ns', 'parent-ns', 'parent NS', 'parent');
  const open = new Map<string, LaneSegment>();
  for (const event of wire) {
    const data = event.data;
    if (!sameName(data.owner, zone)) continue;
    if (data.provider !== 'parent') observed.add(data.provider);
    let target: Lane | undefined;
    let segment: LaneSegment;
    const base = {
      server: data.server,
      from: event.occurredAt,
      to: null,
      version: data.version,
      rcode: data.rcode,
      ttl: data.ttl,
    };
    if (data.provider === 'parent') {
      if (data.rrtype === 'DS') {
        target = lanes.get('parent-ds');
        const tags = data.records
          .map((record) => Number(record.trim().split(/\s+/)[0]))
          .filter((tag) => Number.isInteger(tag))
          .sort((a, b) => a - b);
        segment = {
          ...base,
          label: answerLabel(data.rcode, tags.length === 0, () => `DS ${tags.join(' ')}`),
          dsKeyTags: tags,
        };
      } else if (data.rrtype === 'NS') {
        target = lanes.get('parent-ns');
        const names = data.records.map((record) => record.trim().toLowerCase()).sort();
        segment = {
          ...base,
          label: answerLabel(data.rcode, names.length === 0, () => names.join(' ')),
          names,
        };
      } else continue;
    } else if (data.rrtype === 'DNSKEY') {
      target = lane(providerLaneId(data.provider), 'provider', data.provider, data.provider);
      const keys = sortKeys(
        (data.keys ?? []).map((key) => {
          const owner = key.owner ?? ownerOf(key.algorithm, key.keyTag);
          return {
            keyTag: key.keyTag,
            algorithm: key.algorithm,
            role: key.role,
            ...(owner === undefined ? {} : { owner }),
          };
        }),
      );
      const empty = keys.length === 0 && data.records.length === 0;
      segment = {
        ...base,
        label: answerLabel(data.rcode, empty, () =>
          keys.length > 0 ? keyLabel(keys) : `${data.records.length} DNSKEY`,
        ),
        keys,
      };
    } else continue;
    if (!target) continue;
    const sequence = `${target.id}|${data.server}`;
    const previous = open.get(sequence);
    if (previous && previous.version === segment.version && previous.rcode === segment.rcode)
      continue; // the same version again
    if (previous) previous.to = segment.from;
    open.set(sequence, segment);
    target.segments.push(segment);
    if (!target.servers.includes(data.server)) target.servers.push(data.server);
  }
  for (const entry of lanes.values()) entry.servers.sort();
  return { lanes, observed };
}

function buildGlitches(
  observations: readonly ObservationEvent[],
  laneFor: (provider: string, hint: string) => string,
): Glitch[] {
  const glitches: Omit<Glitch, 'id'>[] = [];
  const open = new Map<string, Omit<Glitch, 'id'>>();
  const lanesOf = (providers: readonly string[], hint: string) => {
    const ids = [...new Set(providers.map((provider) => laneFor(provider, hint)))];
    return ids.length > 0 ? ids : ['unattributed'];
  };
  const processOf = (processId: string | undefined) =>
    processId === undefined ? {} : { processId };
  for (const event of observations) {
    switch (event.type) {
      case 'invariant-violated': {
        const data = event.data;
        if (open.has(data.key)) break; // already open: the first sighting counts
        const glitch: Omit<Glitch, 'id'> = {
          type: 'invariant-violated',
          label: data.invariant,
          invariant: data.invariant,
          key: data.key,
          from: event.occurredAt,
          to: null,
          providers: [...data.providers],
          laneIds: lanesOf(data.providers, `${data.detail} ${data.records.join(' ')}`),
          detail: data.detail,
          records: [...data.records],
          ...processOf(data.processId),
        };
        open.set(data.key, glitch);
        glitches.push(glitch);
        break;
      }
      case 'invariant-restored': {
        const glitch = open.get(event.data.key);
        if (glitch) {
          glitch.to = event.occurredAt;
          open.delete(event.data.key);
        } else {
          // Restored without a recorded violation: draw it from the time it names.
          glitches.push({
            type: 'invariant-violated',
            label: event.data.invariant,
            invariant: event.data.invariant,
            key: event.data.key,
            from: event.data.violatedAt,
            to: event.occurredAt,
            providers: [],
            laneIds: ['unattributed'],
            detail: 'restored (the violation itself was not recorded)',
            records: [],
            ...processOf(event.data.processId),
          });
        }
        break;
      }
      case 'validation-failed':
      case 'validator-disagreed': {
        const data = event.data;
        const providers = data.provider === undefined ? [] : [data.provider];
        const invariant = event.type === 'validation-failed' ? event.data.invariant : undefined;
        const what = event.type === 'validation-failed' ? 'validation failed' : 'disagreement';
        glitches.push({
          type: event.type,
          label: invariant === undefined ? what : `${what} (${invariant})`,
          ...(invariant === undefined ? {} : { invariant }),
          from: event.occurredAt,
          to: event.occurredAt,
          providers,
          laneIds: lanesOf(providers, data.rrtype),
          ...(data.resolver === undefined ? {} : { resolver: data.resolver }),
          name: data.name,
          rrtype: data.rrtype,
          detail: data.detail,
          records: [],
          ...processOf(data.processId),
        });
        break;
      }
      case 'wire-version-observed':
      case 'observer-summary':
        break;
    }
  }
  return glitches
    .map((glitch, order) => ({ glitch, order }))
    .sort((a, b) => time(a.glitch.from) - time(b.glitch.from) || a.order - b.order)
    .map(({ glitch }, index) => ({ id: `G${index + 1}`, ...glitch }));
}

function observerReports(observations: readonly ObservationEvent[]) {
  const latest = new Map<string, ObserverReport>();
  for (const event of observations)
    if (event.type === 'observer-summary') {
      const { observer, since, ...counts } = event.data;
      latest.set(observer, {
        observer,
        since,
        at: event.occurredAt,
        probes: counts.probes,
        resolverAnswers: counts.resolverAnswers,
        disagreements: counts.disagreements,
        validationFailures: counts.validationFailures,
        invariantChecks: counts.invariantChecks,
        violations: counts.violations,
      });
    }
  const observers = [...latest.values()].sort((a, b) => compare(a.observer, b.observer));
  if (observers.length === 0) return { observers, observerTotals: null };
  const observerTotals: ObserverTotals = {
    probes: 0,
    resolverAnswers: 0,
    disagreements: 0,
    validationFailures: 0,
    invariantChecks: 0,
    violations: 0,
  };
  for (const report of observers)
    for (const field of Object.keys(observerTotals) as (keyof ObserverTotals)[])
      observerTotals[field] += report[field];
  return { observers, observerTotals };
}

/**
 * The process running at `at`: with several in flight (a lock per resource), the one whose signer
 * is among `providers`, else the first.
 */
function processAt(
  drafts: readonly ProcessDraft[],
  at: string,
  providers: readonly string[],
): ProcessDraft | undefined {
  const moment = time(at);
  const running = drafts.filter((draft) => {
    const end = draft.endedAt === undefined ? Infinity : time(draft.endedAt);
    return moment >= time(draft.startedAt) && moment <= end;
  });
  return running.find((draft) => providers.includes(draft.signerId)) ?? running[0];
}

interface WindowContext {
  lastEvent: number;
  glitches: readonly Glitch[];
  keyEvents: readonly KeyEvent[];
  providerIds: readonly string[];
  /** Providers the observers saw. */
  observed: ReadonlySet<string>;
}

/** The process's picture: the process with a margin either side, widened to its own glitches. */
function processWindow(draft: ProcessDraft, context: WindowContext) {
  const t0 = time(draft.startedAt ?? draft.requestedAt);
  const own = context.glitches.filter((glitch) => glitch.processId === draft.id);
  let end = draft.endedAt === undefined ? Math.max(context.lastEvent, t0) : time(draft.endedAt);
  for (const glitch of own) end = Math.max(end, time(glitch.to ?? glitch.from));
  let start = t0;
  for (const glitch of own) start = Math.min(start, time(glitch.from));
  if (end - start < 1000) end = start + 1000;
  const margin = Math.max(MIN_MARGIN_MS, (end - start) * MARGIN_FRACTION);
  return { t0, window: { from: iso(start - margin), to: iso(end + margin) } };
}

/** The lanes of a process's picture: the parent's, the group's, the observed, and any its glitches or key events name. */
function processLanes(
  draft: ProcessDraft,
  context: WindowContext,
  glitchIds: readonly string[],
  keyEvents: readonly KeyEvent[],
): string[] {
  const laneIds = ['parent-ds', 'parent-ns'];
  const add = (id: string) => {
    if (!laneIds.includes(id)) laneIds.push(id);
  };
  for (const id of [...draft.groupBefore, ...draft.groupAfter]) add(providerLaneId(id));
  if (draft.groupBefore.length + draft.groupAfter.length === 0) add(providerLaneId(draft.signerId));
  for (const id of context.providerIds) if (context.observed.has(id)) add(providerLaneId(id));
  for (const glitch of context.glitches)
    if (glitchIds.includes(glitch.id)) for (const id of glitch.laneIds) add(id);
  for (const event of keyEvents) add(event.laneId);
  return laneIds;
}

function processTimeline(draft: ProcessDraft, context: WindowContext): ProcessTimeline {
  const { t0, window } = processWindow(draft, context);
  const inWindow = (from: string, to: string | null) =>
    time(from) <= time(window.to) && (to === null ? Infinity : time(to)) >= time(window.from);
  const glitchIds = context.glitches
    .filter((glitch) => inWindow(glitch.from, glitch.to))
    .map((glitch) => glitch.id);
  const keyEvents = context.keyEvents.filter((event) => inWindow(event.at, event.at));
  const { rollSubject, ...rest } = draft;
  return {
    ...rest,
    ...(rollSubject ? { roll: rollTimeline(draft.id, rollSubject, context.keyEvents) } : {}),
    t0: iso(t0),
    window,
    laneIds: processLanes(draft, context, glitchIds, keyEvents),
    glitchIds,
    keyEventIds: keyEvents.map((event) => event.id),
    concurrentIds: [],
  };
}

/** Each process's rows: every process that ran during its window, itself included. */
function withConcurrency(processes: ProcessTimeline[], lastEvent: number): ProcessTimeline[] {
  const span = (entry: ProcessTimeline) => ({
    from: time(entry.startedAt),
    to: entry.endedAt === undefined ? lastEvent : time(entry.endedAt),
  });
  for (const process of processes) {
    const from = time(process.window.from);
    const to = time(process.window.to);
    process.concurrentIds = processes
      .filter((other) => {
        if (other.id === process.id) return true;
        const ran = span(other);
        return ran.from <= to && ran.to >= from;
      })
      .map((other) => other.id);
  }
  return processes;
}

/** Builds the timeline model of `zone` from its zone stream and its observation stream. */
export function buildTimeline(
  zone: string,
  zoneEvents: readonly ZoneEvent[],
  observations: readonly ObservationEvent[],
  options: BuildTimelineOptions = {},
): TimelineModel {
  // The fold takes the stream in its own order; only the picture is by time.
  const zoneSorted = byTime(zoneEvents);
  const observed = byTime(observations);
  const folded = foldZoneEvents(zone, zoneEvents);
  const wire = observed.filter(
    (event): event is WireEvent => event.type === 'wire-version-observed',
  );
  const laneMap = buildLanes(zone, wire, folded.ownerOf);
  const keyEvents = numberKeyEvents(keyEventsOf(zoneSorted, providerLaneId), folded.processes);

  const nsHint = (hint: string) => /\bNS\b/.test(hint) && !/\bDS\b/.test(hint);
  const glitches = buildGlitches(observed, (provider, hint) =>
    provider === 'parent' ? (nsHint(hint) ? 'parent-ns' : 'parent-ds') : providerLaneId(provider),
  );

  // Providers: the zone's signers in order of appearance, then the others, sorted.
  const providerIds = [...folded.providers.keys()];
  const others = new Set<string>(laneMap.observed);
  for (const draft of folded.processes)
    for (const id of [...draft.groupBefore, ...draft.groupAfter, draft.signerId]) others.add(id);
  for (const event of keyEvents) others.add(event.signerId);
  for (const glitch of glitches)
    for (const id of glitch.laneIds)
      if (id.startsWith('provider/')) others.add(id.slice('provider/'.length));
  for (const id of [...others].sort(compare)) if (!providerIds.includes(id)) providerIds.push(id);
  const providers: ProviderInfo[] = providerIds.map((id, index) => {
    const known = folded.providers.get(id);
    return {
      id,
      ...(known?.kind === undefined ? {} : { kind: known.kind }),
      nameServerNames: known?.nameServerNames ?? [],
      keys: known?.keys ?? [],
      colour: PALETTE[index % PALETTE.length]!,
    };
  });
  const laneOf = (id: string): Lane =>
    laneMap.lanes.get(providerLaneId(id)) ?? {
      id: providerLaneId(id),
      kind: 'provider',
      label: id,
      provider: id,
      servers: [],
      segments: [],
    };

  const lanes: Lane[] = [
    laneMap.lanes.get('parent-ds')!,
    laneMap.lanes.get('parent-ns')!,
    ...providerIds.map(laneOf),
  ];
  if (glitches.some((glitch) => glitch.laneIds.includes('unattributed')))
    lanes.push({
      id: 'unattributed',
      kind: 'unattributed',
      label: '(no provider)',
      provider: '',
      servers: [],
      segments: [],
    });

  // The latest time in the data: the end of what is still running.
  const times = [...zoneSorted, ...observed].map((event) => time(event.occurredAt));
  const lastEvent = times.length > 0 ? Math.max(...times) : 0;
  const generatedAt = options.generatedAt ?? iso(lastEvent);

  // A glitch without a process id belongs to the process running when it began.
  for (const glitch of glitches)
    if (glitch.processId === undefined) {
      const running = processAt(folded.processes, glitch.from, glitch.providers);
      if (running) glitch.processId = running.id;
    }

  const context: WindowContext = {
    lastEvent,
    glitches,
    keyEvents,
    providerIds,
    observed: laneMap.observed,
  };
  const processes = withConcurrency(
    folded.processes.map((draft) => processTimeline(draft, context)),
    lastEvent,
  );

  const steps = processes.flatMap((entry) => entry.steps);
  const count = (status: ProcessTimeline['status']) =>
    processes.filter((entry) => entry.status === status).length;
  return {
    schemaVersion: TIMELINE_SCHEMA_VERSION,
    zone,
    ...(folded.parentZone === undefined ? {} : { parentZone: folded.parentZone }),
    generatedAt,
    providers,
    lanes,
    processes,
    glitches,
    keyEvents,
    summary: {
      processes: processes.length,
      completed: count('completed'),
      failed: count('failed'),
      blocked: count('blocked'),
      running: count('running'),
      steps: steps.length,
      waits: steps.filter((entry) => entry.wait).length,
      skippedWaits: steps.filter((entry) => entry.wait?.skipped).length,
      mandatedWaitSeconds: processes.reduce((sum, entry) => sum + entry.mandatedWaitSeconds, 0),
      glitches: glitches.length,
      invariantViolations: glitches.filter((glitch) => glitch.type === 'invariant-violated').length,
      openViolations: glitches.filter((glitch) => glitch.to === null).length,
      validationFailures: glitches.filter((glitch) => glitch.type === 'validation-failed').length,
      disagreements: glitches.filter((glitch) => glitch.type === 'validator-disagreed').length,
      wireVersions: wire.length,
      keyEvents: keyEvents.length,
      ...observerReports(observed),
    },
  };
}
