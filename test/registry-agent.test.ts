/**
 * The lab parent's registry agent against the real lab (test/global-setup.ts starts the lab
 * without one, so nothing acts on what other tests publish): signers publish CDS/CDNSKEY and
 * CSYNC by DNS UPDATE on the BIND signer, the only delegated one, and the agent updates `test.`
 * only when every delegated server agrees and validates.
 *
 * Everything happens on conformance.test.; afterEach puts BIND's apex and the parent's
 * delegation back as they were.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  buildNotify,
  decodeMessage,
  dnskeyIdentity,
  dsIdentity,
  encodeMessage,
  exchange,
  query,
  readTsigKeyFile,
  sendUpdate,
  UpdateBuilder,
  type TsigKey,
} from '@chorus/dns';
import { observeDelegation, type ScanReasonCode } from '@chorus/parent';
import type { CsyncData, DnskeyData, DnsRecord, DsData, NameServer, RRset } from '@chorus/core';
import {
  isRegistryAgentRunning,
  registryAgentConfigFromStatus,
  runRegistryScanOnce,
  startRegistryAgent,
  stopRegistryAgent,
  type LabRegistryAgent,
  type RegistryAgentLogEntry,
} from '@chorus/lab';
import { CONFORMANCE_ZONE, endpoint, labServer, waitUntil } from '@chorus/lab/testing';

const lab = inject('lab');
const ZONE = CONFORMANCE_ZONE;
const parent = labServer(lab, 'parent');
const bind = labServer(lab, 'bind');
const powerdns = labServer(lab, 'powerdns');
const knot = labServer(lab, 'knot');
const config = registryAgentConfigFromStatus(lab, { zones: [ZONE], notify: null, timeoutMs: 1500 });

let bindTsig: TsigKey;
let parentTsig: TsigKey;

type ApexType = 'CDS' | 'CDNSKEY' | 'NS' | 'CSYNC';

async function rrset<T extends ApexType | 'DNSKEY'>(
  server: NameServer,
  type: T,
): Promise<RRset<T> | null> {
  const response = await query(server, ZONE, type, { transport: 'tcp' });
  expect(response.flags.aa, `${ZONE} ${type} at ${server.address}`).toBe(true);
  return (response.answers.find((set) => set.type === type && set.records.length > 0) ??
    null) as RRset<T> | null;
}

/** A signer's own KSK as it publishes it in CDS and CDNSKEY (every lab signer does). */
async function ownKsk(server: NameServer): Promise<{ cds: DsData; cdnskey: DnskeyData }> {
  const cds = (await rrset(server, 'CDS'))!.records[0]!;
  const cdnskey = (await rrset(server, 'CDNSKEY'))!.records[0]!;
  return { cds, cdnskey };
}

function record(type: 'CDS', data: DsData): DnsRecord;
function record(type: 'CDNSKEY', data: DnskeyData): DnsRecord;
function record(type: 'NS', data: string): DnsRecord;
function record(type: 'CSYNC', data: CsyncData): DnsRecord;
function record(type: ApexType, data: unknown): DnsRecord {
  return { name: ZONE, type, class: 'IN', ttl: lab.ttl, data } as DnsRecord;
}

async function updateBind(build: (update: UpdateBuilder) => void): Promise<void> {
  const update = new UpdateBuilder(ZONE);
  build(update);
  await sendUpdate(endpoint(bind), update, { tsig: bindTsig });
}

async function updateParent(build: (update: UpdateBuilder) => void): Promise<void> {
  const update = new UpdateBuilder(lab.parentZone);
  build(update);
  await sendUpdate(endpoint(parent), update, { tsig: parentTsig });
}

function delegation() {
  return observeDelegation(lab.parentZone, [endpoint(parent)], ZONE);
}

const dsSet = (records: readonly DsData[]) => records.map(dsIdentity).sort();

interface ApexSnapshot {
  cds: DsData[];
  cdnskey: DnskeyData[];
  ns: string[];
  csync: CsyncData[];
}

