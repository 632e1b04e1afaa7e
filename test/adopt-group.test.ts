/**
 * Taking over a zone signed by several providers by hand: a lab without the registry agent, where
 * BIND and PowerDNS each sign example.test. and other.test. with their own keys. The test builds
 * the model 2 group of example.test. itself, without any Chorus process (each server publishes
 * the other's ZSK, CDS and CDNSKEY and the union NS set through RFC 2136 UPDATE or the PowerDNS
 * API; the parent gets PowerDNS's DS and NS), and leaves other.test. half-built. Then
 * `chorus zone define --signer bind --signer powerdns` adopts example.test., recording which NS
 * names belong to which signer, and refuses other.test. with reasons, appending nothing.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  sidecarConfigFor,
  startSidecarProcess,
  stopSidecarProcess,
  type RunningSidecar,
} from '@chorus/cli';
import { labDown, labUp, type LabServer, type LabStatus } from '@chorus/lab';
import {
  computeDs,
  dnskeyIdentity,
  dsIdentity,
  formatRdata,
  readApexFromServer,
  readTsigKeyFile,
  sendUpdate,
  UpdateBuilder,
} from '@chorus/dns';
import { createSqliteEventLog } from '@chorus/event-log-sqlite';
import {
  zoneStream,
  type ApexSnapshot,
  type DnskeyData,
  type DsData,
  type ZoneEvent,
} from '@chorus/core';
import { foldZone, type ZoneState } from '@chorus/engine';
import { chorusOnLog, until } from './helpers/operator.js';

// CHORUS_TEST_ADOPT_PREFIX lets several test runs share one machine without colliding.
const PREFIX = process.env.CHORUS_TEST_ADOPT_PREFIX ?? '127.63.0';
const BUILT = 'example.test.';
const HALF_BUILT = 'other.test.';
const TTL = 5;

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

async function zoneState(sqliteFile: string, zone: string): Promise<ZoneState> {
  const log = createSqliteEventLog<ZoneEvent>({ path: sqliteFile });
  try {
    const events = await log.readStream(zoneStream(zone));
    return foldZone(
      zone,
      events.map((recorded) => recorded.event),
    );
  } finally {
    await log.close();
  }
}

const target = (server: LabServer) => ({ address: server.address, port: server.port });
const zskOf = (apex: ApexSnapshot) => apex.dnskey!.records.filter((key) => key.flags === 256);
const kskOf = (apex: ApexSnapshot) => apex.dnskey!.records.filter((key) => key.flags === 257);
const dnskeyText = (key: DnskeyData) => formatRdata({ type: 'DNSKEY', data: key });
const dsText = (ds: DsData) => formatRdata({ type: 'DS', data: ds });

/** What one signer of a zone is to publish of the other, besides its own. */
interface Publication {
  zsks: DnskeyData[];
  cds: DsData[];
  cdnskeys: DnskeyData[];
  ns: string[];
}

/** RFC 2136 UPDATE to BIND, with the lab's TSIG key: adds what it does not serve yet. */
async function publishAtBind(
  bind: LabServer,
  zone: string,
  served: ApexSnapshot,
  add: Publication,
) {
  const update = new UpdateBuilder(zone);
  const has = (type: 'DNSKEY' | 'CDNSKEY', key: DnskeyData) =>
    (type === 'DNSKEY' ? served.dnskey : served.cdnskey)?.records.some(
      (record) => dnskeyIdentity(record) === dnskeyIdentity(key),
    ) ?? false;
  for (const key of add.zsks)
    if (!has('DNSKEY', key))
      update.add({ name: zone, type: 'DNSKEY', class: 'IN', ttl: TTL, data: key });
  for (const key of add.cdnskeys)
    if (!has('CDNSKEY', key))
      update.add({ name: zone, type: 'CDNSKEY', class: 'IN', ttl: TTL, data: key });
  const cds = new Set((served.cds?.records ?? []).map(dsIdentity));
  for (const ds of add.cds)
    if (!cds.has(dsIdentity(ds)))
      update.add({ name: zone, type: 'CDS', class: 'IN', ttl: TTL, data: ds });
  for (const name of add.ns)
    update.add({ name: zone, type: 'NS', class: 'IN', ttl: TTL, data: name });
  await sendUpdate(target(bind), update, { tsig: await readTsigKeyFile(bind.tsig.keyFile) });
}

/**
 * The PowerDNS API: backend rrsets next to the keys, CDS and CDNSKEY PowerDNS makes itself
 * (direct-dnskey=yes serves them), and the apex NS set replaced by the union.
 */
