import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import {
  computeDs,
  dsMatchesKey,
  dnskeyIdentity,
  keyTag,
  query,
  readTsigKeyFile,
  sendUpdate,
  UpdateBuilder,
} from '@chorus/dns';
import {
  DigestType,
  DnsResponseError,
  type DnskeyData,
  type DnsRecord,
  type DsData,
  type RRset,
} from '@chorus/core';
import {
  findProgram,
  isRunning,
  LabError,
  labRestart,
  labStatus,
  labUp,
  SIGNER_IDS,
  TRAP_IDS,
  type LabServer,
  type LabStatus,
  type ServerId,
} from '@chorus/lab';
import { endpoint, labResolver, labServer, TEST_LAB_PREFIX } from '@chorus/lab/testing';
import { CLI_MAIN } from './helpers/cli.js';

const SIGNERS = SIGNER_IDS;
const TRAPS = TRAP_IDS;

const execFileAsync = promisify(execFile);

// The lab started by test/global-setup.ts, checked against the real servers.
const lab = inject('lab');
const zone = lab.zones[0]!;

function dnskeys(records: unknown[]): DnskeyData[] {
  return records as DnskeyData[];
}

/** The apex RRset of `type` that `server` serves authoritatively for `owner`. */
async function apexRrset(
  server: LabServer,
  type: 'SOA' | 'DNSKEY' | 'CDS' | 'CDNSKEY',
  owner = zone,
): Promise<RRset> {
  const response = await query(endpoint(server), owner, type);
  expect(response.rcode, `${server.id} ${owner} ${type}`).toBe('NOERROR');
  expect(response.flags.aa, `${server.id} ${owner} ${type}`).toBe(true);
  const rrset = response.answers.find((set) => set.type === type);
  if (!rrset) throw new Error(`${server.id} serves no ${type} at ${owner}`);
  return rrset;
}

/** The server's own KSK: the SEP key whose tag signs the DNSKEY RRset. */
function ownKsk(server: LabServer, rrset: RRset): DnskeyData {
  const signers = rrset.signatures.map((signature) => signature.keyTag);
  const ksks = dnskeys(rrset.records).filter(
    (key) => key.flags === 257 && signers.includes(keyTag(key)),
  );
  expect(ksks, `${server.id}: the KSK that signs its DNSKEY RRset`).toHaveLength(1);
  return ksks[0]!;
}

/** Key tags of the DNSKEY RRset, sorted. */
function tagsOf(rrset: RRset): number[] {
  return dnskeys(rrset.records)
    .map((key) => keyTag(key))
    .sort((a, b) => a - b);
}

/** A fresh ECDSA P-256 ZSK that no lab server has: the "foreign key" of another provider. */
function foreignZsk(): DnskeyData {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([
    Buffer.from(jwk.x ?? '', 'base64url'),
    Buffer.from(jwk.y ?? '', 'base64url'),
  ]);
  return { flags: 256, protocol: 3, algorithm: 13, publicKey: point.toString('base64') };
}

function dnskeyRecord(key: DnskeyData): DnsRecord {
  return { name: zone, type: 'DNSKEY', class: 'IN', ttl: lab.ttl, data: key };
}

/** Sends a TSIG-signed UPDATE adding `key` to the zone's apex DNSKEY RRset on `server`. */
async function addDnskey(server: LabServer, key: DnskeyData): Promise<void> {
  const tsig = await readTsigKeyFile(server.tsig.keyFile);
  await sendUpdate(endpoint(server), new UpdateBuilder(zone).add(dnskeyRecord(key)), { tsig });
}

async function deleteDnskey(server: LabServer, key: DnskeyData): Promise<void> {
  const tsig = await readTsigKeyFile(server.tsig.keyFile);
  await sendUpdate(
    endpoint(server),
    new UpdateBuilder(zone).deleteRecord({ name: zone, type: 'DNSKEY', data: key }),
    { tsig },
  );
}

