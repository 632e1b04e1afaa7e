/** Events, processes and zones in words, for people. */
import type {
  ApplyError,
  KeyChange,
  ParentChange,
  PostconditionSpec,
  TrustGrant,
  ZoneEvent,
  ZoneEventOf,
  ZoneEventType,
} from '@chorus/core';
import {
  SCRIBE_FALLBACK_MS,
  bookkeepingReadySince,
  parentChangeSummary,
  scribeOf,
  type ProcessState,
  type RecordedParentChange,
  type SignerFailure,
  type ZoneState,
} from '@chorus/engine';
import { keyTag } from '@chorus/dns';

const clock = (iso: string) => iso.slice(11, 19);

/** What the signer does after a failed apply: retry, wait for the provider's time, or stop. */
function retryNote(error: ApplyError): string {
  if (!error.retryable) return '; not retryable, the process needs the operator';
  return error.retryAt
    ? `; rate limit or quota: next attempt at ${clock(error.retryAt)}, nothing is lost`
    : '; retrying';
}

/** `step 2 sync-dnskeys`: the 1-based number, and the name when the state or catalogue knows it. */
function stepLabel(state: ZoneState | undefined, processId: string, index: number): string {
  const process = state?.processes.find((candidate) => candidate.id === processId);
  const name = process?.steps[index]?.name;
  return name ? `step ${index + 1} ${name}` : `step ${index + 1}`;
}

function signersOf(desired: Record<string, unknown>): string {
  const ids = Object.keys(desired);
  return ids.length > 0 ? ` (signers: ${ids.join(', ')})` : '';
}

function describeKeyChange(change: KeyChange): string {
  const what = `${change.role} ${change.keyTag}`;
  if (change.change === 'appeared') return `${what} appeared`;
  if (change.change === 'disappeared') return `${what} DISAPPEARED`;
  return `${what} ${change.from ?? '?'} → ${change.to ?? '?'}`;
}

function describeGrant(grant: TrustGrant): string {
  const parts = Object.entries(grant).flatMap(([group, keys]) =>
    Object.entries(keys ?? {}).map(([id, key]) =>
      key === null ? `${group} ${id} REVOKED` : `${group} ${id} = ${key.slice(0, 12)}…`,
    ),
  );
  return parts.join(', ') || 'nothing';
}

/** `DS` or `NS`: which parent RRset a change is about. */
const PARENT_RRSET: Record<ParentChange['kind'], string> = { ds: 'DS', ns: 'NS' };

/** The step's recorded parent change, for the step an event is about. */
function recordedParentChange(
  state: ZoneState | undefined,
  processId: string,
  stepIndex: number,
): RecordedParentChange | undefined {
  const process = state?.processes.find((candidate) => candidate.id === processId);
  return process?.stepStates[stepIndex]?.parentChange;
}

/** The parent change in one line, with what the parent does differently. */
function parentChangeLine(change: Omit<ParentChange, 'processId' | 'stepIndex'>): string {
  const differs = change.differs.length > 0 ? `; DIFFERS: ${change.differs.join('; ')}` : '';
  return `${parentChangeSummary(change)}${differs}`;
}

function describePostconditionMet(
  event: ZoneEventOf<'postcondition-met'>,
  state: ZoneState | undefined,
): string {
  const { processId, stepIndex, ttls } = event.data;
  const change = recordedParentChange(state, processId, stepIndex);
  const seen = change
    ? `the parent's ${PARENT_RRSET[change.kind]} now matches: moving on`
    : 'post-condition seen on the wire';
  return `    ${seen}${Object.keys(ttls).length > 0 ? ` (TTLs ${JSON.stringify(ttls)})` : ''}`;
}

type Describers = {
  [Type in ZoneEventType]: (event: ZoneEventOf<Type>, state: ZoneState | undefined) => string;
};

