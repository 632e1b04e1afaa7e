import { describe, expect, it } from 'vitest';
import type { CsyncData, DnskeyData, RRset } from '@chorus/core';
import {
  evaluateInvariants,
  type InvariantInput,
  type InvariantViolation,
} from '../src/invariants.js';
import {
  reachableProviders,
  WireHistory,
  type CacheMargins,
  type ObservedProvider,
  type ObservedServer,
  type ServedAnswer,
} from '../src/wire-history.js';
import {
  dsOf,
  KSK_FLAGS,
  makeKey,
  signedRrset,
  ZSK_FLAGS,
  type SignOptions,
  type TestKey,
} from './helpers/signing.js';

// A parent (test.) and two model-2 providers a and b of example.test., each with its own KSK and
// ZSK, observed second by second. Every signature is real (ECDSA P-256) and checked by core.

const ZONE = 'example.test.';
const PARENT_ZONE = 'test.';
const T0 = 1_800_000_000;
const TTL = 300;
const MARGINS: CacheMargins = { childSeconds: 5, parentSeconds: 5 };
/** The first moment a version last served at T0 is no longer possibly cached. */
const EXPIRED = T0 + TTL + MARGINS.childSeconds + 1;
const SIGNED: SignOptions = { inception: T0 - 3600, expiration: T0 + 14 * 86_400, signer: ZONE };
const NS_A = 'ns.a.test.';
const NS_B = 'ns.b.test.';
const WWW = `www.${ZONE}`;
const NX = `chorus-probe-nx.${ZONE}`;

/** Keys with pairwise distinct tags, so a random collision cannot make a test flaky. */
function distinctKeys(specs: readonly [number, 13 | 15][]): TestKey[] {
  for (;;) {
    const keys = specs.map(([flags, algorithm]) => makeKey(flags, algorithm));
    if (new Set(keys.map((key) => key.tag)).size === keys.length) return keys;
  }
}

const [aKsk, aZsk, bKsk, bZsk, bKsk2, parentKey, ed25519Zsk, bZskNext, ownerKsk] = distinctKeys([
  [KSK_FLAGS, 13],
  [ZSK_FLAGS, 13],
  [KSK_FLAGS, 13],
  [ZSK_FLAGS, 13],
  [KSK_FLAGS, 13],
  [KSK_FLAGS, 13],
  [ZSK_FLAGS, 15],
  [ZSK_FLAGS, 13],
  [KSK_FLAGS, 13],
]) as [TestKey, TestKey, TestKey, TestKey, TestKey, TestKey, TestKey, TestKey, TestKey];

const PROVIDERS: ObservedProvider[] = [
  { id: 'a', nameServerNames: [NS_A] },
  { id: 'b', nameServerNames: [NS_B] },
  { id: 'c', nameServerNames: ['ns.c.test.'] },
];

const SERVERS: Record<string, ObservedServer[]> = {
  a: [
    { provider: 'a', address: '192.0.2.1', port: 53 },
    { provider: 'a', address: '192.0.2.2', port: 53 },
  ],
  b: [{ provider: 'b', address: '198.51.100.1', port: 53 }],
  c: [{ provider: 'c', address: '203.0.113.9', port: 53 }],
  parent: [{ provider: 'parent', address: '203.0.113.1', port: 53 }],
};

/** What one provider publishes. */
interface Publication {
  dnskeys: TestKey[];
  /**
   * Keys that sign the DNSKEY RRset. CDS/CDNSKEY are signed by these and the data signers: signed
   * by a KSK alone, another provider's DNSKEY RRset could not validate them (I3).
   */
  dnskeySigners: TestKey[];
  /** Keys that sign everything else. */
  dataSigners: TestKey[];
  ns: string[];
  www?: string[];
  serial?: number;
  cds?: TestKey[];
  cdnskey?: TestKey[];
  csync?: CsyncData;
  denial?: 'NSEC' | 'NSEC3';
  /** Signature times for `www A` and the SOA. */
  wwwSigned?: SignOptions;
  soaSigned?: SignOptions;
  /** Extra DNSKEY records appended after signing (junk input). */
  junkKeys?: DnskeyData[];
  /** Model 1: the owner-signed DNSKEY RRset, served as it is instead of `dnskeys` signed here. */
  dnskeyRrset?: RRset<'DNSKEY'>;
}

interface World {
  a?: Publication | 'down';
  b?: Publication | 'down';
  c?: Publication | 'down';
  parent: { ds: TestKey[]; ns: string[] };
}

const answer = (
  owner: string,
  type: ServedAnswer['type'],
  rrset: RRset | null,
  authority: RRset[] = [],
  rcode = 'NOERROR',
): ServedAnswer => ({ owner, type, rcode, authoritative: true, rrset, authority });