let original: { bind: ApexSnapshot; parentDs: DsData[]; parentNs: string[] };

async function snapshotBind(): Promise<ApexSnapshot> {
  return {
    cds: (await rrset(endpoint(bind), 'CDS'))?.records ?? [],
    cdnskey: (await rrset(endpoint(bind), 'CDNSKEY'))?.records ?? [],
    ns: (await rrset(endpoint(bind), 'NS'))?.records ?? [],
    csync: (await rrset(endpoint(bind), 'CSYNC'))?.records ?? [],
  };
}

/** Names this file adds to the parent zone for unreachable or rewriting nameservers. */
const EXTRA_NAMES = ['ns.gone.test.', 'ns.unsigned.test.'];

beforeAll(async () => {
  bindTsig = await readTsigKeyFile(bind.tsig.keyFile);
  parentTsig = await readTsigKeyFile(parent.tsig.keyFile);
  const current = await delegation();
  original = {
    bind: await snapshotBind(),
    parentDs: current.ds?.records ?? [],
    parentNs: current.ns?.records ?? [],
  };
  expect(original.parentNs).toEqual([bind.nameserverName]);
});

/** Puts BIND's apex and the parent's delegation of ZONE back as they were. */
async function restore(): Promise<void> {
  const now = await snapshotBind();
  await updateBind((update) => {
    const cdsKeep = new Set(original.bind.cds.map(dsIdentity));
    const keyKeep = new Set(original.bind.cdnskey.map(dnskeyIdentity));
    for (const data of now.cds.filter((ds) => !cdsKeep.has(dsIdentity(ds)))) {
      update.deleteRecord(record('CDS', data));
    }
    for (const data of now.cdnskey.filter((key) => !keyKeep.has(dnskeyIdentity(key)))) {
      update.deleteRecord(record('CDNSKEY', data));
    }
    for (const name of original.bind.ns) update.add(record('NS', name));
    for (const name of now.ns.filter((item) => !original.bind.ns.includes(item))) {
      update.deleteRecord(record('NS', name));
    }
    update.deleteRRset(ZONE, 'CSYNC');
    for (const data of original.bind.csync) update.add(record('CSYNC', data));
  });
  await updateParent((update) => {
    update.deleteRRset(ZONE, 'DS');
    for (const data of original.parentDs) {
      update.add({ name: ZONE, type: 'DS', class: 'IN', ttl: lab.ttl, data });
    }
    update.deleteRRset(ZONE, 'NS');
    for (const data of original.parentNs) {
      update.add({ name: ZONE, type: 'NS', class: 'IN', ttl: lab.ttl, data });
    }
    for (const name of EXTRA_NAMES) update.deleteName(name);
  });
  const after = await delegation();
  expect(dsSet(after.ds?.records ?? [])).toEqual(dsSet(original.parentDs));
  expect(after.ns?.records).toEqual(original.parentNs);
}

afterEach(restore);

function codes(reasons: { code: ScanReasonCode }[]): ScanReasonCode[] {
  return reasons.map((reason) => reason.code);
}

