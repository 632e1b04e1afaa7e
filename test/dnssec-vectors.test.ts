import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  computeDs,
  dsMatchesKey,
  encodeRdata,
  formatRecord,
  keyTag,
  parseRecord,
  parseZone,
  verifyRrsig,
  type SignedRrset,
} from '@chorus/dns';
import type { DnskeyData, DnsRecord, DsData, Nsec3Data, RrsigData } from '@chorus/core';

/**
 * DNSSEC vectors generated at test time by the real BIND and ldns tools (dnssec-keygen,
 * dnssec-signzone, dnssec-dsfromkey, ldns-read-zone) in a temporary directory. No lab needed.
 */

const ALGORITHMS = [8, 10, 13, 14, 15, 16] as const;

let workDirectory: string;

/** Runs a tool and returns its standard output; the error includes its standard error. */
function run(command: string, args: readonly string[], cwd: string): string {
  try {
    return execFileSync(command, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`${command} ${args.join(' ')} failed: ${stderr || String(error)}`, {
      cause: error,
    });
  }
}

/** Generates a key and returns the path of its `.key` file. */
function generateKey(
  directory: string,
  zone: string,
  algorithm: number,
  keySigning: boolean,
): string {
  const args = ['-q', '-K', directory, '-a', String(algorithm)];
  if (algorithm === 8 || algorithm === 10) args.push('-b', '2048');
  if (keySigning) args.push('-f', 'KSK');
  const base = run('dnssec-keygen', [...args, zone], directory).trim();
  return join(directory, `${base}.key`);
}

interface GeneratedKey {
  path: string;
  /** The key id in the file name, as dnssec-keygen computed it. */
  id: number;
  owner: string;
  data: DnskeyData;
}

function readKey(path: string, zone: string): GeneratedKey {
  const id = Number(/\+(\d{5})\.key$/.exec(path)![1]);
  const [record] = parseZone(readFileSync(path, 'utf8'), { origin: zone, defaultTtl: 3600 });
  expect(record?.type).toBe('DNSKEY');
  return { path, id, owner: record!.name, data: record!.data as DnskeyData };
}

function zoneText(zone: string, childDs: string): string {
  return `$TTL 300
$ORIGIN ${zone}
@        IN SOA ns1 hostmaster ( 1 7200 3600 1209600 300 )
         NS     ns1
         NS     NS2.Example.test.
         MX     10 Mail
         MX     20 mail2.example.test.
         TXT    "v=test; chorus" "second string with \\"quotes\\""
ns1      A      192.0.2.1
         AAAA   2001:db8::1
www      A      192.0.2.10
www      A      192.0.2.11
Mail     A      192.0.2.25
*.wild   A      192.0.2.20
*.wild   TXT    "wildcard"
sub      NS     ns.sub
ns.sub   A      192.0.2.30
${childDs}
`;
}

interface SignedZone {
  zone: string;
  directory: string;
  text: string;
  records: DnsRecord[];
  keys: GeneratedKey[];
}

/** Keys, a child DS, a zone file, and `dnssec-signzone -S` over them. */
function signZone(
  algorithm: number,
  extraSignArgs: readonly string[] = [],
  label = `alg${algorithm}`,
): SignedZone {
  const zone = `${label}.chorus.test.`;
  const directory = join(workDirectory, label);
  const childDirectory = join(directory, 'child');
  mkdirSync(childDirectory, { recursive: true });
  const keyPaths = [
    generateKey(directory, zone, algorithm, true),
    generateKey(directory, zone, algorithm, false),
  ];
  const childKey = generateKey(childDirectory, `sub.${zone}`, 13, true);
  const childDs = run('dnssec-dsfromkey', ['-2', childKey], directory).trim();
  writeFileSync(join(directory, 'zone.db'), zoneText(zone, childDs));
  run(
    'dnssec-signzone',
    [
      '-q',
      '-S',
      '-K',
      directory,
      '-o',
      zone,
      '-N',
      'unixtime',
      ...extraSignArgs,
      '-f',
      'signed.db',
      'zone.db',
    ],
    directory,
  );
  const text = readFileSync(join(directory, 'signed.db'), 'utf8');
  return {
    zone,
    directory,
    text,
    records: parseZone(text, { origin: zone }),
    keys: [...keyPaths, childKey].map((path) =>
      readKey(path, path === childKey ? `sub.${zone}` : zone),
    ),
  };
}

