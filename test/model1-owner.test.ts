/**
 * Model 1 end to end on a lab of its own (`up --owner`): Knot serves owner.test. through
 * offline-KSK, its sidecar records the ZSKs Knot plans, and `chorus owner` signs the DNSKEY
 * RRset with the owner's KSK in the lab's SoftHSM2 token, first and then again before the
 * signatures run out (a refresh). Knot serves each set byte for byte, and a validating resolver
 * authenticates the zone through the owner's DS throughout. Negative control: a signed set
 * changed after signing, appended by a trusted operator, is refused by the fold and never served.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zoneEvent, zoneStream, type DnskeyData, type ZoneEvent } from '@chorus/core';
import {
  formatRdata,
  keyTag,
  parseRecord,
  query,
  readTsigKeyFile,
  sendUpdate,
  UpdateBuilder,
} from '@chorus/dns';
import { generatePkcs11OwnerKey, openPkcs11OwnerKey } from '@chorus/owner';
import { createSqliteEventLog } from '@chorus/event-log-sqlite';
import { flushResolverZone, labDown, labUp, type LabStatus } from '@chorus/lab';
import { createConsistencyObserver, zoneGroup } from '@chorus/observers';
import { ownerSignaturesExpireAt } from '@chorus/engine';
import { chorusOnLog } from './helpers/operator.js';
import {
  asOperator,
  readZone,
  sidecarConfigFor,
  startSidecarProcess,
  stopSidecarProcess,
  trustKitAt,
  type RunningSidecar,
} from '@chorus/cli';

const PREFIX = process.env.CHORUS_TEST_MODEL1_PREFIX ?? '127.97.0';
const ZONE = 'owner.test.';
const VALIDITY = 40;
const LEAD = 25;

let directory: string;
let lab: LabStatus;
let demo: string;
let sqliteFile: string;
let hsmFile: string;
/** The owner's HSM key in effect (after the KSK roll: the new one). */
let ownerHsmFile: string;
let sidecar: RunningSidecar | undefined;

/** `chorus …` on the lab's log as its operator; stdout and stderr together. */
async function chorus(args: string[]) {
  const { code, stdout, stderr } = await chorusOnLog(sqliteFile, args);
  return { code, output: `${stdout}${stderr}` };
}

async function until<T>(
  what: string,
  seconds: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${seconds} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const knot = () => lab.servers.find((server) => server.id === 'knot')!;
const resolver = () => lab.resolvers.find((entry) => entry.id === 'resolver-delegation')!;

async function servedDnskey() {
  const answer = await query({ address: knot().address, port: knot().port }, ZONE, 'DNSKEY', {
    transport: 'tcp',
  });
  return answer.answers.find((rrset) => rrset.type === 'DNSKEY');
}

async function readState() {
  const log = createSqliteEventLog<ZoneEvent>({ path: sqliteFile });
  try {
    return await readZone(log, ZONE);
  } finally {
    await log.close();
  }
}

async function ownerSigned() {
  return (await readState()).ownerSigned;
}

/** The owner's newest RRSIGs, once Knot serves exactly them. */
async function servesOwnerSet() {
  const signed = await ownerSigned();
  const rrset = await servedDnskey();
  if (!signed || !rrset) return undefined;
  const wanted = signed.snapshots[0]!.rrsigs;
  return JSON.stringify(rrset.signatures) === JSON.stringify(wanted) ? wanted : undefined;
}

async function resolverAnswer() {
  return query({ address: resolver().address, port: resolver().port }, `www.${ZONE}`, 'A', {
    recursionDesired: true,
  });
}

async function resolverValidates(): Promise<boolean> {
  const answer = await resolverAnswer();
  return answer.rcode === 'NOERROR' && answer.flags.ad;
}

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'chorus-model1-'));
  lab = await labUp({
    directory,
    addressPrefix: PREFIX,
    ttl: 5,
    zones: ['example.test.'],
    owner: true,
  });
  demo = path.join(lab.directory, 'demo');
  await mkdir(demo, { recursive: true, mode: 0o700 });
  sqliteFile = path.join(demo, 'events.sqlite');
  hsmFile = path.join(demo, 'owner-hsm.json');
  ownerHsmFile = hsmFile;
  await writeFile(hsmFile, JSON.stringify(lab.owner!.hsm));
  sidecar = await startSidecarProcess(demo, sidecarConfigFor(lab, knot(), sqliteFile, ZONE));
}, 120_000);

afterAll(async () => {
  if (sidecar) await stopSidecarProcess(sidecar);
  if (process.env.CHORUS_KEEP_LAB) return;
  await labDown({ directory });
  await rm(directory, { recursive: true, force: true });
});