describe('the registry agent as a process (NOTIFY-triggered)', () => {
  let directory: string;
  let agent: LabRegistryAgent;
  const notifyEndpoint = { address: `${lab.addressPrefix}.60`, port: lab.port };

  async function logEntries(): Promise<RegistryAgentLogEntry[]> {
    const text = await readFile(agent.logFile, 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as RegistryAgentLogEntry);
  }

  async function notify(type: 'CDS' | 'CSYNC') {
    const result = await exchange(notifyEndpoint, buildNotify(ZONE, type), { timeoutMs: 1000 });
    return result.message;
  }

  beforeAll(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-registry-agent-'));
    const configFile = path.join(directory, 'agent.json');
    // A long interval: after the first scan, only NOTIFY makes it scan again.
    await writeFile(
      configFile,
      JSON.stringify({
        ...config,
        notify: notifyEndpoint,
        intervalMs: 600_000,
        pidFile: path.join(directory, 'agent.pid'),
      }),
    );
    const cliMain = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
    agent = {
      id: 'registry-agent',
      software: 'node',
      pid: 0,
      alive: false,
      binary: process.execPath,
      arguments: [cliMain, 'lab', 'registry-agent', '--config', configFile],
      directory,
      configFile,
      logFile: path.join(directory, 'agent.log'),
      pidFile: path.join(directory, 'agent.pid'),
      address: notifyEndpoint.address,
      port: notifyEndpoint.port,
      intervalMs: 600_000,
      parentZone: lab.parentZone,
      zones: [ZONE],
    };
    agent.pid = await startRegistryAgent(agent);
    await waitUntil('the agent’s first decision', async () =>
      (await logEntries()).find((entry) => entry.event === 'decision'),
    );
  });

  afterAll(async () => {
    if (agent.pid > 0) await stopRegistryAgent(agent);
    await rm(directory, { recursive: true, force: true });
  });

  it('runs as its own process with a PID file, and logs its start as JSON', async () => {
    expect(isRegistryAgentRunning(agent)).toBe(true);
    expect((await readFile(agent.pidFile, 'utf8')).trim()).toBe(String(agent.pid));
    const entries = await logEntries();
    expect(entries[0]).toMatchObject({ event: 'started', pid: agent.pid, zones: [ZONE] });
    expect(entries[1]).toMatchObject({
      event: 'decision',
      zone: ZONE,
      trigger: 'start',
      ds: { action: 'none', status: 'in-sync' },
    });
  });

  it('answers NOTIFY for its zones with NOERROR and AA, and REFUSED for others', async () => {
    const accepted = await notify('CSYNC');
    expect(accepted.rcode).toBe('NOERROR');
    expect(accepted.flags.aa).toBe(true);
    const other = await exchange(notifyEndpoint, buildNotify('example.test.', 'CDS'), {
      timeoutMs: 1000,
    });
    expect(other.message.rcode).toBe('REFUSED');
    await waitUntil('the notify log lines', async () => {
      const notices = (await logEntries()).filter((entry) => entry.event === 'notify');
      return notices.length >= 2 ? notices : undefined;
    });
  });

  it('(a) updates the parent DS to exactly the CDS set once BIND publishes PowerDNS’s KSK', async () => {
    const pdns = await ownKsk(endpoint(powerdns));
    await updateBind((update) =>
      update.add(record('CDS', pdns.cds)).add(record('CDNSKEY', pdns.cdnskey)),
    );
    const published = (await rrset(endpoint(bind), 'CDS'))!.records;
    expect(published).toHaveLength(2);
    expect((await notify('CDS')).rcode).toBe('NOERROR');
    const updated = await waitUntil('the parent DS to follow the CDS', async () => {
      const current = await delegation();
      return JSON.stringify(dsSet(current.ds?.records ?? [])) === JSON.stringify(dsSet(published))
        ? current
        : undefined;
    });
    expect(dsSet(updated.ds!.records)).toEqual(dsSet(published));
    expect(updated.ds!.signatures.length).toBeGreaterThan(0); // the parent re-signed it
    const applied = (await logEntries()).find((entry) => entry.event === 'applied');
    expect(applied).toMatchObject({
      zone: ZONE,
      ds: { action: 'replace' },
      ns: { action: 'none' },
    });
  });

  it('(b) changes nothing while CDS and CDNSKEY disagree, and logs why', async () => {
    const before = await delegation();
    const knotKsk = await ownKsk(endpoint(knot));
    await updateBind((update) => update.add(record('CDS', knotKsk.cds)));
    expect((await notify('CDS')).rcode).toBe('NOERROR');
    const refusal = await waitUntil('the refusal in the log', async () =>
      (await logEntries()).find(
        (entry) =>
          entry.event === 'decision' &&
          entry.ds.status === 'refused' &&
          entry.reasons.some((reason) => reason.code === 'cds-cdnskey-mismatch'),
      ),
    );
    if (refusal.event !== 'decision') throw new Error('not a decision');
    expect(refusal.level).toBe('warn');
    const reason = refusal.reasons.find((item) => item.code === 'cds-cdnskey-mismatch')!;
    expect(reason.servers).toEqual([`${bind.address}:${lab.port} (${bind.nameserverName})`]);
    expect(reason.records).toEqual([
      `${ZONE} CDS ${knotKsk.cds.keyTag} 13 2 ${knotKsk.cds.digest.replace(/\s+/g, '')}`,
    ]);
    const after = await delegation();
    expect(dsSet(after.ds?.records ?? [])).toEqual(dsSet(before.ds?.records ?? []));
    expect(after.ns?.records).toEqual(before.ns?.records);
  });

  it('stops on SIGTERM, logs that, and removes its PID file', async () => {
    expect(await stopRegistryAgent(agent)).toBe('stopped');
    expect(isRegistryAgentRunning(agent)).toBe(false);
    expect((await logEntries()).at(-1)).toMatchObject({ event: 'stopped' });
    await expect(readFile(agent.pidFile, 'utf8')).rejects.toThrow();
    agent.pid = 0;
  });
});