async function publishAtPowerDns(powerdns: LabServer, zone: string, add: Publication) {
  if (powerdns.control.kind !== 'powerdns-api') throw new Error('PowerDNS without its API');
  const apiKey = (await readFile(powerdns.control.apiKeyFile, 'utf8')).trim();
  const rrset = (type: string, contents: string[]) => ({
    name: zone,
    type,
    ttl: TTL,
    changetype: 'REPLACE',
    records: contents.map((content) => ({ content, disabled: false })),
  });
  const rrsets = [
    rrset('DNSKEY', add.zsks.map(dnskeyText)),
    rrset('CDS', add.cds.map(dsText)),
    rrset('CDNSKEY', add.cdnskeys.map(dnskeyText)),
    rrset('NS', add.ns),
  ].filter((entry) => entry.records.length > 0);
  const response = await fetch(`${powerdns.control.url}/zones/${zone}`, {
    method: 'PATCH',
    headers: { 'X-API-Key': apiKey, 'Content-Type': 'application/json' },
    body: JSON.stringify({ rrsets }),
  });
  if (!response.ok)
    throw new Error(`PowerDNS PATCH ${zone}: ${response.status} ${await response.text()}`);
}

/** Waits until `server` serves `zone` as `check` wants (the servers' caches answer for a while). */
async function untilServed(
  server: LabServer,
  zone: string,
  check: (apex: ApexSnapshot) => boolean,
) {
  await until(`${server.id} to serve the change of ${zone}`, async () => {
    const apex = await readApexFromServer(target(server), zone);
    return check(apex) ? apex : undefined;
  });
}

