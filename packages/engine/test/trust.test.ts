// The fold's verdict on who wrote what: forged, misplaced and unauthorised events change nothing
// but the findings, and each refusal has a control showing the same event accepted when genuine.
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  eventSigningKey,
  generateEventKey,
  signEvent,
  zoneEvent,
  type EventSigningKey,
  type ZoneEvent,
} from '@chorus/core';
import { applyZoneEvent, emptyZoneState, type ZoneState } from '../src/index.js';

const ZONE = 'example.test.';
const newKey = (): EventSigningKey => eventSigningKey(generateEventKey().privateKeyPem);
const operator = newKey();
const bind = newKey();
const knot = newKey();
const attacker = newKey();
const anchor = {
  operators: { alice: operator.publicKey },
  sidecars: { bind: bind.publicKey, knot: knot.publicKey },
};

const asOperator = { kind: 'cli', id: 'alice' };
const sidecar = (id: string) => ({ kind: 'sidecar', id });

function signed(event: ZoneEvent, key: EventSigningKey, state: ZoneState, id = 'e'): ZoneEvent {
  return signEvent(event, key, {
    id: `${id}-${state.version + 1}`,
    streamVersion: state.version + 1,
  });
}

function registration(id: string, source = sidecar(id)): ZoneEvent {
  return zoneEvent(
    'signer-registered',
    { zone: ZONE, source },
    {
      signer: {
        id,
        kind: 'bind',
        nameServerNames: [`ns.${id}.test.`],
        endpoints: [{ address: '127.0.0.9', port: 53 }],
      },
    },
  );
}

function request(source = asOperator, extra: Record<string, unknown> = {}): ZoneEvent {
  return zoneEvent(
    'process-requested',
    { zone: ZONE, source },
    { processId: 'p1', kind: 'add-signer', signerId: 'knot', requestedBy: 'alice', ...extra },
  );
}

const fold = (events: ((state: ZoneState) => ZoneEvent)[], allowUnsafeSkipWaits = false) =>
  events.reduce(
    (state, make) => applyZoneEvent(state, make(state)),
    emptyZoneState(ZONE, { anchor, allowUnsafeSkipWaits }),
  );