/** The RRSIG rdata of a record, or undefined for other types. */
function rrsigOf(record: DnsRecord): RrsigData | undefined {
  return record.type === 'RRSIG' ? (record.data as RrsigData) : undefined;
}

/** The DNSKEY rdata of the zone's DNSKEY records. */
function dnskeysOf(records: readonly DnsRecord[]): DnskeyData[] {
  return records
    .filter((record) => record.type === 'DNSKEY')
    .map((record) => record.data as DnskeyData);
}

type RrsetWithRecords = SignedRrset & { records: DnsRecord['data'][] };

function groupRrsets(records: readonly DnsRecord[]): Map<string, RrsetWithRecords> {
  const sets = new Map<string, RrsetWithRecords>();
  for (const record of records) {
    if (record.type === 'RRSIG') continue;
    const id = `${record.name.toLowerCase()} ${record.type}`;
    const set = sets.get(id) ?? {
      name: record.name,
      type: record.type,
      class: record.class,
      records: [],
    };
    set.records.push(record.data);
    sets.set(id, set);
  }
  return sets;
}

interface Verification {
  verified: number;
  failures: string[];
}

/** Verifies every RRSIG of the zone with the zone's own DNSKEY that the RRSIG names. */
function verifyZone(signed: SignedZone, records = signed.records): Verification {
  const sets = groupRrsets(records);
  const keys = dnskeysOf(records);
  const result: Verification = { verified: 0, failures: [] };
  for (const record of records) {
    const signature = rrsigOf(record);
    if (signature === undefined) continue;
    const where = `${record.name} RRSIG ${signature.typeCovered} ${signature.keyTag}`;
    expect(signature.signerName.toLowerCase()).toBe(signed.zone);
    const rrset = sets.get(`${record.name.toLowerCase()} ${signature.typeCovered}`);
    const key = keys.find(
      (candidate) =>
        candidate.algorithm === signature.algorithm && keyTag(candidate) === signature.keyTag,
    );
    if (rrset === undefined || key === undefined) {
      result.failures.push(`${where}: no RRset or no key`);
      continue;
    }
    const outcome = verifyRrsig({ rrset, signature, key });
    if (outcome.ok) result.verified += 1;
    else result.failures.push(`${where}: ${outcome.reason}`);
  }
  return result;
}

/** RRSIG count according to ldns, independently of our parser. */
function countRrsigsWithLdns(signed: SignedZone): number {
  const output = run('ldns-read-zone', ['-E', 'RRSIG', 'signed.db'], signed.directory);
  return output.split('\n').filter((line) => /\tRRSIG\t/.test(line)).length;
}

/** Owner, type and rdata octets of every record, from ldns's RFC 3597 rendering. */
function ldnsGenericRdata(signed: SignedZone): { lines: string[]; records: DnsRecord[] } {
  // -U marks every type but the given one for the generic `\# length hex` form.
  const output = run('ldns-read-zone', ['-U', 'HINFO', 'signed.db'], signed.directory);
  const lines = output
    .split('\n')
    .filter((line) => line.includes('\\#'))
    .map((line) => {
      const [owner, , , type] = line.split(/\s+/);
      const hex = line.split('\\#')[1]!.trim().split(/\s+/).slice(1).join('').toUpperCase();
      return `${owner!.toLowerCase()} ${type!} ${hex}`;
    });
  return { lines, records: parseZone(output, { origin: signed.zone }) };
}

function ourRdataLines(records: readonly DnsRecord[]): string[] {
  return records.map((record) => {
    const typeNumber = /^TYPE\d+$/.test(record.type)
      ? record.type
      : `TYPE${typeNumberOf(record.type)}`;
    return `${record.name.toLowerCase()} ${typeNumber} ${encodeRdata(record).toString('hex').toUpperCase()}`;
  });
}

