/**
 * A realistic pair of streams: example.test. signed by bind, ADD-SIGNER powerdns (7 steps, one
 * wait), DNSKEY sets changing at both providers in step 1, the parent's DS and NS changing, one
 * invariant violation (violated, then restored) and one validation failure.
 */
import { ADD_SIGNER_STEPS, stepsFor } from '@chorus/engine';
import type { ObservationEvent, ZoneEvent } from '@chorus/core';

export const ZONE = 'example.test.';
export const PROCESS_ID = 'p-add-powerdns';
export const T0 = Date.parse('2026-01-01T10:00:00.000Z');

/** ISO time `seconds` after T0. */
export const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

const source = { kind: 'sidecar', id: 'bind' };

function zoneEvent<T extends ZoneEvent['type']>(
  type: T,
  seconds: number,
  data: Extract<ZoneEvent, { type: T }>['data'],
): ZoneEvent {
  return { schemaVersion: 1, type, zone: ZONE, occurredAt: at(seconds), source, data } as ZoneEvent;
}

function observation<T extends ObservationEvent['type']>(
  type: T,
  seconds: number,
  data: Extract<ObservationEvent, { type: T }>['data'],
): ObservationEvent {
  return {
    schemaVersion: 1,
    type,
    zone: ZONE,
    occurredAt: at(seconds),
    source: { kind: 'observer', id: 'observer-1' },
    data,
  } as ObservationEvent;
}

const dnskey = (flags: number) => ({ flags, protocol: 3, algorithm: 13, publicKey: 'AAAA' });
const key = (role: 'KSK' | 'ZSK', keyTag: number) => ({
  role,
  algorithm: 13,
  keyTag,
  dnskey: dnskey(role === 'KSK' ? 257 : 256),
});

export interface Scenario {
  /** The provider that joins (default powerdns). */
  joiner?: string;
  /** The wait formula of step 3 (default the DS+DNSKEY formula). */
  waitFormula?: string;
  /** Include the invariant violation and the validation failure (default true). */
  glitches?: boolean;
}

export function zoneEvents(scenario: Scenario = {}): ZoneEvent[] {
  const joiner = scenario.joiner ?? 'powerdns';
  const signer = (id: string, address: string) => ({
    id,
    kind: id,
    nameServerNames: [`ns1.${id}.test.`],
    endpoints: [{ address, port: 53 }],
  });
  const events: ZoneEvent[] = [
    zoneEvent('signer-registered', -60, { signer: signer('bind', '127.53.0.2') }),
    zoneEvent('signer-registered', -59, { signer: signer(joiner, '127.53.0.3') }),
    zoneEvent('signer-keys-observed', -58, {
      signerId: 'bind',
      keys: [key('KSK', 11111), key('ZSK', 1111)],
    }),
    zoneEvent('signer-keys-observed', -57, {
      signerId: joiner,
      keys: [key('KSK', 22222), key('ZSK', 2222)],
    }),
    zoneEvent('zone-defined', -50, {
      parentZone: 'test.',
      signers: [signer('bind', '127.53.0.2')],
      timing: {
        childPropagationSeconds: 1,
        parentPropagationSeconds: 2,
        safetyMarginSeconds: 1,
        maxZoneTtlSeconds: 30,
      },
      recordTtlSeconds: 30,
    }),
    zoneEvent('process-requested', -1, {
      processId: PROCESS_ID,
      kind: 'add-signer',
      signerId: joiner,
      requestedBy: 'operator',
    }),
    zoneEvent('process-started', 0, {
      processId: PROCESS_ID,
      kind: 'add-signer',
      signerId: joiner,
      steps: [...ADD_SIGNER_STEPS],
      groupBefore: ['bind'],
      groupAfter: ['bind', joiner],
    }),
  ];
  // Steps 1-7: [start, post-condition, end]; step 3 waits 20 s after its post-condition.
  const times: [number, number, number][] = [
    [1, 4, 5],
    [5, 7, 8],
    [8, 13, 33],
    [33, 36, 38],
    [38, 41, 43],
    [43, 46, 50],
    [50, 53, 55],
  ];
  times.forEach(([start, met, end], stepIndex) => {
    events.push(
      zoneEvent('step-started', start, { processId: PROCESS_ID, stepIndex, desired: {} }),
    );
    events.push(
      zoneEvent('postcondition-met', met, {
        processId: PROCESS_ID,
        stepIndex,
        observedAt: at(met),
        ttls: {},
      }),
    );
    // A skipped wait (as decide() records one) ends at once; the term keeps the mandated end.
    const skipped = scenario.waitFormula?.startsWith('SKIPPED') === true;
    if (stepIndex === 2)
      events.push(
        zoneEvent('wait-scheduled', met, {
          processId: PROCESS_ID,
          stepIndex,
          notBefore: at(skipped ? met : met + 20),
          formula:
            scenario.waitFormula ?? 'max(t_ds + DprpP + TTLds, t_dnskey + DprpC + TTLkey) + S',
          terms: {
            t_ds: at(met),
            DprpP: 2,
            TTLds: 15,
            S: 1,
            ...(skipped ? { mandatedNotBefore: at(met + 20) } : {}),
          },
        }),
      );
    events.push(zoneEvent('step-completed', end, { processId: PROCESS_ID, stepIndex }));
  });
  events.push(
    zoneEvent('process-completed', 55, { processId: PROCESS_ID, groupAfter: ['bind', joiner] }),
  );
  return events;
}