function providerAnswers(p: Publication): ServedAnswer[] {
  const data = (name: string, type: RRset['type'], records: unknown[], signed = SIGNED) =>
    signedRrset(name, type, records as never, TTL, p.dataSigners, signed);
  const soa = data(
    ZONE,
    'SOA',
    [
      {
        mname: NS_A,
        rname: `hostmaster.${ZONE}`,
        serial: p.serial ?? 2026010101,
        refresh: 3600,
        retry: 600,
        expire: 604_800,
        minimum: TTL,
      },
    ],
    p.soaSigned,
  );
  const denial =
    p.denial === 'NSEC3'
      ? data(`2vptu5timamqttgl4luu9kg21e0aor3s.${ZONE}`, 'NSEC3', [
          {
            hashAlgorithm: 1,
            flags: 0,
            iterations: 0,
            salt: '',
            nextHashedOwner: '3VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S',
            types: ['A', 'RRSIG'],
          },
        ])
      : data(ZONE, 'NSEC', [{ nextName: WWW, types: ['NS', 'SOA', 'RRSIG', 'NSEC', 'DNSKEY'] }]);
  const nodata = (type: ServedAnswer['type']) => answer(ZONE, type, null, [soa, denial]);
  const dnskey =
    p.dnskeyRrset ??
    signedRrset(
      ZONE,
      'DNSKEY',
      p.dnskeys.map((key) => key.dnskey),
      TTL,
      p.dnskeySigners,
      SIGNED,
    );
  if (p.junkKeys) dnskey.records.push(...p.junkKeys);
  const keySigned = (type: 'CDS' | 'CDNSKEY', records: unknown[]) =>
    signedRrset(ZONE, type, records as never, TTL, [...p.dnskeySigners, ...p.dataSigners], SIGNED);
  return [
    answer(ZONE, 'DNSKEY', dnskey),
    answer(ZONE, 'NS', data(ZONE, 'NS', p.ns)),
    answer(ZONE, 'SOA', soa),
    p.cds
      ? answer(
          ZONE,
          'CDS',
          keySigned(
            'CDS',
            p.cds.map((key) => dsOf(ZONE, key)),
          ),
        )
      : nodata('CDS'),
    p.cdnskey
      ? answer(
          ZONE,
          'CDNSKEY',
          keySigned(
            'CDNSKEY',
            p.cdnskey.map((key) => key.dnskey),
          ),
        )
      : nodata('CDNSKEY'),
    p.csync ? answer(ZONE, 'CSYNC', data(ZONE, 'CSYNC', [p.csync])) : nodata('CSYNC'),
    answer(WWW, 'A', data(WWW, 'A', p.www ?? ['192.0.2.80'], p.wwwSigned)),
    answer(NX, 'A', null, [soa, denial], 'NXDOMAIN'),
  ];
}

const DOWN: ServedAnswer[] = [ZONE, WWW, NX].flatMap((owner) =>
  (owner === ZONE
    ? (['DNSKEY', 'NS', 'SOA', 'CDS', 'CDNSKEY', 'CSYNC'] as const)
    : (['A'] as const)
  ).map((type): ServedAnswer => ({
    owner,
    type,
    rcode: null,
    authoritative: false,
    rrset: null,
    authority: [],
    error: 'timeout',
  })),
);

/** Signing is slow enough to matter: each publication is signed once. */
const signedAnswers = new WeakMap<object, ServedAnswer[]>();
function answersOf(key: object, make: () => ServedAnswer[]): ServedAnswer[] {
  let answers = signedAnswers.get(key);
  if (!answers) {
    answers = make();
    signedAnswers.set(key, answers);
  }
  return answers;
}

function parentAnswers(parent: World['parent']): ServedAnswer[] {
  const ds = signedRrset(
    ZONE,
    'DS',
    parent.ds.map((key) => dsOf(ZONE, key)),
    TTL,
    [parentKey],
    { ...SIGNED, signer: PARENT_ZONE },
  );
  const referral: RRset<'NS'> = {
    name: ZONE,
    type: 'NS',
    class: 'IN',
    ttl: TTL,
    records: parent.ns,
    signatures: [],
  };
  return [answer(ZONE, 'DS', ds), { ...answer(ZONE, 'NS', referral), authoritative: false }];
}

/** One sampler round at `at`. */
function sample(history: WireHistory, at: number, world: World): void {
  const rounds: [string, ServedAnswer[]][] = [
    ['parent', answersOf(world.parent, () => parentAnswers(world.parent))],
  ];
  for (const id of ['a', 'b', 'c'] as const) {
    const publication = world[id];
    if (publication === undefined) continue;
    rounds.push([
      id,
      publication === 'down' ? DOWN : answersOf(publication, () => providerAnswers(publication)),
    ]);
  }
  for (const [id, answers] of rounds)
    for (const server of SERVERS[id]!)
      for (const served of answers) history.record(server, served, at);
}

/** Sampler rounds every second from `from` to `to` inclusive. */
function sampleEach(history: WireHistory, from: number, to: number, world: World): void {
  for (let at = from; at <= to; at += 1) sample(history, at, world);
}

function evaluate(
  history: WireHistory,
  t: number,
  options: Partial<InvariantInput> = {},
): InvariantViolation[] {
  return evaluateInvariants({
    zone: ZONE,
    parentZone: PARENT_ZONE,
    history,
    providers: PROVIDERS,
    t,
    margins: MARGINS,
    ...options,
  });
}

const only = (violations: InvariantViolation[], invariant: InvariantViolation['invariant']) =>
  violations.filter((violation) => violation.invariant === invariant);
const keysOf = (violations: InvariantViolation[]) => violations.map((violation) => violation.key);
const invariantsOf = (violations: InvariantViolation[]) =>
  [...new Set(violations.map((violation) => violation.invariant))].sort();

/** The id of the version a provider's (first) server serves now for `type` at `owner`. */
function currentId(
  history: WireHistory,
  provider: string,
  type: ServedAnswer['type'],
  owner = ZONE,
) {
  return history.current({ provider, owner, type })[0]!.id;
}

// Model 2 steady state: each DNSKEY RRset holds its own KSK and both ZSKs.
const publishA = (overrides: Partial<Publication> = {}): Publication => ({
  dnskeys: [aKsk, aZsk, bZsk],
  dnskeySigners: [aKsk],
  dataSigners: [aZsk],
  ns: [NS_A, NS_B],
  ...overrides,
});
const publishB = (overrides: Partial<Publication> = {}): Publication => ({
  dnskeys: [bKsk, bZsk, aZsk],
  dnskeySigners: [bKsk],
  dataSigners: [bZsk],
  ns: [NS_A, NS_B],
  ...overrides,
});
const BOTH = { ds: [aKsk, bKsk], ns: [NS_A, NS_B] };