describe('one scan at a time (runRegistryScanOnce)', () => {
  it('(c) applies a CSYNC NS set only once the added server’s key has a DS', async () => {
    const csync: CsyncData = { serial: 0, flags: 1, types: ['A', 'NS', 'AAAA'] };
    await updateBind((update) =>
      update.add(record('NS', knot.nameserverName)).add(record('CSYNC', csync)),
    );

    // Knot's DNSKEY RRset is not authenticated by the current DS: adding it would break things.
    const early = await runRegistryScanOnce(config, ZONE);
    expect(early.error).toBeNull();
    expect(early.decision?.ns).toMatchObject({ action: 'none', status: 'refused' });
    expect(codes(early.decision!.ns.reasons)).toEqual(['would-break-delegation']);
    expect(early.decision!.ns.reasons[0]!.servers).toEqual([
      `${knot.address}:${lab.port} (${knot.nameserverName})`,
    ]);
    expect(early.applied).toBeNull();
    expect((await delegation()).ns?.records).toEqual([bind.nameserverName]);

    // With Knot's KSK in CDS/CDNSKEY, one scan adds its DS and then its NS.
    const knotKsk = await ownKsk(endpoint(knot));
    await updateBind((update) =>
      update.add(record('CDS', knotKsk.cds)).add(record('CDNSKEY', knotKsk.cdnskey)),
    );
    const scan = await runRegistryScanOnce(config, ZONE);
    expect(scan.error).toBeNull();
    expect(scan.decision?.ds.action).toBe('replace');
    expect(scan.decision?.ns).toMatchObject({
      action: 'replace',
      records: [bind.nameserverName, knot.nameserverName].sort(),
      glue: [],
    });
    expect(scan.applied).toEqual({
      ds: 'replace',
      ns: 'replace',
      server: `${parent.address}:${lab.port}`,
    });
    const after = await delegation();
    expect([...after.ns!.records].sort()).toEqual(
      [bind.nameserverName, knot.nameserverName].sort(),
    );
    expect(dsSet(after.ds!.records)).toEqual(dsSet((await rrset(endpoint(bind), 'CDS'))!.records));

    // Knot is now delegated but publishes only its own CDS and NS: inconsistent, nothing moves.
    const next = await runRegistryScanOnce(config, ZONE);
    expect(next.decision?.ds.status).toBe('refused');
    expect(codes(next.decision!.ds.reasons)).toContain('inconsistent');
    expect(next.decision?.ns.status).toBe('refused');
    expect(next.applied).toBeNull();
    const unchanged = await delegation();
    expect(dsSet(unchanged.ds!.records)).toEqual(dsSet(after.ds!.records));
  });

  it('(d) changes nothing while a delegated server is unreachable', async () => {
    await updateParent((update) =>
      update
        .add({
          name: 'ns.gone.test.',
          type: 'A',
          class: 'IN',
          ttl: lab.ttl,
          data: `${lab.addressPrefix}.249`,
        })
        .add({ name: ZONE, type: 'NS', class: 'IN', ttl: lab.ttl, data: 'ns.gone.test.' }),
    );
    const pdns = await ownKsk(endpoint(powerdns));
    await updateBind((update) =>
      update.add(record('CDS', pdns.cds)).add(record('CDNSKEY', pdns.cdnskey)),
    );
    const before = await delegation();
    const scan = await runRegistryScanOnce(config, ZONE);
    expect(scan.decision?.ds).toMatchObject({ action: 'none', status: 'refused' });
    expect(scan.decision?.ds.reasons).toEqual([
      expect.objectContaining({
        code: 'server-unreachable',
        servers: [`${lab.addressPrefix}.249:${lab.port} (ns.gone.test.)`],
      }),
    ]);
    expect(scan.applied).toBeNull();
    expect(dsSet((await delegation()).ds!.records)).toEqual(dsSet(before.ds!.records));
  });

  describe('(d) with a delegated server that serves the CDS unsigned', () => {
    let proxy: net.Server;
    const address = `${lab.addressPrefix}.248`;

    beforeAll(async () => {
      // Relays to BIND over TCP and drops the RRSIGs over CDS and CDNSKEY.
      proxy = net.createServer((socket) => {
        let buffer = Buffer.alloc(0);
        socket.on('error', () => undefined);
        socket.on('data', (chunk) => {
          buffer = Buffer.concat([buffer, chunk]);
          if (buffer.length < 2 || buffer.length < 2 + buffer.readUInt16BE(0)) return;
          const request = decodeMessage(buffer.subarray(2, 2 + buffer.readUInt16BE(0)));
          buffer = Buffer.alloc(0);
          void exchange(endpoint(bind), request, { transport: 'tcp' }).then(
            ({ message }) => {
              const rest: Omit<typeof message, 'tsig'> = { ...message };
              delete (rest as { tsig?: unknown }).tsig;
              const stripped = encodeMessage({
                ...rest,
                answers: message.answers.filter(
                  (item) =>
                    !(
                      item.type === 'RRSIG' &&
                      item.data !== null &&
                      ['CDS', 'CDNSKEY'].includes(
                        (item.data as { typeCovered: string }).typeCovered,
                      )
                    ),
                ),
              });
              const prefix = Buffer.alloc(2);
              prefix.writeUInt16BE(stripped.length);
              socket.end(Buffer.concat([prefix, stripped]));
            },
            () => socket.destroy(),
          );
        });
      });
      await new Promise<void>((resolve) => proxy.listen(lab.port, address, resolve));
    });

    afterAll(async () => {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    });

    it('refuses: the CDS from that server does not validate', async () => {
      await updateParent((update) =>
        update
          .add({ name: 'ns.unsigned.test.', type: 'A', class: 'IN', ttl: lab.ttl, data: address })
          .add({ name: ZONE, type: 'NS', class: 'IN', ttl: lab.ttl, data: 'ns.unsigned.test.' }),
      );
      const pdns = await ownKsk(endpoint(powerdns));
      await updateBind((update) =>
        update.add(record('CDS', pdns.cds)).add(record('CDNSKEY', pdns.cdnskey)),
      );
      const before = await delegation();
      const dryRun = await runRegistryScanOnce(config, ZONE, { dryRun: true });
      expect(dryRun.decision?.servers.map((server) => server.status)).toEqual([
        'answered',
        'answered',
      ]);
      const scan = await runRegistryScanOnce(config, ZONE);
      expect(scan.decision?.ds).toMatchObject({ action: 'none', status: 'refused' });
      const reasons = scan.decision!.ds.reasons;
      expect(codes(reasons)).toEqual(['signal-not-validated', 'signal-not-validated']);
      for (const reason of reasons) {
        expect(reason.servers).toEqual([`${address}:${lab.port} (ns.unsigned.test.)`]);
        expect(reason.message).toContain('unsigned');
      }
      expect(scan.applied).toBeNull();
      expect(dsSet((await delegation()).ds!.records)).toEqual(dsSet(before.ds!.records));
    });
  });
});
