/**
 * Knot 3.2 key rolls on the lab (server-timed): `rolloverTiming` read from knotd, and a ZSK roll
 * in ROLL_ZONE started with `startRoll` and followed to its end on the wire and in keymgr, on the
 * lab Knot (propagation-delay 10) and, as the negative control, on the trap
 * `knot-full-management` (propagation-delay 0), whose shorter interval Chorus must refuse.
 * Besides this file only the conformance key-roll group rolls Knot's ZSK in ROLL_ZONE, and leaves
 * it mid-roll; the roll here starts once that one has finished. Last, a KSK roll: Knot moves its
 * CDS to the successor on its own, and retires the predecessor only on `confirmParentDs`; the same
 * for a CSK roll in the lab zone that Knot signs with one CSK (both at once).
 */
import {
  AbortError,
  SignerCommandError,
  SignerConfigurationError,
  UnsupportedCapabilityError,
  type KeyRoller,
  type SigningKey,
} from '@chorus/core';
import { dnskeyIdentity, keyTag, readApexFromServer } from '@chorus/dns';
import type { ServerId } from '@chorus/lab';
import { ROLL_ZONE, endpoint, labServer } from '@chorus/lab/testing';
import { pino } from 'pino';
import { describe, expect, inject, test } from 'vitest';
import type { KaspKey } from '../../src/keymgr.js';
import { Knotc } from '../../src/knotc.js';
import { createKnotSigner, type KnotSigner } from '../../src/index.js';
import { knotConfigFor } from './helpers.js';

const lab = inject('lab');
const zone = ROLL_ZONE;
const silent = pino({ level: 'silent' });
/** A lab group's DNSKEY wait: key watch 2 s + child propagation 2 s + DNSKEY TTL + margin 2 s. */
const groupDnskeyWait = 2 + 2 + lab.ttl + 2;

const signerFor = (id: ServerId) => createKnotSigner(knotConfigFor(lab, id));

/** knotc on the lab server, to read its policy independently of the plugin's resolution. */
function knotcFor(id: ServerId): Knotc {
  const server = labServer(lab, id);
  if (server.control.kind !== 'knotc') throw new Error(`${id} is not Knot`);
  return new Knotc({
    binary: 'knotc',
    control: { configFile: server.control.configFile },
    timeoutMs: 10_000,
    logger: silent,
  });
}