/** Whether `server` serves `key` in its DNSKEY RRset, waiting up to `waitMs` for it to appear. */
async function servesKey(server: LabServer, key: DnskeyData, waitMs: number): Promise<boolean> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const served = dnskeys((await apexRrset(server, 'DNSKEY')).records);
    if (served.some((entry) => entry.publicKey === key.publicKey)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
}

/** Every secret value the lab wrote: TSIG and rndc secrets, and the PowerDNS API key. */
async function secretValues(status: LabStatus): Promise<{ file: string; value: string }[]> {
  const files = status.servers.flatMap((server) => [
    server.tsig.keyFile,
    ...(server.control.kind === 'rndc' ? [server.control.keyFile] : []),
    ...(server.control.kind === 'powerdns-api' ? [server.control.apiKeyFile] : []),
  ]);
  files.push(...status.providers.flatMap((api) => [api.tokenFile, api.adminTokenFile]));
  const secrets: { file: string; value: string }[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    const inKeyStatement = /secret\s+"([^"]+)"/.exec(text)?.[1];
    secrets.push({ file, value: inKeyStatement ?? text.trim() });
  }
  return secrets;
}

describe('lab status', () => {
  it('lists every server, resolver and the trust anchor, with live PIDs', async () => {
    const status = (await labStatus({ directory: lab.directory }))!;
    expect(status.schemaVersion).toBe(1);
    expect(status.running).toBe(true);
    expect(status.addressPrefix).toBe(TEST_LAB_PREFIX);
    expect(status.traps).toBe(true);
    expect(
      status.servers.map((server) => `${server.id}/${server.role}/${server.software}`),
    ).toEqual([
      'parent/parent/bind',
      'bind/signer/bind',
      'powerdns/signer/powerdns',
      'knot/signer/knot',
      'desec/signer/powerdns',
      'ns1/signer/powerdns',
      'bind-inline-signing/trap/bind',
      'powerdns-no-direct-dnskey/trap/powerdns',
      'knot-full-management/trap/knot',
      'knot-zonefile-revert/trap/knot',
    ]);
    expect(status.resolvers.map((resolver) => `${resolver.id}/${resolver.mode}`)).toEqual([
      'resolver-delegation/delegation',
      'resolver-bind/forced-signer',
      'resolver-powerdns/forced-signer',
      'resolver-knot/forced-signer',
      'resolver-desec/forced-signer',
      'resolver-ns1/forced-signer',
      'resolver-cache/cache',
      'resolver-forwarded/forwarded',
    ]);
    const addresses = new Set<string>();
    for (const entry of [...status.servers, ...status.resolvers]) {
      expect(entry.alive, entry.id).toBe(true);
      expect(await isRunning(entry.pid, entry.binary), entry.id).toBe(true);
      expect(entry.address.startsWith(`${TEST_LAB_PREFIX}.`), entry.id).toBe(true);
      expect(entry.version, entry.id).toMatch(/^\d+\.\d+/);
      addresses.add(entry.address);
      for (const file of [entry.configFile, entry.logFile, entry.directory]) await stat(file);
      expect((await readFile(entry.pidFile, 'utf8')).trim()).toBe(String(entry.pid));
    }
    expect(addresses.size).toBe(18); // every process has its own address
    // Each provider fake runs in front of its own server, with its token in a file.
    expect(status.providers.map((api) => `${api.id}→${api.server}`)).toEqual([
      'desec-api→desec',
      'ns1-api→ns1',
    ]);
    for (const api of status.providers) {
      expect(api.alive, api.id).toBe(true);
      const health = await fetch(`http://${api.address}:${api.port}/_fake/health`);
      expect(health.status, api.id).toBe(200);
      expect((await readFile(api.pidFile, 'utf8')).trim()).toBe(String(api.pid));
    }
    for (const server of status.servers) {
      expect(server.zones.length).toBeGreaterThan(0);
      await stat(server.keys.path);
      expect(server.trap === undefined, server.id).toBe(server.role !== 'trap');
    }
    expect(labServer(status, 'bind').zones).toContain(status.brokenZone);
    expect(status.trustAnchor.zone).toBe('test.');
    expect(status.trustAnchor.ds).toHaveLength(1);
    const anchorFile = await readFile(status.trustAnchor.file, 'utf8');
    expect(anchorFile.trim()).toBe(status.trustAnchor.ds[0]!.text);
    const { keyTag, digest } = status.trustAnchor.ds[0]!;
    expect(await readFile(status.trustAnchor.delvFile, 'utf8')).toBe(
      `trust-anchors {\n  test. static-ds ${keyTag} 13 2 "${digest}";\n};\n`,
    );
  });

  it('keeps the secrets in 0600 files and never in the status or the state file', async () => {
    const status = (await labStatus({ directory: lab.directory }))!;
    const secrets = await secretValues(status);
    // TSIG per server (6 + 4 traps), rndc per BIND (3), API key per PowerDNS (4), and each
    // provider fake's API token and admin token (4)
    expect(secrets).toHaveLength(10 + 3 + 4 + 4);
    const json = JSON.stringify(status) + (await readFile(status.stateFile, 'utf8'));
    for (const { file, value } of secrets) {
      expect((await stat(file)).mode & 0o777, file).toBe(0o600);
      expect(value.length, file).toBeGreaterThanOrEqual(32);
      expect(json.includes(value), `${file}'s secret is in the status`).toBe(false);
    }
  });
});

