/**
 * I8 at runtime, on real servers (RFC 8901 model 1): two knotd of this test's own (policy
 * `offline-ksk: on`) serve m1.test., each signing the data with its own ZSKs and serving the
 * DNSKEY RRset the owner's KSK (a PKCS#8 file) signed over both providers' planned ZSKs, imported
 * through the Knot plugin's publisher. A third knotd serves the parent test. with the owner's DS.
 * The consistency observer, told the zone is in model 1, finds nothing; then catches a provider
 * whose DNSKEY RRset differs by one key, and owner signatures served past their refresh time;
 * and lets go of the latter once the refresh reaches both.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  DnskeyData,
  NameServer,
  OwnerKey,
  PlannedZsks,
  RrsigData,
  SignedDnskeySnapshot,
} from '@chorus/core';
import { computeDs, formatRdata, keyTag, query, runCommand } from '@chorus/dns';
import {
  dnskeyOf,
  openFileOwnerKey,
  signDnskeySnapshots,
  type SignatureValidity,
} from '@chorus/owner';
import { createKnotSigner, type KnotSigner } from '@chorus/plugin-knot';
import {
  createConsistencyObserver,
  type ConsistencyObserver,
} from '../../src/consistency-observer.js';
import {
  evaluateInvariants,
  type InvariantInput,
  type InvariantViolation,
} from '../../src/invariants.js';

const ZONE = 'm1.test.';
const PARENT_ZONE = 'test.';
const PORT = 5300;
const SERVERS = {
  a: { address: '127.95.0.1', port: PORT },
  b: { address: '127.95.0.2', port: PORT },
  parent: { address: '127.95.0.3', port: PORT },
} satisfies Record<string, NameServer>;
const PROVIDERS = ['a', 'b'] as const;
type ProviderId = (typeof PROVIDERS)[number];
const DAY = 86_400;
/** The owner re-signs when a signature has less than this left. */
const REFRESH_LEAD = 3600;
const LONG: SignatureValidity = {
  inceptionSlackSeconds: 3600,
  overlapSeconds: DAY,
  lastSnapshotSeconds: 30 * DAY,
};
/** Ten minutes in all: well inside the refresh lead, well outside the TTL (no I5). */
const SHORT: SignatureValidity = {
  inceptionSlackSeconds: 3600,
  overlapSeconds: 300,
  lastSnapshotSeconds: 300,
};

let directory: string;
let owner: OwnerKey;
const knotds: ChildProcess[] = [];
const signers = {} as Record<ProviderId, KnotSigner>;
const planned = {} as Record<ProviderId, PlannedZsks[]>;
let observer: ConsistencyObserver;
const restored: string[] = [];

const now = () => Math.floor(Date.now() / 1000);
const configFile = (id: string) => path.join(directory, id, 'knot.conf');

const knotConf = (id: string, server: NameServer, zones: string) => `server:
  listen: ${server.address}@${server.port}
  rundir: ${path.join(directory, id)}
control:
  listen: ${path.join(directory, id, 'knot.sock')}
database:
  storage: ${path.join(directory, id)}
template:
  - id: default
    storage: ${path.join(directory, id)}
${zones}`;

const providerZones = (id: string) => `policy:
  - id: owner-ksk
    algorithm: ecdsap256sha256
    offline-ksk: on
    manual: on
    zsk-lifetime: 30d
    propagation-delay: 1s
    dnskey-ttl: 5
    zone-max-ttl: 5
zone:
  - domain: ${ZONE}
    file: ${path.join(directory, id, 'm1.zone')}
    dnssec-signing: on
    dnssec-policy: owner-ksk
`;

const parentZones = (id: string) => `zone:
  - domain: ${PARENT_ZONE}
    file: ${path.join(directory, id, 'test.zone')}
`;

/** The same content at both providers. */
const childZone = `$ORIGIN ${ZONE}
$TTL 5
@ SOA ns.a admin 1 60 60 600 5
@ NS ns.a
@ NS ns.b
ns.a A ${SERVERS.a.address}
ns.b A ${SERVERS.b.address}
www A 192.0.2.1
`;

