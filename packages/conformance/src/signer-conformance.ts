import {
  AbortError,
  capabilityStatus,
  ChorusError,
  ConvergenceError,
  UnsupportedCapabilityError,
  type ApexSnapshot,
  type ChangeRecordType,
  type DesiredSignerState,
  type Signer,
  type SignerCapabilities,
  type SignerChange,
  type SignerCapability,
  type SigningKey,
} from '@chorus/core';
import {
  CAPABILITY_FOR_TYPE,
  describeChange,
  keyTag,
  planSignerChanges,
  readApexFromServer,
} from '@chorus/dns';
import type {
  describe as vitestDescribe,
  expect as vitestExpect,
  test as vitestTest,
} from 'vitest';
import {
  bootstrapSignalGroup,
  noSignalTarget,
  type BootstrapSignalOptions,
} from './bootstrap-signal-group.js';
import { contentReadGroup } from './content-read-group.js';
import {
  noPresignedTarget,
  presignedDnskeyGroup,
  type PresignedDnskeyOptions,
} from './presigned-dnskey-group.js';
import { keyRollGroup, noRollZone } from './key-roll-group.js';
import { cdsFor, makeForeignKeys, type ForeignKey } from './test-keys.js';

// Narrative: hello, plugin author. This suite is the definition of "works" for a Chorus signer.
// It runs against your real server, never a mock. Each group starts from a clean slate (no
// foreign keys, no foreign CDS/CDNSKEY, no CSYNC, the original NS set), applies desired states
// through `reconcile`, and then asks EVERY address in `signer.nameServers` directly, on the wire,
// whether the server now serves exactly what was asked. Your plugin's own read path is never
// the judge. Start with no capabilities declared; enable them one at a time as groups pass.
// The key-roll group is the exception to the clean slate: it rolls a ZSK of its own zone
// (`rollZone`), which it never wipes, and judges every step on the wire in the same way.

export type SignerGroupName =
  | 'contract'
  | 'key-list'
  | 'dnskey-import-foreign'
  | 'cds-import-foreign'
  | 'csync-publish'
  | 'apex-ns-manage'
  | 'content-read'
  | 'key-roll'
  | 'bootstrap-signal'
  | 'presigned-dnskey'
  | 'capability-honesty'
  | 'failure-modes';

export interface SignerConformanceOptions {
  describe: typeof vitestDescribe;
  test: typeof vitestTest;
  expect: typeof vitestExpect;
  /** The plugin's declared capabilities; groups are gated on them before anything runs. */
  capabilities: SignerCapabilities;
  /** A fresh, correctly configured signer for the zone. Called once per group. */
  create: () => Promise<Signer> | Signer;
  /** A throwaway zone: the suite removes every foreign record, CSYNC and extra NS from it. */
  zone: string;
  /**
   * The same signer with a wrong secret (TSIG key, API key…). Its calls must fail, not retryable,
   * and checkZone (what the sidecar runs at start-up) must already fail.
   */
  createWithBadCredentials?: () => Promise<Signer> | Signer;
  /** The same signer pointed at a server that is not running. Its calls must fail, retryable. */
  createUnreachable?: () => Promise<Signer> | Signer;
  /** An extra NS name the server accepts at the apex, for the apex-ns-manage group. */
  extraNameServer?: string;
  /**
   * A zone whose own ZSK the key-roll group rolls, at this signer only. Dedicate it to this: in
   * `server-timed` mode the group leaves it mid-roll. Without it the group is skipped.
   */
  rollZone?: string;
  /**
   * Where the bootstrap-signal group publishes RFC 9615 signals (the signer configured with its
   * signalling zone), and the validating resolver that must authenticate them. Without it the
   * group is skipped.
   */
  bootstrapSignal?: BootstrapSignalOptions | (() => BootstrapSignalOptions);
  /**
   * The model-1 zone where the presigned-dnskey group publishes owner-signed DNSKEY RRsets, and
   * the owner's KSK. Without it the group is skipped.
   */
  presignedDnskey?: PresignedDnskeyOptions | (() => PresignedDnskeyOptions);
  /** Groups to skip, each with the documented reason. */
  optOut?: Partial<Record<SignerGroupName, string>>;
  /** Only these groups are registered (a scenario that proves one capability in a lab of its own). */
  only?: SignerGroupName[];
  /** How long to wait for the wire to show an apply (servers may publish asynchronously). Default 10 s. */
  convergenceTimeoutMs?: number;
}

