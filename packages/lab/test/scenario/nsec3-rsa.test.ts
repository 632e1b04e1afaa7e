/**
 * `lab up --denial nsec3 --algorithm 8` for real: a lab of its own on 127.75.0 (or
 * $CHORUS_TEST_NSEC3_PREFIX) with every kind of server (parent, signers, providers, traps). Asks
 * each server with dig: NSEC3PARAM `1 0 0 -` at every apex, NXDOMAIN proven by NSEC3 (never NSEC)
 * with those parameters, DNSKEYs of algorithm 8 only. Then validates: the lab's resolvers from
 * the parent's RSA DS (AD on a name, NXDOMAIN + AD on a missing one), and each signer on its own
 * with delv anchored at its own KSK. Negative controls: the readiness check refuses this lab
 * when it expects NSEC or algorithm 13, and refuses a signer whose NSEC3 chain differs.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTool } from '../../src/commands.js';
import { labDown, labUp } from '../../src/lab.js';
import { MISSING_LABEL, signingCheck } from '../../src/readiness.js';
import type { LabServer, LabStatus } from '../../src/types.js';

const PREFIX = process.env.CHORUS_TEST_NSEC3_PREFIX ?? '127.75.0';
const ZONE = 'example.test.';

const CONTROL_PREFIX = process.env.CHORUS_TEST_RSA_PREFIX ?? '127.76.0';

let directory: string;
let status: LabStatus;

/** `dig @server` without recursion unless asked, DNSSEC records on; the whole output. */
async function dig(
  target: { address: string; port: number },
  name: string,
  type: string,
  ...options: string[]
): Promise<string> {
  const result = await runTool(
    'dig',
    [
      `@${target.address}`,
      '-p',
      String(target.port),
      '+dnssec',
      '+nosplit',
      ...options,
      name,
      type,
    ],
    { timeoutMs: 10_000 },
  );
  return result.stdout;
}

/** The records of `section` (`ANSWER`/`AUTHORITY`) as `[owner, type, rdata]`. */
function records(output: string, section: 'ANSWER' | 'AUTHORITY'): [string, string, string][] {
  const lines = output.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`;; ${section} SECTION:`));
  if (start < 0) return [];
  const result: [string, string, string][] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') break;
    const [owner, , , type, ...rdata] = line.split(/\s+/);
    result.push([owner!, type!, rdata.join(' ')]);
  }
  return result;
}

function rcodeOf(output: string): string | undefined {
  return /status: ([A-Z]+)/.exec(output)?.[1];
}

function flagsOf(output: string): string[] {
  return (/;; flags: ([a-z ]+);/.exec(output)?.[1] ?? '').trim().split(/\s+/);
}

/** Every (server, zone) pair the lab serves, the parent's `test.` included. */
function servedZones(lab: LabStatus = status): [LabServer, string][] {
  return lab.servers.flatMap((server) =>
    server.zones.map((zone) => [server, zone] as [LabServer, string]),
  );
}

/** `<server> <zone> <NSEC3PARAM rdata…>` per served zone, as dig sees it. */
async function nsec3Params(lab: LabStatus): Promise<string[]> {
  return Promise.all(
    servedZones(lab).map(async ([server, zone]) => {
      const answer = records(await dig(server, zone, 'NSEC3PARAM', '+norec'), 'ANSWER');
      const params = answer.filter(([, type]) => type === 'NSEC3PARAM').map(([, , rdata]) => rdata);
      return `${server.id} ${zone} ${params.join(' | ')}`.trim();
    }),
  );
}

/** `<server> <zone> <rcode> <authority types>` of a missing name, per served zone. */
async function denials(lab: LabStatus, label: string): Promise<string[]> {
  return Promise.all(
    servedZones(lab).map(async ([server, zone]) => {
      const output = await dig(server, `${label}.${zone}`, 'A', '+norec');
      const types = [...new Set(records(output, 'AUTHORITY').map(([, type]) => type))].sort();
      return `${server.id} ${zone} ${rcodeOf(output)} ${types.join(' ')}`;
    }),
  );
}

/** `<server> <zone> <DNSKEY algorithms>` per served zone. */
async function dnskeyAlgorithms(lab: LabStatus): Promise<string[]> {
  return Promise.all(
    servedZones(lab).map(async ([server, zone]) => {
      const answer = records(await dig(server, zone, 'DNSKEY', '+norec'), 'ANSWER');
      const algorithms = answer
        .filter(([, type]) => type === 'DNSKEY')
        .map(([, , rdata]) => rdata.split(' ')[2]);
      return `${server.id} ${zone} ${[...new Set(algorithms)].join(' ')}`;
    }),
  );
}