/** The delegation to both providers, with the DS of the owner's KSK. */
const parentZone = (ownerKey: DnskeyData) => `$ORIGIN ${PARENT_ZONE}
$TTL 5
@ SOA ns admin 1 60 60 600 5
@ NS ns
ns A ${SERVERS.parent.address}
m1 NS ns.a.m1
m1 NS ns.b.m1
ns.a.m1 A ${SERVERS.a.address}
ns.b.m1 A ${SERVERS.b.address}
m1 DS ${formatRdata({ type: 'DS', data: computeDs(ZONE, ownerKey, 2) })}
`;

async function startKnotd(
  id: string,
  server: NameServer,
  zones: string,
  files: Record<string, string>,
) {
  await mkdir(path.join(directory, id));
  for (const [name, text] of Object.entries(files))
    await writeFile(path.join(directory, id, name), text);
  await writeFile(configFile(id), knotConf(id, server, zones));
  knotds.push(spawn('knotd', ['-c', configFile(id)], { stdio: 'ignore' }));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const status = await runCommand('knotc', ['-c', configFile(id), 'status'], {
      timeoutMs: 5000,
      allowFailure: true,
    });
    if (status.exitCode === 0) return;
    if (Date.now() > deadline) throw new Error(`knotd ${id} did not start: ${status.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The owner's KSK: a P-256 key in a PKCS#8 file only its owner may read. */
async function ownerKeyFile(): Promise<OwnerKey> {
  const file = path.join(directory, 'owner.pem');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  await writeFile(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return openFileOwnerKey(file);
}

/**
 * The owner signs both providers' planned ZSKs. `validity` bounds the last snapshot only; Knot
 * plans a set for the end of its request too, so a short-lived signature signs what is in effect
 * now and nothing later.
 */
const ownerSigns = (
  validity: SignatureValidity,
  options: { extraKeys?: DnskeyData[]; nowOnly?: boolean } = {},
) =>
  signDnskeySnapshots([owner], {
    zone: ZONE,
    ttl: 5,
    providers: options.nowOnly ? { a: planned.a.slice(0, 1), b: planned.b.slice(0, 1) } : planned,
    now: now(),
    validity,
    ...(options.extraKeys ? { extraKeys: options.extraKeys } : {}),
  });

async function servedRrsigs(id: ProviderId): Promise<RrsigData[] | undefined> {
  try {
    const answer = await query(SERVERS[id], ZONE, 'DNSKEY', { transport: 'tcp', timeoutMs: 1000 });
    return answer.answers.find((set) => set.type === 'DNSKEY')?.signatures;
  } catch {
    return undefined;
  }
}

/** Publishes at `id` and waits until knotd serves the snapshot in effect now. */
async function publish(id: ProviderId, snapshots: SignedDnskeySnapshot[]): Promise<void> {
  await signers[id].presignedDnskey.publishSignedDnskeys(ZONE, snapshots, {});
  const expected = snapshots.filter((snapshot) => snapshot.at <= now()).at(-1)!.rrsigs;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const served = await servedRrsigs(id);
    if (JSON.stringify(served) === JSON.stringify(expected)) return;
    if (Date.now() > deadline) throw new Error(`knotd ${id} did not serve the owner's RRSIGs`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const i8 = (violations: InvariantViolation[]) =>
  violations.filter((violation) => violation.invariant === 'I8');

/** The invariants over what the observer sampled, read with another model or owner. */
const evaluateSampled = (t: number, options: Pick<InvariantInput, 'model' | 'owner'>) =>
  evaluateInvariants({
    zone: ZONE,
    parentZone: PARENT_ZONE,
    history: observer.history,
    providers: PROVIDERS.map((id) => ({ id, nameServerNames: [`ns.${id}.${ZONE}`] })),
    t,
    margins: { childSeconds: 1, parentSeconds: 1 },
    ...options,
  });

const newKey = (flags: number): DnskeyData => ({
  ...dnskeyOf(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey, 'a test key'),
  flags,
});

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'chorus-model1-i8-'));
  owner = await ownerKeyFile();
  await startKnotd('parent', SERVERS.parent, parentZones('parent'), {
    'test.zone': parentZone(owner.dnskey),
  });
  for (const id of PROVIDERS) {
    await startKnotd(id, SERVERS[id], providerZones(id), { 'm1.zone': childZone });
    signers[id] = createKnotSigner({
      id,
      server: SERVERS[id],
      knotc: { configFile: configFile(id) },
      updateMethod: 'knotc',
    });
    planned[id] = await signers[id].presignedDnskey.plannedZsks(ZONE, now() + DAY, {});
  }
  observer = createConsistencyObserver({
    zone: ZONE,
    parentZone: PARENT_ZONE,
    parentServers: [SERVERS.parent],
    providers: PROVIDERS.map((id) => ({
      id,
      nameServerNames: [`ns.${id}.${ZONE}`],
      servers: [SERVERS[id]],
    })),
    margins: { childSeconds: 1, parentSeconds: 1 },
    // Each case publishes by hand and checks at once: no transit to allow for.
    prePublishGraceSeconds: 0,
    model: 1,
    owner: { dnskeys: [owner.dnskey], refreshLeadSeconds: REFRESH_LEAD },
    onRestored: (violation) => restored.push(violation.key),
  });
}, 90_000);

