/**
 * Resolver caches primed at the worst moments of a roll, so that a roll that breaks the rules
 * makes a real validating resolver fail (SERVFAIL), not only the observers' model of caches.
 * The resolver that cannot heal is the lab's validating unbound behind a non-validating cache
 * (`forwarded` behind `cache`): when it retries, the cache hands it the same old copy.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordType, ZoneEvent } from '@chorus/core';
import { query } from '@chorus/dns';
import { OWNER_ID } from '@chorus/engine';
import { flushResolverType, flushResolverZone, type LabResolver } from '@chorus/lab';
import type { DemoLab, Say } from './phases.js';

const endpointOf = (resolver: LabResolver) => ({ address: resolver.address, port: resolver.port });
const ask = (resolver: LabResolver, name: string, type: RecordType) =>
  query(endpointOf(resolver), name, type, { recursionDesired: true, timeoutMs: 2000, retries: 0 });

function partition<T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] {
  return [items.filter(test), items.filter((item) => !test(item))];
}

/**
 * Every resolver fetches `types` afresh (flushed first, so each copy lives a full TTL from now),
 * the cache first so that the resolver behind it gets the cache's fresh copy.
 */
async function primeResolverCaches(
  lab: DemoLab,
  say: Say,
  types: readonly RecordType[],
  when: string,
): Promise<void> {
  const prime = async (resolver: LabResolver) => {
    await flushResolverZone(resolver, lab.zone);
    for (const type of types) await ask(resolver, lab.zone, type);
  };
  const started = performance.now();
  const [caches, others] = partition(lab.status.resolvers, (resolver) => resolver.mode === 'cache');
  const outcomes = await Promise.allSettled(caches.map(prime));
  const cacheMs = Math.round(performance.now() - started);
  outcomes.push(...(await Promise.allSettled(others.map(prime))));
  const failed = outcomes.filter((outcome) => outcome.status === 'rejected').length;
  say(
    `primed ${outcomes.length - failed} resolvers with fresh ${types.join(' and ')} RRsets ${when} (the cache in ${cacheMs} ms, all in ${Math.round(performance.now() - started)} ms)${failed > 0 ? `; ${failed} could not be primed` : ''}`,
  );
}

/** The DS set the cache holds for the zone (asked through the cache): key tags, TTL left. */
async function cachedDs(
  cache: LabResolver,
  zone: string,
): Promise<{ tags: number[]; ttl: number }> {
  const answer = (await ask(cache, zone, 'DS')).answers.find((set) => set.type === 'DS');
  const tags = (answer?.records ?? []).map((record) => (record as { keyTag: number }).keyTag);
  return { tags, ttl: answer?.ttl ?? 0 };
}

const sameTags = (a: readonly number[], b: readonly number[]) =>
  [...a].sort().join(' ') === [...b].sort().join(' ');

/**
 * After the old KSK left the rolling signer: the cache fetches DNSKEY afresh until it holds an
 * RRset signed by no key of the old DS set (the rolling signer's), while it still holds that
 * old DS set; then the resolver behind it forgets its own copies and must take the cache's.
 */
async function primeNewDnskeyBesideOldDs(
  lab: DemoLab,
  say: Say,
  oldDsTags: readonly number[],
): Promise<void> {
  const cache = lab.status.resolvers.find((resolver) => resolver.mode === 'cache');
  const behind = lab.status.resolvers.filter((resolver) => resolver.mode === 'forwarded');
  if (!cache || behind.length === 0) return;
  for (let attempt = 1; attempt <= 20; attempt += 1) {
    await flushResolverType(cache, lab.zone, 'DNSKEY');
    const dnskey = (await ask(cache, lab.zone, 'DNSKEY')).answers.find(
      (set) => set.type === 'DNSKEY',
    );
    const signers = (dnskey?.signatures ?? []).map((signature) => signature.keyTag);
    if (signers.length > 0 && !signers.some((tag) => oldDsTags.includes(tag))) {
      for (const resolver of behind) await flushResolverZone(resolver, lab.zone);
      const ds = await cachedDs(cache, lab.zone);
      // Without the old DS set beside it the new DNSKEY RRset validates: no real resolver fails.
      const beside = sameTags(ds.tags, oldDsTags)
        ? `beside its old DS set (${oldDsTags.join(', ')}, ${ds.ttl} s left)`
        : `but the cache's old DS set had already expired (it now holds ${ds.tags.join(', ')})`;
      say(
        `primed the cache with a DNSKEY RRset signed by ${signers.join(', ')} ${beside}, after ${attempt} fetch(es)`,
      );
      return;
    }
  }
  say('could not prime the cache with the rolling signer’s DNSKEY RRset');
}