describe('a lab with --denial nsec3 --algorithm 8', () => {
  beforeAll(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-nsec3-rsa-'));
    const started = performance.now();
    status = await labUp({
      directory,
      addressPrefix: PREFIX,
      denial: 'nsec3',
      algorithm: 8,
      traps: true,
      providers: ['desec', 'ns1'],
      registryAgent: false,
    });
    process.stderr.write(
      `[nsec3-rsa] lab up with NSEC3 and RSA took ${((performance.now() - started) / 1000).toFixed(2)} s\n`,
    );
  }, 90_000);

  afterAll(async () => {
    await labDown({ directory });
    await rm(directory, { recursive: true, force: true });
  });

  it('records the choice in its status, and the trust anchor is an RSA DS', () => {
    expect(status).toMatchObject({
      algorithm: 8,
      algorithmName: 'RSASHA256',
      denial: 'nsec3',
      nsec3param: '1 0 0 -',
    });
    expect(status.trustAnchor.ds.map((ds) => [ds.algorithm, ds.digestType])).toEqual([[8, 2]]);
    expect(status.servers.map((server) => server.id)).toEqual([
      'parent',
      'bind',
      'powerdns',
      'knot',
      'desec',
      'ns1',
      'bind-inline-signing',
      'powerdns-no-direct-dnskey',
      'knot-full-management',
      'knot-zonefile-revert',
    ]);
  });

  it('serves NSEC3PARAM 1 0 0 - at every apex of every server, the same everywhere', async () => {
    expect(await nsec3Params(status)).toEqual(
      servedZones().map(([server, zone]) => `${server.id} ${zone} 1 0 0 -`),
    );
  });

  it('proves NXDOMAIN with signed NSEC3 records of those parameters, never NSEC', async () => {
    expect(await denials(status, MISSING_LABEL)).toEqual(
      servedZones().map(([server, zone]) => `${server.id} ${zone} NXDOMAIN NSEC3 RRSIG SOA`),
    );
    for (const [server, zone] of servedZones()) {
      const output = await dig(server, `${MISSING_LABEL}-dig.${zone}`, 'A', '+norec');
      const authority = records(output, 'AUTHORITY');
      const types = authority.map(([, type]) => type);
      const nsec3 = authority.filter(([, type]) => type === 'NSEC3');
      expect(`${server.id} ${zone} ${rcodeOf(output)}`).toBe(`${server.id} ${zone} NXDOMAIN`);
      expect(types, `${server.id} ${zone}`).not.toContain('NSEC');
      // Closest encloser, next closer and wildcard: up to 3 NSEC3 (fewer when one covers two); an
      // empty non-terminal (the parent's bind.test. above ns.bind.test.) has an empty type bitmap.
      expect(nsec3.length, `${server.id} ${zone}`).toBeGreaterThanOrEqual(1);
      for (const [owner, , rdata] of nsec3) {
        expect(rdata, `${server.id} ${owner}`).toMatch(/^1 0 0 - [0-9A-V]+( |$)/);
        expect(
          authority.some(
            ([name, type, sig]) => name === owner && type === 'RRSIG' && sig.startsWith('NSEC3 8 '),
          ),
          `${server.id} ${owner} signed with algorithm 8`,
        ).toBe(true);
      }
    }
  });

  it('serves DNSKEYs of algorithm 8 only, signed with algorithm 8, at every server', async () => {
    expect(await dnskeyAlgorithms(status)).toEqual(
      servedZones().map(([server, zone]) => `${server.id} ${zone} 8`),
    );
    for (const [server, zone] of servedZones()) {
      const answer = records(await dig(server, zone, 'DNSKEY', '+norec'), 'ANSWER');
      const keys = answer.filter(([, type]) => type === 'DNSKEY').map(([, , rdata]) => rdata);
      const signatures = answer.filter(([, type]) => type === 'RRSIG').map(([, , rdata]) => rdata);
      expect(keys.length, `${server.id} ${zone}`).toBeGreaterThanOrEqual(1);
      expect(
        keys.map((key) => key.split(' ')[2]),
        `${server.id} ${zone}`,
      ).toEqual(keys.map(() => '8'));
      // A 2048-bit RSA key is 256 bytes of modulus: about 344 base64 characters with its exponent.
      expect(keys.every((key) => key.split(' ')[3]!.length > 340)).toBe(true);
      expect(signatures.length, `${server.id} ${zone}`).toBeGreaterThanOrEqual(1);
      expect(signatures.every((rrsig) => rrsig.startsWith('DNSKEY 8 '))).toBe(true);
    }
  });

  it('validates through the resolvers: AD on www, NXDOMAIN with AD on a missing name', async () => {
    // Only BIND is delegated at the start, so these are the resolvers whose chain ends at BIND.
    const validating = status.resolvers.filter((resolver) =>
      ['resolver-delegation', 'resolver-bind', 'resolver-forwarded'].includes(resolver.id),
    );
    expect(validating).toHaveLength(3);
    for (const resolver of validating) {
      const positive = await dig(resolver, `www.${ZONE}`, 'A');
      expect(`${resolver.id} ${rcodeOf(positive)} ${flagsOf(positive).includes('ad')}`).toBe(
        `${resolver.id} NOERROR true`,
      );
      const negative = await dig(resolver, `${MISSING_LABEL}-resolver.${ZONE}`, 'A');
      expect(`${resolver.id} ${rcodeOf(negative)} ${flagsOf(negative).includes('ad')}`).toBe(
        `${resolver.id} NXDOMAIN true`,
      );
      expect(records(negative, 'AUTHORITY').some(([, type]) => type === 'NSEC3')).toBe(true);
    }
    // Negative control: the wrong DS still fails.
    const broken = await dig(status.resolvers[0]!, `www.${status.brokenZone}`, 'A');
    expect(rcodeOf(broken)).toBe('SERVFAIL');
  });

  it('validates every signer on its own: delv anchored at the signer’s own KSK', async () => {
    const signers = status.servers.filter((server) => server.role !== 'parent');
    for (const server of signers) {
      const answer = records(await dig(server, ZONE, 'DNSKEY', '+norec'), 'ANSWER');
      const ksks = answer
        .filter(([, type, rdata]) => type === 'DNSKEY' && rdata.startsWith('257 '))
        .map(([, , rdata]) => rdata.split(' '));
      const anchors = path.join(directory, `anchor-${server.id}.conf`);
      await writeFile(
        anchors,
        `trust-anchors {\n${ksks.map(([flags, protocol, algorithm, key]) => `  ${ZONE} static-key ${flags} ${protocol} ${algorithm} "${key}";`).join('\n')}\n};\n`,
      );
      const delv = (name: string) =>
        runTool(
          'delv',
          [
            `@${server.address}`,
            '-p',
            String(server.port),
            '-a',
            anchors,
            `+root=${ZONE}`,
            name,
            'A',
          ],
          { allowFailure: true, timeoutMs: 10_000 },
        );
      const positive = await delv(`www.${ZONE}`);
      expect(`${server.id}: ${positive.stdout}${positive.stderr}`).toContain('; fully validated');
      const negative = await delv(`${MISSING_LABEL}-delv.${ZONE}`);
      expect(`${server.id}: ${negative.stdout}${negative.stderr}`).toContain(
        '; negative response, fully validated',
      );
    }
  });

  it('negative control: the readiness check refuses this lab when it expects NSEC or algorithm 13', async () => {
    for (const server of status.servers) {
      expect(await signingCheck(server, server.zones, status)()).toEqual({ ready: true });
      const asNsec = await signingCheck(server, server.zones, { algorithm: 8, denial: 'nsec' })();
      expect(asNsec).toMatchObject({ ready: false, reason: expect.stringContaining('NSEC3PARAM') });
      const asEcdsa = await signingCheck(server, server.zones, {
        algorithm: 13,
        denial: 'nsec3',
      })();
      expect(asEcdsa).toMatchObject({
        ready: false,
        reason: expect.stringContaining('expected only 13'),
      });
    }
  });
});