interface Baseline {
  ownKeys: SigningKey[];
  ns: string[];
  ttl: number;
}

function emptyDesired(baseline: Baseline): DesiredSignerState {
  return {
    foreignDnskeys: [],
    foreignCds: [],
    foreignCdnskeys: [],
    csync: null,
    apexNs: baseline.ns,
    ttl: baseline.ttl,
  };
}

/** What each address of a signer still lacks, or still has too much of, compared with `desired`. */
export async function differencesOnTheWire(
  signer: Signer,
  zone: string,
  ownKeys: readonly SigningKey[],
  desired: DesiredSignerState,
): Promise<{ server: string; changes: SignerChange[] }[]> {
  const snapshots: ApexSnapshot[] = await Promise.all(
    signer.nameServers.map((server) => readApexFromServer(server, zone, { retries: 1 })),
  );
  return snapshots.map((served) => ({
    server: served.server,
    changes: planSignerChanges({ signerId: signer.id, ownKeys, served, desired }).changes,
  }));
}

/**
 * The suite's judge: applies `desired` through the plugin, then asks every address of the signer
 * directly until none differs. Rejects with ConvergenceError naming what is left after
 * `timeoutMs`. The plugin's own read path is never trusted.
 */
export async function reconcileOnTheWire(
  signer: Signer,
  zone: string,
  ownKeys: readonly SigningKey[],
  desired: DesiredSignerState,
  options: { timeoutMs?: number } = {},
): Promise<number> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const served = await signer.readApex(zone, {});
  const plan = planSignerChanges({ signerId: signer.id, ownKeys, served, desired });
  if (plan.changes.length > 0) await signer.applyChanges(plan, {});
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = (await differencesOnTheWire(signer, zone, ownKeys, desired)).filter(
      (entry) => entry.changes.length > 0,
    );
    if (left.length === 0) return plan.changes.length;
    if (Date.now() > deadline) {
      const detail = left
        .map((entry) => `${entry.server}: ${entry.changes.map(describeChange).join(', ')}`)
        .join('; ');
      throw new ConvergenceError({
        zone,
        signerId: signer.id,
        remaining: left.reduce((sum, entry) => sum + entry.changes.length, 0),
        detail: `the wire still differs from the desired state after ${timeoutMs} ms: ${detail}`,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Registers the conformance groups for one signer plugin. */
export function signerConformance(options: SignerConformanceOptions): void {
  const { describe, test, expect, zone } = options;
  const timeoutMs = options.convergenceTimeoutMs ?? 10_000;

  /** Applies a desired state through the plugin, then waits until the wire shows it everywhere. */
  function reconcile(signer: Signer, ownKeys: SigningKey[], desired: DesiredSignerState) {
    return reconcileOnTheWire(signer, zone, ownKeys, desired, { timeoutMs });
  }

  function remainingOnTheWire(signer: Signer, ownKeys: SigningKey[], desired: DesiredSignerState) {
    return differencesOnTheWire(signer, zone, ownKeys, desired);
  }

  async function baselineOf(signer: Signer): Promise<Baseline> {
    const [ownKeys, served] = await Promise.all([
      signer.listOwnKeys(zone, {}),
      signer.readApex(zone, {}),
    ]);
    const foreignNs = options.extraNameServer?.toLowerCase();
    const ns = (served.ns?.records ?? []).filter((name) => name.toLowerCase() !== foreignNs);
    return { ownKeys, ns, ttl: 30 };
  }

  /** Why a group is skipped: opted out, or a capability not declared `can`. */
  function skipReasonFor(
    name: SignerGroupName,
    requires: SignerCapability | undefined,
  ): string | undefined {
    const gate =
      requires && capabilityStatus(options.capabilities, requires) !== 'can'
        ? `requires capability ${requires}`
        : undefined;
    return options.optOut?.[name] ?? gate;
  }

  /** Whether a group is registered at all: every group, or those in `only`. */
  function selected(name: SignerGroupName): boolean {
    return options.only === undefined || options.only.includes(name);
  }

  /** Each group starts clean and ends clean, so groups do not depend on each other. */
  function group(
    name: SignerGroupName,
    requires: SignerCapability | undefined,
    body: (context: { signer: () => Signer; baseline: () => Baseline }) => void,
  ) {
    if (!selected(name)) return;
    const skipReason = skipReasonFor(name, requires);
    describe.skipIf(skipReason !== undefined)(
      `signer conformance: ${name}${skipReason ? ` (skipped: ${skipReason})` : ''}`,
      () => {
        let signer: Signer | undefined;
        let baseline: Baseline | undefined;
        test('setup: a clean slate', async () => {
          signer = await options.create();
          expect(signer.capabilities).toEqual(options.capabilities);
          await signer.checkZone(zone, {});
          baseline = await baselineOf(signer);
          await reconcile(signer, baseline.ownKeys, emptyDesired(baseline));
        });
        body({ signer: () => signer!, baseline: () => baseline! });
        test('teardown: a clean slate again', async () => {
          await reconcile(signer!, baseline!.ownKeys, emptyDesired(baseline!));
          await signer!.close?.();
        });
      },
    );
  }

  group('contract', undefined, ({ signer, baseline }) => {
    test('declares a v1 specification, a kind, an id, name servers and a reason for every capability', () => {
      const current = signer();
      expect(current.specificationVersion).toBe('v1');
      expect(current.kind).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(current.id.length).toBeGreaterThan(0);
      expect(current.nameServers.length).toBeGreaterThan(0);
      for (const note of Object.values(current.capabilities))
        expect(note.reason.length).toBeGreaterThan(0);
    });

    test('reads the served apex: SOA, NS and its own DNSKEYs, each with a TTL', async () => {
      const apex = await signer().readApex(zone, {});
      expect(apex.soa?.records).toHaveLength(1);
      expect(apex.ns?.records.length).toBeGreaterThan(0);
      expect(apex.dnskey?.ttl).toBeGreaterThan(0);
      const served = new Set(apex.dnskey!.records.map((key) => keyTag(key)));
      for (const key of baseline().ownKeys.filter((key) => key.role !== 'ZSK'))
        expect(served.has(key.keyTag)).toBe(true);
    });

    test('plans and snapshots survive a JSON round trip', async () => {
      const apex = await signer().readApex(zone, {});
      expect(JSON.parse(JSON.stringify(apex))).toEqual(apex);
      const [foreign] = makeForeignKeys(1, 256);
      const plan = planSignerChanges({
        signerId: signer().id,
        ownKeys: baseline().ownKeys,
        served: apex,
        desired: { ...emptyDesired(baseline()), foreignDnskeys: [foreign!.dnskey] },
      });
      expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
      const keys = await signer().listOwnKeys(zone, {});
      expect(JSON.parse(JSON.stringify(keys))).toEqual(keys);
    });

    test('an aborted signal rejects with AbortError and changes nothing', async () => {
      const before = await signer().readApex(zone, {});
      await expect(signer().readApex(zone, { signal: AbortSignal.abort() })).rejects.toSatisfy(
        (error: unknown) => AbortError.isInstance(error),
      );
      await expect(signer().listOwnKeys(zone, { signal: AbortSignal.abort() })).rejects.toSatisfy(
        (error: unknown) => AbortError.isInstance(error),
      );
      const [foreign] = makeForeignKeys(1, 256);
      const plan = planSignerChanges({
        signerId: signer().id,
        ownKeys: baseline().ownKeys,
        served: before,
        desired: { ...emptyDesired(baseline()), foreignDnskeys: [foreign!.dnskey] },
      });
      await expect(signer().applyChanges(plan, { signal: AbortSignal.abort() })).rejects.toSatisfy(
        (error: unknown) => AbortError.isInstance(error),
      );
      const remaining = await remainingOnTheWire(
        signer(),
        baseline().ownKeys,
        emptyDesired(baseline()),
      );
      expect(remaining.flatMap((entry) => entry.changes)).toEqual([]);
    });
  });

  group('key-list', 'key-list', ({ signer, baseline }) => {
    test('own keys have roles and key tags that match their DNSKEY, and include a KSK or CSK', () => {
      const keys = baseline().ownKeys;
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.some((key) => key.role === 'KSK' || key.role === 'CSK')).toBe(true);
      for (const key of keys) {
        expect(key.keyTag).toBe(keyTag(key.dnskey));
        expect(key.algorithm).toBe(key.dnskey.algorithm);
        expect((key.dnskey.flags & 1) === 1).toBe(key.role !== 'ZSK');
      }
    });

    test('every own key it lists is served in the DNSKEY RRset', async () => {
      const apex = await readApexFromServer(signer().nameServers[0]!, zone);
      const served = new Set(apex.dnskey!.records.map((key) => keyTag(key)));
      for (const key of baseline().ownKeys) expect(served.has(key.keyTag)).toBe(true);
    });

    test('a key fingerprint, when offered, reads the same twice while nothing changes', async ({
      skip,
    }) => {
      const fingerprint = signer().ownKeysFingerprint?.bind(signer());
      if (!fingerprint) skip('the plugin offers no ownKeysFingerprint');
      const first = await fingerprint!(zone, {});
      expect(first.length).toBeGreaterThan(0);
      expect(await fingerprint!(zone, {})).toBe(first);
    });
  });

  group('dnskey-import-foreign', 'dnskey-import-foreign', ({ signer, baseline }) => {
    let keys: ForeignKey[] = [];
    test('publishes two foreign ZSKs and a foreign KSK', async () => {
      keys = [
        ...makeForeignKeys(
          2,
          256,
          baseline().ownKeys.map((key) => key.keyTag),
        ),
        ...makeForeignKeys(1, 257),
      ];
      const applied = await reconcile(signer(), baseline().ownKeys, {
        ...emptyDesired(baseline()),
        foreignDnskeys: keys.map((key) => key.dnskey),
      });
      expect(applied).toBe(3);
    });

    test('applying the same desired state again changes nothing (idempotency)', async () => {
      const desired = {
        ...emptyDesired(baseline()),
        foreignDnskeys: keys.map((key) => key.dnskey),
      };
      const served = await signer().readApex(zone, {});
      expect(
        planSignerChanges({ signerId: signer().id, ownKeys: baseline().ownKeys, served, desired })
          .changes,
      ).toEqual([]);
      // Re-applying an already applied plan must also be harmless.
      const stale = {
        zone,
        signerId: signer().id,
        changes: keys.map((key) => ({
          action: 'add' as const,
          type: 'DNSKEY' as const,
          data: key.dnskey,
          ttl: 30,
        })),
      };
      await signer().applyChanges(stale, {});
      expect(await reconcile(signer(), baseline().ownKeys, desired)).toBe(0);
    });

    test('removes one foreign ZSK and keeps the others and its own keys', async () => {
      await reconcile(signer(), baseline().ownKeys, {
        ...emptyDesired(baseline()),
        foreignDnskeys: keys.slice(1).map((key) => key.dnskey),
      });
    });

    test('removes every foreign key', async () => {
      await reconcile(signer(), baseline().ownKeys, emptyDesired(baseline()));
    });
  });

  group('cds-import-foreign', 'cds-import-foreign', ({ signer, baseline }) => {
    test('publishes CDS and CDNSKEY for a foreign KSK next to its own', async () => {
      const [ksk] = makeForeignKeys(
        1,
        257,
        baseline().ownKeys.map((key) => key.keyTag),
      );
      const withDnskey =
        capabilityStatus(signer().capabilities, 'dnskey-import-foreign') === 'can'
          ? [ksk!.dnskey]
          : [];
      await reconcile(signer(), baseline().ownKeys, {
        ...emptyDesired(baseline()),
        foreignDnskeys: withDnskey,
        foreignCds: [cdsFor(zone, ksk!)],
        foreignCdnskeys: [ksk!.dnskey],
      });
    });

    test('withdraws them again', async () => {
      await reconcile(signer(), baseline().ownKeys, emptyDesired(baseline()));
    });
  });

  group('csync-publish', 'csync-publish', ({ signer, baseline }) => {
    test('publishes CSYNC 0 1 A NS AAAA (immediate, no soaminimum)', async () => {
      await reconcile(signer(), baseline().ownKeys, {
        ...emptyDesired(baseline()),
        csync: { serial: 0, flags: 1, types: ['A', 'NS', 'AAAA'] },
      });
    });

    test('replaces it with a different bitmap', async () => {
      await reconcile(signer(), baseline().ownKeys, {
        ...emptyDesired(baseline()),
        csync: { serial: 0, flags: 1, types: ['NS'] },
      });
    });

    test('withdraws it', async () => {
      await reconcile(signer(), baseline().ownKeys, emptyDesired(baseline()));
    });
  });

  group('apex-ns-manage', 'apex-ns-manage', ({ signer, baseline }) => {
    test('adds a name server to the apex NS set', async ({ skip }) => {
      if (!options.extraNameServer) skip('no extraNameServer given');
      await reconcile(signer(), baseline().ownKeys, {
        ...emptyDesired(baseline()),
        apexNs: [...baseline().ns, options.extraNameServer!],
      });
    });

    test('removes it again', async () => {
      await reconcile(signer(), baseline().ownKeys, emptyDesired(baseline()));
    });
  });

  if (selected('content-read'))
    contentReadGroup(options, skipReasonFor('content-read', 'content-read'));

  if (selected('key-roll'))
    keyRollGroup(options, skipReasonFor('key-roll', 'key-roll') ?? noRollZone(options), timeoutMs);

  if (selected('bootstrap-signal'))
    bootstrapSignalGroup(
      options,
      skipReasonFor('bootstrap-signal', 'bootstrap-signal') ?? noSignalTarget(options),
      timeoutMs,
    );

  if (selected('presigned-dnskey'))
    presignedDnskeyGroup(
      options,
      skipReasonFor('presigned-dnskey', 'presigned-dnskey') ?? noPresignedTarget(options),
      timeoutMs,
    );

  group('capability-honesty', undefined, ({ signer, baseline }) => {
    // A capability marked cannot or unimplemented must reject with UnsupportedCapabilityError;
    // one marked can is proven by its group above. Nobody under- or over-claims.
    const samples: Record<ChangeRecordType, () => DesiredSignerState> = {
      DNSKEY: () => ({
        ...emptyDesired(baseline()),
        foreignDnskeys: makeForeignKeys(1, 256).map((key) => key.dnskey),
      }),
      CDS: () => ({
        ...emptyDesired(baseline()),
        foreignCds: makeForeignKeys(1, 257).map((key) => cdsFor(zone, key)),
      }),
      CDNSKEY: () => ({
        ...emptyDesired(baseline()),
        foreignCdnskeys: makeForeignKeys(1, 257).map((key) => key.dnskey),
      }),
      CSYNC: () => ({ ...emptyDesired(baseline()), csync: { serial: 0, flags: 1, types: ['NS'] } }),
      NS: () => ({
        ...emptyDesired(baseline()),
        apexNs: [...baseline().ns, 'ns.conformance.invalid.'],
      }),
    };
    test('has a presignedDnskey publisher exactly when presigned-dnskey is declared can', () => {
      const declared = capabilityStatus(signer().capabilities, 'presigned-dnskey') === 'can';
      expect(signer().presignedDnskey !== undefined).toBe(declared);
    });

    test('has a bootstrapSignaller exactly when bootstrap-signal is declared can', () => {
      const declared = capabilityStatus(signer().capabilities, 'bootstrap-signal') === 'can';
      expect(signer().bootstrapSignaller !== undefined).toBe(declared);
    });

    for (const type of Object.keys(samples) as ChangeRecordType[]) {
      const capability = CAPABILITY_FOR_TYPE[type];
      test(`a ${type} change is refused with UnsupportedCapabilityError unless ${capability} is declared can`, async ({
        skip,
      }) => {
        if (capabilityStatus(signer().capabilities, capability) === 'can')
          skip(`${capability} is declared can; its own group proves it`);
        const served = await signer().readApex(zone, {});
        const plan = planSignerChanges({
          signerId: signer().id,
          ownKeys: baseline().ownKeys,
          served,
          desired: samples[type](),
        });
        const error = await signer()
          .applyChanges(plan, {})
          .catch((caught: unknown) => caught);
        expect(UnsupportedCapabilityError.isInstance(error)).toBe(true);
      });
    }
  });

  if (!selected('failure-modes')) return;
  describe.skipIf(options.optOut?.['failure-modes'] !== undefined)(
    'signer conformance: failure-modes',
    () => {
      test('bad credentials give a typed, non-retryable error', async ({ skip }) => {
        if (!options.createWithBadCredentials) skip('no createWithBadCredentials given');
        const signer = await options.createWithBadCredentials!();
        const served = await signer.readApex(zone, {}).catch(() => undefined);
        // Credentials are checked at start-up: checkZone fails before any plan is applied.
        const startUp = await signer.checkZone(zone, {}).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(ChorusError.isInstance(startUp)).toBe(true);
        expect((startUp as ChorusError).isRetryable).toBe(false);
        const [foreign] = makeForeignKeys(1, 256);
        const plan = {
          zone,
          signerId: signer.id,
          changes: [
            { action: 'add' as const, type: 'DNSKEY' as const, data: foreign!.dnskey, ttl: 30 },
          ],
        };
        const errors = await Promise.all([
          signer.listOwnKeys(zone, {}).then(
            () => undefined,
            (error: unknown) => error,
          ),
          signer.applyChanges(plan, {}).then(
            () => undefined,
            (error: unknown) => error,
          ),
        ]);
        // Reading the public DNS needs no credentials, so only the calls that do must fail.
        const failures = errors.filter((error) => error !== undefined);
        expect(failures.length).toBeGreaterThan(0);
        for (const error of failures) {
          expect(ChorusError.isInstance(error)).toBe(true);
          expect((error as ChorusError).isRetryable).toBe(false);
        }
        expect(served === undefined || served.zone === zone).toBe(true);
        await signer.close?.();
      });

      test('an unreachable server gives a typed, retryable error', async ({ skip }) => {
        if (!options.createUnreachable) skip('no createUnreachable given');
        const signer = await options.createUnreachable!();
        const error = await signer.readApex(zone, {}).catch((caught: unknown) => caught);
        expect(ChorusError.isInstance(error)).toBe(true);
        expect((error as ChorusError).isRetryable).toBe(true);
        await signer.close?.();
      });
    },
  );
}
