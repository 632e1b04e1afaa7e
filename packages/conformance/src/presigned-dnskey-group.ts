/**
 * The conformance group `presigned-dnskey` (RFC 8901 model 1): `Signer.presignedDnskey` lists
 * the ZSKs the provider signs with, and serves a DNSKEY RRset the zone owner signed, byte for
 * byte, at every address in `signer.nameServers`. Sets the provider could not serve (without its
 * ZSK, or with a signature that does not verify) are refused without a change; and, when given,
 * a validating resolver authenticates the zone through the owner's KSK.
 */
import {
  AbortError,
  ChorusError,
  type DnskeyData,
  type NameServer,
  type OwnerKey,
  type PlannedZsks,
  type RrsigData,
  type SignedDnskeySnapshot,
  type Signer,
} from '@chorus/core';
import { describeServer, formatRdata, keyTag, query } from '@chorus/dns';
import { signDnskeySnapshots } from '@chorus/owner';
import { eventually } from './eventually.js';
import type { SignerConformanceOptions } from './signer-conformance.js';
import { makeForeignKeys } from './test-keys.js';

/** Where the group publishes, with whose key, and who checks it. */
export interface PresignedDnskeyOptions {
  /** The model-1 zone at this signer (e.g. Knot with `offline-ksk: on`). */
  zone: string;
  /** Opens the owner's KSK (the zone's DS at the parent names it). */
  openOwnerKey: () => Promise<OwnerKey>;
  /** The DNSKEY RRset's TTL the zone uses. */
  ttl: number;
  /** A validating resolver that reaches the zone through its secure delegation. */
  resolver?: NameServer;
  /** Drops the resolver's cached answers for the zone (called before each check). */
  flushResolver?: () => Promise<void>;
}

const DAY = 86_400;
const now = () => Math.floor(Date.now() / 1000);
const keyText = (key: DnskeyData) => formatRdata({ type: 'DNSKEY', data: key });
const sigText = (sig: RrsigData) => formatRdata({ type: 'RRSIG', data: sig });

/** What one address serves that differs from `wanted` (keys, RRSIGs), in words; empty when identical. */
async function differingAt(
  server: NameServer,
  zone: string,
  wanted: SignedDnskeySnapshot,
): Promise<string[]> {
  const answer = await query(server, zone, 'DNSKEY', { transport: 'tcp', retries: 1 });
  const rrset = answer.answers.find((set) => set.type === 'DNSKEY');
  const served = ((rrset?.records ?? []) as DnskeyData[]).map(keyText).sort();
  const signatures = (rrset?.signatures ?? []).map(sigText).sort();
  const problems: string[] = [];
  if (served.join('\n') !== wanted.dnskeys.map(keyText).sort().join('\n'))
    problems.push(
      `${describeServer(server)} serves DNSKEY ${((rrset?.records ?? []) as DnskeyData[]).map(keyTag).join(' ')}`,
    );
  if (signatures.join('\n') !== wanted.rrsigs.map(sigText).sort().join('\n'))
    problems.push(
      `${describeServer(server)} serves other RRSIGs over DNSKEY (key tags ${(rrset?.signatures ?? []).map((sig) => sig.keyTag).join(' ')})`,
    );
  return problems;
}

/**
 * Registers the presigned-dnskey group: plan, publish with a foreign ZSK, publish again, the two
 * refusals and an aborted call, each judged at every address; then back to the provider's own
 * ZSKs and the owner's KSK alone.
 */