/** Every file under `directory`, recursively, with its mode bits. */
async function modesUnder(directory: string): Promise<{ file: string; mode: number }[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  return Promise.all(
    entries.map(async (entry) => {
      const file = path.join(entry.parentPath, entry.name);
      return { file, mode: (await stat(file)).mode & 0o777 };
    }),
  );
}

describe('chorus lab status', () => {
  const run = async (...args: string[]) =>
    (
      await execFileAsync(process.execPath, [
        CLI_MAIN,
        'lab',
        'status',
        '--dir',
        lab.directory,
        ...args,
      ])
    ).stdout;

  it('shows the delv trust-anchor file and how to use it', async () => {
    const text = await run();
    expect(text).toContain(
      `delv -a ${lab.trustAnchor.delvFile} +root=${lab.parentZone} @<resolver> <name>`,
    );
    const json = JSON.parse(await run('--json')) as LabStatus;
    expect(json.trustAnchor.delvFile).toBe(path.join(lab.directory, 'trust-anchor.delv.conf'));
    expect(json.trustAnchor.file).toBe(lab.trustAnchor.file);
  });
});

describe('lab file modes', () => {
  it('keeps every server directory 0700: TSIG keys, control keys and private keys stay private', async () => {
    for (const server of lab.servers) {
      expect((await stat(server.directory)).mode & 0o777, server.directory).toBe(0o700);
    }
  });

  it('keeps the PowerDNS database and its -wal/-shm 0600, and each key store owner-only', async () => {
    for (const id of ['powerdns', 'powerdns-no-direct-dnskey'] as const) {
      const database = labServer(lab, id).keys.path;
      const files = (await modesUnder(path.dirname(database))).filter((entry) =>
        entry.file.startsWith(database),
      );
      expect(files.length, id).toBeGreaterThan(0);
      for (const { file, mode } of files) expect(mode, file).toBe(0o600);
    }
    for (const server of lab.servers) {
      const mode = (await stat(server.keys.path)).mode & 0o777;
      expect(mode, server.keys.path).toBe(server.keys.kind === 'sqlite-database' ? 0o600 : 0o700);
    }
  });
});

/** `delv @resolver -a <anchors> +root=test. <name> A`: its output, whatever its exit code. */
async function delv(anchorFile: string, name: string): Promise<string> {
  const program = await findProgram('delv', `${process.env.PATH ?? ''}:/usr/bin:/usr/sbin`);
  if (!program) throw new Error('delv is missing: install the Debian package bind9-dnsutils');
  const resolver = labResolver(lab, 'resolver-delegation');
  const args = [`@${resolver.address}`, '-p', String(resolver.port), '-a', anchorFile];
  try {
    const { stdout, stderr } = await execFileAsync(
      program,
      [...args, `+root=${lab.parentZone}`, name, 'A'],
      { timeout: 20_000 },
    );
    return stdout + stderr;
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return (failed.stdout ?? '') + (failed.stderr ?? '');
  }
}

