/**
 * The conformance group `bootstrap-signal`: `Signer.bootstrapSignaller` publishes RFC 9615
 * signalling records. The judges are the wire at every address in `signer.nameServers` and,
 * when given, a validating resolver that must authenticate the signals (AD=1) as a parent would.
 */
import {
  AbortError,
  SignerConfigurationError,
  type BootstrapSignaller,
  type BootstrapSignalSet,
  type NameServer,
  type Signer,
} from '@chorus/core';
import {
  canonicalName,
  describeServer,
  query,
  readSignalsFromServer,
  sameSignals,
  signallingName,
  type QueryResponse,
} from '@chorus/dns';
import { eventually } from './eventually.js';
import type { SignerConformanceOptions } from './signer-conformance.js';
import { cdsFor, makeForeignKeys } from './test-keys.js';

/** Where the group publishes, and who checks it. */
export interface BootstrapSignalOptions {
  /** The child zone signalled for; it need not exist anywhere. */
  zone: string;
  /** The signer's NS hostnames, each inside one of its signalling zones. */
  nameservers: string[];
  /** A hostname outside every signalling zone: publishing for it must be refused. */
  outsideNameserver: string;
  /** A validating resolver that reaches the signalling zone through a secure delegation. */
  resolver?: NameServer;
  /** Drops the resolver's cached answers for the signalling names (called before each check). */
  flushResolver?: () => Promise<void>;
}

const NONE: BootstrapSignalSet = { cds: [], cdnskey: [] };
const TTL = 30;

/** Signals for `count` made-up KSKs: a CDS (SHA-256) and a CDNSKEY for each. */
function signalSet(zone: string, count: number): BootstrapSignalSet {
  const keys = makeForeignKeys(count, 257);
  return { cds: keys.map((key) => cdsFor(zone, key)), cdnskey: keys.map((key) => key.dnskey) };
}

function describeSet(set: BootstrapSignalSet): string {
  return `${set.cds.length} CDS, ${set.cdnskey.length} CDNSKEY`;
}

/** The signalling names at every address that do not serve `wanted`. */
async function differingOnTheWire(
  signer: Signer,
  names: readonly string[],
  wanted: BootstrapSignalSet,
): Promise<string[]> {
  const checks = names.flatMap((name) =>
    signer.nameServers.map(async (server) => {
      const served = await readSignalsFromServer(server, name, { retries: 1 });
      return sameSignals(served, wanted)
        ? []
        : [
            `${name} at ${describeServer(server)}: ${describeSet(served)}, want ${describeSet(wanted)}`,
          ];
    }),
  );
  return (await Promise.all(checks)).flat();
}

/** A recursive, DNSSEC-OK query at the resolver. */
function resolve(resolver: NameServer, name: string, type: 'CDS' | 'CDNSKEY') {
  return query(resolver, name, type, { recursionDesired: true, dnssecOk: true, retries: 1 });
}

function answerOf(response: QueryResponse, name: string, type: string): unknown[] {
  return response.answers
    .filter((set) => set.type === type && canonicalName(set.name) === canonicalName(name))
    .flatMap((set) => set.records as unknown[]);
}

/** What the resolver gets wrong at each name: not AD, an error rcode, or other records. */
async function differingAtResolver(
  resolver: NameServer,
  names: readonly string[],
  wanted: BootstrapSignalSet,
): Promise<string[]> {
  const problems: string[] = [];
  for (const name of names) {
    const [cds, cdnskey] = await Promise.all([
      resolve(resolver, name, 'CDS'),
      resolve(resolver, name, 'CDNSKEY'),
    ]);
    for (const response of [cds, cdnskey]) {
      if (!['NOERROR', 'NXDOMAIN'].includes(response.rcode))
        problems.push(`${name}: the resolver answered ${response.rcode}`);
      else if (!response.flags.ad) problems.push(`${name}: the resolver answered without AD`);
    }
    const served = {
      cds: answerOf(cds, name, 'CDS'),
      cdnskey: answerOf(cdnskey, name, 'CDNSKEY'),
    } as BootstrapSignalSet;
    if (!sameSignals(served, wanted))
      problems.push(`${name} at the resolver: ${describeSet(served)}, want ${describeSet(wanted)}`);
  }
  return problems;
}