function steadyHistory(world: Partial<World> = {}): WireHistory {
  const history = new WireHistory();
  sampleEach(history, T0 - 30, T0, { a: publishA(), b: publishB(), parent: BOTH, ...world });
  return history;
}

describe('evaluateInvariants: steady state', () => {
  it('reports nothing when both providers publish both ZSKs, the DS has both KSKs and content agrees', () => {
    // A joining provider c, named in no NS set, serves junk: not reachable, so not a glitch.
    const junk = publishA({
      dnskeys: [aKsk],
      dnskeySigners: [],
      dataSigners: [],
      www: ['192.0.2.99'],
    });
    const history = steadyHistory({ c: junk });
    expect(reachableProviders(history, ZONE, PROVIDERS, T0, MARGINS)).toEqual(new Set(['a', 'b']));
    expect(evaluate(history, T0)).toEqual([]);
  });

  it('reports provider c as soon as it becomes reachable while serving junk (negative control)', () => {
    const junk = publishA({
      dnskeys: [aKsk],
      dnskeySigners: [],
      dataSigners: [],
      www: ['192.0.2.99'],
    });
    const history = steadyHistory({
      c: junk,
      parent: { ds: [aKsk, bKsk], ns: [NS_A, NS_B, 'ns.c.test.'] },
    });
    const violations = evaluate(history, T0);
    expect(invariantsOf(violations)).toEqual(
      expect.arrayContaining(['I2', 'I3', 'I4', 'I7', 'I9']),
    );
    expect(violations.every((violation) => violation.providers.includes('c'))).toBe(true);
  });

  it('never throws on odd input: empty history, unknown NS names, silent providers, junk keys', () => {
    expect(evaluate(new WireHistory(), T0)).toEqual([]);

    const junkKey: DnskeyData = {
      flags: 257,
      protocol: 3,
      algorithm: 13,
      publicKey: '!!not base64',
    };
    const history = new WireHistory();
    sampleEach(history, T0 - 5, T0, {
      a: publishA({ junkKeys: [junkKey] }),
      parent: { ds: [aKsk, bKsk], ns: [NS_A, NS_B, 'ns.unknown.test.'] },
    });
    const violations = evaluate(history, T0);
    // b is delegated but was never observed: I1 with nothing to show it answers.
    const i1 = only(violations, 'I1');
    expect(keysOf(i1)).toEqual(['I1|b', 'I1|ns ns.unknown.test.']);
    expect(i1[0]!.providers).toEqual(['b']);
    expect(i1[0]!.detail).toContain('no answer observed');
  });
});

describe('evaluateInvariants: ADD-SIGNER glitch (I3)', () => {
  // a alone serves DNSKEY {aKsk, aZsk} until T0, then {aKsk, aZsk, bZsk}. At T0+2 the parent and
  // a's apex NS name ns.b too: b becomes reachable while a's old DNSKEY RRset may still be cached.
  const aOld = publishA({ dnskeys: [aKsk, aZsk], ns: [NS_A] });
  const aNew = publishA({ ns: [NS_A] });
  const aJoined = publishA();
  const b = publishB();
  const aloneParent = { ds: [aKsk, bKsk], ns: [NS_A] };

  function history(): WireHistory {
    const h = new WireHistory();
    sampleEach(h, T0 - 30, T0 - 1, { a: aOld, b, parent: aloneParent });
    sampleEach(h, T0, T0 + 1, { a: aNew, b, parent: aloneParent });
    sampleEach(h, T0 + 2, T0 + 2, { a: aJoined, b, parent: BOTH });
    return h;
  }

  it('is glitch-free while b is not reachable', () => {
    const h = history();
    expect(reachableProviders(h, ZONE, PROVIDERS, T0 + 1, MARGINS)).toEqual(new Set(['a']));
    expect(evaluate(h, T0 + 1)).toEqual([]);
  });

  it("reports b's data against a's cached old DNSKEY RRset, with a stable key", () => {
    const h = history();
    const oldId = h.versions({ provider: 'a', owner: ZONE, type: 'DNSKEY' })[0]!.id;
    const violations = evaluate(h, T0 + 2);
    expect(invariantsOf(violations)).toEqual(['I3']);
    const www = violations.find((violation) => violation.key.includes(`${WWW} A`));
    expect(www).toMatchObject({
      invariant: 'I3',
      key: `I3|b|${WWW} A|by ${bZsk.tag}|dnskey a@${oldId}`,
      providers: ['a', 'b'],
    });
    expect(www!.detail).toContain(`keys ${[aKsk.tag, aZsk.tag].sort((x, y) => x - y).join(',')}`);
    // Every I3 is b's data against a's old RRset; nothing against the current RRsets.
    expect(violations.every((violation) => violation.key.startsWith('I3|b|'))).toBe(true);
    expect(violations.every((violation) => violation.key.endsWith(`dnskey a@${oldId}`))).toBe(true);
    expect(keysOf(violations)).toEqual(
      expect.arrayContaining([
        `I3|b|${ZONE} SOA|by ${bZsk.tag}|dnskey a@${oldId}`,
        `I3|b|${ZONE} NSEC|by ${bZsk.tag}|dnskey a@${oldId}`,
      ]),
    );

    sample(h, T0 + 3, { a: aJoined, b, parent: BOTH });
    expect(keysOf(evaluate(h, T0 + 3))).toEqual(keysOf(violations));
  });

  it('clears once the old DNSKEY RRset has expired from every cache', () => {
    const h = history();
    expect(only(evaluate(h, EXPIRED - 1), 'I3').length).toBeGreaterThan(0);
    expect(evaluate(h, EXPIRED)).toEqual([]);
  });
});