export function presignedDnskeyGroup(
  options: SignerConformanceOptions,
  skipReason: string | undefined,
  timeoutMs: number,
): void {
  const { describe, test, expect } = options;
  let target: PresignedDnskeyOptions | undefined;
  let signer: Signer | undefined;
  let owner: OwnerKey | undefined;
  let planned: PlannedZsks[] = [];
  let withForeign: SignedDnskeySnapshot[] = [];
  const foreign = makeForeignKeys(1, 256)[0]!.dnskey;
  const publisher = () => signer!.presignedDnskey!;
  const zone = () => target!.zone;

  const signed = (providers: Record<string, PlannedZsks[]>) =>
    signDnskeySnapshots([owner!], {
      zone: zone(),
      ttl: target!.ttl,
      providers,
      now: now(),
      validity: { inceptionSlackSeconds: 3600, overlapSeconds: DAY, lastSnapshotSeconds: 7 * DAY },
    });
  const expectServed = (wanted: SignedDnskeySnapshot) =>
    eventually(signer!, zone(), timeoutMs, async () =>
      (
        await Promise.all(signer!.nameServers.map((server) => differingAt(server, zone(), wanted)))
      ).flat(),
    );
  const unchanged = async (wanted: SignedDnskeySnapshot) => {
    const left = await Promise.all(
      signer!.nameServers.map((server) => differingAt(server, zone(), wanted)),
    );
    expect(left.flat()).toEqual([]);
  };

  describe.skipIf(skipReason !== undefined)(
    `signer conformance: presigned-dnskey${skipReason ? ` (skipped: ${skipReason})` : ''}`,
    () => {
      test('setup: the signer has a publisher and lists the ZSKs it signs with, by time', async () => {
        const given = options.presignedDnskey;
        target = typeof given === 'function' ? given() : given;
        signer = await options.create();
        owner = await target!.openOwnerKey();
        expect(signer.presignedDnskey).toBeDefined();
        planned = await publisher().plannedZsks(zone(), now() + 14 * DAY, {});
        expect(planned.length).toBeGreaterThan(0);
        expect(planned.map((entry) => entry.at)).toEqual(
          [...planned.map((entry) => entry.at)].sort((a, b) => a - b),
        );
        for (const entry of planned) {
          expect(entry.zsks.length).toBeGreaterThan(0);
          for (const key of entry.zsks) expect(key.flags & 1).toBe(0);
        }
      });

      test('serves the owner-signed RRset with a foreign ZSK, byte for byte, at every address', async () => {
        withForeign = await signed({ self: planned, other: [{ at: now(), zsks: [foreign] }] });
        await publisher().publishSignedDnskeys(zone(), withForeign, {});
        await expectServed(withForeign[0]!);
      });

      test('publishing the same snapshots again changes nothing (idempotency)', async () => {
        await publisher().publishSignedDnskeys(zone(), withForeign, {});
        await expectServed(withForeign[0]!);
      });

      test("a set without the provider's own ZSK is refused, not retryable, changing nothing", async () => {
        const lacking = await signed({
          self: planned.map((entry) => ({ ...entry, zsks: entry.zsks.slice(1) })),
          other: [{ at: now(), zsks: [foreign] }],
        });
        const error = await publisher()
          .publishSignedDnskeys(zone(), lacking, {})
          .catch((caught: unknown) => caught);
        expect(ChorusError.isInstance(error)).toBe(true);
        expect((error as ChorusError).isRetryable).toBe(false);
        await unchanged(withForeign[0]!);
      });

      test('a set whose owner signature does not verify is refused, changing nothing', async () => {
        const other = makeForeignKeys(1, 256)[0]!.dnskey;
        const tampered = withForeign.map((snapshot) => ({
          ...snapshot,
          dnskeys: snapshot.dnskeys.map((key) =>
            key.publicKey === foreign.publicKey ? other : key,
          ),
        }));
        const error = await publisher()
          .publishSignedDnskeys(zone(), tampered, {})
          .catch((caught: unknown) => caught);
        expect(ChorusError.isInstance(error)).toBe(true);
        await unchanged(withForeign[0]!);
      });

      test('an aborted call rejects with AbortError and changes nothing', async () => {
        const error = await publisher()
          .publishSignedDnskeys(zone(), withForeign, { signal: AbortSignal.abort() })
          .catch((caught: unknown) => caught);
        expect(AbortError.isInstance(error)).toBe(true);
        await unchanged(withForeign[0]!);
      });

      test("teardown: back to its own ZSKs and the owner's KSK, and a validating resolver authenticates the zone", async () => {
        const own = await signed({ self: planned });
        await publisher().publishSignedDnskeys(zone(), own, {});
        await expectServed(own[0]!);
        const resolver = target?.resolver;
        if (resolver)
          await eventually(signer!, zone(), timeoutMs, async () => {
            await target?.flushResolver?.();
            const answer = await query(resolver, zone(), 'DNSKEY', {
              recursionDesired: true,
              retries: 1,
            });
            return answer.flags.ad && answer.rcode === 'NOERROR'
              ? []
              : [`${describeServer(resolver)} answers ${answer.rcode} without AD`];
          });
        await owner?.close();
        await signer?.close?.();
      });
    },
  );
}

/** The skip reason when no model-1 zone is given. */
export function noPresignedTarget(options: SignerConformanceOptions): string | undefined {
  return options.presignedDnskey ? undefined : 'no presignedDnskey zone given';
}