/**
 * How often the old DS set is fetched afresh while the parent still serves it: the last copy
 * is at most this old when the parent changes, and must outlive the old KSK's removal.
 */
const DS_REPRIME_MS = 500;

/** How often the old DNSKEY RRset is fetched afresh until the successor appears. */
const DNSKEY_REPRIME_MS = 2000;

/** The key tags of the DS set the parent itself serves for the zone. */
async function parentDsTags(lab: DemoLab): Promise<number[]> {
  const parent = lab.status.servers.find((server) => server.id === 'parent')!;
  const endpoint = { address: parent.address, port: parent.port };
  const answer = (await query(endpoint, lab.zone, 'DS', { timeoutMs: 2000, retries: 0 })).answers;
  const ds = answer.find((set) => set.type === 'DS');
  return (ds?.records ?? []).map((record) => (record as { keyTag: number }).keyTag).sort();
}

/**
 * Keeps the resolvers' copy of the old DS set fresh until the parent changes it, so that it
 * outlives the change by a full TTL however long the parent takes (a loaded machine).
 */
async function keepOldDsFresh(lab: DemoLab, say: Say, roll: KskRoll): Promise<void> {
  const before = (await parentDsTags(lab)).join(' ');
  let times = 0;
  // At most five minutes: a process that stalls before the parent's change must not leave this on.
  while (!roll.removed && times < 600) {
    await sleep(DS_REPRIME_MS);
    const now = (await parentDsTags(lab).catch(() => [])).join(' ');
    if (now !== before) break;
    await primeResolverCaches(lab, () => undefined, ['DS'], 'again');
    times += 1;
  }
  if (times > 0)
    say(`primed the resolvers' old DS set ${times} more time(s) until the parent changed`);
}

/** The DNSKEY RRset a lab signer serves, as sorted presentation lines ('' when none). */
async function servedDnskeys(lab: DemoLab, signerId: string): Promise<string> {
  // The owner's set (model 1) is what every member serves: read it at the first.
  const id = signerId === OWNER_ID ? lab.status.owner?.servers[0] : signerId;
  const server = lab.status.servers.find((entry) => entry.id === id);
  if (!server) return '';
  const endpoint = { address: server.address, port: server.port };
  const answer = await query(endpoint, lab.zone, 'DNSKEY', { timeoutMs: 2000, retries: 0 });
  const set = answer.answers.find((rrset) => rrset.type === 'DNSKEY');
  return JSON.stringify((set?.records ?? []).map((record) => JSON.stringify(record)).sort());
}

/**
 * Keeps the resolvers' DNSKEY RRset fresh until the rolling signer publishes its successor, so
 * that the copy without it outlives the publication by a full TTL however long the sidecars take
 * to get there (a loaded machine): the copy a roll that skips its DNSKEY wait must meet.
 */
async function keepOldDnskeyFresh(lab: DemoLab, say: Say, signerId: string): Promise<void> {
  const before = await servedDnskeys(lab, signerId);
  let times = 0;
  // At most five minutes: a roll that stalls before its successor must not leave this on.
  while (times < 150) {
    // Unreferenced: a change that never comes does not keep the demo alive.
    await sleep(DNSKEY_REPRIME_MS, undefined, { ref: false });
    const now = await servedDnskeys(lab, signerId).catch(() => '');
    if (now !== before) break;
    await primeResolverCaches(lab, () => undefined, ['DNSKEY'], 'again');
    times += 1;
  }
  if (times > 0)
    say(`primed the resolvers' DNSKEY RRset ${times} more time(s) until ${signerId} changed it`);
}

/**
 * A bootstrap's worst moment: the parent's first DS. The cache fetches it at once while it may
 * still hold a DNSKEY RRset from before the key sync, and the resolver behind it forgets its own
 * insecure view, so it validates the DS against the cache's old copy.
 */