describe('delv with the lab’s trust-anchor file', () => {
  it(`fully validates www.${zone} A from the lab parent’s anchor alone`, async () => {
    const output = await delv(lab.trustAnchor.delvFile, `www.${zone}`);
    expect(output).toContain('; fully validated');
    expect(output).toMatch(
      new RegExp(
        `^www\\.${zone.replaceAll('.', '\\.')}\\s+\\d+\\s+IN\\s+A\\s+192\\.0\\.2\\.80$`,
        'm',
      ),
    );
  });

  it('does not validate with a wrong anchor (negative control)', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-wrong-anchor-'));
    try {
      const wrong = path.join(directory, 'wrong.conf');
      const text = await readFile(lab.trustAnchor.delvFile, 'utf8');
      const digest = lab.trustAnchor.ds[0]!.digest;
      const flipped = `${digest[0] === '0' ? '1' : '0'}${digest.slice(1)}`;
      await writeFile(wrong, text.replace(digest, flipped));
      const output = await delv(wrong, `www.${zone}`);
      expect(output).not.toContain('fully validated');
      expect(output).toMatch(/resolution failed|broken trust chain/);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe('validation through the lab', () => {
  const delegationResolver = endpoint(labResolver(lab, 'resolver-delegation'));

  it(`validates www.${zone} A through the delegation resolver (AD)`, async () => {
    const response = await query(delegationResolver, `www.${zone}`, 'A', {
      recursionDesired: true,
    });
    expect(response.rcode).toBe('NOERROR');
    expect(response.flags.ad).toBe(true);
    expect(response.answers[0]?.records).toEqual(['192.0.2.80']);
  });

  it('answers SERVFAIL for the zone delegated with a wrong DS (negative control)', async () => {
    const name = `www.${lab.brokenZone}`;
    const response = await query(delegationResolver, name, 'A', { recursionDesired: true });
    expect(response.rcode).toBe('SERVFAIL');
    expect(response.flags.ad).toBe(false);
    // With checking disabled the data comes through: the failure is DNSSEC, not reachability.
    const unchecked = await query(delegationResolver, name, 'A', {
      recursionDesired: true,
      checkingDisabled: true,
    });
    expect(unchecked.rcode).toBe('NOERROR');
    expect(unchecked.answers[0]?.records).toEqual(['192.0.2.80']);
  });

  it('has each signer answer authoritatively for the zone with its own DNSKEYs', async () => {
    const keyTagsBySigner = new Map<string, number[]>();
    for (const id of ['bind', 'powerdns', 'knot'] as const) {
      const signer = labServer(lab, id);
      const response = await query(endpoint(signer), zone, 'DNSKEY');
      expect(response.rcode, id).toBe('NOERROR');
      expect(response.flags.aa, id).toBe(true);
      const rrset = response.answers.find((set) => set.type === 'DNSKEY')!;
      const keys = dnskeys(rrset.records);
      expect(keys.map((key) => key.flags).sort(), id).toEqual([256, 257]); // KSK + ZSK
      expect(
        keys.every((key) => key.algorithm === 13),
        id,
      ).toBe(true);
      const ksk = keys.find((key) => key.flags === 257)!;
      expect(
        rrset.signatures.map((signature) => signature.keyTag),
        id,
      ).toContain(keyTag(ksk));
      const soa = await query(endpoint(signer), zone, 'SOA');
      expect(soa.answers[0]?.records[0], id).toMatchObject({ mname: signer.nameserverName });
      keyTagsBySigner.set(
        id,
        keys.map((key) => keyTag(key)),
      );
    }
    const allTags = [...keyTagsBySigner.values()].flat();
    expect(new Set(allTags).size).toBe(6); // nobody shares keys yet
  });

  it.each([...SIGNERS, ...TRAPS])(
    '%s publishes CDS and CDNSKEY for its own KSK from the start',
    async (id) => {
      const server = labServer(lab, id);
      const ksk = ownKsk(server, await apexRrset(server, 'DNSKEY'));
      const cds = await apexRrset(server, 'CDS');
      expect(cds.records, id).toContainEqual(computeDs(zone, ksk, DigestType.SHA256));
      expect(
        (cds.records as DsData[]).filter((record) => dsMatchesKey(zone, record, ksk)),
        id,
      ).toHaveLength(1);
      expect(
        cds.signatures.map((signature) => signature.keyTag),
        id,
      ).toContain(keyTag(ksk));
      const cdnskey = await apexRrset(server, 'CDNSKEY');
      expect(cdnskey.records, id).toContainEqual(ksk);
      expect(
        cdnskey.signatures.map((signature) => signature.keyTag),
        id,
      ).toContain(keyTag(ksk));
    },
  );

  it('follows the real delegation: the parent holds NS and a DS that matches BIND’s KSK', async () => {
    const parent = endpoint(labServer(lab, 'parent'));
    const bind = labServer(lab, 'bind');
    const referral = await query(parent, `www.${zone}`, 'A');
    expect(referral.flags.aa).toBe(false);
    const delegation = referral.authorities.find((set) => set.type === 'NS')!;
    expect(delegation.name).toBe(zone);
    expect(delegation.records).toEqual([bind.nameserverName]);

    const ds = await query(parent, zone, 'DS');
    expect(ds.flags.aa).toBe(true);
    const dsRecords = ds.answers.find((set) => set.type === 'DS')!.records as DsData[];
    const bindKeys = dnskeys((await query(endpoint(bind), zone, 'DNSKEY')).answers[0]!.records);
    expect(
      dsRecords.some((record) => bindKeys.some((key) => dsMatchesKey(zone, record, key))),
    ).toBe(true);

    const nameserverAddress = await query(parent, bind.nameserverName, 'A');
    expect(nameserverAddress.answers[0]?.records).toEqual([bind.address]);

    // With port 53 the delegation resolver knows nothing but the parent.
    const resolver = labResolver(lab, 'resolver-delegation');
    expect(lab.delegation.followsDelegations).toBe(true);
    expect(resolver.stubZones.map((stub) => stub.zone)).toEqual(['test.']);
    const config = await readFile(resolver.configFile, 'utf8');
    expect(config.match(/stub-zone:/g)).toHaveLength(1);
    const viaResolver = await query(endpoint(resolver), zone, 'DS', { recursionDesired: true });
    expect(viaResolver.flags.ad).toBe(true);
    expect(viaResolver.answers[0]?.records).toEqual(dsRecords);
  });

  it('validates through the resolver pinned to the BIND signer', async () => {
    const response = await query(
      endpoint(labResolver(lab, 'resolver-bind')),
      `txt.${zone}`,
      'TXT',
      {
        recursionDesired: true,
      },
    );
    expect(response.rcode).toBe('NOERROR');
    expect(response.flags.ad).toBe(true);
  });
});

describe('up refuses to start over a lab', () => {
  it('refuses over the running lab in the same directory, naming it', async () => {
    const attempt = labUp({ directory: lab.directory, addressPrefix: TEST_LAB_PREFIX });
    await expect(attempt).rejects.toSatisfy((error) => LabError.isInstance(error));
    await expect(attempt).rejects.toThrow(`a lab is already running in ${lab.directory}`);
  });

  it('refuses where something already answers DNS, naming the address', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-busy-lab-'));
    try {
      const attempt = labUp({ directory, addressPrefix: TEST_LAB_PREFIX });
      await expect(attempt).rejects.toSatisfy((error) => LabError.isInstance(error));
      await expect(attempt).rejects.toThrow(`${labServer(lab, 'parent').address}:${lab.port}`);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
    // The running lab is untouched.
    expect((await labStatus({ directory: lab.directory }))?.running).toBe(true);
  });
});

// The trap servers change one setting each; they must really run with it, and really trap.
describe('trap servers', () => {
  it('lists each trap with the setting that makes it one and what it breaks', () => {
    expect(
      lab.servers.filter((server) => server.role === 'trap').map((server) => server.id),
    ).toEqual([...TRAPS]);
    const settings = {
      'bind-inline-signing': 'inline-signing yes',
      'powerdns-no-direct-dnskey': 'direct-dnskey=no',
      'knot-full-management': 'dnskey-management: full',
      'knot-zonefile-revert': 'zonefile-sync: -1',
    } as const;
    for (const id of TRAPS) {
      const trap = labServer(lab, id).trap;
      expect(trap?.setting, id).toBe(settings[id]);
      expect(trap?.problem.length, id).toBeGreaterThan(20);
    }
    for (const id of ['parent', ...SIGNERS] as const)
      expect(labServer(lab, id).trap, id).toBeUndefined();
  });

  it.each(TRAPS)('%s has its setting in its config file, unlike the normal signer', async (id) => {
    const trap = labServer(lab, id);
    const normal = labServer(lab, trap.software === 'bind' ? 'bind' : trap.software);
    // Config lines without indentation and BIND's trailing semicolon.
    const lines = async (server: LabServer) =>
      (await readFile(server.configFile, 'utf8'))
        .split('\n')
        .map((line) => line.trim().replace(/;$/, ''));
    const trapLines = await lines(trap);
    expect(trapLines).toContain(trap.trap!.setting);
    expect(await lines(normal)).not.toContain(trap.trap!.setting);
    const expectedTrapLines: Partial<Record<ServerId, string[]>> = {
      'bind-inline-signing': [
        'dnssec-policy "chorus"',
        `allow-update { key "${trap.tsig.name}"; }`,
      ],
      'knot-full-management': ['zonefile-sync: 0'],
      // The trap is the combination: incremental keys, but nothing written back to the file.
      'knot-zonefile-revert': [
        'dnskey-management: incremental',
        'delete-delay: 1d',
        'zonefile-load: difference-no-serial',
      ],
    };
    for (const line of expectedTrapLines[id] ?? []) expect(trapLines, id).toContain(line);
  });

  it.each(TRAPS)(
    '%s serves every lab zone authoritatively, signed with its own keys, undelegated',
    async (id) => {
      const trap = labServer(lab, id);
      const parent = labServer(lab, 'parent');
      expect(trap.zones).toEqual(lab.zones);
      for (const owner of lab.zones) {
        const soa = await apexRrset(trap, 'SOA', owner);
        expect(soa.records[0], owner).toMatchObject({ mname: trap.nameserverName });
        expect(soa.signatures.length, owner).toBeGreaterThan(0);
        const dnskey = await apexRrset(trap, 'DNSKEY', owner);
        expect(
          dnskeys(dnskey.records)
            .map((key) => key.flags)
            .sort(),
          owner,
        ).toEqual([256, 257]);
        // Different keys, compared by public key: key tags are 16-bit and may collide by chance.
        const trapKeys = dnskeys(dnskey.records).map(dnskeyIdentity);
        for (const signer of SIGNERS) {
          const signerKeys = dnskeys(
            (await apexRrset(labServer(lab, signer), 'DNSKEY', owner)).records,
          ).map(dnskeyIdentity);
          expect(
            trapKeys.filter((key) => signerKeys.includes(key)),
            `${owner} ${signer}`,
          ).toEqual([]);
        }
        const referral = await query(endpoint(parent), `www.${owner}`, 'A');
        const ns = referral.authorities.find((set) => set.type === 'NS');
        expect(ns?.records, owner).not.toContain(trap.nameserverName);
      }
    },
  );

  it('bind-inline-signing fails a DNS UPDATE adding a foreign DNSKEY (SERVFAIL)', async () => {
    const trap = labServer(lab, 'bind-inline-signing');
    const before = tagsOf(await apexRrset(trap, 'DNSKEY'));
    const attempt = addDnskey(trap, foreignZsk());
    await expect(attempt).rejects.toSatisfy(
      (error) => DnsResponseError.isInstance(error) && error.rcode === 'SERVFAIL',
    );
    expect(tagsOf(await apexRrset(trap, 'DNSKEY'))).toEqual(before);
  });

  it.each(['powerdns-no-direct-dnskey', 'knot-full-management'] as const)(
    '%s accepts a foreign DNSKEY by DNS UPDATE but never serves it',
    async (id) => {
      const trap = labServer(lab, id);
      const key = foreignZsk();
      const before = tagsOf(await apexRrset(trap, 'DNSKEY'));
      await addDnskey(trap, key); // NOERROR
      try {
        expect(await servesKey(trap, key, 1000)).toBe(false);
        expect(tagsOf(await apexRrset(trap, 'DNSKEY'))).toEqual(before);
      } finally {
        await deleteDnskey(trap, key); // PowerDNS stored it in its backend
      }
    },
  );

  it('knot-zonefile-revert serves a foreign DNSKEY added by DNS UPDATE until a restart', async () => {
    const trap = labServer(lab, 'knot-zonefile-revert');
    const key = foreignZsk();
    await addDnskey(trap, key);
    expect(await servesKey(trap, key, 3000)).toBe(true);
    const status = await labRestart({ directory: lab.directory, servers: [trap.id] });
    const restarted = labServer(status, trap.id);
    expect(restarted.pid).not.toBe(trap.pid);
    expect(await servesKey(restarted, key, 0)).toBe(false);
  });
});

// Late in the file: this restarts servers of the shared lab, which must stay usable afterwards.
describe('lab restart', () => {
  it('restarts the BIND signer and Knot on their existing files: new PIDs, same keys', async () => {
    const restartedIds: ServerId[] = ['bind', 'knot'];
    const before = (await labStatus({ directory: lab.directory }))!;
    expect(before.running).toBe(true);
    const keysBefore = new Map<string, number[]>();
    for (const id of restartedIds) {
      const server = labServer(before, id);
      for (const owner of server.zones)
        keysBefore.set(`${id} ${owner}`, tagsOf(await apexRrset(server, 'DNSKEY', owner)));
    }

    const progress: string[] = [];
    const after = await labRestart({
      directory: lab.directory,
      servers: restartedIds,
      onProgress: (line) => progress.push(line),
    });
    expect(after.running).toBe(true);
    expect(progress.at(-1)).toMatch(/^restarted bind knot in /);
    const recorded = (await labStatus({ directory: lab.directory }))!;
    for (const server of after.servers) {
      const old = labServer(before, server.id);
      const restarted = restartedIds.includes(server.id);
      expect(server.pid === old.pid, server.id).toBe(!restarted);
      expect(labServer(recorded, server.id).pid, server.id).toBe(server.pid);
      expect(await isRunning(server.pid, server.binary), server.id).toBe(true);
      if (!restarted) continue;
      expect(await isRunning(old.pid, old.binary), `${server.id} old pid`).toBe(false);
      expect((await readFile(server.pidFile, 'utf8')).trim(), server.id).toBe(String(server.pid));
      expect(Date.parse(server.restartedAt ?? ''), server.id).toBeGreaterThan(
        Date.parse(before.startedAt),
      );
      for (const owner of server.zones) {
        const soa = await apexRrset(server, 'SOA', owner);
        expect(soa.signatures.length, `${server.id} ${owner}`).toBeGreaterThan(0);
        expect(tagsOf(await apexRrset(server, 'DNSKEY', owner)), `${server.id} ${owner}`).toEqual(
          keysBefore.get(`${server.id} ${owner}`),
        );
      }
    }
    // Still validates end to end through the restarted BIND signer.
    const response = await query(
      endpoint(labResolver(after, 'resolver-delegation')),
      `www.${zone}`,
      'A',
      { recursionDesired: true },
    );
    expect(response.flags.ad).toBe(true);
  });

  it('names the servers it has when asked for one it does not, and needs a lab', async () => {
    await expect(
      labRestart({ directory: lab.directory, servers: ['nope' as ServerId] }),
    ).rejects.toThrow(/has no server nope; its servers are parent, bind, powerdns, knot/);
    const directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-no-lab-'));
    try {
      const attempt = labRestart({ directory });
      await expect(attempt).rejects.toSatisfy((error) => LabError.isInstance(error));
      await expect(attempt).rejects.toThrow(`no lab in ${directory}`);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