/** One describer per event type: a new type in the catalogue fails to compile until it has one. */
const DESCRIBERS: Describers = {
  'zone-defined': (event) =>
    `zone ${event.zone} defined with ${event.data.signers.map((signer) => signer.id).join(', ')} (parent ${event.data.parentZone})${describeAdoption(event.data.adopted)}${event.data.owner ? `, model 1 under owner KSK ${event.data.owner.dnskeys.map(keyTag).join(' ')}` : ''}`,
  'trust-changed': ({ data, source }) =>
    `trust changed by ${source.id}: ${describeGrant(data.grant)}${data.reason ? ` (${data.reason})` : ''}`,
  'signer-registered': ({ data }) =>
    `signer ${data.signer.id} (${data.signer.kind}) ${data.before ? 're-registered with CHANGED facts' : 'registered'}, NS ${data.signer.nameServerNames.join(' ')}`,
  'signer-keys-observed': ({ data }) =>
    `${data.signerId} keys: ${data.keys.map((key) => `${key.role} ${key.keyTag}${key.state ? ` (${key.state})` : ''}`).join(', ')}${data.changes?.length ? ` — ${data.changes.map(describeKeyChange).join('; ')}` : ''}`,
  'signer-content-observed': ({ data }) =>
    `${data.signerId} zone content: ${data.content.rrsets} RRsets at serial ${data.content.serial}, ${data.content.algorithm} ${data.content.digest.slice(0, 16)}… (${data.content.source})`,
  'signer-zsks-planned': ({ data }) =>
    `${data.signerId} plans ZSKs ${data.planned.map((entry) => `${entry.zsks.map(keyTag).join(' ')} from ${new Date(entry.at * 1000).toISOString()}`).join(', ')}`,
  'dnskey-set-signed': ({ data, source }) =>
    `owner ${source.id} signed the DNSKEY RRset (${data.reason}): ${data.snapshots.map((snapshot) => `${snapshot.dnskeys.map(keyTag).join(' ')} until ${new Date(Math.min(...snapshot.rrsigs.map((sig) => sig.expiration)) * 1000).toISOString()}`).join('; ')}`,
  'process-requested': ({ data }) =>
    `${processName(data.kind, data.signerId)}${data.successorTag !== undefined ? ` (successor ${data.successorTag})` : ''} requested by ${data.requestedBy}`,
  'process-blocked': ({ data }) =>
    `${processName(data.kind, data.signerId)} REFUSED before any change: ${data.reasons.map((reason) => `[${reason.code}] ${reason.message}`).join('; ')}`,
  'process-started': ({ data }) =>
    `${processName(data.kind, data.signerId)} started: ${data.steps.map((step) => step.name).join(' → ')}`,
  'step-started': (event, state) =>
    `  ${stepLabel(state, event.data.processId, event.data.stepIndex)} started${signersOf(event.data.desired)} [${event.source.kind}:${event.source.id}]`,
  'signer-reconciled': ({ data }) => `    ${data.signerId} applied ${data.applied} change(s)`,
  'signer-apply-failed': ({ data }) =>
    `    ${data.signerId} FAILED to apply (attempt ${data.attempt}): [${data.error.name}] ${data.error.message}${retryNote(data.error)}`,
  'postcondition-met': describePostconditionMet,
  'parent-change-needed': ({ data }) =>
    `    CHANGE NEEDED AT THE PARENT ${data.parentZone} (a person, at the registrar or with EPP): ${parentChangeLine(data)}`,
  'parent-change-submitted': ({ data, source }) =>
    data.outcome === 'accepted'
      ? `    ${data.kind.toUpperCase()} set sent to the parent through ${data.channel}${data.requestId ? ` (request ${data.requestId})` : ''}: ${data.records.join('; ')} [${source.kind}:${source.id}]`
      : `    the parent channel ${data.channel} REFUSED the ${data.kind.toUpperCase()} set: ${data.error ?? 'no reason given'}; make the change at the parent by hand, or fix the cause [${source.kind}:${source.id}]`,
  'parent-notified': ({ data, source }) =>
    `    NOTIFY(${data.rrtype}) to the parent's scanner ${data.targets.join(', ')} [${source.kind}:${source.id}]`,
  'wait-scheduled': ({ data }) => `    waiting until ${clock(data.notBefore)}: ${data.formula}`,
  'step-completed': ({ data }, state) =>
    `  ${stepLabel(state, data.processId, data.stepIndex)} completed`,
  'process-completed': ({ data }) =>
    `process completed; the group is now ${data.groupAfter.join(', ')}`,
  'process-failed': ({ data }) => `process FAILED: [${data.reason.code}] ${data.reason.message}`,
  'process-stop-requested': ({ data }) =>
    `STOP requested by ${data.requestedBy}${data.reason ? ` (${data.reason})` : ''}: the process ends at its next safe point`,
  'process-stopped': ({ data }, state) =>
    `process STOPPED at a safe point, before ${stepLabel(state, data.processId, data.stepIndex)}; the group is unchanged ("chorus undo" reverses what was done)`,
};