const keys = (...entries: [role: 'KSK' | 'ZSK', keyTag: number][]) =>
  entries.map(([role, keyTag]) => ({ role, keyTag, algorithm: 13 }));

function wire(
  seconds: number,
  provider: string,
  server: string,
  rrtype: string,
  records: string[],
  extra: { keys?: ReturnType<typeof keys>; rcode?: string | null } = {},
): ObservationEvent {
  return observation('wire-version-observed', seconds, {
    provider,
    server,
    owner: ZONE,
    rrtype,
    version: `${provider}-${rrtype}-${seconds}`,
    rcode: extra.rcode === undefined ? 'NOERROR' : extra.rcode,
    ttl: 30,
    records,
    signedBy: [],
    ...(extra.keys ? { keys: extra.keys } : {}),
  });
}

export function observations(scenario: Scenario = {}): ObservationEvent[] {
  const joiner = scenario.joiner ?? 'powerdns';
  const events: ObservationEvent[] = [
    wire(-30, 'parent', '127.53.0.1#53', 'DS', ['11111 13 2 AAAA']),
    wire(-30, 'parent', '127.53.0.1#53', 'NS', ['ns1.bind.test.']),
    wire(-30, 'bind', '127.53.0.2#53', 'DNSKEY', ['257 3 13 AAAA', '256 3 13 AAAA'], {
      keys: keys(['KSK', 11111], ['ZSK', 1111]),
    }),
    wire(-30, joiner, '127.53.0.3#53', 'DNSKEY', ['257 3 13 AAAA', '256 3 13 AAAA'], {
      keys: keys(['KSK', 22222], ['ZSK', 2222]),
    }),
    wire(-30, 'bind', '127.53.0.2#53', 'SOA', ['ns1.bind.test. hostmaster. 1 2 3 4 5']),
    // Step 1: both publish both sets of keys.
    wire(3, 'bind', '127.53.0.2#53', 'DNSKEY', ['four keys'], {
      keys: keys(['KSK', 11111], ['ZSK', 1111], ['KSK', 22222], ['ZSK', 2222]),
    }),
    wire(3.5, joiner, '127.53.0.3#53', 'DNSKEY', ['four keys'], {
      keys: keys(['KSK', 22222], ['ZSK', 2222], ['KSK', 11111], ['ZSK', 1111]),
    }),
    // Step 3: the parent publishes the DS of both KSKs; step 6: the NS of both.
    wire(12, 'parent', '127.53.0.1#53', 'DS', ['11111 13 2 AAAA', '22222 13 2 BBBB']),
    wire(45, 'parent', '127.53.0.1#53', 'NS', ['ns1.bind.test.', `ns1.${joiner}.test.`]),
  ];
  if (scenario.glitches ?? true)
    events.push(
      observation('invariant-violated', 20, {
        invariant: 'I3',
        key: `I3|${joiner}`,
        providers: [joiner],
        records: ['DNSKEY version powerdns-DNSKEY-3.5'],
        detail: 'a cached DS has no matching DNSKEY at powerdns',
      }),
      observation('invariant-restored', 25, {
        invariant: 'I3',
        key: `I3|${joiner}`,
        violatedAt: at(20),
      }),
      observation('validation-failed', 40, {
        provider: 'bind',
        resolver: 'resolver-bind',
        name: `www.${ZONE}`,
        rrtype: 'A',
        detail: 'SERVFAIL: no valid signature',
        invariant: 'I2',
      }),
    );
  events.push(
    observation('observer-summary', 56, {
      observer: 'validation',
      since: at(-30),
      probes: 120,
      resolverAnswers: 480,
      disagreements: 0,
      validationFailures: scenario.glitches === false ? 0 : 1,
      invariantChecks: 300,
      violations: scenario.glitches === false ? 0 : 1,
    }),
  );
  return events;
}

/**
 * A tiny well-formedness check: every tag is syntactically a tag with quoted attributes, tags
 * balance, and no text holds a raw `<` or an `&` that does not start an entity.
 */