describe('negative control: a lab with the defaults (NSEC, algorithm 13)', () => {
  let controlDirectory: string;
  let control: LabStatus;

  beforeAll(async () => {
    controlDirectory = await mkdtemp(path.join(os.tmpdir(), 'chorus-nsec-ecdsa-'));
    control = await labUp({
      directory: controlDirectory,
      addressPrefix: CONTROL_PREFIX,
      registryAgent: false,
    });
  }, 90_000);

  afterAll(async () => {
    await labDown({ directory: controlDirectory });
    await rm(controlDirectory, { recursive: true, force: true });
  });

  it('serves no NSEC3PARAM, denies with NSEC, and has algorithm 13 keys: the same checks tell them apart', async () => {
    expect(control).toMatchObject({ algorithm: 13, denial: 'nsec' });
    expect(control).not.toHaveProperty('nsec3param');
    expect(await nsec3Params(control)).toEqual(
      servedZones(control).map(([server, zone]) => `${server.id} ${zone}`),
    );
    expect(await denials(control, MISSING_LABEL)).toEqual(
      servedZones(control).map(([server, zone]) => `${server.id} ${zone} NXDOMAIN NSEC RRSIG SOA`),
    );
    expect(await dnskeyAlgorithms(control)).toEqual(
      servedZones(control).map(([server, zone]) => `${server.id} ${zone} 13`),
    );
  });

  it('is refused by the readiness check that expects NSEC3 and RSA', async () => {
    for (const server of control.servers) {
      expect(await signingCheck(server, server.zones, control)()).toEqual({ ready: true });
      expect(
        await signingCheck(server, server.zones, { algorithm: 13, denial: 'nsec3' })(),
      ).toMatchObject({ ready: false, reason: expect.stringContaining('NSEC3PARAM: none yet') });
      expect(
        await signingCheck(server, server.zones, { algorithm: 8, denial: 'nsec' })(),
      ).toMatchObject({ ready: false, reason: expect.stringContaining('expected only 8') });
    }
  });
});