async function meetFirstDs(lab: DemoLab, say: Say): Promise<void> {
  const cache = lab.status.resolvers.find((resolver) => resolver.mode === 'cache');
  const behind = lab.status.resolvers.filter((resolver) => resolver.mode === 'forwarded');
  if (!cache) return;
  // At most five minutes: a bootstrap that stalls before its DS must not leave this on.
  for (let polls = 0; polls < 1500; polls += 1) {
    if ((await parentDsTags(lab).catch(() => [])).length > 0) {
      await flushResolverType(cache, lab.zone, 'DS');
      for (const resolver of behind) await flushResolverZone(resolver, lab.zone);
      say('the parent serves the first DS: the cache fetched it beside the DNSKEY RRset it held');
      return;
    }
    // Unreferenced: a bootstrap that never gets its DS does not keep the demo alive.
    await sleep(200, undefined, { ref: false });
  }
}

/** What a KSK roll's priming needs to know of the process. */
interface KskRoll {
  removalStep: number;
  oldDsTags?: Promise<number[]>;
  /** The old KSK left: stop priming the old DS. */
  removed?: boolean;
}

/**
 * The handler for the zone's events: the DNSKEY RRsets when any roll is requested (before a
 * successor can appear) and when a model-1 join starts, and for a KSK roll the DS set from its start until the parent changes
 * it and a fresh DNSKEY RRset just after the old KSK left.
 */
export function primeAtWorstMoments(lab: DemoLab, say: Say): (event: ZoneEvent) => void {
  const kskRolls = new Map<string, KskRoll>();
  const cache = lab.status.resolvers.find((resolver) => resolver.mode === 'cache');
  return (event) => {
    // A bootstrap: every resolver holds a DNSKEY RRset without the other signers' keys, which a
    // DS published too early must meet.
    if (event.type === 'process-requested' && event.data.kind === 'bootstrap') {
      void primeResolverCaches(lab, say, ['DNSKEY'], 'before the keys are synced').catch(
        () => undefined,
      );
      void meetFirstDs(lab, say).catch(() => undefined);
    }
    if (event.type === 'process-requested' && event.data.kind.startsWith('roll-'))
      void primeResolverCaches(lab, say, ['DNSKEY'], 'as the roll is requested').then(() =>
        keepOldDnskeyFresh(lab, say, event.data.signerId).catch(() => undefined),
      );
    // Model 1's join: every resolver holds the owner's set without the joiner's ZSKs until the
    // joiner serves the new one, which a join whose DNSKEY wait were skipped must meet.
    if (
      event.type === 'process-started' &&
      event.data.kind === 'add-signer' &&
      event.data.steps[0]?.name === 'push-owner-set'
    )
      void primeResolverCaches(lab, say, ['DNSKEY'], 'before the owner signs the joiner in').then(
        () => keepOldDnskeyFresh(lab, say, event.data.signerId).catch(() => undefined),
      );
    if (event.type === 'process-started' && event.data.kind === 'roll-ksk' && cache) {
      // Before the successor's CDS: the parent cannot have changed yet, however late this runs.
      const roll: KskRoll = {
        removalStep: event.data.steps.findIndex((step) => step.name === 'remove-predecessor'),
      };
      kskRolls.set(event.data.processId, roll);
      roll.oldDsTags = primeResolverCaches(lab, say, ['DS'], 'before the parent changes').then(
        async () => (await cachedDs(cache, lab.zone)).tags,
      );
      void roll.oldDsTags.catch(() => undefined);
      void keepOldDsFresh(lab, say, roll).catch(() => undefined);
    }
    const roll = 'processId' in event.data ? kskRolls.get(event.data.processId) : undefined;
    if (!roll || !('stepIndex' in event.data)) return;
    if (event.type === 'postcondition-met' && event.data.stepIndex === roll.removalStep) {
      roll.removed = true;
      void roll.oldDsTags
        ?.then((tags) => primeNewDnskeyBesideOldDs(lab, say, tags))
        .catch((error: unknown) => say(`could not prime the cache: ${String(error)}`));
    }
  };
}