describe('model 1: the owner signs, Knot serves it, and the owner refreshes before expiry', () => {
  it('defines the zone with its owner once the sidecar has registered', async () => {
    const define = [
      'zone',
      'define',
      ZONE,
      '--signer',
      'knot',
      '--owner-dnskey',
      lab.owner!.dnskey!,
      '--owner-validity',
      String(VALIDITY),
      '--owner-refresh-lead',
      String(LEAD),
      '--record-ttl',
      '5',
      '--max-zone-ttl',
      '5',
      '--child-propagation',
      '1',
      '--parent-propagation',
      '1',
      '--safety-margin',
      '1',
    ];
    let last = '';
    const result = await until('zone define', 90, async () => {
      const attempt = await chorus(define);
      last = attempt.output;
      return attempt.code === 0 ? attempt : undefined;
    }).catch((error: Error) => {
      throw new Error(`${error.message}: ${last}; sidecar log ${sidecar?.logFile}`);
    });
    expect(result.output).toMatch(/model 1 under owner KSK \d+/);
  }, 120_000);

  it("signs the first set once Knot's planned ZSKs are in the log; Knot serves it and the resolver validates", async () => {
    const first = await until('the first signature', 60, async () => {
      const once = await chorus(['owner', ZONE, '--owner-hsm', hsmFile, '--once']);
      expect(once.code, once.output).toBe(0);
      return /signed the DNSKEY RRset \(initial\)/.test(once.output) ? once.output : undefined;
    });
    expect(first).toMatch(new RegExp(`keys .*${keyTag(parseOwnerKey())}`));
    await until('Knot serving the owner-signed set', 30, servesOwnerSet);
    const status = await chorus(['status', ZONE]);
    expect(status.output).toMatch(/model 1: owner KSK \d+/);
    expect(status.output).toMatch(
      /owner signed .* \(initial\); valid until \S+, refresh due at \S+/,
    );
    expect(status.output).toMatch(
      /owner: the owner's signatures have \d+ s left; refresh below \d+ s/,
    );
    expect(status.output).toMatch(/knot plans ZSK \d+ from /);
    expect(
      await until('AD from the resolver', 30, async () =>
        (await resolverValidates()) ? true : undefined,
      ),
    ).toBe(true);
  }, 120_000);

  it('refuses a signed set changed after signing, and Knot keeps serving the owner set', async () => {
    const served = await until('the owner set', 30, servesOwnerSet);
    const signed = (await ownerSigned())!;
    const extra: DnskeyData = {
      ...signed.snapshots[0]!.dnskeys[0]!,
      publicKey: Buffer.alloc(64, 9).toString('base64'),
    };
    const tampered = signed.snapshots.map((snapshot) => ({
      ...snapshot,
      dnskeys: [...snapshot.dnskeys, extra],
    }));
    const kit = trustKitAt(demo);
    const log = asOperator(
      createSqliteEventLog<ZoneEvent>({ path: sqliteFile }),
      { trust: kit.trustFile, key: kit.operatorKeyFile },
      'test',
    );
    try {
      const state = await readZone(log, ZONE);
      await log.append(zoneStream(ZONE), state.version, [
        zoneEvent(
          'dnskey-set-signed',
          { zone: ZONE, source: { kind: 'cli', id: 'test' } },
          { snapshots: tampered, reason: 'refresh' },
        ),
      ]);
      const after = await readZone(log, ZONE);
      expect(after.securityFindings.at(-1)).toMatchObject({ code: 'owner-signature-invalid' });
      expect(after.ownerSigned).toEqual(signed);
    } finally {
      await log.close();
    }
    // Two key-watch rounds later, Knot still serves the owner's signatures.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect((await servedDnskey())!.signatures).toEqual(served);
  }, 60_000);

  it('re-signs when less than the refresh lead is left; Knot serves the later signatures and the zone still validates', async () => {
    const before = (await ownerSigned())!;
    // The latest expiration of any snapshot: with a ZSK change planned ahead, the first
    // snapshot's signatures end when the next takes over, however late they were made.
    const expiresBefore = ownerSignaturesExpireAt(before);
    const refreshed = await until('the refresh', 60, async () => {
      const once = await chorus(['owner', ZONE, '--owner-hsm', hsmFile, '--once']);
      return /signed the DNSKEY RRset \(refresh\)/.test(once.output) ? once.output : undefined;
    });
    expect(refreshed).toMatch(/valid until/);
    const served = await until('Knot serving the refreshed set', 30, servesOwnerSet);
    const after = (await ownerSigned())!;
    expect(served).toEqual(after.snapshots[0]!.rrsigs);
    expect(
      ownerSignaturesExpireAt(after),
      JSON.stringify(after.snapshots.map((s) => s.at)),
    ).toBeGreaterThan(expiresBefore);
    expect(await resolverValidates()).toBe(true);
  }, 120_000);

  it("rolls Knot's ZSK (M1-ZSK): the owner signs each step's set, Knot holds the successor until every member serves it, and the resolver validates throughout", async () => {
    const zsks = async () =>
      (await readState()).signers['knot']!.keys.filter((key) => key.role === 'ZSK').map(
        (key) => key.keyTag,
      );
    const before = await zsks();
    expect(before).toHaveLength(1);
    let rolling = true;
    const ownerFailures: string[] = [];
    const glitches: string[] = [];
    const owner = (async () => {
      while (rolling) {
        const once = await chorus(['owner', ZONE, '--owner-hsm', hsmFile, '--once']);
        if (once.code !== 0) ownerFailures.push(once.output);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    })();
    const watch = (async () => {
      while (rolling) {
        const answer = await resolverAnswer();
        if (answer.rcode !== 'NOERROR' || !answer.flags.ad)
          glitches.push(`${new Date().toISOString()} ${answer.rcode} ad=${answer.flags.ad}`);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    })();
    let roll: Awaited<ReturnType<typeof chorus>>;
    try {
      roll = await chorus(['roll', ZONE, 'knot', '--zsk']);
    } finally {
      rolling = false;
      await Promise.all([owner, watch]);
    }
    expect(roll.code, roll.output).toBe(0);
    for (const step of [
      'introduce-successor',
      'push-owner-set',
      'activate-successor',
      'remove-predecessor',
    ])
      expect(roll.output).toContain(step);
    expect(ownerFailures).toEqual([]);
    expect(glitches).toEqual([]);
    const after = await zsks();
    expect(after).toHaveLength(1);
    expect(before).not.toContain(after[0]);
    const served = (await servedDnskey())!.records.map((record) => keyTag(record as DnskeyData));
    expect(served.sort()).toEqual([after[0], keyTag(parseOwnerKey())].sort());
  }, 240_000);

  it("rolls the owner's KSK (M1-KSK, double signature): both KSKs sign, a person moves the parent's DS, then the new KSK signs alone, and the resolver validates throughout", async () => {
    const next = { ...lab.owner!.hsm, keyId: '02' };
    generatePkcs11OwnerKey(next, 'owner-ksk-next');
    const nextKey = await openPkcs11OwnerKey(next);
    const successor = nextKey.dnskey;
    await nextKey.close();
    const nextHsmFile = path.join(demo, 'owner-hsm-next.json');
    await writeFile(nextHsmFile, JSON.stringify(next));
    const parent = lab.servers.find((entry) => entry.id === 'parent')!;
    const parentServer = { address: parent.address, port: parent.port };
    const tsig = await readTsigKeyFile(parent.tsig.keyFile);
    let rolling = true;
    const ownerFailures: string[] = [];
    const glitches: string[] = [];
    const dsChanges: string[][] = [];
    const owner = (async () => {
      while (rolling) {
        const args = ['owner', ZONE, '--owner-hsm', hsmFile, '--owner-hsm', nextHsmFile, '--once'];
        const once = await chorus(args);
        if (once.code !== 0) ownerFailures.push(once.output);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    })();
    // The person at the parent: makes the DS change exactly as Chorus shows it.
    const person = (async () => {
      while (rolling) {
        const status = await chorus(['status', ZONE, '--json']);
        const [zone] = JSON.parse(status.output.slice(status.output.indexOf('['))) as {
          activeProcess: { parentChange?: { ds?: { add: string[]; remove: string[] } } } | null;
        }[];
        const ds = zone?.activeProcess?.parentChange?.ds;
        if (ds && ds.add.length > 0) {
          const update = new UpdateBuilder(lab.parentZone);
          for (const line of ds.remove) update.deleteRecord(parseRecord(line));
          for (const line of ds.add) update.add(parseRecord(line));
          await sendUpdate(parentServer, update, { tsig });
          dsChanges.push([...ds.add]);
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    })();
    const watch = (async () => {
      while (rolling) {
        const answer = await resolverAnswer();
        if (answer.rcode !== 'NOERROR' || !answer.flags.ad)
          glitches.push(`${new Date().toISOString()} ${answer.rcode} ad=${answer.flags.ad}`);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    })();
    let roll: Awaited<ReturnType<typeof chorus>>;
    try {
      roll = await chorus([
        'roll',
        ZONE,
        'owner',
        '--ksk',
        '--new-owner-dnskey',
        formatRdata({ type: 'DNSKEY', data: successor }),
      ]);
    } finally {
      rolling = false;
      await Promise.all([owner, person, watch]);
    }
    expect(roll.code, roll.output).toBe(0);
    for (const step of ['introduce-owner-ksk', 'await-parent-ds', 'retire-owner-ksk'])
      expect(roll.output).toContain(step);
    expect(ownerFailures).toEqual([]);
    expect(glitches).toEqual([]);
    expect(dsChanges.length).toBeGreaterThan(0);
    const state = await readState();
    expect(state.owner?.dnskeys).toEqual([successor]);
    const served = (await servedDnskey())!;
    expect(served.signatures.map((sig) => sig.keyTag)).toEqual([keyTag(successor)]);
    expect(served.records.map((record) => keyTag(record as DnskeyData))).toContain(
      keyTag(successor),
    );
    const parentDs = await query(parentServer, ZONE, 'DS', { transport: 'tcp' });
    const dsTags = parentDs.answers
      .find((set) => set.type === 'DS')!
      .records.map((record) => (record as { keyTag: number }).keyTag);
    expect(dsTags).toEqual([keyTag(successor)]);
    ownerHsmFile = nextHsmFile;
    expect(await resolverValidates()).toBe(true);
  }, 300_000);

  it("keeps the owner's secrets where they belong: the PIN appears in no file of the lab, and no private key in the log, the sidecar's files or the owner's", async () => {
    const pin = (await readFile(lab.owner!.hsm.pinFile, 'utf8')).trim();
    const tokens = path.join(lab.owner!.directory, 'tokens');
    const offenders: string[] = [];
    for (const file of await filesUnder(lab.directory)) {
      if (file === lab.owner!.hsm.pinFile || file.startsWith(`${tokens}/`)) continue;
      const content = await readFile(file);
      // The servers keep their own keys in their directories; the owner's never leaves the token.
      // (The trust kit's Ed25519 event keys are the sidecars' and the operator's, kept as files.)
      const ownersSide =
        (file.startsWith(`${demo}/`) && !file.startsWith(`${demo}/trust/`)) ||
        file.startsWith(`${lab.owner!.directory}/`);
      if (content.includes(pin) || (ownersSide && content.includes('PRIVATE KEY')))
        offenders.push(file);
    }
    expect(offenders).toEqual([]);
    // Negative control: the search finds the PIN where it is kept.
    expect((await readFile(lab.owner!.hsm.pinFile)).includes(pin)).toBe(true);
  });

  it('a signature left to lapse on purpose: I8 names the late refresh, then a validating resolver fails, until the owner signs again', async () => {
    const group = zoneGroup(await readState());
    const parent = lab.servers.find((server) => server.id === 'parent')!;
    const observer = createConsistencyObserver({
      zone: ZONE,
      parentZone: 'test.',
      parentServers: [{ address: parent.address, port: parent.port }],
      providers: group.providers,
      margins: group.margins,
      ...(group.model ? { model: group.model } : {}),
      ...(group.owner ? { owner: group.owner } : {}),
    });
    try {
      const i8 = async () =>
        (await observer.checkOnce()).violations.filter((v) => v.invariant === 'I8');
      expect(await i8()).toEqual([]);
      // No owner runs now: the served signature passes its refresh lead, then expires.
      const late = await until('I8 naming the late refresh', 60, async () =>
        (await i8()).find((v) => v.key.startsWith('I8|refresh|knot|')),
      );
      expect(late.detail).toMatch(/the refresh is late or did not reach knot/);
      // The lab's unbound allows no clock skew: it refuses the signature once it has expired.
      await until('the resolver failing on the expired signature', 60, async () => {
        await flushResolverZone(resolver(), ZONE);
        return (await resolverAnswer()).rcode === 'SERVFAIL' ? true : undefined;
      });
      // Recovery: the owner signs again, and the zone validates again.
      const again = await chorus(['owner', ZONE, '--owner-hsm', ownerHsmFile, '--once']);
      expect(again.output).toMatch(/signed the DNSKEY RRset \(refresh\)/);
      await until('Knot serving the new set', 30, servesOwnerSet);
      await until('the resolver validating again', 30, async () => {
        await flushResolverZone(resolver(), ZONE);
        return (await resolverValidates()) ? true : undefined;
      });
    } finally {
      await observer.shutdown?.();
    }
  }, 180_000);
});

function parseOwnerKey(): DnskeyData {
  const [flags, protocol, algorithm, publicKey] = lab.owner!.dnskey!.split(/\s+/);
  return {
    flags: Number(flags),
    protocol: Number(protocol),
    algorithm: Number(algorithm),
    publicKey: publicKey!,
  };
}

/** Every regular file under `directory`, recursively. */
async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}