const TYPE_NUMBERS: Record<string, number> = {
  A: 1,
  NS: 2,
  SOA: 6,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  DS: 43,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  NSEC3: 50,
  NSEC3PARAM: 51,
};

function typeNumberOf(type: string): number {
  const value = TYPE_NUMBERS[type];
  if (value === undefined) throw new Error(`test table lacks type ${type}`);
  return value;
}

function flipBit(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[bytes.length >> 1]! ^= 0x01;
  return bytes.toString('base64');
}

function sortedRecords(records: readonly DnsRecord[]): string[] {
  return records
    .map((record) => formatRecord({ ...record, name: record.name.toLowerCase() }))
    .sort();
}

beforeAll(() => {
  workDirectory = mkdtempSync(join(tmpdir(), 'chorus-dnssec-vectors-'));
  try {
    run('dnssec-keygen', ['-V'], workDirectory);
    run('ldns-read-zone', ['-v'], workDirectory);
  } catch (error) {
    throw new Error(
      'these tests need bind9-utils and ldnsutils (apt-get install bind9-utils ldnsutils)',
      {
        cause: error,
      },
    );
  }
});

afterAll(() => {
  if (workDirectory) rmSync(workDirectory, { recursive: true, force: true });
});

describe.each(ALGORITHMS)('algorithm %i signed by dnssec-signzone', (algorithm) => {
  let signed: SignedZone;

  beforeAll(() => {
    signed = signZone(algorithm);
  });

  it('verifies every RRSIG in the signed zone', () => {
    const result = verifyZone(signed);
    expect(result.failures).toEqual([]);
    const rrsigCount = countRrsigsWithLdns(signed);
    expect(rrsigCount).toBeGreaterThan(0);
    expect(result.verified).toBe(rrsigCount);
    expect(signed.records.filter((record) => record.type === 'RRSIG')).toHaveLength(rrsigCount);
    // Both keys signed: the KSK over DNSKEY, the ZSK over everything else.
    const tags = new Set(signed.records.flatMap((record) => rrsigOf(record)?.keyTag ?? []));
    expect(tags).toEqual(new Set([signed.keys[0]!.id, signed.keys[1]!.id]));
  });

  it('verifies the wildcard signatures for a synthesised owner', () => {
    const wildcardSignatures = signed.records.filter(
      (record) => record.type === 'RRSIG' && record.name.startsWith('*.'),
    );
    expect(wildcardSignatures.length).toBeGreaterThanOrEqual(2);
    const sets = groupRrsets(signed.records);
    const keys = dnskeysOf(signed.records);
    for (const record of wildcardSignatures) {
      const signature = rrsigOf(record)!;
      const rrset = sets.get(`${record.name} ${signature.typeCovered}`)!;
      const key = keys.find((candidate) => keyTag(candidate) === signature.keyTag)!;
      const synthesised = { ...rrset, name: `a.b.${record.name.slice(2)}` };
      expect(verifyRrsig({ rrset: synthesised, signature, key })).toEqual({ ok: true });
    }
  });

  it('rejects a flipped signature bit and a flipped rdata bit', () => {
    const flippedSignature = signed.records.map((record): DnsRecord => {
      const signature = rrsigOf(record);
      if (signature === undefined || record.name !== `www.${signed.zone}`) return record;
      return {
        ...record,
        type: 'RRSIG',
        data: { ...signature, signature: flipBit(signature.signature) },
      };
    });
    const bad = verifyZone(signed, flippedSignature);
    expect(bad.failures.length).toBeGreaterThan(0);
    for (const failure of bad.failures)
      expect(failure).toMatch(/^www\..* signature does not verify$/);

    // 192.0.2.11 → 192.0.2.10 would duplicate; 192.0.2.11 → 192.0.2.15 flips bit 2 of the last octet.
    const flippedRdata = signed.records.map((record): DnsRecord =>
      record.type === 'A' && record.data === '192.0.2.11'
        ? { ...record, type: 'A', data: '192.0.2.15' }
        : record,
    );
    const changed = verifyZone(signed, flippedRdata);
    expect(changed.failures).toHaveLength(1);
    expect(changed.failures[0]).toMatch(/^www\..* RRSIG A .*signature does not verify$/);
  });

  it('computes key tags and DS digests like dnssec-dsfromkey', () => {
    expect(signed.keys).toHaveLength(3);
    for (const key of signed.keys) {
      const owner = key.owner;
      expect(keyTag(key.data)).toBe(key.id);
      const sha256 = parseRecord(run('dnssec-dsfromkey', ['-2', key.path], signed.directory), {
        defaultTtl: 0,
      });
      const sha384 = parseRecord(
        run('dnssec-dsfromkey', ['-a', 'SHA-384', key.path], signed.directory),
        {
          defaultTtl: 0,
        },
      );
      expect(computeDs(owner, key.data, 2)).toEqual(sha256.data);
      expect(computeDs(owner, key.data, 4)).toEqual(sha384.data);
      expect(dsMatchesKey(owner, sha256.data as DsData, key.data)).toBe(true);
    }
    // The delegation's DS in the zone is the child KSK's.
    const delegationDs = signed.records.find((record) => record.type === 'DS')!;
    expect(dsMatchesKey(delegationDs.name, delegationDs.data as DsData, signed.keys[2]!.data)).toBe(
      true,
    );
  });

  it('encodes every rdata to the octets ldns reads from the file', () => {
    const ldns = ldnsGenericRdata(signed);
    expect(ldns.lines.length).toBe(signed.records.length);
    expect(ourRdataLines(signed.records).sort()).toEqual([...ldns.lines].sort());
    // The generic rendering parses back to the same records as the presentation form.
    expect(sortedRecords(ldns.records)).toEqual(sortedRecords(signed.records));
  });

  it('round-trips every record through formatRecord and parseRecord', () => {
    for (const record of signed.records) expect(parseRecord(formatRecord(record))).toEqual(record);
  });
});

