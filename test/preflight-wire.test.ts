import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createObserveOnlyParentChannel } from '@chorus/parent';
import {
  type ZoneState,
  expectedDsFor,
  foldZone,
  observePostcondition,
  observeSignerForPreflight,
  preflightChecks,
} from '@chorus/engine';
import { query, readTsigKeyFile, sendUpdate, UpdateBuilder, zoneContentDigest } from '@chorus/dns';
import { zoneEvent, type DnsRecord, type ZoneEvent } from '@chorus/core';
import { CONFORMANCE_ZONE, endpoint, labServer } from '@chorus/lab/testing';
import { signerForLabServer } from './helpers/signers.js';

// The pre-flight checks (C0) on the real servers: the content check compares the digests of
// what each plugin reads from its server, or walks each provider's NSEC chain, so a joiner
// serving one extra record is refused before any change.
const lab = inject('lab');
const zone = CONFORMANCE_ZONE;
const ids = ['bind', 'powerdns', 'knot'] as const;

async function zoneWithBindAlone() {
  const source = { kind: 'test', id: 'preflight' };
  const occurredAt = new Date().toISOString();
  const reference = (id: (typeof ids)[number]) => {
    const server = labServer(lab, id);
    return {
      id,
      kind: server.software,
      nameServerNames: [server.nameserverName],
      endpoints: [endpoint(server)],
    };
  };
  const events: ZoneEvent[] = [
    zoneEvent(
      'zone-defined',
      { zone, occurredAt, source },
      {
        parentZone: 'test.',
        signers: [reference('bind')],
        timing: {
          childPropagationSeconds: 1,
          parentPropagationSeconds: 1,
          safetyMarginSeconds: 1,
          maxZoneTtlSeconds: lab.ttl,
        },
        recordTtlSeconds: lab.ttl,
      },
    ),
    ...ids
      .slice(1)
      .map((id) =>
        zoneEvent('signer-registered', { zone, occurredAt, source }, { signer: reference(id) }),
      ),
  ];
  for (const id of ids) {
    const keys = await signerForLabServer(lab, labServer(lab, id)).listOwnKeys(zone, {});
    events.push(
      zoneEvent('signer-keys-observed', { zone, occurredAt, source }, { signerId: id, keys }),
    );
  }
  return foldZone(zone, events);
}

/** The state with each signer's content digest, read through its plugin as a sidecar does. */
async function withContentDigests(state: ZoneState) {
  for (const id of ids) {
    const records = await signerForLabServer(lab, labServer(lab, id)).readZoneContent!(zone, {});
    state.signers[id]!.content = { ...zoneContentDigest(zone, records), source: id };
  }
  return state;
}

async function parentDs() {
  const answer = await query(endpoint(labServer(lab, 'parent')), zone, 'DS');
  return (answer.answers.find((set) => set.type === 'DS')?.records ?? []) as {
    keyTag: number;
    algorithm: number;
  }[];
}

const extra: DnsRecord = {
  name: `only-at-powerdns.${zone}`,
  type: 'TXT',
  class: 'IN',
  ttl: 30,
  data: ['content drift'],
};
let powerdnsKey: Awaited<ReturnType<typeof readTsigKeyFile>>;

beforeAll(async () => {
  powerdnsKey = await readTsigKeyFile(labServer(lab, 'powerdns').tsig.keyFile);
});

afterAll(async () => {
  await sendUpdate(
    endpoint(labServer(lab, 'powerdns')),
    new UpdateBuilder(zone).deleteRRset(extra.name, 'TXT'),
    { tsig: powerdnsKey },
  ).catch(() => undefined);
});

