/**
 * `chorus audit` on real servers: a lab of its own on 127.87.0 (or $CHORUS_TEST_AUDIT_PREFIX)
 * without registry agent, where BIND and PowerDNS sign example.test. with their own keys. The test
 * builds the model 2 group by hand (RFC 2136 UPDATE to BIND and the parent, the PowerDNS API), no
 * Chorus process. The audit only warns while each provider keeps its KSK to itself, passes once
 * they publish each other's KSKs too (delv and ldns-verify-zone agree), and catches each fault
 * seeded on the servers with its rule; each fault is undone before the next.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnskeyData, DsData } from '@chorus/core';
import {
  computeDs,
  dnskeyIdentity,
  formatRdata,
  formatRecord,
  keyTag,
  readApexFromServer,
  readTsigKeyFile,
  runCommand,
  sendUpdate,
  transferZone,
  UpdateBuilder,
} from '@chorus/dns';
import { labDown, labUp, type LabServer, type LabStatus } from '@chorus/lab';
import { runAudit, type AuditReport } from '../../src/index.js';

const PREFIX = process.env.CHORUS_TEST_AUDIT_PREFIX ?? '127.87.0';
const ZONE = 'example.test.';
const TTL = 5;
const CLI = fileURLToPath(new URL('../../../cli/dist/main.js', import.meta.url));

let directory: string;
let lab: LabStatus;
const server = (id: string) => lab.servers.find((entry) => entry.id === id)!;
const target = (entry: LabServer) => ({ address: entry.address, port: entry.port });
const endpoint = (entry: LabServer) => `${entry.address}:${entry.port}`;
const dnskeyText = (key: DnskeyData) => formatRdata({ type: 'DNSKEY', data: key });
const dsText = (ds: DsData) => formatRdata({ type: 'DS', data: ds });

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-audit-lab-'));
  lab = await labUp({
    directory,
    addressPrefix: PREFIX,
    ttl: TTL,
    zones: [ZONE],
    registryAgent: false,
  });
}, 120_000);

afterAll(async () => {
  await labDown({ directory });
  await rm(directory, { recursive: true, force: true });
});

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 40_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function audit(extraParents: { address: string; port: number }[] = []): Promise<AuditReport> {
  return runAudit({
    zone: ZONE,
    parentZone: lab.parentZone,
    parentServers: [target(server('parent')), ...extraParents],
    childPort: lab.port,
    timeoutMs: 2000,
    retries: 0,
  });
}

/** The checks that did not pass, by id. */
function notPassing(report: AuditReport): Record<string, string> {
  return Object.fromEntries(
    report.checks
      .filter((check) => check.status !== 'pass')
      .map((check) => [check.id, check.status]),
  );
}

const details = (report: AuditReport, id: string) =>
  report.checks
    .find((check) => check.id === id)!
    .details.map((finding) => finding.message)
    .join('\n');

/** Audits until the checks that do not pass are exactly `expected` (the servers apply changes in turn). */
function auditUntil(
  expected: Record<string, string>,
  extraParents: { address: string; port: number }[] = [],
) {
  let last: AuditReport | undefined;
  return until(`the audit to show ${JSON.stringify(expected)}`, async () => {
    last = await audit(extraParents);
    return JSON.stringify(notPassing(last)) === JSON.stringify(expected) ? last : undefined;
  }).catch((error: unknown) => {
    throw new Error(
      `${String(error)}; last: ${JSON.stringify(
        last?.checks.filter((check) => check.status !== 'pass'),
        null,
        2,
      )}`,
    );
  });
}

async function updateAt(entry: LabServer, zone: string, build: (update: UpdateBuilder) => void) {
  const update = new UpdateBuilder(zone);
  build(update);
  await sendUpdate(target(entry), update, { tsig: await readTsigKeyFile(entry.tsig.keyFile) });
}

const record = <T extends 'DNSKEY' | 'CDS' | 'CDNSKEY' | 'NS' | 'DS'>(
  name: string,
  type: T,
  data: unknown,
) => ({ name, type, class: 'IN' as const, ttl: TTL, data }) as never;

