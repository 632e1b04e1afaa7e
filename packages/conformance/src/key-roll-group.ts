/**
 * The conformance group `key-roll`: a ZSK roll through `Signer.keyRoller` in the signer's own
 * roll zone, every step judged on the wire at every address in `signer.nameServers`.
 *
 * Which keys are the predecessors: the own ZSKs whose RRSIG covers the apex SOA on the wire now.
 * On a zone a previous run left mid-roll, a held successor does not sign yet, so it is not a
 * predecessor and startRoll returns it again; a finished roll simply starts the next one.
 */
import {
  capabilityStatus,
  type ApexSnapshot,
  type RolloverTiming,
  type Signer,
  type SigningKey,
} from '@chorus/core';
import { keyTag, readApexFromServer, verifyRrsig } from '@chorus/dns';
import { eventually } from './eventually.js';
import type { SignerConformanceOptions } from './signer-conformance.js';

/** The skip reason when no roll zone is given. */
export function noRollZone(options: SignerConformanceOptions): string | undefined {
  return options.rollZone ? undefined : 'no rollZone given';
}

async function apexEverywhere(signer: Signer, zone: string): Promise<ApexSnapshot[]> {
  return Promise.all(
    signer.nameServers.map((server) => readApexFromServer(server, zone, { retries: 1 })),
  );
}

function soaSignatureTags(apex: ApexSnapshot): number[] {
  return (apex.soa?.signatures ?? []).map((signature) => signature.keyTag);
}

function dnskeyTags(apex: ApexSnapshot): number[] {
  return (apex.dnskey?.records ?? []).map((key) => keyTag(key));
}

/** The own ZSKs that sign the apex SOA at some address now. */
export async function zsksSigningSoa(signer: Signer, zone: string): Promise<number[]> {
  const [keys, snapshots] = await Promise.all([
    signer.listOwnKeys(zone, {}),
    apexEverywhere(signer, zone),
  ]);
  const signing = new Set(snapshots.flatMap(soaSignatureTags));
  return keys
    .filter((key) => key.role === 'ZSK' && signing.has(key.keyTag))
    .map((key) => key.keyTag)
    .sort((a, b) => a - b);
}

/** Whether a signature over the SOA at this address verifies with `key`. */
function soaSignedBy(apex: ApexSnapshot, key: SigningKey): boolean {
  const soa = apex.soa;
  if (!soa) return false;
  return soa.signatures.some(
    (signature) =>
      signature.keyTag === key.keyTag && verifyRrsig({ rrset: soa, signature, key: key.dnskey }).ok,
  );
}

/** What each address still gets wrong, by `wrong(apex)`. */
function perAddress(
  signer: Signer,
  zone: string,
  wrong: (apex: ApexSnapshot) => string | undefined,
): () => Promise<string[]> {
  return async () =>
    (await apexEverywhere(signer, zone)).flatMap((apex) => {
      const problem = wrong(apex);
      return problem === undefined ? [] : [`${apex.server}: ${problem}`];
    });
}

/**
 * Registers the key-roll group. In `held` mode it runs a whole ZSK roll (introduce, activate,
 * remove) and leaves the zone with one active ZSK. In `server-timed` mode it checks the
 * introduction only and leaves the zone mid-roll on purpose: the server activates the successor
 * and removes the predecessor on its own schedule, long after the suite has finished. That is
 * why the group needs a zone of its own.
 */