export function checkWellFormed(xml: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  const tag = /<[^<>]*>/g;
  let last = 0;
  for (const match of xml.matchAll(tag)) {
    const text = xml.slice(last, match.index);
    if (text.includes('<') || text.includes('>')) problems.push(`raw < or > in text: ${text}`);
    if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(text))
      problems.push(`raw & in text: ${text}`);
    last = match.index + match[0].length;
    const raw = match[0];
    if (!/^<\/?[A-Za-z][\w:.-]*(\s+[\w:.-]+="[^"<>]*")*\s*\/?>$/.test(raw)) {
      problems.push(`malformed tag: ${raw}`);
      continue;
    }
    for (const value of raw.matchAll(/="([^"]*)"/g))
      if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(value[1]!))
        problems.push(`raw & in attribute: ${raw}`);
    const name = /^<\/?([\w:.-]+)/.exec(raw)![1]!;
    if (raw.startsWith('</')) {
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> closes <${open ?? 'nothing'}>`);
    } else if (!raw.endsWith('/>')) stack.push(name);
  }
  const tail = xml.slice(last);
  if (tail.includes('<') || tail.includes('>')) problems.push(`raw < or > after the last tag`);
  if (stack.length > 0) problems.push(`unclosed: ${stack.join(', ')}`);
  return problems;
}

/** The SVG documents inside an HTML page. */
export const svgsIn = (html: string): string[] => html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];

/**
 * Two ZSK rolls that overlap in time (a lock per resource): bind's (held) from 0 to 35 s and
 * powerdns's (server-timed) from 10 to 50 s, each with its key changes: the successor entering
 * and the predecessor leaving the signer's own DNSKEY RRset, and one state change that is
 * neither.
 */
export const BIND_ROLL = 'p-roll-zsk-bind';
export const POWERDNS_ROLL = 'p-roll-zsk-powerdns';

type Times = [start: number, met: number, end: number];

/** A process's events: started, each step (a wait after the post-condition when given), completed. */
function processEvents(
  started: Extract<ZoneEvent, { type: 'process-started' }>['data'],
  at0: number,
  times: readonly Times[],
  waits: Record<number, { seconds: number; formula: string }>,
): ZoneEvent[] {
  const processId = started.processId;
  const events: ZoneEvent[] = [
    zoneEvent('process-requested', at0 - 1, {
      processId,
      kind: started.kind,
      signerId: started.signerId,
      requestedBy: 'operator',
      ...(started.roll ? { role: started.roll.role } : {}),
    }),
    zoneEvent('process-started', at0, started),
  ];
  times.forEach(([start, met, end], stepIndex) => {
    events.push(zoneEvent('step-started', start, { processId, stepIndex, desired: {} }));
    events.push(
      zoneEvent('postcondition-met', met, { processId, stepIndex, observedAt: at(met), ttls: {} }),
    );
    const wait = waits[stepIndex];
    if (wait)
      events.push(
        zoneEvent('wait-scheduled', met, {
          processId,
          stepIndex,
          notBefore: at(met + wait.seconds),
          formula: wait.formula,
          terms: { DprpC: 1, S: 1 },
        }),
      );
    events.push(zoneEvent('step-completed', end, { processId, stepIndex }));
  });
  const last = times[times.length - 1]![2];
  events.push(
    zoneEvent('process-completed', last, { processId, groupAfter: [...started.groupAfter] }),
  );
  return events;
}

const keysObserved = (
  seconds: number,
  signerId: string,
  keys: [role: 'KSK' | 'ZSK', keyTag: number][],
  changes: Extract<ZoneEvent, { type: 'signer-keys-observed' }>['data']['changes'],
): ZoneEvent =>
  zoneEvent('signer-keys-observed', seconds, {
    signerId,
    keys: keys.map(([role, keyTag]) => key(role, keyTag)),
    ...(changes ? { changes } : {}),
  });

export function rollZoneEvents(): ZoneEvent[] {
  const signer = (id: string, address: string, mode: 'held' | 'server-timed') => ({
    id,
    kind: id,
    nameServerNames: [`ns1.${id}.test.`],
    endpoints: [{ address, port: 53 }],
    rollover: { mode },
  });
  const bind = signer('bind', '127.53.0.2', 'held');
  const powerdns = signer('powerdns', '127.53.0.3', 'server-timed');
  const group = ['bind', 'powerdns'];
  const steps = [...stepsFor('roll-zsk')];
  const dnskeyWait = { seconds: 10, formula: 't_pub + DprpC + TTLkey + S' };
  const signatureWait = { seconds: 10, formula: 't_sig + DprpC + TTLsig + S' };
  const events: ZoneEvent[] = [
    zoneEvent('signer-registered', -60, { signer: bind }),
    zoneEvent('signer-registered', -59, { signer: powerdns }),
    keysObserved(
      -58,
      'bind',
      [
        ['KSK', 11111],
        ['ZSK', 1111],
      ],
      undefined,
    ),
    keysObserved(
      -57,
      'powerdns',
      [
        ['KSK', 22222],
        ['ZSK', 2222],
      ],
      undefined,
    ),
    zoneEvent('zone-defined', -50, {
      parentZone: 'test.',
      signers: [bind, powerdns],
      timing: {
        childPropagationSeconds: 1,
        parentPropagationSeconds: 2,
        safetyMarginSeconds: 1,
        maxZoneTtlSeconds: 30,
      },
      recordTtlSeconds: 30,
    }),
    ...processEvents(
      {
        processId: BIND_ROLL,
        kind: 'roll-zsk',
        signerId: 'bind',
        steps,
        groupBefore: group,
        groupAfter: group,
        roll: { role: 'ZSK', predecessorTags: [1111], mode: 'held' },
      },
      0,
      [
        [1, 3, 4],
        [4, 6, 16],
        [16, 18, 28],
        [28, 30, 31],
        [31, 33, 35],
      ],
      { 1: dnskeyWait, 2: signatureWait },
    ),
    ...processEvents(
      {
        processId: POWERDNS_ROLL,
        kind: 'roll-zsk',
        signerId: 'powerdns',
        steps,
        groupBefore: group,
        groupAfter: group,
        roll: { role: 'ZSK', predecessorTags: [2222], mode: 'server-timed' },
      },
      10,
      [
        [11, 12, 13],
        [13, 15, 25],
        [25, 27, 37],
        [37, 45, 46],
        [46, 48, 50],
      ],
      { 1: dnskeyWait, 2: signatureWait },
    ),
    keysObserved(
      2,
      'bind',
      [
        ['KSK', 11111],
        ['ZSK', 1111],
        ['ZSK', 3333],
      ],
      [{ keyTag: 3333, role: 'ZSK', change: 'appeared', to: 'published' }],
    ),
    keysObserved(
      12,
      'powerdns',
      [
        ['KSK', 22222],
        ['ZSK', 2222],
        ['ZSK', 4444],
      ],
      [{ keyTag: 4444, role: 'ZSK', change: 'appeared', to: 'published' }],
    ),
    keysObserved(
      17,
      'bind',
      [
        ['KSK', 11111],
        ['ZSK', 1111],
        ['ZSK', 3333],
      ],
      [
        { keyTag: 1111, role: 'ZSK', change: 'state-changed', from: 'active', to: 'inactive' },
        { keyTag: 3333, role: 'ZSK', change: 'state-changed', from: 'published', to: 'active' },
      ],
    ),
    keysObserved(
      30,
      'bind',
      [
        ['KSK', 11111],
        ['ZSK', 3333],
      ],
      [{ keyTag: 1111, role: 'ZSK', change: 'disappeared', from: 'inactive' }],
    ),
    keysObserved(
      45,
      'powerdns',
      [
        ['KSK', 22222],
        ['ZSK', 4444],
      ],
      [{ keyTag: 2222, role: 'ZSK', change: 'disappeared', from: 'inactive' }],
    ),
  ];
  return events;
}

/** The DNSKEY sets of both rolls on the wire, and one violation naming powerdns (no process id). */
export function rollObservations(): ObservationEvent[] {
  const dnskeys = (seconds: number, provider: string, address: string, tags: number[]) =>
    wire(seconds, provider, `${address}#53`, 'DNSKEY', ['keys'], {
      keys: keys(
        ['KSK', 11111],
        ['KSK', 22222],
        ...tags.map((tag) => ['ZSK', tag] as ['ZSK', number]),
      ),
    });
  return [
    wire(-30, 'parent', '127.53.0.1#53', 'DS', ['11111 13 2 AAAA', '22222 13 2 BBBB']),
    dnskeys(-30, 'bind', '127.53.0.2', [1111, 2222]),
    dnskeys(-30, 'powerdns', '127.53.0.3', [1111, 2222]),
    dnskeys(5, 'bind', '127.53.0.2', [1111, 2222, 3333]),
    dnskeys(14, 'powerdns', '127.53.0.3', [1111, 2222, 3333, 4444]),
    dnskeys(34, 'bind', '127.53.0.2', [2222, 3333, 4444]),
    dnskeys(49, 'powerdns', '127.53.0.3', [3333, 4444]),
    observation('invariant-violated', 20, {
      invariant: 'I6',
      key: 'I6|powerdns',
      providers: ['powerdns'],
      records: [],
      detail: 'powerdns does not serve the group DNSKEY set yet',
    }),
    observation('invariant-restored', 22, {
      invariant: 'I6',
      key: 'I6|powerdns',
      violatedAt: at(20),
    }),
  ];
}