/** Replaces backend RRsets of the zone through the PowerDNS API. */
async function patchPowerDns(rrsets: { type: string; records: string[]; ttl?: number }[]) {
  const powerdns = server('powerdns');
  if (powerdns.control.kind !== 'powerdns-api') throw new Error('PowerDNS without its API');
  const apiKey = (await readFile(powerdns.control.apiKeyFile, 'utf8')).trim();
  const body = {
    rrsets: rrsets.map((entry) => ({
      name: ZONE,
      type: entry.type,
      ttl: entry.ttl ?? TTL,
      changetype: entry.records.length > 0 ? 'REPLACE' : 'DELETE',
      records: entry.records.map((content) => ({ content, disabled: false })),
    })),
  };
  const response = await fetch(`${powerdns.control.url}/zones/${ZONE}`, {
    method: 'PATCH',
    headers: { 'X-API-Key': apiKey, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`PowerDNS PATCH: ${response.status} ${await response.text()}`);
}

/** What the two providers serve of their own, read once the lab is up. */
interface Own {
  bindKeys: DnskeyData[];
  powerDnsKeys: DnskeyData[];
  cds: DsData[];
  cdnskey: DnskeyData[];
  bindCds: DsData[];
  bindCdnskey: DnskeyData[];
  powerDnsCds: DsData[];
  powerDnsCdnskey: DnskeyData[];
}
let own: Own;
const ns = () => [server('bind').nameserverName, server('powerdns').nameserverName];
const byFlags = (keys: DnskeyData[], flags: number) => keys.filter((key) => key.flags === flags);

async function readOwn(): Promise<Own> {
  const bind = await readApexFromServer(target(server('bind')), ZONE);
  const powerdns = await readApexFromServer(target(server('powerdns')), ZONE);
  const bindCds = bind.cds?.records ?? [];
  const powerDnsCds = powerdns.cds?.records ?? [];
  const bindCdnskey = bind.cdnskey?.records ?? [];
  const powerDnsCdnskey = powerdns.cdnskey?.records ?? [];
  return {
    bindKeys: bind.dnskey!.records,
    powerDnsKeys: powerdns.dnskey!.records,
    cds: [...bindCds, ...powerDnsCds],
    cdnskey: [...bindCdnskey, ...powerDnsCdnskey],
    bindCds,
    bindCdnskey,
    powerDnsCds,
    powerDnsCdnskey,
  };
}

/** What PowerDNS holds of BIND's in its backend: BIND's ZSKs, and with `ksk` its KSKs too. */
function powerDnsBackend(ksk: boolean, keys = own.bindKeys) {
  const imported = keys.filter((key) => key.flags === 256 || ksk);
  return [
    { type: 'DNSKEY', records: imported.map(dnskeyText) },
    { type: 'CDS', records: own.bindCds.map(dsText) },
    { type: 'CDNSKEY', records: own.bindCdnskey.map(dnskeyText) },
    { type: 'NS', records: ns() },
  ];
}

/** Step 1 by hand: each provider publishes the other's ZSKs, CDS and CDNSKEY, and the union NS. */
async function buildGroup(): Promise<void> {
  own = await readOwn();
  await updateAt(server('bind'), ZONE, (update) => {
    for (const key of byFlags(own.powerDnsKeys, 256)) update.add(record(ZONE, 'DNSKEY', key));
    for (const ds of own.powerDnsCds) update.add(record(ZONE, 'CDS', ds));
    for (const key of own.powerDnsCdnskey) update.add(record(ZONE, 'CDNSKEY', key));
    update.add(record(ZONE, 'NS', server('powerdns').nameserverName));
  });
  await patchPowerDns(powerDnsBackend(false));
  await updateAt(server('parent'), lab.parentZone, (update) => {
    update.add(record(ZONE, 'NS', server('powerdns').nameserverName));
    for (const key of byFlags(own.powerDnsKeys, 257))
      update.add(record(ZONE, 'DS', computeDs(ZONE, key, 2)));
  });
}

async function run(program: string, args: string[]) {
  return runCommand(program, args, { timeoutMs: 30_000, allowFailure: true });
}

/** `chorus audit` as an operator runs it: the built CLI. */
async function chorusAudit(...extra: string[]) {
  expect(existsSync(CLI), `${CLI} is missing: run "pnpm -s build" first`).toBe(true);
  const parent = server('parent');
  return run(process.execPath, [
    CLI,
    'audit',
    ZONE,
    '--parent-server',
    endpoint(parent),
    '--port',
    String(lab.port),
    ...extra,
  ]);
}

async function delv(resolverId: string, type: string) {
  const resolver = lab.resolvers.find((entry) => entry.id === resolverId)!;
  const anchor = lab.trustAnchor;
  return run('delv', [
    '-a',
    anchor.delvFile,
    `@${resolver.address}`,
    '-p',
    String(resolver.port),
    ZONE,
    type,
    `+root=${anchor.zone}`,
  ]);
}

/** The zone's DS lines, as delv validates them from the lab's trust anchor. */
async function validatedDs(): Promise<string[]> {
  const answer = await delv('resolver-delegation', 'DS');
  expect(answer.stdout).toContain('; fully validated');
  return answer.stdout.split('\n').filter((line) => /\sIN\s+DS\s/.test(line));
}

/** AXFR from `entry`, then ldns-verify-zone with the validated DS lines as the zone's trust anchor. */
async function ldnsVerify(entry: LabServer, dsLines: string[]) {
  const records = await transferZone(target(entry), ZONE);
  const lines = [...new Set(records.map(formatRecord))];
  const zoneFile = path.join(directory, `${entry.id}.zone`);
  const anchorFile = path.join(directory, 'ds.anchor');
  await writeFile(zoneFile, `${lines.join('\n')}\n`);
  await writeFile(anchorFile, `${dsLines.join('\n')}\n`);
  return run('ldns-verify-zone', ['-k', anchorFile, zoneFile]);
}

/** A valid P-256 key whose tag is `tag`: keys are made until one has it (about 65,536 tries). */
function keyWithTag(tag: number, flags: number): DnskeyData {
  for (;;) {
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      format: 'jwk',
    });
    const raw = Buffer.concat([Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
    const key = { flags, protocol: 3, algorithm: 13, publicKey: raw.toString('base64') };
    if (keyTag(key) === tag) return key;
  }
}

describe('chorus audit on a model 2 group built by hand', () => {
  it('only warns while each provider keeps its own KSK out of the other DNSKEY RRset', async () => {
    await buildGroup();
    const report = await auditUntil({ 'dnskey-consistent': 'warn' });
    expect(report.status).toBe('warn');
    // BIND signs CDS/CDNSKEY with its KSK alone (RFC 7344 §4.1), which PowerDNS does not publish.
    const bindKsk = byFlags(own.bindKeys, 257)[0]!;
    expect(details(report, 'dnskey-consistent')).toContain(
      `the DNSKEY RRset at ${endpoint(server('powerdns'))} lacks ${keyTag(bindKsk)} (KSK, algorithm 13), which signs ${ZONE} CDS, ${ZONE} CDNSKEY at ${endpoint(server('bind'))} with a KSK alone`,
    );
    expect(details(report, 'dnskey-consistent')).toContain('nothing served needs it there');
    expect(report.servers.child.map((entry) => entry.server).sort()).toEqual(
      [endpoint(server('bind')), endpoint(server('powerdns'))].sort(),
    );
  }, 120_000);

  it('passes once the KSKs are shared too, and delv and ldns-verify-zone agree', async () => {
    await updateAt(server('bind'), ZONE, (update) => {
      for (const key of byFlags(own.powerDnsKeys, 257)) update.add(record(ZONE, 'DNSKEY', key));
    });
    await patchPowerDns(powerDnsBackend(true));
    const report = await auditUntil({});
    expect(report.status).toBe('pass');
    expect(report.checks.map((check) => check.status)).toEqual(Array(8).fill('pass'));
    const cli = await chorusAudit('--json');
    expect(cli.exitCode, cli.stderr).toBe(0);
    expect((JSON.parse(cli.stdout) as AuditReport).status).toBe('pass');

    // delv validates from the lab's trust anchor, through each provider's view.
    for (const resolver of ['resolver-delegation', 'resolver-bind', 'resolver-powerdns']) {
      const answer = await delv(resolver, 'SOA');
      expect(answer.stdout + answer.stderr, resolver).toContain('; fully validated');
    }
    // The DS it validates is the anchor ldns-verify-zone checks each provider's AXFR with.
    const dsLines = await validatedDs();
    expect(dsLines).toHaveLength(own.cds.length);
    for (const id of ['bind', 'powerdns']) {
      const verdict = await ldnsVerify(server(id), dsLines);
      expect(verdict.exitCode, `${id}: ${verdict.stdout}${verdict.stderr}`).toBe(0);
      expect(verdict.stdout + verdict.stderr).toContain('Zone is verified and complete');
    }
  }, 180_000);

  it("dnskey-consistent: BIND's ZSK missing at PowerDNS", async () => {
    await patchPowerDns([{ type: 'DNSKEY', records: byFlags(own.bindKeys, 257).map(dnskeyText) }]);
    const report = await auditUntil({ 'dnskey-consistent': 'fail' });
    const zsk = byFlags(own.bindKeys, 256)[0]!;
    expect(details(report, 'dnskey-consistent')).toContain(
      `the DNSKEY RRset at ${endpoint(server('powerdns'))} lacks ${keyTag(zsk)} (ZSK, algorithm 13), which signs`,
    );
    // Each provider alone is consistent: one-server tools see nothing wrong.
    for (const resolver of ['resolver-bind', 'resolver-powerdns']) {
      expect((await delv(resolver, 'SOA')).stdout, resolver).toContain('; fully validated');
    }
    expect((await ldnsVerify(server('powerdns'), await validatedDs())).exitCode).toBe(0);
    await patchPowerDns(powerDnsBackend(true));
    await auditUntil({});
  }, 120_000);

  it('ds-ksk: a DS for no key at the parent is a warning (exit 0)', async () => {
    const stray: DsData = {
      keyTag: 4711,
      algorithm: 13,
      digestType: 2,
      digest: 'C0FFEE'.repeat(10) + 'C0FF',
    };
    await updateAt(server('parent'), lab.parentZone, (update) =>
      update.add(record(ZONE, 'DS', stray)),
    );
    const report = await auditUntil({ 'ds-ksk': 'warn' });
    expect(details(report, 'ds-ksk')).toBe(
      'DS 4711 (algorithm 13, digest type 2) matches no DNSKEY at any address',
    );
    expect((await chorusAudit()).exitCode).toBe(0);
    await updateAt(server('parent'), lab.parentZone, (update) =>
      update.deleteRecord(record(ZONE, 'DS', stray)),
    );
    await auditUntil({});
  }, 120_000);

  it('cds-consistent: a CDS that only BIND serves', async () => {
    const extra: DsData = { keyTag: 4242, algorithm: 13, digestType: 2, digest: 'AB'.repeat(32) };
    await updateAt(server('bind'), ZONE, (update) => update.add(record(ZONE, 'CDS', extra)));
    const report = await auditUntil({ 'cds-consistent': 'fail' });
    expect(details(report, 'cds-consistent')).toContain('the CDS RRsets differ');
    expect(details(report, 'cds-consistent')).toContain(
      `${endpoint(server('bind'))}: CDS and CDNSKEY name different keys: CDS 4242 has no CDNSKEY`,
    );
    await updateAt(server('bind'), ZONE, (update) =>
      update.deleteRecord(record(ZONE, 'CDS', extra)),
    );
    await auditUntil({});
  }, 120_000);

  it("ns-agree: PowerDNS drops BIND's name from its apex NS (exit 1)", async () => {
    await patchPowerDns([{ type: 'NS', records: [server('powerdns').nameserverName] }]);
    const report = await auditUntil({ 'ns-agree': 'fail' });
    expect(details(report, 'ns-agree')).toContain(
      `the apex NS RRset at ${endpoint(server('powerdns'))} lacks ${server('bind').nameserverName}`,
    );
    const cli = await chorusAudit();
    expect(cli.exitCode).toBe(1);
    expect(cli.stdout).toContain('FAIL  ns-agree');
    await patchPowerDns([{ type: 'NS', records: ns() }]);
    await auditUntil({});
  }, 120_000);

  it('signature-lifetimes: an apex NS TTL of 40 days outlives its RRSIG at PowerDNS', async () => {
    await patchPowerDns([{ type: 'NS', records: ns(), ttl: 40 * 86_400 }]);
    const report = await auditUntil({ 'signature-lifetimes': 'fail' });
    expect(details(report, 'signature-lifetimes')).toMatch(
      new RegExp(
        `^${ZONE.replace(/\./g, '\\.')} NS at ${endpoint(server('powerdns')).replace(/\./g, '\\.')}: RRSIG by \\d+ expires at .*within the TTL of 3456000 s`,
      ),
    );
    await patchPowerDns([{ type: 'NS', records: ns() }]);
    await auditUntil({});
  }, 120_000);

  it("key-tags: BIND publishes a key with the tag of PowerDNS's ZSK", async () => {
    const zsk = byFlags(own.powerDnsKeys, 256)[0]!;
    const twin = keyWithTag(keyTag(zsk), 256);
    expect(dnskeyIdentity(twin)).not.toBe(dnskeyIdentity(zsk));
    await updateAt(server('bind'), ZONE, (update) => update.add(record(ZONE, 'DNSKEY', twin)));
    const report = await auditUntil({ 'dnskey-consistent': 'warn', 'key-tags': 'fail' });
    expect(details(report, 'key-tags')).toContain(
      `2 different DNSKEYs share the key tag ${keyTag(zsk)}`,
    );
    await updateAt(server('bind'), ZONE, (update) =>
      update.deleteRecord(record(ZONE, 'DNSKEY', twin)),
    );
    await auditUntil({});
  }, 120_000);

  it('reachable: a parent server nobody answers on is a failing row, not a crash', async () => {
    const nobody = { address: `${PREFIX}.99`, port: lab.port };
    const report = await auditUntil({ reachable: 'fail' }, [nobody]);
    expect(report.checks.find((check) => check.id === 'reachable')!.servers).toEqual([
      `${PREFIX}.99:${lab.port}`,
    ]);
    expect(report.servers.parent.map((entry) => entry.status)).toEqual(['answered', 'unreachable']);
  }, 120_000);
});
