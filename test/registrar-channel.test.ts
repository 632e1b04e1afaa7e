/**
 * The registrar channel through the fake registrar against the real lab parent. The shared lab
 * (test/global-setup.ts) runs no registrar, so this file starts one as its own process on an
 * address of the lab's /24 that nothing else uses, and stops it by PID at the end. Every change
 * is made on conformance.test. and only ever adds to the DS set the parent had (resolvers keep
 * validating); afterEach puts the parent's DS, NS and glue back as they were.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  ApiCallError,
  UnsafePlanError,
  type Delegation,
  type DsData,
  type NameServer,
} from '@chorus/core';
import { dsIdentity, readTsigKeyFile, sendUpdate, UpdateBuilder, type TsigKey } from '@chorus/dns';
import {
  createRegistrarParentChannel,
  observeDelegation,
  type RegistrarParentChannel,
} from '@chorus/parent';
import {
  isRegistrarRunning,
  prepareRegistrar,
  registrarCheck,
  registrarEntry,
  startRegistrar,
  stopRegistrar,
  type LabRegistrar,
} from '@chorus/lab';
import type { RequestRecord } from '@chorus/provider-fakes';
import { CONFORMANCE_ZONE, endpoint, labServer, waitUntil } from '@chorus/lab/testing';

const lab = inject('lab');
const ZONE = CONFORMANCE_ZONE;
const parent = labServer(lab, 'parent');
const bind = labServer(lab, 'bind');
const parentServers: NameServer[] = [endpoint(parent)];
/** In-zone nameserver names this file adds (with glue to the BIND signer, which serves ZONE). */
const IN_ZONE_NS = `ns1.${ZONE}`;

/**
 * A DS nobody's key matches, to add next to the real one(s): the zone still validates. Each test
 * takes its own key tags, so no two tests send the same set (the registrar remembers keys).
 */
function extraDs(keyTag: number, digestType: 2 | 4 = 2): DsData {
  return {
    keyTag,
    algorithm: 13,
    digestType,
    digest: (digestType === 2 ? 'AB' : 'CD').repeat(digestType === 2 ? 32 : 48),
  };
}

let directory: string;
let registrar: LabRegistrar;
let channel: RegistrarParentChannel;
let parentTsig: TsigKey;
let original: { ds: DsData[]; ns: string[] };

function delegation(): Promise<Delegation> {
  return observeDelegation(lab.parentZone, parentServers, ZONE);
}

/** The glue the parent serves for names inside ZONE. */
const inZoneGlue = (served: Delegation) =>
  served.glue.filter((entry) => entry.name.endsWith(`.${ZONE}`));

const dsSet = (records: readonly DsData[] | undefined) => (records ?? []).map(dsIdentity).sort();

function channelWith(tokenFile: string): RegistrarParentChannel {
  return createRegistrarParentChannel({
    id: 'registrar-test',
    url: registrar.url,
    tokenFile,
    parentZone: lab.parentZone,
    parentServers,
    timeoutMs: 20_000,
    retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 400, maxRetryAfterSeconds: 5 },
  });
}

/** A `/_fake/` admin call to the registrar. */
async function admin(method: string, requestPath: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${new URL(registrar.url).origin}${requestPath}`, {
    method,
    headers: {
      'X-Fake-Admin': (await readFile(registrar.adminTokenFile, 'utf8')).trim(),
      'Content-Type': 'application/json',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${requestPath}: ${response.status} ${text}`);
  return JSON.parse(text) as unknown;
}

async function requestsSince(index: number): Promise<RequestRecord[]> {
  return ((await admin('GET', '/_fake/requests')) as RequestRecord[]).slice(index);
}

async function requestCount(): Promise<number> {
  return ((await admin('GET', '/_fake/requests')) as RequestRecord[]).length;
}

/** A direct UPDATE of the parent (what a change behind the registrar's back looks like). */
async function updateParent(build: (update: UpdateBuilder) => void): Promise<void> {
  const update = new UpdateBuilder(lab.parentZone);
  build(update);
  await sendUpdate(endpoint(parent), update, { tsig: parentTsig });
}