describe('evaluateInvariants: an insecure delegation being bootstrapped (RFC 9615)', () => {
  // a and b each serve only their own keys, delegated without DS: nothing validates the zone yet.
  const aAlone = publishA({ dnskeys: [aKsk, aZsk] });
  const bAlone = publishB({ dnskeys: [bKsk, bZsk] });
  const insecure = { ds: [], ns: [NS_A, NS_B] };

  function history(parentLater: World['parent']): WireHistory {
    const h = new WireHistory();
    sampleEach(h, T0 - 30, T0, { a: aAlone, b: bAlone, parent: insecure });
    sampleEach(h, T0 + 1, T0 + 2, { a: aAlone, b: bAlone, parent: parentLater });
    return h;
  }

  it('reports nothing while no DS was ever served: no resolver validates the zone', () => {
    expect(evaluate(history(insecure), T0 + 2)).toEqual([]);
  });

  it("negative control: from the first DS on, providers that lack each other's keys are reported", () => {
    const violations = evaluate(history(BOTH), T0 + 2);
    expect(invariantsOf(violations)).toEqual(expect.arrayContaining(['I3', 'I9']));
  });

  it('a zone that had a DS and lost it is still reported (I2), not taken for a bootstrap', () => {
    const h = new WireHistory();
    sampleEach(h, T0 - 30, T0, { a: publishA(), b: publishB(), parent: BOTH });
    sampleEach(h, T0 + 1, T0 + 2, { a: publishA(), b: publishB(), parent: insecure });
    const violations = only(evaluate(h, T0 + 2), 'I2');
    expect(violations.length).toBeGreaterThan(0);
    expect(violations[0]!.detail).toContain('serves no DS');
  });
});

describe('evaluateInvariants: REMOVE-SIGNER glitch (I1)', () => {
  // Apex NS already {ns.b} everywhere; the parent drops ns.a at T0 but a stops at T0+1, while
  // resolvers may still hold the delegation naming ns.a.
  const parentBefore = { ds: [aKsk, bKsk], ns: [NS_A, NS_B] };
  const parentAfter = { ds: [aKsk, bKsk], ns: [NS_B] };
  const a = publishA({ ns: [NS_B] });
  const b = publishB({ ns: [NS_B] });

  function history(): WireHistory {
    const h = new WireHistory();
    sampleEach(h, T0 - 30, T0 - 1, { a, b, parent: parentBefore });
    sampleEach(h, T0, T0, { a, b, parent: parentAfter });
    sampleEach(h, T0 + 1, T0 + 2, { a: 'down', b, parent: parentAfter });
    return h;
  }

  it('holds while a still answers', () => {
    const h = new WireHistory();
    sampleEach(h, T0 - 30, T0 - 1, { a, b, parent: parentBefore });
    sampleEach(h, T0, T0, { a, b, parent: parentAfter });
    expect(evaluate(h, T0)).toEqual([]);
  });

  it('reports a (and each of its servers) as unreachable while the old delegation may be cached', () => {
    const h = history();
    const violations = evaluate(h, T0 + 2);
    expect(invariantsOf(violations)).toEqual(['I1']);
    expect(keysOf(violations)).toEqual(['I1|a', 'I1|a|192.0.2.1#53', 'I1|a|192.0.2.2#53']);
    expect(violations[0]).toMatchObject({ providers: ['a'], records: [`${ZONE} NS ${NS_A}`] });
    expect(violations[0]!.detail).toContain('no answer (timeout)');

    sample(h, T0 + 3, { a: 'down', b, parent: parentAfter });
    expect(keysOf(evaluate(h, T0 + 3))).toEqual(keysOf(violations));
  });

  it('clears once no cached NS set names a', () => {
    const h = history();
    expect(keysOf(evaluate(h, EXPIRED - 1))).toContain('I1|a');
    expect(reachableProviders(h, ZONE, PROVIDERS, EXPIRED, MARGINS)).toEqual(new Set(['b']));
    expect(evaluate(h, EXPIRED)).toEqual([]);
  });
});