describe('the fold judges every event', () => {
  it('applies events signed by the right key for the right role (the control)', () => {
    const state = fold([
      (s) => signed(registration('bind'), bind, s),
      (s) => signed(request(), operator, s),
    ]);
    expect(state.securityFindings).toEqual([]);
    expect(Object.keys(state.signers)).toEqual(['bind']);
    expect(state.pendingRequests.map((r) => r.processId)).toEqual(['p1']);
  });

  it.each([
    ['unsigned', () => request()],
    [
      'bad-signature',
      (s: ZoneState) => ({ ...signed(request(), operator, s), zone: 'other.test.' }),
    ],
    ['unknown-key', (s: ZoneState) => signed(request(), attacker, s)],
    ['source-mismatch', (s: ZoneState) => signed(request(sidecar('bind')), operator, s)],
    ['role-not-allowed', (s: ZoneState) => signed(request(sidecar('knot')), knot, s)],
  ] as const)('refuses a process request that is %s, and nothing changes', (code, make) => {
    const state = fold([make]);
    expect(state.pendingRequests).toEqual([]);
    expect(state.version).toBe(1);
    expect(state.securityFindings.map((f) => f.code)).toEqual([code]);
    expect(state.securityFindingCount).toBe(1);
  });

  it("lets a sidecar request a roll its server began, never the owner's KSK roll (model 1)", () => {
    const began = { kind: 'roll-ksk', signerId: 'knot', role: 'KSK', successorTag: 1 };
    const control = fold([(s) => signed(request(sidecar('knot'), began), knot, s)]);
    expect(control.securityFindings).toEqual([]);
    expect(control.pendingRequests).toHaveLength(1);
    const ownerKsk = { flags: 257, protocol: 3, algorithm: 13, publicKey: 'AAAA' };
    const state = fold([(s) => signed(request(sidecar('knot'), { ...began, ownerKsk }), knot, s)]);
    expect(state.securityFindings.map((f) => f.code)).toEqual(['role-not-allowed']);
    expect(state.pendingRequests).toEqual([]);
  });

  it('refuses a valid event replayed at another position', () => {
    let original: ZoneEvent | undefined;
    const state = fold([
      (s) => (original = signed(request(), operator, s)),
      (s) => signed(registration('bind'), bind, s),
      () => original!,
    ]);
    expect(state.securityFindings.map((f) => [f.code, f.streamVersion])).toEqual([['replayed', 3]]);
    expect(state.pendingRequests).toHaveLength(1);
  });

  it('lets a sidecar register only itself: an attacker signer or another member is refused', () => {
    const state = fold([
      (s) => signed(registration('evil', sidecar('evil')), attacker, s),
      (s) => signed(registration('knot', sidecar('bind')), bind, s),
      (s) => signed({ ...registration('knot'), source: sidecar('bind') }, bind, s),
    ]);
    expect(state.securityFindings.map((f) => f.code)).toEqual([
      'unknown-key',
      'speaks-for-another-signer',
      'speaks-for-another-signer',
    ]);
    expect(state.signers).toEqual({});
  });

  it('refuses unsafeSkipWaits unless this host runs with the unsafe flag', () => {
    const skip = (s: ZoneState) =>
      signed(request(asOperator, { unsafeSkipWaits: ['x'] }), operator, s);
    expect(fold([skip]).securityFindings.map((f) => f.code)).toEqual(['unsafe-skip-waits-refused']);
    expect(fold([skip], true).pendingRequests).toHaveLength(1);
  });

  it('trusts a new sidecar key only once an operator grants it, and forgets a revoked one', () => {
    const evil = (s: ZoneState) => signed(registration('evil'), attacker, s);
    const grant = (key: string | null) => (s: ZoneState) =>
      signed(
        zoneEvent(
          'trust-changed',
          { zone: ZONE, source: asOperator },
          { grant: { sidecars: { evil: key } } },
        ),
        operator,
        s,
      );
    const forgedGrant = (s: ZoneState) =>
      signed(
        zoneEvent(
          'trust-changed',
          { zone: ZONE, source: sidecar('bind') },
          { grant: { sidecars: { evil: attacker.publicKey } } },
        ),
        bind,
        s,
      );
    const state = fold([
      evil,
      forgedGrant,
      evil,
      grant(attacker.publicKey),
      evil,
      grant(null),
      evil,
    ]);
    expect(state.securityFindings.map((f) => f.code)).toEqual([
      'unknown-key',
      'role-not-allowed',
      'unknown-key',
      'unknown-key',
    ]);
    expect(Object.keys(state.signers)).toEqual(['evil']);
  });

  it('refuses a process-started that follows no request', () => {
    const started = zoneEvent(
      'process-started',
      { zone: ZONE, source: sidecar('bind') },
      {
        processId: 'ghost',
        kind: 'add-signer',
        signerId: 'knot',
        steps: [],
        groupBefore: [],
        groupAfter: [],
      },
    );
    const state = fold([(s) => signed(started, bind, s)]);
    expect(state.securityFindings.map((f) => f.code)).toEqual(['not-requested']);
    expect(state.processes).toEqual([]);
  });

  it('verifies nothing without a trust anchor (embedding), and says so in the state', () => {
    const state = applyZoneEvent(emptyZoneState(ZONE), request());
    expect(state.trust).toBeNull();
    expect(state.pendingRequests).toHaveLength(1);
  });
});

describe('canonical JSON (RFC 8785)', () => {
  it('sorts members by UTF-16 code units and serialises numbers as ECMAScript does', () => {
    expect(
      canonicalJson({ b: [1e21, 0.1, -0], a: 'é\u2028', '\u20ac': 1, '\ud83d\ude00': 2, c: null }),
    ).toBe('{"a":"é\u2028","b":[1e+21,0.1,0],"c":null,"\u20ac":1,"\ud83d\ude00":2}');
  });

  it('leaves out undefined members, keeps empty containers, and refuses what JSON cannot say', () => {
    expect(canonicalJson({ z: { y: [], x: {} }, skipped: undefined, a: [[1, 'two'], false] })).toBe(
      '{"a":[[1,"two"],false],"z":{"x":{},"y":[]}}',
    );
    expect(() => canonicalJson([undefined])).toThrow(TypeError);
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError);
  });
});