async function policyValue(id: ServerId, item: string): Promise<string | undefined> {
  const entries = await knotcFor(id).confRead('policy');
  return entries.find((entry) => entry.id === 'chorus' && entry.item === item)?.value;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const tags = (keys: readonly SigningKey[], role: string) =>
  keys.filter((key) => key.role === role).map((key) => key.keyTag);

/** What a follower saw of one ZSK roll, in ms since the successor was returned by startRoll. */
interface RollTimeline {
  /** Each distinct `tag state` listOwnKeys reported, with when. */
  states: { at: number; key: string }[];
  /** First SOA signature by the successor on the wire (ms after startedAt, at the answer). */
  successorSigns: number;
  /** The predecessor is gone from the served DNSKEY RRset. */
  predecessorGone: number;
  /** The predecessor's KASP timers as last listed (Knot forgets the key after delete-delay). */
  predecessorTimers: KaspKey['timers'] | undefined;
}

/**
 * Knot's timers are whole seconds, and its events were seen within tens of ms of them, on either
 * side. An event a whole second early still fails.
 */
const KNOT_TIMER_SLACK_MS = 250;

/** Polls keymgr (through listOwnKeys) and the wire until the predecessor has left DNSKEY. */
async function followRoll(
  signer: KnotSigner,
  id: ServerId,
  successor: SigningKey,
  predecessor: number,
  startedAt: number,
): Promise<RollTimeline> {
  const server = endpoint(labServer(lab, id));
  const timeline: RollTimeline = {
    states: [],
    successorSigns: -1,
    predecessorGone: -1,
    predecessorTimers: undefined,
  };
  while (Date.now() < startedAt + 150_000) {
    const at = Date.now() - startedAt;
    for (const key of await signer.listOwnKeys(zone, {})) {
      const entry = `${key.keyTag} ${key.state}`;
      if (key.role === 'ZSK' && !timeline.states.some((state) => state.key === entry))
        timeline.states.push({ at, key: entry });
    }
    const kasp = await signer.listKaspKeys(zone, {});
    timeline.predecessorTimers =
      kasp.find((key) => key.tag === predecessor)?.timers ?? timeline.predecessorTimers;
    const apex = await readApexFromServer(server, zone, { retries: 2 });
    // When the answer arrived: what it shows happened no later than this.
    const answeredAt = Date.now() - startedAt;
    const soaSigners = apex.soa?.signatures.map((signature) => signature.keyTag) ?? [];
    if (timeline.successorSigns < 0 && soaSigners.includes(successor.keyTag))
      timeline.successorSigns = answeredAt;
    if (!apex.dnskey?.records.some((record) => keyTag(record) === predecessor)) {
      timeline.predecessorGone = answeredAt;
      return timeline;
    }
    await sleep(250);
  }
  throw new Error(`${id}: the predecessor ${predecessor} stayed in DNSKEY for 150 s`);
}

/**
 * The own keys once the zone has exactly one ZSK, active: a roll another test started here (the
 * conformance key-roll group leaves ROLL_ZONE mid-roll) runs to its end first, at most ~2 min.
 */
async function oneActiveZsk(signer: KnotSigner): Promise<SigningKey[]> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const keys = await signer.listOwnKeys(zone, {});
    const zsks = keys.filter((key) => key.role === 'ZSK');
    if (zsks.length === 1 && zsks[0]!.state === 'active') return keys;
    if (Date.now() > deadline)
      throw new Error(`${signer.id}: ${zone} is still mid-roll: ${JSON.stringify(zsks)}`);
    await sleep(1000);
  }
}

/** The states one key went through, in the order the follower saw them. */
const statesOf = (timeline: RollTimeline, tag: number) =>
  timeline.states
    .filter((state) => state.key.startsWith(`${tag} `))
    .map((state) => state.key.slice(`${tag} `.length));

describe('rolloverTiming, read from knotd', () => {
  test('the lab Knot: dnskey-ttl + propagation-delay of policy chorus, longer than a group’s DNSKEY wait', async () => {
    expect(await policyValue('knot', 'propagation-delay')).toBe('10');
    expect(await policyValue('knot', 'dnskey-ttl')).toBe(String(lab.ttl));
    const timing = await signerFor('knot').keyRoller.rolloverTiming(zone, {});
    expect(timing).toEqual({
      mode: 'server-timed',
      prePublicationSeconds: lab.ttl + 10,
      settings: `dnskey-ttl ${lab.ttl} + propagation-delay 10`,
      settingToRaise: 'propagation-delay in Knot policy chorus',
      confirmsParentDs: true,
    });
    expect(timing.prePublicationSeconds).toBeGreaterThanOrEqual(groupDnskeyWait);
  });

  test('negative control: the trap knot-full-management (propagation-delay 0) reports the shorter interval', async () => {
    expect(await policyValue('knot-full-management', 'propagation-delay')).toBe('0');
    const timing = await signerFor('knot-full-management').keyRoller.rolloverTiming(zone, {});
    expect(timing.prePublicationSeconds).toBe(lab.ttl);
    expect(timing.settings).toBe(`dnskey-ttl ${lab.ttl} + propagation-delay 0`);
    expect(timing.prePublicationSeconds).toBeLessThan(groupDnskeyWait);
  });

  test('a zone knotd does not serve is a SignerConfigurationError naming the setting', async () => {
    const error = await signerFor('knot')
      .keyRoller.rolloverTiming('nonexistent.test.', {})
      .catch((caught: unknown) => caught);
    expect(SignerConfigurationError.isInstance(error)).toBe(true);
    expect((error as SignerConfigurationError).setting).toBe('zone');
  });
});