describe('evaluateInvariants: DS → DNSKEY (I2) and steady state (I9)', () => {
  it("reports b when the DS set lacks b's KSK", () => {
    const h = steadyHistory({ parent: { ds: [aKsk], ns: [NS_A, NS_B] } });
    const dsId = currentId(h, 'parent', 'DS');
    const bId = currentId(h, 'b', 'DNSKEY');
    const violations = evaluate(h, T0);
    expect(invariantsOf(violations)).toEqual(['I2', 'I9']);
    expect(only(violations, 'I2')).toEqual([
      expect.objectContaining({
        key: `I2|b|ds ${dsId}|dnskey b@${bId}`,
        providers: ['b'],
      }),
    ]);
    expect(only(violations, 'I2')[0]!.detail).not.toContain('(cached DNSKEY)');
    expect(only(violations, 'I9')).toEqual([
      expect.objectContaining({ key: `I9|b|no ds|ds ${dsId}`, providers: ['b'] }),
    ]);

    sample(h, T0 + 1, { a: publishA(), b: publishB(), parent: { ds: [aKsk], ns: [NS_A, NS_B] } });
    expect(keysOf(evaluate(h, T0 + 1))).toEqual(keysOf(violations));
  });

  it("reports a DNSKEY RRset still cached after b's KSK roll lost its DS (cached DNSKEY)", () => {
    // The DS already points at bKsk2 only; b switched its DNSKEY RRset to bKsk2 at T0.
    const parent = { ds: [aKsk, bKsk2], ns: [NS_A, NS_B] };
    const bRolled = publishB({ dnskeys: [bKsk2, bZsk, aZsk], dnskeySigners: [bKsk2] });
    const h = new WireHistory();
    sampleEach(h, T0 - 30, T0 - 1, { a: publishA(), b: publishB(), parent });
    sampleEach(h, T0, T0 + 1, { a: publishA(), b: bRolled, parent });
    const oldId = h.versions({ provider: 'b', owner: ZONE, type: 'DNSKEY' })[0]!.id;
    const dsId = currentId(h, 'parent', 'DS');
    const key = `I2|b|ds ${dsId}|dnskey b@${oldId}`;

    const before = only(evaluate(h, T0 - 1), 'I2');
    expect(keysOf(before)).toEqual([key]);
    expect(before[0]!.detail).not.toContain('(cached DNSKEY)');

    const after = only(evaluate(h, T0 + 1), 'I2');
    expect(keysOf(after)).toEqual([key]);
    expect(after[0]!.detail).toContain('(cached DNSKEY)');
    expect(only(evaluate(h, EXPIRED), 'I2')).toEqual([]);
  });

  it("treats a CSK as b's zone-signing key: a must publish it", () => {
    const bCsk = bKsk2;
    const csk = publishB({ dnskeys: [bCsk, aZsk], dnskeySigners: [bCsk], dataSigners: [bCsk] });
    const parent = { ds: [aKsk, bCsk], ns: [NS_A, NS_B] };
    const lacking = evaluate(
      steadyHistory({ a: publishA({ dnskeys: [aKsk, aZsk] }), b: csk, parent }),
      T0,
    );
    expect(keysOf(only(lacking, 'I9'))).toEqual([`I9|a|lacks zsk 13/${bCsk.tag} of b`]);
    expect(only(lacking, 'I9')[0]!.providers).toEqual(['a', 'b']);
    expect(only(lacking, 'I3').length).toBeGreaterThan(0);

    const a = publishA({ dnskeys: [aKsk, aZsk, bCsk] });
    expect(evaluate(steadyHistory({ a, b: csk, parent }), T0)).toEqual([]);
  });
});

describe('evaluateInvariants: a successor co-signing beside its predecessor (I9)', () => {
  // BIND signs the SOA and NS with the predecessor and the successor for a moment when it
  // introduces a ZSK: a resolver holding a's DNSKEY RRset (without the successor) still validates.
  const parent = { ds: [aKsk, bKsk], ns: [NS_A, NS_B] };
  const a = publishA({ dnskeys: [aKsk, aZsk, bKsk, bZsk] });

  it('reports nothing while every RRset b signs with the successor also carries a signature a can check', () => {
    const b = publishB({ dnskeys: [bKsk, bZsk, aZsk, bZskNext], dataSigners: [bZsk, bZskNext] });
    expect(evaluate(steadyHistory({ a, b, parent }), T0)).toEqual([]);
  });

  it('negative control: once b signs with the successor alone, a must publish it (I9, and I3 for real)', () => {
    const b = publishB({ dnskeys: [bKsk, bZskNext, aZsk], dataSigners: [bZskNext] });
    const violations = evaluate(steadyHistory({ a, b, parent }), T0);
    expect(keysOf(only(violations, 'I9'))).toEqual([`I9|a|lacks zsk 13/${bZskNext.tag} of b`]);
    expect(only(violations, 'I3').length).toBeGreaterThan(0);
  });
});