export function keyRollGroup(
  options: SignerConformanceOptions,
  skipReason: string | undefined,
  timeoutMs: number,
): void {
  const { describe, test, expect } = options;
  const zone = options.rollZone ?? '';
  let signer: Signer | undefined;
  let timing: RolloverTiming | undefined;
  let predecessors: number[] = [];
  let successor: SigningKey | undefined;
  const roller = () => signer!.keyRoller!;
  const within = (check: () => Promise<string[]>) => eventually(signer!, zone, timeoutMs, check);
  const whileHeld = (skip: (note: string) => void) => {
    if (!successor) skip('no roll was started');
    if (timing?.mode !== 'held')
      skip('server-timed: the server activates and removes keys on its own schedule');
  };

  describe.skipIf(skipReason !== undefined)(
    `signer conformance: key-roll${skipReason ? ` (skipped: ${skipReason})` : ''}`,
    () => {
      test('setup: the roll zone is served and the signer has a key roller', async () => {
        signer = await options.create();
        expect(signer.capabilities).toEqual(options.capabilities);
        expect(signer.keyRoller).toBeDefined();
        await signer.checkZone(zone, {});
      });

      test('rolloverTiming names a mode, and key-hold-published is declared can exactly when it is held', async () => {
        timing = await roller().rolloverTiming(zone, {});
        expect(['held', 'server-timed']).toContain(timing.mode);
        if (timing.mode === 'server-timed') {
          expect(timing.prePublicationSeconds).toBeGreaterThan(0);
          expect(timing.settingToRaise?.trim().length ?? 0).toBeGreaterThan(0);
        }
        const holds = capabilityStatus(options.capabilities, 'key-hold-published') === 'can';
        expect(holds).toBe(timing.mode === 'held');
        expect(JSON.parse(JSON.stringify(timing))).toEqual(timing);
      });

      test('startRoll introduces a new ZSK: listed, and served in DNSKEY at every address', async ({
        skip,
      }) => {
        predecessors = await zsksSigningSoa(signer!, zone);
        if (predecessors.length === 0) skip('no own ZSK signs the SOA (a CSK signer)');
        successor = await roller().startRoll(zone, 'ZSK', predecessors, {});
        expect(successor.role).toBe('ZSK');
        expect(successor.keyTag).toBe(keyTag(successor.dnskey));
        expect(predecessors).not.toContain(successor.keyTag);
        const tag = successor.keyTag;
        await within(async () =>
          (await signer!.listOwnKeys(zone, {})).some((key) => key.keyTag === tag)
            ? []
            : [`listOwnKeys does not list key tag ${tag}`],
        );
        await within(
          perAddress(signer!, zone, (apex) =>
            dnskeyTags(apex).includes(tag) ? undefined : `DNSKEY lacks key tag ${tag}`,
          ),
        );
      });

      test('startRoll again with the same predecessors returns the same successor', async ({
        skip,
      }) => {
        if (!successor) skip('no roll was started');
        const again = await roller().startRoll(zone, 'ZSK', predecessors, {});
        expect(again.keyTag).toBe(successor!.keyTag);
        expect(again.dnskey).toEqual(successor!.dnskey);
      });

      test('held: before activation no RRSIG over the apex SOA is made by the successor', async ({
        skip,
      }) => {
        whileHeld(skip);
        for (const apex of await apexEverywhere(signer!, zone))
          expect(soaSignatureTags(apex), apex.server).not.toContain(successor!.keyTag);
      });

      test('held: after activateSuccessor the apex SOA is signed by the successor, not a predecessor', async ({
        skip,
      }) => {
        whileHeld(skip);
        const key = successor!;
        await roller().activateSuccessor(zone, key.keyTag, predecessors, {});
        await within(
          perAddress(signer!, zone, (apex) => {
            const old = soaSignatureTags(apex).filter((tag) => predecessors.includes(tag));
            if (old.length > 0) return `SOA still signed by predecessor(s) ${old.join(', ')}`;
            return soaSignedBy(apex, key) ? undefined : `no SOA RRSIG verifies with ${key.keyTag}`;
          }),
        );
      });

      test('held: after removeKeys the predecessors are gone from the list and the wire', async ({
        skip,
      }) => {
        whileHeld(skip);
        await roller().removeKeys(zone, predecessors, {});
        await within(async () =>
          (await signer!.listOwnKeys(zone, {}))
            .filter((key) => predecessors.includes(key.keyTag))
            .map((key) => `listOwnKeys still lists key tag ${key.keyTag}`),
        );
        await within(
          perAddress(signer!, zone, (apex) => {
            const left = dnskeyTags(apex).filter((tag) => predecessors.includes(tag));
            return left.length > 0 ? `DNSKEY still has ${left.join(', ')}` : undefined;
          }),
        );
        // Removing again is a no-op.
        await roller().removeKeys(zone, predecessors, {});
      });

      test('teardown', async () => {
        await signer?.close?.();
      });
    },
  );
}