describe('adopting a group signed by hand', () => {
  it('adopts a consistent group, and refuses a half-built one with reasons', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'chorus-adopt-'));
    cleanup.push(() => rm(directory, { recursive: true, force: true }));
    cleanup.push(() => labDown({ directory }));
    const lab: LabStatus = await labUp({
      directory,
      addressPrefix: PREFIX,
      ttl: TTL,
      zones: [BUILT, HALF_BUILT],
      registryAgent: false,
    });
    const server = (id: string) => lab.servers.find((entry) => entry.id === id)!;
    const [bind, powerdns, parent] = [server('bind'), server('powerdns'), server('parent')];
    const demo = path.join(lab.directory, 'demo');
    await mkdir(demo, { recursive: true, mode: 0o700 });
    const sqliteFile = path.join(demo, 'events.sqlite');

    // 1. By hand, no Chorus process: each signer publishes the other's ZSK, CDS and CDNSKEY and
    // the union NS set; the parent gets PowerDNS's DS and NS. other.test.: only half of it.
    const parentTsig = await readTsigKeyFile(parent.tsig.keyFile);
    const half = async (zone: string, complete: boolean) => {
      const atBind = await readApexFromServer(target(bind), zone);
      const atPowerDns = await readApexFromServer(target(powerdns), zone);
      const dsOf = (apex: ApexSnapshot) => kskOf(apex).map((key) => computeDs(zone, key, 2));
      const ns = [bind.nameserverName, powerdns.nameserverName];
      // BIND: whatever of the group's set it lacks; PowerDNS makes its own CDS and CDNSKEY.
      await publishAtBind(bind, zone, atBind, {
        zsks: complete ? zskOf(atPowerDns) : [],
        cds: complete ? [...dsOf(atBind), ...dsOf(atPowerDns)] : [],
        cdnskeys: complete ? [...kskOf(atBind), ...kskOf(atPowerDns)] : [],
        ns,
      });
      await publishAtPowerDns(powerdns, zone, {
        zsks: zskOf(atBind),
        cds: dsOf(atBind),
        cdnskeys: kskOf(atBind),
        ns,
      });
      const update = new UpdateBuilder(lab.parentZone).add({
        name: zone,
        type: 'NS',
        class: 'IN',
        ttl: TTL,
        data: powerdns.nameserverName,
      });
      if (complete)
        for (const ds of dsOf(atPowerDns))
          update.add({ name: zone, type: 'DS', class: 'IN', ttl: TTL, data: ds });
      await sendUpdate(target(parent), update, { tsig: parentTsig });
      const zsk = zskOf(atBind)[0]!;
      await untilServed(powerdns, zone, (apex) =>
        (apex.dnskey?.records ?? []).some((key) => dnskeyIdentity(key) === dnskeyIdentity(zsk)),
      );
      await untilServed(bind, zone, (apex) => (apex.ns?.records.length ?? 0) === 2);
    };
    await half(BUILT, true);
    await half(HALF_BUILT, false);

    // 2. The sidecars register both zones, their keys and content.
    const sidecars: RunningSidecar[] = [];
    cleanup.push(() => Promise.all(sidecars.map((sidecar) => stopSidecarProcess(sidecar))));
    for (const signer of [bind, powerdns]) {
      const config = {
        ...sidecarConfigFor(lab, signer, sqliteFile, BUILT),
        zones: [BUILT, HALF_BUILT],
      };
      sidecars.push(await startSidecarProcess(demo, config));
    }
    const registered = (state: ZoneState | null) =>
      state !== null &&
      ['bind', 'powerdns'].every(
        (id) => state.signers[id]?.keysObservedAt && state.signers[id]?.content,
      );
    for (const zone of [BUILT, HALF_BUILT])
      // The sidecars create the log: it is read only once it exists.
      await until(`both sidecars to register ${zone} with keys and content`, async () =>
        existsSync(sqliteFile) && registered(await zoneState(sqliteFile, zone).catch(() => null))
          ? true
          : undefined,
      );

    // 3. zone define adopts example.test.; asked again only while a signer is not registered.
    const define = (zone: string, extra: string[] = []) =>
      until(`zone define ${zone} to answer`, async () => {
        const result = await chorusOnLog(sqliteFile, [
          'zone',
          'define',
          zone,
          '--signer',
          'bind',
          '--signer',
          'powerdns',
          '--parent-server',
          `${parent.address}:${parent.port}`,
          '--record-ttl',
          String(TTL),
          '--max-zone-ttl',
          String(TTL),
          '--child-propagation',
          '1',
          '--parent-propagation',
          '1',
          '--safety-margin',
          '1',
          ...extra,
        ]);
        return result.code !== 0 && /not registered/.test(result.stderr) ? undefined : result;
      });
    const adopted = await define(BUILT);
    expect(adopted.code, adopted.stderr).toBe(0);
    expect(adopted.stdout).toContain(`${bind.id}: NS ${bind.nameserverName}`);
    const built = await zoneState(sqliteFile, BUILT);
    expect(built.members).toEqual(['bind', 'powerdns']);
    const log = createSqliteEventLog<ZoneEvent>({ path: sqliteFile });
    const definedEvent = (await log.readStream(zoneStream(BUILT)))
      .map((recorded) => recorded.event)
      .find((event) => event.type === 'zone-defined');
    await log.close();
    expect(definedEvent?.type === 'zone-defined' && definedEvent.data.adopted).toMatchObject({
      parentServers: [`${parent.address}:${parent.port}`],
      nameServers: { bind: [bind.nameserverName], powerdns: [powerdns.nameserverName] },
    });

    // 4. other.test. is refused: BIND lacks PowerDNS's ZSK, the parent its DS. Nothing appended.
    const before = await zoneState(sqliteFile, HALF_BUILT);
    const refused = await define(HALF_BUILT, ['--json']);
    expect(refused.code).toBe(1);
    const { findings } = JSON.parse(refused.stdout) as {
      findings: { code: string; message: string }[];
    };
    const powerDnsZsk = zskOf(await readApexFromServer(target(powerdns), HALF_BUILT))[0]!;
    const zskTag = before.signers.powerdns!.keys.find((key) => key.role === 'ZSK')!.keyTag;
    expect(findings).toContainEqual({
      code: 'dnskey-missing',
      message: expect.stringContaining(
        `bind at ${bind.address}:${bind.port} does not serve the ZSK ${zskTag} of powerdns`,
      ),
    });
    expect(findings.find((entry) => entry.code === 'dnskey-missing')!.message).toContain(
      dnskeyText(powerDnsZsk),
    );
    expect(findings).toContainEqual({
      code: 'ds-missing',
      message: expect.stringMatching(/holds no DS for the KSK \d+ of powerdns/),
    });
    const after = await zoneState(sqliteFile, HALF_BUILT);
    expect(after.defined).toBe(false);
    expect((await chorusOnLog(sqliteFile, ['events', HALF_BUILT])).stdout).not.toContain(
      'defined with',
    );
    // The text form lists every reason too.
    const text = await define(HALF_BUILT);
    expect(text.code).toBe(1);
    expect(text.stderr).toContain(`cannot adopt ${HALF_BUILT} as signed by bind, powerdns`);
    expect(text.stderr.split('\n').filter((line) => line.startsWith('  ['))).toHaveLength(
      findings.length,
    );

    // 5. The adopted group is what status shows.
    const status = await chorusOnLog(sqliteFile, ['status', BUILT]);
    expect(status.stdout).toContain(`${BUILT}  group: bind, powerdns`);
    // And its history says how: adopted as it stood, with each signer's NS names.
    const history = await chorusOnLog(sqliteFile, ['events', BUILT]);
    expect(history.stdout).toMatch(
      /adopted as it stood on the wire at \S+ \(bind: ns\.bind\.test\.; powerdns: ns\.powerdns\.test\.\)/,
    );
  }, 300_000);
});