describe('evaluateInvariants: pre-published ZSKs (I9)', () => {
  // b pre-publishes its successor ZSK bZskNext from T0 (standards §7.3 step 1): in b's DNSKEY
  // RRset, signing nothing. The default grace is the key watch (30 s) + DprpC (5 s) + 10 s.
  const GRACE = 30 + MARGINS.childSeconds + 20;
  const bPre = publishB({ dnskeys: [bKsk, bZsk, aZsk, bZskNext] });
  const aWith = publishA({ dnskeys: [aKsk, aZsk, bZsk, bZskNext] });
  const lacksKey = `I9|a|lacks pre-published zsk 13/${bZskNext.tag} of b`;

  function prePublished(aPublishesAt: number | null, until: number): WireHistory {
    const h = new WireHistory();
    sampleEach(h, T0 - 30, T0 - 1, { a: publishA(), b: publishB(), parent: BOTH });
    for (let at = T0; at <= until; at += 1)
      sample(h, at, {
        a: aPublishesAt !== null && at >= aPublishesAt ? aWith : publishA(),
        b: bPre,
        parent: BOTH,
      });
    return h;
  }

  it('reports nothing when every other provider publishes the key within the grace', () => {
    const h = prePublished(T0 + 5, T0 + 120);
    // Lacking at a for 4 s, then published: nothing during the roll, nothing long after.
    expect(evaluate(h, T0 + 4)).toEqual([]);
    expect(evaluate(h, T0 + 120)).toEqual([]);
    expect(evaluate(h, T0 + 120, { prePublishGraceSeconds: 1 })).toEqual([]);
  });

  it('reports a once it has lacked the key for longer than the grace (negative control)', () => {
    const h = prePublished(null, T0 + 120);
    expect(evaluate(h, T0 + GRACE)).toEqual([]);
    const violations = evaluate(h, T0 + GRACE + 1);
    expect(violations).toEqual([
      {
        invariant: 'I9',
        key: lacksKey,
        providers: ['a', 'b'],
        records: [
          `${ZONE} DNSKEY 256 3 13 (tag ${bZskNext.tag})`,
          `DNSKEY a@${currentId(h, 'a', 'DNSKEY')}`,
          `DNSKEY b@${currentId(h, 'b', 'DNSKEY')}`,
        ].sort(),
        detail: `b pre-publishes ZSK ${bZskNext.tag} since ${GRACE + 1} s but a (192.0.2.1#53, 192.0.2.2#53) does not publish it (for ${GRACE + 1} s); when b starts signing with it, resolvers holding a's DNSKEY RRset will fail to validate b's data.`,
      },
    ]);
    // The same fault keeps the same key.
    expect(keysOf(evaluate(h, T0 + 120))).toEqual([lacksKey]);
    // The grace is an input.
    expect(evaluate(h, T0 + 10, { prePublishGraceSeconds: 10 })).toEqual([]);
    expect(keysOf(evaluate(h, T0 + 11, { prePublishGraceSeconds: 10 }))).toEqual([lacksKey]);
    // Published late: reported while it lacked the key beyond the grace, cleared once published.
    const late = prePublished(T0 + 20, T0 + 30);
    expect(keysOf(evaluate(late, T0 + 19, { prePublishGraceSeconds: 10 }))).toEqual([lacksKey]);
    expect(evaluate(late, T0 + 20, { prePublishGraceSeconds: 10 })).toEqual([]);
  });

  it('does not report a predecessor that a still publishes after b dropped it, however long', () => {
    // b signed with bZsk, then with bZskNext only (long enough for every RRSIG by bZsk to expire
    // from caches); at T0 b removes bZsk from its own RRset, a has not dropped it yet.
    const aBoth = publishA({ dnskeys: [aKsk, aZsk, bZsk, bZskNext] });
    const bActive = publishB({ dnskeys: [bKsk, bZsk, aZsk, bZskNext], dataSigners: [bZskNext] });
    const bRemoved = publishB({ dnskeys: [bKsk, aZsk, bZskNext], dataSigners: [bZskNext] });
    const world = (b: Publication) => ({ a: aBoth, b, parent: BOTH });
    const h = new WireHistory();
    sampleEach(h, T0 - 800, T0 - 401, world(publishB({ dnskeys: bActive.dnskeys })));
    sampleEach(h, T0 - 400, T0 - 1, world(bActive));
    sampleEach(h, T0, T0 + 100, world(bRemoved));
    expect(evaluate(h, T0 + 100)).toEqual([]);
    expect(evaluate(h, T0 + 100, { prePublishGraceSeconds: 0 })).toEqual([]);

    // Negative control: an observer that never saw bZsk sign takes it for a's pre-published key
    // and reports b (which dropped it) once the grace is over.
    const late = new WireHistory();
    sampleEach(late, T0 - 400, T0 - 1, world(bActive));
    sampleEach(late, T0, T0 + 100, world(bRemoved));
    expect(evaluate(late, T0 + GRACE)).toEqual([]);
    const dropped = evaluate(late, T0 + GRACE + 1);
    expect(keysOf(dropped)).toEqual([`I9|b|lacks pre-published zsk 13/${bZsk.tag} of a`]);
    expect(dropped[0]!.detail).toContain(`but b (198.51.100.1#53) dropped it ${GRACE + 1} s ago`);
  });
});