/** One line per event. `state` (the zone after the event) names the steps. */
export function describeEvent(event: ZoneEvent, state?: ZoneState): string {
  const describe = DESCRIBERS[event.type] as
    ((event: ZoneEvent, state?: ZoneState) => string) | undefined;
  const text = describe ? describe(event, state) : `an event of unknown type ${String(event.type)}`;
  return `${clock(event.occurredAt)} ${text}`;
}

/** An adopted group: checked on the wire, and whose NS names are whose. */
function describeAdoption(
  adopted: Extract<ZoneEvent, { type: 'zone-defined' }>['data']['adopted'],
): string {
  if (!adopted) return '';
  const names = Object.entries(adopted.nameServers)
    .map(([signerId, nameServers]) => `${signerId}: ${nameServers.join(' ')}`)
    .join('; ');
  return `, adopted as it stood on the wire at ${clock(adopted.observedAt)} (${names})`;
}

/** A step's pre-condition in words, for a step that waits for it before it starts. */
const PRECONDITION_WORDS: Record<PostconditionSpec['kind'], string> = {
  'desired-state-served': 'every signer serves its desired state',
  'parent-ds-matches':
    "the parent's DS set names exactly the group's KSKs (as their servers publish CDS)",
  'parent-ns-matches': "the parent's NS set names exactly the group's name servers",
  none: 'nothing',
  'successor-published': 'the successor is published',
  'predecessor-not-signing': 'the predecessor no longer signs',
  'predecessor-removed': 'the predecessor is gone',
  'successor-cds-published': "the rolling signer's server publishes CDS for the successor only",
  'owner-set-served':
    "every member serves the owner's signed DNSKEY RRset, which follows every member's plan",
};

/** A parent step's wait: what a person must change, or what the parent channel was sent. */
function describeParentWait(step: ProcessState['stepStates'][number]): string | undefined {
  if (step.parentChange)
    return `waiting for a change at the parent ${step.parentChange.parentZone}: ${parentChangeLine(step.parentChange)}`;
  const sent = step.parentSubmitted;
  if (sent?.outcome === 'accepted')
    return `sent to the parent through ${sent.channel} at ${clock(sent.at)}; waiting for every parent server to serve it`;
  if (sent)
    return `the parent channel ${sent.channel} refused the change: ${sent.error ?? 'no reason given'}`;
  if (step.parentNotified)
    return `the parent's scanner was notified (NOTIFY(${step.parentNotified.rrtype})); waiting for it to act`;
  return undefined;
}

/** What a wait formula waits out, in words: "the parent's DS TTL and the DNSKEY TTL". */
export function waitInWords(formula: string): string {
  const skipped = formula.startsWith('SKIPPED') ? ' (SKIPPED, unsafe)' : '';
  if (formula.includes('TTLnsP')) return `the NS TTLs at the parent and the child${skipped}`;
  if (formula.includes('TTLsig')) return `the old signatures' TTL${skipped}`;
  const ds = formula.includes('TTLds');
  const dnskey = formula.includes('TTLkey');
  if (ds && dnskey) return `the parent's DS TTL and the DNSKEY TTL${skipped}`;
  if (ds) return `the parent's DS TTL${skipped}`;
  if (dnskey) return `the DNSKEY TTL${skipped}`;
  return `${formula}${skipped}`;
}