describe('NSEC3 zone signed by dnssec-signzone -3', () => {
  let signed: SignedZone;

  beforeAll(() => {
    signed = signZone(13, ['-3', '-', '-H', '0'], 'nsec3');
  });

  it('verifies every RRSIG, NSEC3 records included', () => {
    const nsec3 = signed.records.filter((record) => record.type === 'NSEC3');
    expect(nsec3.length).toBeGreaterThan(0);
    expect(signed.records.some((record) => record.type === 'NSEC3PARAM')).toBe(true);
    expect(signed.records.some((record) => record.type === 'NSEC')).toBe(false);
    const result = verifyZone(signed);
    expect(result.failures).toEqual([]);
    expect(result.verified).toBe(countRrsigsWithLdns(signed));
    const nsec3Signatures = signed.records.filter(
      (record) => rrsigOf(record)?.typeCovered === 'NSEC3',
    );
    expect(nsec3Signatures).toHaveLength(nsec3.length);
  });

  it('encodes NSEC3 and NSEC3PARAM rdata to the octets ldns reads', () => {
    const ldns = ldnsGenericRdata(signed);
    expect(ourRdataLines(signed.records).sort()).toEqual([...ldns.lines].sort());
  });

  it('rejects a flipped bit in an NSEC3 record', () => {
    const index = signed.records.findIndex((record) => record.type === 'NSEC3');
    const original = signed.records[index]!;
    const data = original.data as Nsec3Data;
    const hash = data.nextHashedOwner;
    const flippedHash = `${hash.slice(0, -1)}${hash.endsWith('0') ? '1' : '0'}`;
    const records = signed.records.map((record, position): DnsRecord =>
      position === index
        ? { ...original, type: 'NSEC3', data: { ...data, nextHashedOwner: flippedHash } }
        : record,
    );
    const result = verifyZone(signed, records);
    expect(result.failures).toHaveLength(1);
    expect(result.failures[0]).toMatch(/RRSIG NSEC3 .*signature does not verify$/);
  });
});