describe('evaluateInvariants: algorithms, signature margins, parent input, content', () => {
  it('I4: an algorithm in the DNSKEY RRset that signs nothing', () => {
    const h = steadyHistory({
      a: publishA({ dnskeys: [aKsk, aZsk, bZsk, ed25519Zsk] }),
      b: publishB({ dnskeys: [bKsk, bZsk, aZsk, ed25519Zsk] }),
    });
    const violations = evaluate(h, T0);
    expect(invariantsOf(violations)).toEqual(['I4']);
    const aId = currentId(h, 'a', 'DNSKEY');
    expect(keysOf(violations)).toEqual(
      expect.arrayContaining([
        `I4|a|${WWW} A|by ${aZsk.tag}|dnskey a@${aId}`,
        `I4|a|${ZONE} DNSKEY|by ${aKsk.tag}|dnskey a@${aId}`,
      ]),
    );
    expect(new Set(violations.flatMap((violation) => violation.providers))).toEqual(
      new Set(['a', 'b']),
    );
    expect(violations[0]!.detail).toContain('algorithm 15');

    // Control: the same keys, with everything also signed by the Ed25519 key.
    const signedByBoth = steadyHistory({
      a: publishA({
        dnskeys: [aKsk, aZsk, bZsk, ed25519Zsk],
        dnskeySigners: [aKsk, ed25519Zsk],
        dataSigners: [aZsk, ed25519Zsk],
      }),
      b: publishB({
        dnskeys: [bKsk, bZsk, aZsk, ed25519Zsk],
        dnskeySigners: [bKsk, ed25519Zsk],
        dataSigners: [bZsk, ed25519Zsk],
      }),
    });
    expect(evaluate(signedByBoth, T0)).toEqual([]);
  });

  it('I5: an RRSIG that expires before a copy cached now, and inception inside the skew', () => {
    const h = steadyHistory({
      b: publishB({
        wwwSigned: { ...SIGNED, expiration: T0 + 100 },
        soaSigned: { ...SIGNED, inception: T0 - 30 },
      }),
    });
    const expiring = `I5|b|${WWW} A|by 13/${bZsk.tag}|expiration`;
    const early = `I5|b|${ZONE} SOA|by 13/${bZsk.tag}|inception`;
    expect(keysOf(evaluate(h, T0))).toEqual([expiring]);
    expect(evaluate(h, T0)[0]).toMatchObject({ invariant: 'I5', providers: ['b'] });
    const skewed = evaluate(h, T0, { skewSeconds: 60 });
    expect(keysOf(skewed)).toEqual([early, expiring]);
    // Still valid now, so it validates: no I3.
    expect(only(skewed, 'I3')).toEqual([]);
  });

  it('I6: CDS and CDNSKEY that differ between a and b, and a CDS that would drop b', () => {
    const h = steadyHistory({
      a: publishA({ cds: [aKsk, bKsk], cdnskey: [aKsk, bKsk] }),
      b: publishB({ cds: [aKsk], cdnskey: [aKsk] }),
    });
    const violations = evaluate(h, T0);
    expect(invariantsOf(violations)).toEqual(['I6']);
    const keys = keysOf(violations);
    expect(keys.filter((key) => key.startsWith('I6|CDS|differs|'))).toHaveLength(1);
    expect(keys.filter((key) => key.startsWith('I6|CDNSKEY|differs|'))).toHaveLength(1);
    expect(keys.filter((key) => key.startsWith('I6|continuity|b|'))).toHaveLength(1);
    expect(keys.some((key) => key.startsWith('I6|continuity|a|'))).toBe(false);
    const cds = violations.find((violation) => violation.key.startsWith('I6|CDS|differs'))!;
    expect(cds.providers).toEqual(['a', 'b']);
    expect(cds.detail).toContain('198.51.100.1#53');
    expect(keysOf(evaluate(h, T0))).toEqual(keys);

    const agreeing = steadyHistory({
      a: publishA({ cds: [aKsk, bKsk], cdnskey: [aKsk, bKsk] }),
      b: publishB({ cds: [aKsk, bKsk], cdnskey: [aKsk, bKsk] }),
    });
    expect(evaluate(agreeing, T0)).toEqual([]);

    const mismatched = steadyHistory({
      a: publishA({ cds: [aKsk, bKsk], cdnskey: [aKsk] }),
      b: publishB({ cds: [aKsk, bKsk], cdnskey: [aKsk] }),
    });
    expect(
      keysOf(evaluate(mismatched, T0)).filter((key) => key.startsWith('I6|CDS-CDNSKEY mismatch|')),
    ).toEqual([
      expect.stringMatching(/^I6\|CDS-CDNSKEY mismatch\|a\|/),
      expect.stringMatching(/^I6\|CDS-CDNSKEY mismatch\|b\|/),
    ]);
  });

  it('I7: different www A at b (serials may differ), and mixed NSEC/NSEC3', () => {
    const h = steadyHistory({
      a: publishA({ serial: 1 }),
      b: publishB({ serial: 2, www: ['192.0.2.81'] }),
    });
    const violations = evaluate(h, T0);
    expect(invariantsOf(violations)).toEqual(['I7']);
    expect(violations).toEqual([
      expect.objectContaining({
        key: expect.stringMatching(new RegExp(`^I7\\|${WWW.replaceAll('.', '\\.')} A\\|`)),
        providers: ['a', 'b'],
        records: [`${WWW} A 192.0.2.80`, `${WWW} A 192.0.2.81`],
      }),
    ]);
    expect(keysOf(evaluate(h, T0))).toEqual(keysOf(violations));

    // Names compare case-insensitively: an upper-case NS set is the same content.
    const upper = steadyHistory({ b: publishB({ ns: [NS_A.toUpperCase(), NS_B.toUpperCase()] }) });
    expect(evaluate(upper, T0)).toEqual([]);

    const mixed = evaluate(steadyHistory({ b: publishB({ denial: 'NSEC3' }) }), T0);
    expect(keysOf(only(mixed, 'I7'))).toEqual(['I7|mixed denial']);
  });
});

describe('evaluateInvariants: model', () => {
  it('I8 is never reported in model 2, even though the DNSKEY RRsets differ', () => {
    const h = steadyHistory();
    expect(only(evaluate(h, T0), 'I8')).toEqual([]);
    expect(only(evaluate(h, T0, { model: 2 }), 'I8')).toEqual([]);
    // Negative control: in model 1 the same history violates I8.
    const model1 = evaluate(h, T0, { model: 1, prePublishGraceSeconds: 0 });
    expect(keysOf(only(model1, 'I8'))).toEqual([expect.stringMatching(/^I8\|dnskey\|/)]);
    expect(only(model1, 'I9')).toEqual([]);
  });
});

// Model 1 (RFC 8901 §2.1.1): the owner's KSK signs one DNSKEY RRset, served as it is by a and b,
// each signing its data with its own ZSK; the parent's DS is the owner's.
const OWNER_LEAD = 3600;
const OWNER = { dnskeys: [ownerKsk.dnskey], refreshLeadSeconds: OWNER_LEAD };
const MODEL1_DS = { ds: [ownerKsk], ns: [NS_A, NS_B] };

/** The DNSKEY RRset the owner signs: its KSK, both ZSKs and `extra`. */
function ownerSigned(options: Partial<SignOptions> = {}, extra: TestKey[] = []): RRset<'DNSKEY'> {
  const keys = [ownerKsk, aZsk, bZsk, ...extra].map((key) => key.dnskey);
  return signedRrset(ZONE, 'DNSKEY', keys, TTL, [ownerKsk], { ...SIGNED, ...options });
}

const model1A = (dnskeyRrset: RRset<'DNSKEY'>): Publication =>
  publishA({ dnskeys: [], dnskeySigners: [], dnskeyRrset });
const model1B = (dnskeyRrset: RRset<'DNSKEY'>): Publication =>
  publishB({ dnskeys: [], dnskeySigners: [], dnskeyRrset });

function model1History(a: RRset<'DNSKEY'>, b: RRset<'DNSKEY'> = a): WireHistory {
  const history = new WireHistory();
  sampleEach(history, T0 - 30, T0, { a: model1A(a), b: model1B(b), parent: MODEL1_DS });
  return history;
}