/** The current step's mandated wait, when it is in one: until when, and what it waits out. */
export function currentWait(process: ProcessState) {
  const step = process.stepStates[process.currentStep];
  if (step?.status !== 'waiting' || !step.wait) return undefined;
  return { ...step.wait, waitsFor: waitInWords(step.wait.formula) };
}

function describeWaiting(process: ProcessState, now: Date): string {
  const step = process.stepStates[process.currentStep];
  switch (step?.status) {
    case 'pending': {
      const precondition = process.steps[process.currentStep]?.precondition;
      if (!precondition || precondition.kind === 'none')
        return `about to start (${whoWrites(process, now)})`;
      return `about to start once its pre-condition holds on the wire: ${PRECONDITION_WORDS[precondition.kind]} (${whoWrites(process, now)})`;
    }
    case 'started': {
      const definition = process.steps[process.currentStep];
      if (definition?.rollAction && !step.reconciled[process.signerId])
        return `waiting for ${process.signerId} to ${definition.rollAction.replace('-', ' ')}`;
      const missing = Object.keys(step.desired ?? {}).filter((id) => !step.reconciled[id]);
      if (missing.length > 0) return `waiting for ${missing.join(', ')} to apply its changes`;
      if (definition?.postcondition.kind === 'owner-set-served')
        return 'waiting for the owner to sign the DNSKEY RRset this step needs ("chorus owner" must run) and for every member to serve it';
      return describeParentWait(step) ?? 'waiting to see the post-condition on the wire';
    }
    case 'postcondition-met':
      return `scheduling its wait (${whoWrites(process, now)})`;
    case 'waiting': {
      const left = Math.round((Date.parse(step.wait!.notBefore) - now.getTime()) / 1000);
      if (left <= 0)
        return `its wait ended at ${clock(step.wait!.notBefore)} (${whoWrites(process, now)})`;
      return `waiting until ${step.wait!.notBefore} (${left} s left): ${step.wait!.formula}`;
    }
    case 'completed':
    case undefined:
      return `finishing (${whoWrites(process, now)})`;
  }
}

/**
 * Who writes the process's next bookkeeping event (its scribe), and, once every sidecar of the
 * zone may write it too and none has, that it is late: a step stuck here has no sidecar up.
 */
function whoWrites(process: ProcessState, now: Date): string {
  const scribe = scribeOf(process);
  const since = Date.parse(bookkeepingReadySince(process));
  const late = now.getTime() - since - SCRIBE_FALLBACK_MS;
  if (Number.isNaN(since) || late < 0) return `the sidecar of ${scribe} records it`;
  return `due since ${clock(new Date(since).toISOString())}, not recorded: the sidecar of ${scribe} records it, and after ${SCRIBE_FALLBACK_MS / 1000} s any sidecar of the zone; is one running?`;
}

/** How a process is named in output: `add-signer knot`; a bootstrap concerns the whole group. */
export function processName(kind: string, signerId: string): string {
  return kind === 'bootstrap' ? 'bootstrap of the group' : `${kind} ${signerId}`;
}

/** What a process waits for right now, in words. */
export function describeProcess(process: ProcessState, now = new Date()): string {
  const total = process.steps.length;
  const index = process.currentStep;
  const where = `step ${Math.min(index + 1, total)}/${total} ${process.steps[index]?.name ?? 'finishing'}`;
  if (process.status === 'needs-operator')
    return `${processName(process.kind, process.signerId)}: NEEDS THE OPERATOR at ${where}`;
  const name = processName(process.kind, process.signerId);
  if (process.status !== 'running') return `${name}: ${process.status}`;
  return `${name}: ${where}, ${describeWaiting(process, now)}`;
}