/**
 * Registers the bootstrap-signal group: publish, publish again, replace, withdraw, each judged
 * on the wire and at the resolver; a hostname outside every signalling zone and an aborted
 * signal are refused without a change.
 */
export function bootstrapSignalGroup(
  options: SignerConformanceOptions,
  skipReason: string | undefined,
  timeoutMs: number,
): void {
  const { describe, test, expect } = options;
  // Read in setup: a scenario knows its lab's addresses only once the lab runs.
  let target: BootstrapSignalOptions | undefined;
  let child = '';
  let names: string[] = [];
  let first = NONE;
  let second = NONE;
  let signer: Signer | undefined;
  const signaller = (): BootstrapSignaller => signer!.bootstrapSignaller!;
  const publish = (set: BootstrapSignalSet) =>
    signaller().publishSignals(child, target!.nameservers, set, TTL, {});

  /** Waits until every address, then the resolver, serves exactly `wanted`. */
  async function expectServed(wanted: BootstrapSignalSet): Promise<void> {
    await eventually(signer!, child, timeoutMs, () => differingOnTheWire(signer!, names, wanted));
    const resolver = target?.resolver;
    if (!resolver) return;
    await eventually(signer!, child, timeoutMs, async () => {
      await target?.flushResolver?.();
      return differingAtResolver(resolver, names, wanted);
    });
  }

  function readTarget(): void {
    const given = options.bootstrapSignal;
    target = typeof given === 'function' ? given() : given;
    child = target!.zone;
    names = target!.nameservers.map((ns) => signallingName(child, ns));
    first = signalSet(child, 2);
    second = signalSet(child, 1);
  }

  describe.skipIf(skipReason !== undefined)(
    `signer conformance: bootstrap-signal${skipReason ? ` (skipped: ${skipReason})` : ''}`,
    () => {
      test('setup: the signer has a signaller with its signalling zones, and starts clean', async () => {
        readTarget();
        signer = await options.create();
        expect(signer.capabilities).toEqual(options.capabilities);
        expect(signaller().signallingZones.length).toBeGreaterThan(0);
        await publish(NONE);
        await expectServed(NONE);
      });

      test('publishes CDS and CDNSKEY at every signalling name; the resolver authenticates them', async () => {
        await publish(first);
        await expectServed(first);
      });

      test('publishing the same signals again changes nothing (idempotency)', async () => {
        await publish(first);
        await expectServed(first);
      });

      test('publishing other signals replaces them exactly', async () => {
        await publish(second);
        await expectServed(second);
      });

      test('empty signals withdraw them: NXDOMAIN or NODATA, authenticated', async () => {
        await publish(NONE);
        await expectServed(NONE);
      });

      test('a hostname outside every signalling zone is refused with SignerConfigurationError, changing nothing', async () => {
        const nameservers = [...target!.nameservers, target!.outsideNameserver];
        const error = await signaller()
          .publishSignals(child, nameservers, first, TTL, {})
          .catch((caught: unknown) => caught);
        expect(SignerConfigurationError.isInstance(error)).toBe(true);
        expect(await differingOnTheWire(signer!, names, NONE)).toEqual([]);
      });

      test('an aborted signal rejects with AbortError and changes nothing', async () => {
        const error = await signaller()
          .publishSignals(child, target!.nameservers, first, TTL, { signal: AbortSignal.abort() })
          .catch((caught: unknown) => caught);
        expect(AbortError.isInstance(error)).toBe(true);
        expect(await differingOnTheWire(signer!, names, NONE)).toEqual([]);
      });

      test('teardown', async () => {
        if (signer?.bootstrapSignaller) await publish(NONE);
        await signer?.close?.();
      });
    },
  );
}

/** The skip reason when no signalling target is given. */
export function noSignalTarget(options: SignerConformanceOptions): string | undefined {
  return options.bootstrapSignal ? undefined : 'no bootstrapSignal given';
}