function setParentDs(update: UpdateBuilder, records: readonly DsData[]): void {
  update.deleteRRset(ZONE, 'DS');
  for (const data of records)
    update.add({ name: ZONE, type: 'DS', class: 'IN', ttl: lab.ttl, data });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

beforeAll(async () => {
  parentTsig = await readTsigKeyFile(parent.tsig.keyFile);
  const current = await delegation();
  original = { ds: current.ds?.records ?? [], ns: current.ns?.records ?? [] };
  expect(original.ds.length).toBeGreaterThan(0);
  expect(original.ns).toEqual([bind.nameserverName]);
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-registrar-'));
  registrar = registrarEntry({
    directory,
    // The lab plans its own registrar on .61; this file's runs beside the shared lab on .245.
    address: `${lab.addressPrefix}.245`,
    domains: lab.zones,
  });
  await prepareRegistrar(registrar, lab);
  registrar.pid = await startRegistrar(registrar);
  const healthy = registrarCheck(registrar);
  await waitUntil('the registrar to answer', async () =>
    (await healthy()).ready ? true : undefined,
  );
  channel = channelWith(registrar.tokenFile);
});

afterAll(async () => {
  if (registrar?.pid > 0) await stopRegistrar(registrar);
  if (directory) await rm(directory, { recursive: true, force: true });
});

/** Puts the parent's DS, NS and glue of ZONE back, and the registrar's faults and limits. */
afterEach(async () => {
  await admin('DELETE', '/_fake/faults');
  await admin('POST', '/_fake/rate-limits', registrar.rateLimits);
  await updateParent((update) => {
    setParentDs(update, original.ds);
    update.deleteRRset(ZONE, 'NS');
    for (const data of original.ns)
      update.add({ name: ZONE, type: 'NS', class: 'IN', ttl: lab.ttl, data });
    update.deleteName(IN_ZONE_NS);
  });
  const after = await delegation();
  expect(dsSet(after.ds?.records)).toEqual(dsSet(original.ds));
  expect(after.ns?.records).toEqual(original.ns);
  expect(inZoneGlue(after)).toEqual([]);
});

describe('the fake registrar as a process', () => {
  it('runs by its PID with its token in a 0600 file, never on its command line', async () => {
    expect(isRegistrarRunning(registrar)).toBe(true);
    const token = (await readFile(registrar.tokenFile, 'utf8')).trim();
    const commandLine = await readFile(`/proc/${registrar.pid}/cmdline`, 'utf8');
    expect(commandLine).not.toContain(token);
    const log = await readFile(registrar.logFile, 'utf8');
    expect(log).toContain('"event":"listening"');
    expect(log).not.toContain(token);
  });
});

describe('the registrar channel', () => {
  it('replaces the DS set, and the parent serves it', async () => {
    const desired = [...original.ds, extraDs(4701), extraDs(4702, 4)];
    const request = await channel.requestDsUpdate(ZONE, desired, {});
    expect(request.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const served = await delegation();
    expect(dsSet(served.ds?.records)).toEqual(dsSet(desired));
    expect(served.ds!.signatures.length).toBeGreaterThan(0); // the parent signed the new set
    // getDelegation is the same wire view
    expect(dsSet((await channel.getDelegation(ZONE, {})).ds?.records)).toEqual(dsSet(desired));
    // and back to the original set
    await channel.requestDsUpdate(ZONE, original.ds, {});
    expect(dsSet((await delegation()).ds?.records)).toEqual(dsSet(original.ds));
  });

  it('replaces the NS set with glue for a name inside the zone, and the parent serves both', async () => {
    await channel.requestNsUpdate(ZONE, [...original.ns, IN_ZONE_NS], {
      glue: [{ name: IN_ZONE_NS, addresses: [bind.address] }],
    });
    const served = await delegation();
    expect([...served.ns!.records].sort()).toEqual([...original.ns, IN_ZONE_NS].sort());
    expect(inZoneGlue(served)).toEqual([
      expect.objectContaining({ name: IN_ZONE_NS, addresses: [bind.address] }),
    ]);

    // A kept name inside the zone keeps the glue the parent serves for it.
    await channel.requestNsUpdate(ZONE, [IN_ZONE_NS], {});
    const kept = await delegation();
    expect(kept.ns!.records).toEqual([IN_ZONE_NS]);
    expect(inZoneGlue(kept).map((entry) => entry.addresses)).toEqual([[bind.address]]);

    // Back to the original set: the glue of the name that left goes too.
    await channel.requestNsUpdate(ZONE, original.ns, {});
    const restored = await delegation();
    expect(restored.ns!.records).toEqual(original.ns);
    expect(inZoneGlue(restored)).toEqual([]);
  });

  it('refuses a new name inside the zone without glue, before asking the registrar', async () => {
    const before = await requestCount();
    const error = await rejection(channel.requestNsUpdate(ZONE, [IN_ZONE_NS], {}));
    expect(UnsafePlanError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(`${IN_ZONE_NS} is inside ${ZONE}`);
    expect(await requestCount()).toBe(before);
  });

  it('a SHA-1 DS is a non-retryable 422 naming the field, and the parent is unchanged', async () => {
    const before = await requestCount();
    const sha1: DsData = { keyTag: 4713, algorithm: 13, digestType: 1, digest: 'EF'.repeat(20) };
    const error = await rejection(channel.requestDsUpdate(ZONE, [...original.ds, sha1], {}));
    expect(ApiCallError.isInstance(error)).toBe(true);
    const apiError = error as ApiCallError;
    expect([apiError.statusCode, apiError.isRetryable]).toEqual([422, false]);
    expect(apiError.message).toMatch(/SHA-1 DS not accepted.*\(field ds\[\d\]\.digestType\)/);
    expect((await requestsSince(before)).map((record) => record.status)).toEqual([422]);
    expect(dsSet((await delegation()).ds?.records)).toEqual(dsSet(original.ds));
  });

  it('retries a 503 under the same key until the registrar takes it', async () => {
    await admin('POST', '/_fake/faults', { match: { method: 'PUT' }, status: 503, times: 2 });
    const before = await requestCount();
    const desired = [...original.ds, extraDs(4711)];
    await channel.requestDsUpdate(ZONE, desired, {});
    expect((await requestsSince(before)).map((record) => record.status)).toEqual([503, 503, 200]);
    expect(dsSet((await delegation()).ds?.records)).toEqual(dsSet(desired));
  });

  it('waits out a 429 for as long as Retry-After says', async () => {
    await admin('POST', '/_fake/rate-limits', { api: { limit: 1, periodSeconds: 2 } });
    const before = await requestCount();
    await channel.requestDsUpdate(ZONE, [...original.ds, extraDs(4721)], {}); // takes the only token
    const desired = [...original.ds, extraDs(4722, 4)];
    await channel.requestDsUpdate(ZONE, desired, {});
    const records = await requestsSince(before);
    expect(records.map((record) => record.status)).toEqual([200, 429, 200]);
    const waited = Date.parse(records[2]!.time) - Date.parse(records[1]!.time);
    expect(waited).toBeGreaterThanOrEqual(1900);
    expect(dsSet((await delegation()).ds?.records)).toEqual(dsSet(desired));
  });

  it('a wrong token is a non-retryable 401 whose message holds no token', async () => {
    const wrongFile = path.join(directory, 'wrong.token');
    await writeFile(wrongFile, 'wrong-token-d0e1f2\n', { mode: 0o600 });
    const right = (await readFile(registrar.tokenFile, 'utf8')).trim();
    const error = await rejection(
      channelWith(wrongFile).requestDsUpdate(ZONE, [...original.ds, extraDs(4731)], {}),
    );
    expect(ApiCallError.isInstance(error)).toBe(true);
    const apiError = error as ApiCallError;
    expect([apiError.statusCode, apiError.isRetryable]).toEqual([401, false]);
    expect(apiError.message).toContain(wrongFile);
    for (const secret of ['wrong-token-d0e1f2', right]) {
      expect(apiError.message).not.toContain(secret);
      expect(JSON.stringify(apiError)).not.toContain(secret);
    }
    expect(await readFile(registrar.requestLogFile, 'utf8')).not.toContain(right);
    expect(dsSet((await delegation()).ds?.records)).toEqual(dsSet(original.ds));
  });

  it('a domain outside the account is a 403', async () => {
    const error = await rejection(channel.requestDsUpdate(lab.brokenZone, [extraDs(4741)], {}));
    expect((error as ApiCallError).statusCode).toBe(403);
  });
});

describe('Idempotency-Key', () => {
  it('the same key and body replay the first answer, and run nothing', async () => {
    const desired = [...original.ds, extraDs(4751)];
    const body = JSON.stringify({ ds: desired });
    const put = async () =>
      fetch(`${registrar.url}domains/${ZONE.replace(/\.$/, '')}/ds`, {
        method: 'PUT',
        headers: {
          Authorization: `Bearer ${(await readFile(registrar.tokenFile, 'utf8')).trim()}`,
          'Idempotency-Key': 'registrar-test-replay-1',
          'Content-Type': 'application/json',
        },
        body,
      });
    const first = await put();
    expect(first.status).toBe(200);
    const firstBody = await first.text();
    // The parent changes behind the registrar's back; a replay does not undo that.
    await updateParent((update) => setParentDs(update, original.ds));
    const again = await put();
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.text()).toBe(firstBody);
    expect(dsSet((await delegation()).ds?.records)).toEqual(dsSet(original.ds));
  });

  it('the channel sends the same set under the same key; a stale replay is sent again', async () => {
    const desired = [...original.ds, extraDs(4761)];
    const before = await requestCount();
    await channel.requestDsUpdate(ZONE, desired, {});
    // Asked again while the parent serves it: replayed, nothing more sent.
    await channel.requestDsUpdate(ZONE, [...desired].reverse(), {});
    expect((await requestsSince(before)).map((record) => record.replayed ?? false)).toEqual([
      false,
      true,
    ]);
    // The parent moves on (as in A → B → A); the replay would be stale, so the channel sends
    // the set again under a fresh key, and the parent serves it.
    await updateParent((update) => setParentDs(update, original.ds));
    const middle = await requestCount();
    await channel.requestDsUpdate(ZONE, desired, {});
    const records = await requestsSince(middle);
    expect(records.map((record) => [record.status, record.replayed ?? false])).toEqual([
      [200, true],
      [200, false],
    ]);
    expect(dsSet((await delegation()).ds?.records)).toEqual(dsSet(desired));
  });
});