/** The change a person must still make at the parent for the process's current step, if any. */
export function pendingParentChange(process: ProcessState): RecordedParentChange | undefined {
  const step = process.stepStates[process.currentStep];
  return step?.status === 'started' ? step.parentChange : undefined;
}

const labelled = (label: string, items: readonly string[]) =>
  items.map((item) => `  ${label.padEnd(14)}${item}`);

/** The DS part of a parent change, one record per line. */
function dsChangeLines(change: RecordedParentChange): string[] {
  return [
    ...labelled('add DS', change.ds?.add ?? []),
    ...labelled('remove DS', change.ds?.remove ?? []),
    ...labelled('keep DS', change.ds?.keep ?? []),
    ...(change.dnskey?.add.length || change.dnskey?.remove.length
      ? ['  for registrars that take keys instead of DS:']
      : []),
    ...labelled('add DNSKEY', change.dnskey?.add ?? []),
    ...labelled('remove DNSKEY', change.dnskey?.remove ?? []),
  ];
}

/** The NS part of a parent change: names, then glue for names at or below the zone. */
function nsChangeLines(change: RecordedParentChange): string[] {
  const glue = (items: { name: string; addresses: string[] }[]) =>
    items.map((item) => `${item.name} ${item.addresses.join(' ')}`);
  return [
    ...labelled('add NS', change.ns?.add ?? []),
    ...labelled('remove NS', change.ns?.remove ?? []),
    ...labelled('keep NS', change.ns?.keep ?? []),
    ...labelled('add glue', glue(change.glue?.add ?? [])),
    ...labelled('remove glue', glue(change.glue?.remove ?? [])),
  ];
}

/**
 * What a person must change at the parent, one record per line, in the forms a registrar's web
 * form or an EPP client takes; then what the parent does differently, if anything.
 */
export function describeParentChange(zone: string, change: RecordedParentChange): string[] {
  const rrset = PARENT_RRSET[change.kind];
  return [
    `the parent ${change.parentZone} must change the ${rrset} set of ${zone} (no scanner acts there: a person, at the registrar or with EPP):`,
    ...(change.kind === 'ds' ? dsChangeLines(change) : nsChangeLines(change)),
    ...change.differs.map((difference) => `  DIFFERS: ${difference}`),
    change.differs.length > 0
      ? `  Chorus does not proceed while the parent differs; it moves on once every parent server serves this ${rrset} set.`
      : `  Chorus moves on once every parent server serves this ${rrset} set.`,
  ];
}

/** One line per failing signer: its last error, how often it tried, whether it retries. */
export function describeSignerFailure(signerId: string, failure: SignerFailure): string {
  const retry = !failure.retryable
    ? 'not retryable: fix the signer or its sidecar configuration'
    : failure.retryAt
      ? `rate limit or quota: the provider allows the next attempt at ${clock(failure.retryAt)}; waiting, nothing is lost`
      : 'retrying';
  return `${signerId} failing at step ${failure.stepIndex + 1}: [${failure.errorName}] ${failure.message} (${failure.attempts} attempt(s) ${clock(failure.firstAt)}–${clock(failure.lastAt)}; ${retry})`;
}

/** When the leaving signer of a REMOVE-SIGNER may be switched off, in words; undefined if unknown. */
export function describeLeaving(process: ProcessState): string | undefined {
  const leaving = process.leavingSigner;
  if (!leaving) return undefined;
  if (leaving.mayStopServingNow)
    return `${leaving.signerId} may stop serving now${leaving.mayStopServingAt ? ` (since ${leaving.mayStopServingAt})` : ''}`;
  if (leaving.mayStopServingAt)
    return `${leaving.signerId} may stop serving at ${leaving.mayStopServingAt} (estimate), not before`;
  return `${leaving.signerId} must keep serving until Chorus says it may stop`;
}