describe(`a ZSK roll in ${zone}`, () => {
  const signer = signerFor('knot');
  const trap = signerFor('knot-full-management');

  test('refusals that change nothing: an aborted call, a CSK roll on a KSK+ZSK policy, held-mode steps', async () => {
    const keys = await signer.listOwnKeys(zone, {});
    const aborted = await signer.keyRoller
      .startRoll(zone, 'ZSK', tags(keys, 'ZSK'), { signal: AbortSignal.abort() })
      .catch((caught: unknown) => caught);
    expect(AbortError.isInstance(aborted)).toBe(true);
    const csk = await signer.keyRoller
      .startRoll(zone, 'CSK', tags(keys, 'KSK'), {})
      .catch((caught: unknown) => caught);
    expect((csk as SignerConfigurationError).setting).toBe('policy[chorus].single-type-signing');
    // Through the spec's interface, as the sidecar calls them.
    const roller: KeyRoller = signer.keyRoller;
    for (const call of [
      roller.activateSuccessor(zone, 1, tags(keys, 'ZSK'), {}),
      roller.removeKeys(zone, tags(keys, 'ZSK'), {}),
    ]) {
      const error = await call.catch((caught: unknown) => caught);
      expect(UnsupportedCapabilityError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(/dnskey-ttl \+ propagation-delay/);
    }
    expect((await signer.listOwnKeys(zone, {})).map((key) => key.keyTag).sort()).toEqual(
      keys.map((key) => key.keyTag).sort(),
    );
  });

  test('startRoll publishes a successor on the wire; Knot activates it after exactly the reported interval, then removes the predecessor', async () => {
    const rolls = await Promise.all(
      (['knot', 'knot-full-management'] as const).map(async (id) => {
        const rolling = id === 'knot' ? signer : trap;
        const timing = await rolling.keyRoller.rolloverTiming(zone, {});
        const before = await oneActiveZsk(rolling);
        const [predecessor] = tags(before, 'ZSK');
        const ksk = before.find((key) => key.role === 'KSK')!;
        const successor = await rolling.keyRoller.startRoll(zone, 'ZSK', [predecessor!], {});
        const startedAt = Date.now();
        expect(successor).toMatchObject({ role: 'ZSK', algorithm: 13, state: 'published' });
        expect(successor.keyTag).not.toBe(predecessor);

        // Served at once, in the DNSKEY RRset signed by the KSK; the predecessor still signs.
        const apex = await readApexFromServer(endpoint(labServer(lab, id)), zone);
        const served = apex.dnskey!.records.map((record) => dnskeyIdentity(record));
        expect(served).toContain(dnskeyIdentity(successor.dnskey));
        expect(apex.dnskey!.signatures.map((signature) => signature.keyTag)).toEqual([ksk.keyTag]);
        expect(apex.soa!.signatures.map((signature) => signature.keyTag)).toEqual([predecessor]);

        // Idempotent: the same successor, and no third ZSK.
        const again = await rolling.keyRoller.startRoll(zone, 'ZSK', [predecessor!], {});
        expect(again.keyTag).toBe(successor.keyTag);
        const zsks = (await rolling.listOwnKeys(zone, {})).filter((key) => key.role === 'ZSK');
        expect(zsks.map((key) => key.keyTag).sort()).toEqual(
          [predecessor!, successor.keyTag].sort(),
        );

        // Knot would ignore a KSK roll now; startRoll says so instead of waiting in vain.
        const busy = await rolling.keyRoller
          .startRoll(zone, 'KSK', [ksk.keyTag], {})
          .catch((caught: unknown) => caught);
        expect(SignerCommandError.isInstance(busy)).toBe(true);
        expect((busy as SignerCommandError).isRetryable).toBe(true);
        expect((busy as Error).message).toMatch(/another runs/);

        const timeline = await followRoll(rolling, id, successor, predecessor!, startedAt);
        const kasp = await rolling.listKaspKeys(zone, {});
        return { id, timing, predecessor: predecessor!, successor, timeline, kasp, startedAt };
      }),
    );

    for (const { id, timing, predecessor, successor, timeline, kasp, startedAt } of rolls) {
      const interval = timing.prePublicationSeconds!;
      const delay = id === 'knot' ? 10 : 0;
      process.stderr.write(
        `[key roll] ${id}: interval ${interval} s ${JSON.stringify(timeline)}\n`,
      );
      // Knot's own timers: activation exactly the reported interval after publication, the
      // predecessor retired then, and removed propagation-delay + zone-max-ttl after that.
      const next = kasp.find((key) => key.tag === successor.keyTag)!;
      const old = timeline.predecessorTimers!;
      expect(next.timers.active - next.timers.publish, id).toBe(interval);
      expect(old.retire, id).toBe(next.timers.active);
      // The trap has no delete-delay: Knot forgets the key in the event that removes it.
      if (id === 'knot') expect(old.remove - old.retire, id).toBe(delay + lab.ttl);
      else
        expect(
          kasp.some((key) => key.tag === predecessor),
          id,
        ).toBe(false);

      // A key watch sees every step, in order; the removed predecessor is no longer listed.
      expect(statesOf(timeline, successor.keyTag), id).toEqual(['published', 'active']);
      expect(statesOf(timeline, predecessor), id).toEqual(['active', 'retired']);
      // On the wire: no signature by the successor before the interval (counted from Knot's
      // publish timer, in whole seconds), the predecessor gone after propagation-delay +
      // zone-max-ttl more.
      expect(startedAt + timeline.successorSigns, id).toBeGreaterThanOrEqual(
        (next.timers.publish + interval) * 1000 - KNOT_TIMER_SLACK_MS,
      );
      expect(timeline.successorSigns, id).toBeLessThan((interval + 5) * 1000);
      expect(startedAt + timeline.predecessorGone, id).toBeGreaterThanOrEqual(
        (next.timers.publish + interval + delay + lab.ttl) * 1000 - KNOT_TIMER_SLACK_MS,
      );
    }
    // The negative control: the trap activates its successor before a group's DNSKEY wait.
    const trapRoll = rolls.find((roll) => roll.id === 'knot-full-management')!;
    expect(trapRoll.timeline.successorSigns).toBeLessThan(groupDnskeyWait * 1000);
    const labRoll = rolls.find((roll) => roll.id === 'knot')!;
    expect(labRoll.timeline.successorSigns).toBeGreaterThanOrEqual(groupDnskeyWait * 1000);
  }, 330_000);
});

// The KSK roll (roll.test.) and the CSK roll (csk.test.) run at once: different zones.
describe.concurrent('KSK and CSK rolls, confirmed by Chorus', () => {
  const signer = signerFor('knot');
  const server = endpoint(labServer(lab, 'knot'));
  const cdsTags = async () =>
    ((await readApexFromServer(server, zone, { retries: 2 })).cds?.records ?? []).map(
      (record) => record.keyTag,
    );
  const dnskeyTags = async () =>
    ((await readApexFromServer(server, zone, { retries: 2 })).dnskey?.records ?? []).map((record) =>
      keyTag(record),
    );

  test('Knot moves its CDS to the successor after the interval, and keeps the predecessor until confirmParentDs', async () => {
    const before = await oneActiveZsk(signer);
    const [predecessor] = tags(before, 'KSK');
    const timing = await signer.keyRoller.rolloverTiming(zone, {});
    expect(timing.confirmsParentDs).toBe(true);
    // A confirmation with nothing published is a no-op (a repeat after a crash is harmless).
    await signer.keyRoller.confirmParentDs(zone, { published: [], withdrawn: [] }, {});
    const successor = await signer.keyRoller.startRoll(zone, 'KSK', [predecessor!], {});
    const startedAt = Date.now();
    expect(successor.role).toBe('KSK');
    // The CDS names the predecessor until Knot's own interval has passed, then the successor only.
    expect(await cdsTags()).toContain(predecessor);
    let switchedAt = -1;
    while (Date.now() < startedAt + 120_000) {
      const cds = await cdsTags();
      if (cds.includes(successor.keyTag) && !cds.includes(predecessor!)) {
        switchedAt = Date.now() - startedAt;
        break;
      }
      await sleep(500);
    }
    expect(switchedAt).toBeGreaterThanOrEqual((timing.prePublicationSeconds! - 1) * 1000);
    // Negative control: without the confirmation Knot keeps the predecessor in DNSKEY.
    await sleep(5000);
    expect(await dnskeyTags()).toContain(predecessor);
    await signer.keyRoller.confirmParentDs(
      zone,
      { published: [successor.keyTag], withdrawn: [predecessor!] },
      {},
    );
    const deadline = Date.now() + 30_000;
    while ((await dnskeyTags()).includes(predecessor!) && Date.now() < deadline) await sleep(250);
    expect(await dnskeyTags()).not.toContain(predecessor);
    expect(await dnskeyTags()).toContain(successor.keyTag);
    // Idempotent: confirming again changes nothing.
    await signer.keyRoller.confirmParentDs(
      zone,
      { published: [successor.keyTag], withdrawn: [predecessor!] },
      {},
    );
    const listed = await signer.listOwnKeys(zone, {});
    expect(listed.find((key) => key.keyTag === successor.keyTag)?.state).toBe('active');
  }, 240_000);

  const cskZone = lab.cskZone ?? 'csk.test.';
  const apex = () => readApexFromServer(server, cskZone, { retries: 2 });

  test('the successor CSK takes the CDS after the interval; the predecessor leaves only after confirmParentDs', async () => {
    const before = await signer.listOwnKeys(cskZone, {});
    expect(before.map((key) => key.role)).toEqual(['CSK']);
    const [predecessor] = tags(before, 'CSK');
    // The role must match the policy: a KSK roll of a CSK zone is refused, naming the setting.
    const wrongRole = await signer.keyRoller
      .startRoll(cskZone, 'KSK', [predecessor!], {})
      .catch((caught: unknown) => caught);
    expect(SignerConfigurationError.isInstance(wrongRole)).toBe(true);
    const timing = await signer.keyRoller.rolloverTiming(cskZone, {});
    const successor = await signer.keyRoller.startRoll(cskZone, 'CSK', [predecessor!], {});
    const startedAt = Date.now();
    expect(successor.role).toBe('CSK');
    let switchedAt = -1;
    while (Date.now() < startedAt + 120_000) {
      const cds = ((await apex()).cds?.records ?? []).map((record) => record.keyTag);
      if (cds.includes(successor.keyTag) && !cds.includes(predecessor!)) {
        switchedAt = Date.now() - startedAt;
        break;
      }
      await sleep(500);
    }
    expect(switchedAt).toBeGreaterThanOrEqual((timing.prePublicationSeconds! - 1) * 1000);
    // Negative control: unconfirmed, the predecessor stays in DNSKEY and still signs the SOA.
    await sleep(3000);
    const waiting = await apex();
    expect(waiting.dnskey!.records.map((record) => keyTag(record))).toContain(predecessor);
    await signer.keyRoller.confirmParentDs(
      cskZone,
      { published: [successor.keyTag], withdrawn: [predecessor!] },
      {},
    );
    // Confirmed: the successor signs the zone data; the predecessor leaves DNSKEY.
    const deadline = Date.now() + 90_000;
    let after = await apex();
    while (Date.now() < deadline) {
      after = await apex();
      const signs = after.soa!.signatures.map((signature) => signature.keyTag);
      const listed = after.dnskey!.records.map((record) => keyTag(record));
      if (signs.includes(successor.keyTag) && !listed.includes(predecessor!)) break;
      await sleep(500);
    }
    expect(after.soa!.signatures.map((signature) => signature.keyTag)).toEqual([successor.keyTag]);
    expect(after.dnskey!.records.map((record) => keyTag(record))).not.toContain(predecessor);
    process.stderr.write(
      `[csk roll] knot ${cskZone}: CDS switch after ${switchedAt} ms (interval ${timing.prePublicationSeconds} s); predecessor gone ${Date.now() - startedAt} ms after the start\n`,
    );
  }, 240_000);
});