// The histories differ for 30 s; the transit grace (key watch + DprpC + slack) is left out here.
const model1 = (history: WireHistory, options: Partial<InvariantInput> = {}) =>
  evaluate(history, T0, { model: 1, owner: OWNER, prePublishGraceSeconds: 0, ...options });

describe('evaluateInvariants: model 1 (I8)', () => {
  const shared = ownerSigned();

  it('the owner-signed RRset served byte for byte, refreshed on schedule: nothing to report', () => {
    expect(model1(model1History(shared))).toEqual([]);
    // The owner alone says model 1.
    expect(evaluate(model1History(shared), T0, { owner: OWNER })).toEqual([]);
  });

  it('a DNSKEY RRset at b that differs by one key is I8, naming the key', () => {
    const withExtra = ownerSigned({}, [bZskNext]);
    const violations = model1(model1History(shared, withExtra));
    expect(violations).toEqual([
      expect.objectContaining({
        invariant: 'I8',
        key: expect.stringMatching(/^I8\|dnskey\|[0-9a-f]{12}$/),
        providers: ['a', 'b'],
      }),
    ]);
    expect(violations[0]!.detail).toContain(`key ${bZskNext.tag} not served everywhere`);
    expect(violations[0]!.detail).toContain('b 198.51.100.1#53 serve keys');
    // The same keys under another signature of the owner are not byte-identical either.
    const resigned = model1(model1History(shared, ownerSigned()));
    expect(keysOf(resigned)).toEqual([expect.stringMatching(/^I8\|dnskey\|/)]);
    expect(resigned[0]!.detail).toContain('the keys agree but the RRSIGs differ');
  });

  it('a new set on its way to every provider is not I8 within the transit grace, and is after it', () => {
    const withExtra = ownerSigned({}, [bZskNext]);
    // b has served the new set for 30 s (the history's span).
    expect(
      keysOf(model1(model1History(shared, withExtra), { prePublishGraceSeconds: 20 })),
    ).toEqual([]);
    expect(
      keysOf(model1(model1History(shared, withExtra), { prePublishGraceSeconds: 10 })),
    ).toEqual([expect.stringMatching(/^I8\|dnskey\|/)]);
  });

  it('a signature with no more than the refresh lead left is late, per provider and key', () => {
    const expiring = ownerSigned({ expiration: T0 + 1800 });
    const violations = model1(model1History(shared, expiring));
    const refresh = `I8|refresh|b|${ownerKsk.tag}`;
    expect(keysOf(violations).filter((key) => key.startsWith('I8|refresh|'))).toEqual([refresh]);
    const late = violations.find((violation) => violation.key === refresh)!;
    expect(late.providers).toEqual(['b']);
    expect(late.detail).toBe(
      `Model 1: the owner's signature over the DNSKEY RRset at b expires at 2027-01-15T08:30:00Z (in 1800 s), later than its refresh was due (refresh lead ${OWNER_LEAD} s): the refresh is late or did not reach b.`,
    );
    // Both late: both reported. With a shorter lead, on schedule (the control).
    const bothLate = model1(model1History(expiring));
    expect(keysOf(bothLate)).toEqual([`I8|refresh|a|${ownerKsk.tag}`, refresh]);
    expect(
      model1(model1History(expiring), { owner: { ...OWNER, refreshLeadSeconds: 1799 } }),
    ).toEqual([]);
  });

  it('an owner signature already expired says so', () => {
    const expired = ownerSigned({ expiration: T0 - 60 });
    const late = model1(model1History(expired)).find(
      (violation) => violation.key === `I8|refresh|a|${ownerKsk.tag}`,
    );
    expect(late?.detail).toContain('expired at 2027-01-15T07:59:00Z (60 s ago)');
  });

  it('is not reported in model 2, even with the owner known', () => {
    const expiring = ownerSigned({ expiration: T0 + 1800 }, [bZskNext]);
    const h = model1History(shared, expiring);
    expect(only(model1(h, { model: 2 }), 'I8')).toEqual([]);
    expect(only(evaluate(h, T0), 'I8')).toEqual([]);
    // Negative control: model 1 on the same history.
    expect(only(model1(h), 'I8')).toHaveLength(2);
  });

  it('a provider whose DNSKEY RRset no owner KSK signed is I8 (its own KSK, or a signature that does not verify)', () => {
    const ownKsk = signedRrset(
      ZONE,
      'DNSKEY',
      [bKsk, aZsk, bZsk].map((key) => key.dnskey),
      TTL,
      [bKsk],
      SIGNED,
    );
    const violations = only(model1(model1History(shared, ownKsk)), 'I8');
    expect(keysOf(violations)).toEqual([expect.stringMatching(/^I8\|dnskey\|/), 'I8|owner-key|b']);
    expect(violations[1]!.detail).toBe(
      `Model 1: b (198.51.100.1#53) serves a DNSKEY RRset signed by key ${bKsk.tag}, not by the owner's KSK ${ownerKsk.tag}: the owner did not sign what b serves.`,
    );
    // The owner's tag on a signature over other keys: named right, but it does not verify.
    const forged = { ...ownerSigned({}, [bZskNext]), signatures: shared.signatures };
    expect(keysOf(only(model1(model1History(shared, forged)), 'I8'))).toContain('I8|owner-key|b');
    // Without the owner's keys, only the byte identity is checked.
    const withoutOwner = evaluate(model1History(shared, ownKsk), T0, {
      model: 1,
      prePublishGraceSeconds: 0,
    });
    expect(keysOf(only(withoutOwner, 'I8'))).toEqual([expect.stringMatching(/^I8\|dnskey\|/)]);
  });
});