describe('pre-flight checks against the lab', () => {
  it('lets PowerDNS join a zone signed by BIND alone', async () => {
    const state = await zoneWithBindAlone();
    const observations = {
      bind: await observeSignerForPreflight(state, 'bind'),
      powerdns: await observeSignerForPreflight(state, 'powerdns'),
    };
    expect(observations.powerdns.denial).toEqual({ method: 'NSEC' });
    expect(Object.keys(observations.bind.content ?? {}).length).toBeGreaterThan(3);
    expect(observations.powerdns.content).toEqual(observations.bind.content);
    const reasons = preflightChecks({
      state,
      kind: 'add-signer',
      signerId: 'powerdns',
      observations,
      parentDs: await parentDs(),
      now: Date.now() / 1000,
    });
    expect(reasons).toEqual([]);
  });

  it('refuses, before any change, a joiner whose zone content differs, naming the record', async () => {
    await sendUpdate(endpoint(labServer(lab, 'powerdns')), new UpdateBuilder(zone).add(extra), {
      tsig: powerdnsKey,
    });
    const state = await zoneWithBindAlone();
    const observations = {
      bind: await observeSignerForPreflight(state, 'bind'),
      powerdns: await observeSignerForPreflight(state, 'powerdns'),
    };
    const reasons = preflightChecks({
      state,
      kind: 'add-signer',
      signerId: 'powerdns',
      observations,
      parentDs: await parentDs(),
      now: Date.now() / 1000,
    });
    expect(reasons.map((reason) => reason.code)).toEqual(['content-mismatch']);
    expect(reasons[0]!.message).toContain(`only-at-powerdns.${zone} TXT`);
  });

  it('by the digests of what each plugin reads: agrees, then names the drift (NSEC3 needs this)', async () => {
    await sendUpdate(
      endpoint(labServer(lab, 'powerdns')),
      new UpdateBuilder(zone).deleteRRset(extra.name, 'TXT'),
      { tsig: powerdnsKey },
    );
    const state = await withContentDigests(await zoneWithBindAlone());
    expect(state.signers.powerdns!.content!.digest).toBe(state.signers.bind!.content!.digest);
    expect(state.signers.knot!.content!.digest).toBe(state.signers.bind!.content!.digest);
    const check = async (current: ZoneState) =>
      preflightChecks({
        state: current,
        kind: 'add-signer',
        signerId: 'powerdns',
        observations: {
          bind: await observeSignerForPreflight(current, 'bind'),
          powerdns: await observeSignerForPreflight(current, 'powerdns'),
        },
        parentDs: await parentDs(),
        now: Date.now() / 1000,
      });
    expect(await check(state)).toEqual([]);

    await sendUpdate(endpoint(labServer(lab, 'powerdns')), new UpdateBuilder(zone).add(extra), {
      tsig: powerdnsKey,
    });
    const drifted = await withContentDigests(await zoneWithBindAlone());
    expect(drifted.signers.powerdns!.content!.records).toBe(
      drifted.signers.bind!.content!.records + 1,
    );
    const reasons = await check(drifted);
    expect(reasons.map((reason) => reason.code)).toEqual(['content-mismatch']);
    expect(reasons[0]!.message).toMatch(/^powerdns serves different zone content than bind: /);
  });

  it('refuses removing the last signer', async () => {
    const state = await zoneWithBindAlone();
    const reasons = preflightChecks({
      state,
      kind: 'remove-signer',
      signerId: 'bind',
      observations: { bind: await observeSignerForPreflight(state, 'bind') },
      parentDs: await parentDs(),
      now: Date.now() / 1000,
    });
    expect(reasons.map((reason) => reason.code)).toEqual(['last-signer']);
    expect(reasons[0]!.message).toMatch(/last signer/);
  });

  it('holds a step back while its parent pre-condition is false on the wire (negative control)', async () => {
    const state = await zoneWithBindAlone();
    const parent = createObserveOnlyParentChannel({
      id: 'lab-parent',
      parentZone: 'test.',
      parentServers: [endpoint(labServer(lab, 'parent'))],
    });
    const onlyBind = await observePostcondition(
      state,
      { kind: 'parent-ds-matches', expectedDs: expectedDsFor(state, ['bind']) },
      { parent },
    );
    expect(onlyBind.met).toBe(true);
    const withPowerdns = await observePostcondition(
      state,
      { kind: 'parent-ds-matches', expectedDs: expectedDsFor(state, ['bind', 'powerdns']) },
      { parent },
    );
    expect(withPowerdns.met).toBe(false);
    // It names the exact record the parent lacks: PowerDNS's DS.
    const [powerdnsDs] = expectedDsFor(state, ['powerdns']);
    expect(withPowerdns.pending.join(' ')).toMatch(
      new RegExp(`the parent must add DS .* IN DS ${powerdnsDs!.keyTag} ${powerdnsDs!.algorithm} `),
    );
  });
});