afterAll(async () => {
  await observer?.shutdown?.();
  // Each knotd stopped by its own PID, and gone before its directory is removed.
  for (const knotd of knotds)
    if (knotd.pid && knotd.exitCode === null) {
      const exited = new Promise((resolve) => knotd.once('exit', resolve));
      process.kill(knotd.pid, 'SIGTERM');
      await exited;
    }
  await owner?.close();
  if (directory) await rm(directory, { recursive: true, force: true });
}, 30_000);

describe('I8 on two Knot servers in model 1', () => {
  it('finds nothing while both serve the one owner-signed DNSKEY RRset, on schedule', async () => {
    const signed = await ownerSigns(LONG);
    for (const id of PROVIDERS) await publish(id, signed);
    const round = await observer.checkOnce();
    expect(round.violations).toEqual([]);
    // Every provider's ZSK is in the one RRset both serve, beside the owner's KSK.
    const tags = signed[0]!.dnskeys.map(keyTag);
    for (const id of PROVIDERS) expect(tags).toContain(keyTag(planned[id][0]!.zsks[0]!));
    expect(tags).toContain(keyTag(owner.dnskey));
    // Negative control: had another key been the owner's, neither provider serves its signature.
    const stranger = { dnskeys: [newKey(257)], refreshLeadSeconds: REFRESH_LEAD };
    expect(i8(evaluateSampled(round.at, { model: 1, owner: stranger })).map((v) => v.key)).toEqual([
      'I8|owner-key|a',
      'I8|owner-key|b',
    ]);
  }, 60_000);

  it('reports b once it serves a set the owner signed with one extra key (and not in model 2)', async () => {
    const extra = newKey(256);
    await publish('b', await ownerSigns(LONG, { extraKeys: [extra] }));
    const round = await observer.checkOnce();
    expect(round.violations).toEqual([
      expect.objectContaining({
        invariant: 'I8',
        key: expect.stringMatching(/^I8\|dnskey\|/),
        providers: ['a', 'b'],
      }),
    ]);
    expect(round.violations[0]!.detail).toContain(`key ${keyTag(extra)} not served everywhere`);
    // The same wire, read as model 2: I8 does not apply.
    expect(i8(evaluateSampled(round.at, { model: 2 }))).toEqual([]);
  }, 60_000);

  it('reports owner signatures served with less than the refresh lead left, until the refresh arrives', async () => {
    const short = await ownerSigns(SHORT, { nowOnly: true });
    expect(short).toHaveLength(1);
    for (const id of PROVIDERS) await publish(id, short);
    const round = await observer.checkOnce();
    const tag = keyTag(owner.dnskey);
    expect(round.violations.map((violation) => violation.key)).toEqual([
      `I8|refresh|a|${tag}`,
      `I8|refresh|b|${tag}`,
    ]);
    expect(round.violations[1]!.detail).toMatch(
      new RegExp(
        `^Model 1: the owner's signature over the DNSKEY RRset at b expires at \\S+ \\(in \\d+ s\\), later than its refresh was due \\(refresh lead ${REFRESH_LEAD} s\\): the refresh is late or did not reach b\\.$`,
      ),
    );
    // The byte difference of the previous case has cleared: both serve the same set again.
    expect(restored).toContainEqual(expect.stringMatching(/^I8\|dnskey\|/));

    // The refresh reaches both: nothing left to report.
    const refreshed = await ownerSigns(LONG);
    for (const id of PROVIDERS) await publish(id, refreshed);
    expect((await observer.checkOnce()).violations).toEqual([]);
    expect(restored).toEqual(
      expect.arrayContaining([`I8|refresh|a|${tag}`, `I8|refresh|b|${tag}`]),
    );
  }, 60_000);
});
