import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DnsTimeoutError,
  type DnskeyData,
  type DsData,
  type NameServer,
  type RecordType,
  type RRset,
  type RrsigData,
} from '@chorus/core';
import { canonicalRrsetSigningData, computeDs, keyTag, rrsigLabelCount } from '@chorus/dns';
import { createValidationObserver, type ValidationFinding } from '../src/validation-observer.js';
import {
  validateViaProvider,
  type ValidatorResolve,
  type ValidatorResponse,
} from '../src/validator.js';

// A two-level chain (test. → example.test.) built in-process with ECDSA P-256 keys (algorithm
// 13), served through the validator's injectable `resolve`.

const NOW = 1_800_000_000;
const VALID = { inception: NOW - 3600, expiration: NOW + 86_400 };

interface Key {
  dnskey: DnskeyData;
  privateKey: KeyObject;
}

function makeKey(flags: number): Key {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const raw = Buffer.concat([Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  return {
    dnskey: { flags, protocol: 3, algorithm: 13, publicKey: raw.toString('base64') },
    privateKey,
  };
}

function signRrset<T extends RecordType>(
  rrset: Omit<RRset<T>, 'signatures'>,
  key: Key,
  signer: string,
  options: { inception?: number; expiration?: number; labels?: number } = {},
): RrsigData {
  const unsigned: RrsigData = {
    typeCovered: rrset.type,
    algorithm: 13,
    labels: options.labels ?? rrsigLabelCount(rrset.name),
    originalTtl: rrset.ttl,
    expiration: options.expiration ?? VALID.expiration,
    inception: options.inception ?? VALID.inception,
    keyTag: keyTag(key.dnskey),
    signerName: signer,
    signature: '',
  };
  const data = canonicalRrsetSigningData(unsigned, rrset);
  const signature = sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return { ...unsigned, signature: signature.toString('base64') };
}

function signed<T extends RecordType>(
  name: string,
  type: T,
  records: RRset<T>['records'],
  keys: Key[],
  signer: string,
  options: { inception?: number; expiration?: number; labels?: number; signAs?: string } = {},
): RRset<T> {
  const rrset = { name, type, class: 'IN' as const, ttl: 300, records };
  const signatures = keys.map((key) => signRrset(rrset, key, signer, options));
  return { ...rrset, signatures };
}

const PARENT: NameServer = { address: '127.0.0.1', port: 5301 };
const PROVIDER: NameServer = { address: '127.0.0.2' };
const parentKsk = makeKey(257);
const parentZsk = makeKey(256);
const childKsk = makeKey(257);
const childZsk = makeKey(256);
const strayKey = makeKey(256);
const trustAnchorDs: DsData[] = [computeDs('test.', parentKsk.dnskey, 2)];

const soa = signed(
  'example.test.',
  'SOA',
  [
    {
      mname: 'ns.example.test.',
      rname: 'hostmaster.example.test.',
      serial: 1,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum: 300,
    },
  ],
  [childZsk],
  'example.test.',
);
const apexNsec = signed(
  'example.test.',
  'NSEC',
  [{ nextName: 'www.example.test.', types: ['NS', 'SOA', 'RRSIG', 'NSEC', 'DNSKEY'] }],
  [childZsk],
  'example.test.',
);
const wwwNsec = signed(
  'www.example.test.',
  'NSEC',
  [{ nextName: 'example.test.', types: ['A', 'RRSIG', 'NSEC'] }],
  [childZsk],
  'example.test.',
);

interface World {
  parentDnskey: RRset;
  ds: RRset;
  dnskey: RRset;
  www: RRset;
  nxAuthority: RRset[];
  extra?: Record<string, ValidatorResponse>;
}

function world(overrides: Partial<World> = {}): World {
  return {
    parentDnskey: signed(
      'test.',
      'DNSKEY',
      [parentKsk.dnskey, parentZsk.dnskey],
      [parentKsk],
      'test.',
    ),
    ds: signed(
      'example.test.',
      'DS',
      [computeDs('example.test.', childKsk.dnskey, 2)],
      [parentZsk],
      'test.',
    ),
    dnskey: signed(
      'example.test.',
      'DNSKEY',
      [childKsk.dnskey, childZsk.dnskey],
      [childKsk],
      'example.test.',
    ),
    www: signed('www.example.test.', 'A', ['192.0.2.1'], [childZsk], 'example.test.'),
    nxAuthority: [soa, apexNsec, wwwNsec],
    ...overrides,
  };
}

function answer(rrset: RRset): ValidatorResponse {
  return { rcode: 'NOERROR', answers: [rrset], authorities: [] };
}

function resolverFor(data: World): ValidatorResolve {
  return (server, name, type) => {
    const key = `${server.address}|${name}|${type}`;
    const table: Record<string, ValidatorResponse> = {
      [`${PARENT.address}|test.|DNSKEY`]: answer(data.parentDnskey),
      [`${PARENT.address}|example.test.|DS`]: answer(data.ds),
      [`${PROVIDER.address}|example.test.|DNSKEY`]: answer(data.dnskey),
      [`${PROVIDER.address}|www.example.test.|A`]: answer(data.www),
      [`${PROVIDER.address}|nope.example.test.|A`]: {
        rcode: 'NXDOMAIN',
        answers: [],
        authorities: data.nxAuthority,
      },
      ...data.extra,
    };
    const response = table[key];
    if (!response) {
      return Promise.reject(
        new DnsTimeoutError({ server: server.address, timeoutMs: 1, attempts: 1, what: key }),
      );
    }
    return Promise.resolve(response);
  };
}

function validate(data: World, name = 'www.example.test.', type: RecordType = 'A') {
  return validateViaProvider({
    name,
    type,
    zone: 'example.test.',
    parentZone: 'test.',
    trustAnchorDs,
    parentServers: [PARENT],
    provider: PROVIDER,
    now: NOW,
    resolve: resolverFor(data),
  });
}

describe('validateViaProvider', () => {
  it('a fully signed chain is secure, each link recorded', async () => {
    const verdict = await validate(world());
    expect(verdict).toMatchObject({ status: 'secure', rcode: 'NOERROR' });
    expect(verdict.chain).toHaveLength(4);
    expect(verdict.chain[0]).toContain(`trust-anchor DS for key ${keyTag(parentKsk.dnskey)}`);
    expect(verdict.chain[3]).toBe(
      `answer www.example.test. A signed by key ${keyTag(childZsk.dnskey)}`,
    );
  });

  it('negative control: an answer signed by a key missing from the DNSKEY RRset is bogus', async () => {
    const www = signed('www.example.test.', 'A', ['192.0.2.1'], [strayKey], 'example.test.');
    const verdict = await validate(world({ www }));
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toBe(
      `answer www.example.test. A signed by key ${keyTag(strayKey.dnskey)} not in the DNSKEY RRset`,
    );
    expect(verdict.chain).toHaveLength(3);
  });

  it('an expired RRSIG over the answer is bogus', async () => {
    const www = signed('www.example.test.', 'A', ['192.0.2.1'], [childZsk], 'example.test.', {
      inception: NOW - 7200,
      expiration: NOW - 60,
    });
    const verdict = await validate(world({ www }));
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toMatch(
      /^answer www\.example\.test\. A RRSIG by key \d+: signature expired/,
    );
  });

  it('an expired RRSIG over the parent DS RRset is bogus too', async () => {
    const ds = signed(
      'example.test.',
      'DS',
      [computeDs('example.test.', childKsk.dnskey, 2)],
      [parentZsk],
      'test.',
      { inception: NOW - 7200, expiration: NOW - 60 },
    );
    const verdict = await validate(world({ ds }));
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toMatch(/^DS RRset of example\.test\. at parent .*signature expired/);
  });

  it('a DS that matches no key of the provider DNSKEY RRset is bogus, naming the missing DS', async () => {
    const ds = signed(
      'example.test.',
      'DS',
      [computeDs('example.test.', strayKey.dnskey, 2)],
      [parentZsk],
      'test.',
    );
    const verdict = await validate(world({ ds }));
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toContain(
      'DNSKEY RRset of ns 127.0.0.2:53 not signed by any key with a DS at the parent',
    );
  });

  it('a DS that matches a key which did not sign the DNSKEY RRset is bogus', async () => {
    const dnskey = signed(
      'example.test.',
      'DNSKEY',
      [childKsk.dnskey, childZsk.dnskey],
      [childZsk],
      'example.test.',
    );
    const verdict = await validate(world({ dnskey }));
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toContain(
      'DNSKEY RRset of ns 127.0.0.2:53 not signed by any key with a DS at the parent',
    );
  });

  it('a parent DNSKEY RRset that the trust anchor does not authenticate is bogus', async () => {
    const parentDnskey = signed(
      'test.',
      'DNSKEY',
      [parentKsk.dnskey, parentZsk.dnskey],
      [parentZsk],
      'test.',
    );
    const verdict = await validate(world({ parentDnskey }));
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toContain('DNSKEY RRset of test. at parent 127.0.0.1:5301');
    expect(verdict.chain).toEqual([]);
  });

  it('NXDOMAIN with NSEC covering the name and the wildcard is secure', async () => {
    const verdict = await validate(world(), 'nope.example.test.');
    expect(verdict).toMatchObject({ status: 'secure', rcode: 'NXDOMAIN' });
    expect(verdict.reason).toContain('NSEC example.test. → www.example.test. covers it');
  });

  it('NXDOMAIN with an NSEC that does not cover the name is bogus', async () => {
    const verdict = await validate(world({ nxAuthority: [soa, wwwNsec] }), 'nope.example.test.');
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toContain('NXDOMAIN for nope.example.test. without an NSEC covering it');
  });

  it('NXDOMAIN with an unsigned NSEC is bogus', async () => {
    const unsignedNsec = { ...apexNsec, signatures: [] };
    const verdict = await validate(
      world({ nxAuthority: [soa, unsignedNsec, wwwNsec] }),
      'nope.example.test.',
    );
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toBe('NSEC example.test. has no RRSIG');
  });

  it('NODATA proven by the NSEC at the name is secure; a bitmap listing the type is bogus', async () => {
    const nodata = (authorities: RRset[]): Record<string, ValidatorResponse> => ({
      [`${PROVIDER.address}|www.example.test.|AAAA`]: {
        rcode: 'NOERROR',
        answers: [],
        authorities,
      },
    });
    const good = await validate(
      world({ extra: nodata([soa, wwwNsec]) }),
      'www.example.test.',
      'AAAA',
    );
    expect(good).toMatchObject({ status: 'secure', rcode: 'NOERROR' });
    const lying = signed(
      'www.example.test.',
      'NSEC',
      [{ nextName: 'example.test.', types: ['A', 'AAAA', 'RRSIG', 'NSEC'] }],
      [childZsk],
      'example.test.',
    );
    const bad = await validate(world({ extra: nodata([soa, lying]) }), 'www.example.test.', 'AAAA');
    expect(bad.status).toBe('bogus');
    expect(bad.reason).toContain('lists AAAA or CNAME');
  });

  it('a wildcard expansion needs an NSEC proving the next closer name does not exist', async () => {
    const expanded = signed('foo.example.test.', 'A', ['192.0.2.9'], [childZsk], 'example.test.', {
      labels: 2,
    });
    const starNsec = signed(
      '*.example.test.',
      'NSEC',
      [{ nextName: 'www.example.test.', types: ['A', 'RRSIG', 'NSEC'] }],
      [childZsk],
      'example.test.',
    );
    const response = (authorities: RRset[]): Record<string, ValidatorResponse> => ({
      [`${PROVIDER.address}|foo.example.test.|A`]: {
        rcode: 'NOERROR',
        answers: [expanded],
        authorities,
      },
    });
    const good = await validate(world({ extra: response([starNsec]) }), 'foo.example.test.');
    expect(good.status).toBe('secure');
    expect(good.reason).toContain('from wildcard *.example.test.');
    const bad = await validate(world({ extra: response([]) }), 'foo.example.test.');
    expect(bad.status).toBe('bogus');
    expect(bad.reason).toContain('no NSEC proves foo.example.test. does not exist');
  });

  it('an unsigned NSEC3 in a denial is bogus (NSEC3 proofs: validator-nsec3.test.ts)', async () => {
    const nsec3: RRset = {
      name: 'abc.example.test.',
      type: 'NSEC3',
      class: 'IN',
      ttl: 300,
      records: [],
      signatures: [],
    };
    const verdict = await validate(
      world({
        extra: {
          [`${PROVIDER.address}|gone.example.test.|A`]: {
            rcode: 'NXDOMAIN',
            answers: [],
            authorities: [soa, nsec3],
          },
        },
      }),
      'gone.example.test.',
    );
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toBe('NSEC3 abc.example.test. has no RRSIG');
  });

  it('a network error is indeterminate', async () => {
    const verdict = await validate(world(), 'unknown.example.test.', 'TXT');
    expect(verdict.status).toBe('indeterminate');
    expect(verdict.reason).toContain('unknown.example.test. TXT from 127.0.0.2:53');
    expect(verdict.chain).toHaveLength(3);
  });
});

describe('createValidationObserver cross-checks', () => {
  const GOOD: NameServer = PROVIDER;
  const BAD: NameServer = { address: '127.0.0.3' };
  // The BAD provider serves a DNSKEY RRset that no DS at the parent authenticates.
  const base = world();
  const badDnskey = signed(
    'example.test.',
    'DNSKEY',
    [strayKey.dnskey, childZsk.dnskey],
    [strayKey],
    'example.test.',
  );
  const resolve: ValidatorResolve = (server, name, type, options) =>
    resolverFor(base)(server.address === BAD.address ? GOOD : server, name, type, options).then(
      (response) =>
        server.address === BAD.address && type === 'DNSKEY' ? answer(badDnskey) : response,
    );

  async function probe(answers: Record<string, { rcode: string; ad: boolean }>) {
    const findings: ValidationFinding[] = [];
    const observer = createValidationObserver({
      zone: 'example.test.',
      parentZone: 'test.',
      trustAnchorDs,
      parentServers: [PARENT],
      providers: [
        { id: 'good', server: GOOD },
        { id: 'bad', server: BAD },
      ],
      resolvers: [
        { id: 'r-good', server: { address: '127.0.1.1' }, pinnedTo: 'good' },
        { id: 'r-bad', server: { address: '127.0.1.2' }, pinnedTo: 'bad' },
        { id: 'r-any', server: { address: '127.0.1.3' } },
      ],
      probeNames: [{ name: 'www.example.test.', type: 'A' }],
      onFinding: (finding) => findings.push(finding),
      now: () => NOW,
      resolve,
      queryResolver: (server) => Promise.resolve(answers[server.address]!),
    });
    const report = await observer.probeOnce();
    await observer.shutdown?.();
    expect(findings).toEqual(report.findings);
    return report;
  }

  it('agreement gives only the validation failure of the bad provider', async () => {
    const report = await probe({
      '127.0.1.1': { rcode: 'NOERROR', ad: true },
      '127.0.1.2': { rcode: 'SERVFAIL', ad: false },
      '127.0.1.3': { rcode: 'NOERROR', ad: true },
    });
    expect(report.verdicts.map((entry) => entry.verdict.status)).toEqual(['secure', 'bogus']);
    expect(report.findings).toEqual([
      {
        kind: 'validation-failure',
        at: report.at,
        provider: 'bad',
        name: 'www.example.test.',
        type: 'A',
        detail: expect.stringContaining(
          'DNSKEY RRset of ns 127.0.0.3:53 not signed by any key with a DS at the parent',
        ),
        // The DS → DNSKEY link failed.
        invariant: 'I2',
      },
    ]);
  });

  it('a resolver that validates what we call bogus, or fails what we call secure, disagrees', async () => {
    const report = await probe({
      '127.0.1.1': { rcode: 'SERVFAIL', ad: false },
      '127.0.1.2': { rcode: 'NOERROR', ad: true },
      '127.0.1.3': { rcode: 'SERVFAIL', ad: false },
    });
    const disagreements = report.findings
      .filter((finding) => finding.kind === 'disagreement')
      .map((finding) => [finding.resolver, finding.provider, finding.detail]);
    expect(disagreements).toEqual([
      ['r-good', 'good', 'our verdict is secure (NOERROR) but the resolver answered SERVFAIL'],
      [
        'r-bad',
        'bad',
        expect.stringMatching(
          /^our verdict is bogus \(.*\) but the resolver answered NOERROR with AD$/,
        ),
      ],
    ]);
  });

  it('a secure answer without AD is a disagreement', async () => {
    const report = await probe({
      '127.0.1.1': { rcode: 'NOERROR', ad: false },
      '127.0.1.2': { rcode: 'SERVFAIL', ad: false },
      '127.0.1.3': { rcode: 'NOERROR', ad: false },
    });
    expect(
      report.findings.filter((finding) => finding.kind === 'disagreement').map((f) => f.detail),
    ).toEqual(['our verdict is secure but the resolver answered NOERROR without AD']);
  });
});
