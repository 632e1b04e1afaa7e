import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { dsMatchesKey, keyTag, query, type DnskeyData, type DsData } from '@chorus/core';
import { isRunning, LabError, labStatus, labUp, type LabStatus } from '@chorus/lab';
import { endpoint, labResolver, labServer, TEST_LAB_PREFIX } from './helpers/lab.js';

// The lab started by test/global-setup.ts, checked against the real servers.
const lab = inject('lab');
const zone = lab.zones[0]!;

function dnskeys(records: unknown[]): DnskeyData[] {
  return records as DnskeyData[];
}

/** Every secret value the lab wrote: TSIG and rndc secrets, and the PowerDNS API key. */
async function secretValues(status: LabStatus): Promise<{ file: string; value: string }[]> {
  const files = status.servers.flatMap((server) => [
    server.tsig.keyFile,
    ...(server.control.kind === 'rndc' ? [server.control.keyFile] : []),
    ...(server.control.kind === 'powerdns-api' ? [server.control.apiKeyFile] : []),
  ]);
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
    expect(
      status.servers.map((server) => `${server.id}/${server.role}/${server.software}`),
    ).toEqual([
      'parent/parent/bind',
      'bind/signer/bind',
      'powerdns/signer/powerdns',
      'knot/signer/knot',
    ]);
    expect(status.resolvers.map((resolver) => `${resolver.id}/${resolver.mode}`)).toEqual([
      'resolver-delegation/delegation',
      'resolver-bind/forced-signer',
      'resolver-powerdns/forced-signer',
      'resolver-knot/forced-signer',
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
    expect(addresses.size).toBe(8); // every process has its own address
    for (const server of status.servers) {
      expect(server.zones.length).toBeGreaterThan(0);
      await stat(server.keys.path);
    }
    expect(labServer(status, 'bind').zones).toContain(status.brokenZone);
    expect(status.trustAnchor.zone).toBe('test.');
    expect(status.trustAnchor.ds).toHaveLength(1);
    const anchorFile = await readFile(status.trustAnchor.file, 'utf8');
    expect(anchorFile.trim()).toBe(status.trustAnchor.ds[0]!.text);
  });

  it('keeps the secrets in 0600 files and never in the status or the state file', async () => {
    const status = (await labStatus({ directory: lab.directory }))!;
    const secrets = await secretValues(status);
    expect(secrets).toHaveLength(4 + 2 + 1); // TSIG per server, rndc per BIND, PowerDNS API key
    const json = JSON.stringify(status) + (await readFile(status.stateFile, 'utf8'));
    for (const { file, value } of secrets) {
      expect((await stat(file)).mode & 0o777, file).toBe(0o600);
      expect(value.length, file).toBeGreaterThanOrEqual(32);
      expect(json.includes(value), `${file}'s secret is in the status`).toBe(false);
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
