import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DnsTimeoutError,
  type NameServer,
  type Nsec3Data,
  type RecordType,
  type RRset,
} from '@chorus/core';
import { computeDs, groupRRsets, nsec3Hash, parseZone } from '@chorus/dns';
import {
  validateViaProvider,
  type ValidatorResolve,
  type ValidatorResponse,
} from '../src/validator.js';
import { KSK_FLAGS, makeKey, signedRrset, ZSK_FLAGS, type TestKey } from './helpers/signing.js';

// NSEC3 denials (RFC 5155 §8) through the whole chain test. → zone: zones whose NSEC3 chains
// are built here with P-256 keys, and two zones signed by BIND (fixtures/nsec3/).

const NOW = 1_800_000_000;
const SIGN = { inception: NOW - 3600, expiration: NOW + 86_400 };
const PARENT: NameServer = { address: '127.0.0.1', port: 5301 };
const PROVIDER: NameServer = { address: '127.0.0.2' };
const ZONE = 'example.test.';

const parentKsk = makeKey(KSK_FLAGS);
const parentZsk = makeKey(ZSK_FLAGS);
const childKsk = makeKey(KSK_FLAGS);
const childZsk = makeKey(ZSK_FLAGS);
const strayKey = makeKey(ZSK_FLAGS);

function signed<T extends RecordType>(
  name: string,
  type: T,
  records: RRset<T>['records'],
  key: TestKey = childZsk,
  signer = ZONE,
): RRset<T> {
  return signedRrset(name, type, records, 300, [key], { ...SIGN, signer });
}

const parentDnskey = signedRrset(
  'test.',
  'DNSKEY',
  [parentKsk.dnskey, parentZsk.dnskey],
  3600,
  [parentKsk],
  { ...SIGN, signer: 'test.' },
);

/** The responses of the parent and of the provider for one question about `zone`. */
function resolverFor(
  zone: string,
  dnskey: RRset<'DNSKEY'>,
  question: string,
  response: ValidatorResponse,
): ValidatorResolve {
  const ksk = dnskey.records.find((key) => key.flags === KSK_FLAGS)!;
  const ds = signed(zone, 'DS', [computeDs(zone, ksk, 2)], parentZsk, 'test.');
  const answer = (set: RRset): ValidatorResponse => ({
    rcode: 'NOERROR',
    answers: [set],
    authorities: [],
  });
  const table: Record<string, ValidatorResponse> = {
    [`${PARENT.address}|test.|DNSKEY`]: answer(parentDnskey),
    [`${PARENT.address}|${zone}|DS`]: answer(ds),
    [`${PROVIDER.address}|${zone}|DNSKEY`]: answer(dnskey),
    [`${PROVIDER.address}|${question}`]: response,
  };
  return (server, name, type) => {
    const key = `${server.address}|${name}|${type}`;
    const found = table[key];
    if (found) return Promise.resolve(found);
    return Promise.reject(
      new DnsTimeoutError({ server: server.address, timeoutMs: 1, attempts: 1, what: key }),
    );
  };
}

function validate(
  name: string,
  type: RecordType,
  response: ValidatorResponse,
  zone = ZONE,
  dnskey: RRset<'DNSKEY'> = childDnskey,
) {
  return validateViaProvider({
    name,
    type,
    zone,
    parentZone: 'test.',
    trustAnchorDs: [computeDs('test.', parentKsk.dnskey, 2)],
    parentServers: [PARENT],
    provider: PROVIDER,
    now: NOW,
    resolve: resolverFor(zone, dnskey, `${name}|${type}`, response),
  });
}

const childDnskey = signed(ZONE, 'DNSKEY', [childKsk.dnskey, childZsk.dnskey], childKsk);
const soa = signed(ZONE, 'SOA', [
  {
    mname: 'ns.example.test.',
    rname: 'hostmaster.example.test.',
    serial: 1,
    refresh: 3600,
    retry: 600,
    expire: 86400,
    minimum: 300,
  },
]);

// --- NSEC3 chains built here -------------------------------------------------------------------

interface ChainOptions {
  iterations?: number;
  salt?: string;
  optOut?: boolean;
  /** Leave the unsigned delegation sub.example.test. out of the chain (opt-out zones do). */
  withoutSub?: boolean;
}

interface Chain {
  parameters: { hashAlgorithm: number; iterations: number; salt: string };
  records: RRset<'NSEC3'>[];
}

/** The names of example.test.: wild.example.test. is an empty non-terminal. */
function zoneNames(withoutSub: boolean): [string, RecordType[]][] {
  const names: [string, RecordType[]][] = [
    [ZONE, ['NS', 'SOA', 'RRSIG', 'DNSKEY', 'NSEC3PARAM']],
    ['www.example.test.', ['A', 'RRSIG']],
    ['wild.example.test.', []],
    ['*.wild.example.test.', ['TXT', 'RRSIG']],
    ['signed.example.test.', ['NS', 'DS', 'RRSIG']],
  ];
  return withoutSub ? names : [...names, ['sub.example.test.', ['NS']]];
}

function buildChain(options: ChainOptions = {}): Chain {
  const parameters = {
    hashAlgorithm: 1,
    iterations: options.iterations ?? 5,
    salt: options.salt ?? 'C0FFEE',
  };
  const hashed = zoneNames(options.withoutSub ?? false)
    .map(([name, types]) => ({ hash: nsec3Hash(name, parameters), types }))
    .sort((a, b) => (a.hash < b.hash ? -1 : 1));
  const records = hashed.map((entry, index) =>
    signed(`${entry.hash.toLowerCase()}.${ZONE}`, 'NSEC3', [
      {
        ...parameters,
        flags: options.optOut ? 1 : 0,
        nextHashedOwner: hashed[(index + 1) % hashed.length]!.hash,
        types: entry.types,
      },
    ]),
  );
  return { parameters, records };
}

function hashLabel(chain: Chain, name: string): string {
  return nsec3Hash(name, chain.parameters).toLowerCase();
}

function ownerLabel(record: RRset): string {
  return record.name.split('.')[0]!;
}

function matchOf(chain: Chain, name: string): RRset<'NSEC3'> {
  const label = hashLabel(chain, name);
  const found = chain.records.find((record) => ownerLabel(record) === label);
  if (!found) throw new Error(`test setup: no NSEC3 for ${name}`);
  return found;
}

/** The NSEC3 whose span holds the hash of `name`: the last owner before it, else the last. */
function coverOf(chain: Chain, name: string): RRset<'NSEC3'> {
  const label = hashLabel(chain, name);
  const before = chain.records.filter((record) => ownerLabel(record) < label);
  const found = before.at(-1) ?? chain.records.at(-1)!;
  if (ownerLabel(found) === label) throw new Error(`test setup: ${name} exists`);
  return found;
}

function spanText(record: RRset<'NSEC3'>): string {
  return `NSEC3 ${ownerLabel(record)} → ${record.records[0]!.nextHashedOwner.toLowerCase()}`;
}

function response(rcode: 'NOERROR' | 'NXDOMAIN', authorities: RRset[], answers: RRset[] = []) {
  const unique = authorities.filter(
    (set, index) => authorities.findIndex((other) => other.name === set.name) === index,
  );
  return { rcode, answers, authorities: unique } satisfies ValidatorResponse;
}

/** A name below the apex whose cover differs from the apex match and the wildcard cover. */
function missingName(chain: Chain): string {
  for (let index = 0; index < 200; index += 1) {
    const name = `nope${index}.example.test.`;
    const owners = new Set([
      matchOf(chain, ZONE).name,
      coverOf(chain, name).name,
      coverOf(chain, '*.example.test.').name,
    ]);
    if (owners.size === 3) return name;
  }
  throw new Error('test setup: no suitable missing name');
}

/** Re-signs an NSEC3 after changing its rdata. */
function resigned(record: RRset<'NSEC3'>, change: Partial<Nsec3Data>): RRset<'NSEC3'> {
  return signed(record.name, 'NSEC3', [{ ...record.records[0]!, ...change }]);
}

/** Changes the rdata and keeps the old signature, as a bit flip in transit would. */
function tampered(record: RRset<'NSEC3'>, change: Partial<Nsec3Data>): RRset<'NSEC3'> {
  return { ...record, records: [{ ...record.records[0]!, ...change }] };
}

function flipLastCharacter(hash: string): string {
  return `${hash.slice(0, -1)}${hash.endsWith('0') ? '1' : '0'}`;
}

const chain = buildChain();
const NOPE = missingName(chain);

function nxdomainProof(target = NOPE, use = chain): RRset[] {
  return [soa, matchOf(use, ZONE), coverOf(use, target), coverOf(use, '*.example.test.')];
}

describe('NSEC3 NXDOMAIN (RFC 5155 §8.4)', () => {
  it('a closest encloser proof and a wildcard cover make it secure, each NSEC3 named', async () => {
    const verdict = await validate(NOPE, 'A', response('NXDOMAIN', nxdomainProof()));
    expect(verdict).toMatchObject({ status: 'secure', rcode: 'NXDOMAIN' });
    expect(verdict.reason).toBe(
      `NXDOMAIN ${NOPE}: NSEC3 ${hashLabel(chain, ZONE)} matches closest encloser ${ZONE}, ${spanText(coverOf(chain, NOPE))} covers next closer ${NOPE}, ${spanText(coverOf(chain, '*.example.test.'))} covers *.example.test.`,
    );
    expect(verdict.chain).toHaveLength(4);
  });

  it('a deeper name has the child of the closest encloser as next closer', async () => {
    const deep = `a.b.${NOPE}`;
    const verdict = await validate(deep, 'A', response('NXDOMAIN', nxdomainProof()));
    expect(verdict.status).toBe('secure');
    expect(verdict.reason).toContain(`covers next closer ${NOPE}`);
  });

  it('negative control: without the wildcard cover it is bogus', async () => {
    const [soaSet, match, cover] = nxdomainProof();
    const verdict = await validate(NOPE, 'A', response('NXDOMAIN', [soaSet!, match!, cover!]));
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toBe(
      `NXDOMAIN for ${NOPE}: NSEC3 ${hashLabel(chain, ZONE)} matches closest encloser ${ZONE}, ${spanText(cover as RRset<'NSEC3'>)} covers next closer ${NOPE}, but no NSEC3 covers wildcard *.example.test. (hash ${hashLabel(chain, '*.example.test.')})`,
    );
  });

  it('negative control: without the next closer cover it is bogus', async () => {
    const verdict = await validate(
      NOPE,
      'A',
      response('NXDOMAIN', [soa, matchOf(chain, ZONE), coverOf(chain, '*.example.test.')]),
    );
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toContain(`but no NSEC3 covers next closer ${NOPE}`);
  });

  it('negative control: without an NSEC3 matching an ancestor it is bogus', async () => {
    const verdict = await validate(
      NOPE,
      'A',
      response('NXDOMAIN', [soa, coverOf(chain, NOPE), coverOf(chain, '*.example.test.')]),
    );
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toContain('no NSEC3 matches an ancestor of');
  });

  it('negative control: a changed next hashed owner breaks the signature', async () => {
    const cover = coverOf(chain, NOPE);
    const flipped = tampered(cover, {
      nextHashedOwner: flipLastCharacter(cover.records[0]!.nextHashedOwner),
    });
    const proof = nxdomainProof().map((set) => (set === cover ? flipped : set));
    const verdict = await validate(NOPE, 'A', response('NXDOMAIN', proof));
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toMatch(
      new RegExp(
        `^NSEC3 ${cover.name.replace(/\./g, '\\.')} RRSIG by key \\d+: signature does not verify`,
      ),
    );
  });

  it('negative control: a changed type bitmap breaks the signature', async () => {
    const match = matchOf(chain, ZONE);
    const flipped = tampered(match, { types: ['NS', 'SOA', 'RRSIG', 'DNSKEY'] });
    const proof = nxdomainProof().map((set) => (set === match ? flipped : set));
    const verdict = await validate(NOPE, 'A', response('NXDOMAIN', proof));
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toContain(`NSEC3 ${match.name} RRSIG by key`);
    expect(verdict.reason).toContain('signature does not verify');
  });

  it('negative control: NSEC3 with other parameters in the same response is bogus, naming both', async () => {
    const wildcardCover = coverOf(chain, '*.example.test.');
    const other = resigned(wildcardCover, { salt: 'BEEF' });
    const proof = nxdomainProof().map((set) => (set === wildcardCover ? other : set));
    const verdict = await validate(NOPE, 'A', response('NXDOMAIN', proof));
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toContain(`NSEC3 parameters differ within the denial for ${NOPE} A`);
    expect(verdict.reason).toContain(`NSEC3 ${ownerLabel(wildcardCover)} uses 1 5 beef`);
  });

  it('negative control: an NSEC3 from another zone is bogus', async () => {
    const cover = coverOf(chain, NOPE);
    const foreignName = `${ownerLabel(cover)}.other.test.`;
    const foreign = signed(foreignName, 'NSEC3', cover.records, strayKey, 'other.test.');
    const proof = nxdomainProof().map((set) => (set === cover ? foreign : set));
    const verdict = await validate(NOPE, 'A', response('NXDOMAIN', proof));
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toBe(
      `NSEC3 ${foreignName} in the denial for ${NOPE} A is not a hashed owner name directly below ${ZONE}`,
    );
  });

  it('negative control: an NSEC3 signed by a key outside the DNSKEY RRset is bogus', async () => {
    const cover = coverOf(chain, NOPE);
    const stray = signed(cover.name, 'NSEC3', cover.records, strayKey);
    const proof = nxdomainProof().map((set) => (set === cover ? stray : set));
    const verdict = await validate(NOPE, 'A', response('NXDOMAIN', proof));
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toBe(
      `NSEC3 ${cover.name} signed by key ${strayKey.tag} not in the DNSKEY RRset`,
    );
  });

  it('negative control: NXDOMAIN for a name an NSEC3 matches is bogus', async () => {
    const verdict = await validate(
      'www.example.test.',
      'A',
      response('NXDOMAIN', [soa, matchOf(chain, 'www.example.test.')]),
    );
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toBe(
      `NXDOMAIN for www.example.test. but NSEC3 ${hashLabel(chain, 'www.example.test.')} matches it: the name exists`,
    );
  });

  it('below an unsigned delegation the closest encloser proves nothing: indeterminate', async () => {
    const name = 'host.sub.example.test.';
    const proof = [soa, matchOf(chain, 'sub.example.test.'), coverOf(chain, name)];
    const verdict = await validate(name, 'A', response('NXDOMAIN', proof));
    expect(verdict.status).toBe('indeterminate');
    expect(verdict.reason).toContain(
      'closest encloser sub.example.test. is an unsigned delegation',
    );
  });
});

describe('NSEC3 NODATA (RFC 5155 §8.5, §8.7)', () => {
  const www = 'www.example.test.';

  it('an NSEC3 matching the name without the type is secure', async () => {
    const verdict = await validate(www, 'AAAA', response('NOERROR', [soa, matchOf(chain, www)]));
    expect(verdict).toMatchObject({ status: 'secure', rcode: 'NOERROR' });
    expect(verdict.reason).toBe(
      `NODATA ${www} AAAA: NSEC3 ${hashLabel(chain, www)} matches ${www} and does not list AAAA`,
    );
  });

  it('an empty non-terminal has a matching NSEC3 with an empty bitmap', async () => {
    const ent = 'wild.example.test.';
    const verdict = await validate(ent, 'A', response('NOERROR', [soa, matchOf(chain, ent)]));
    expect(verdict.status).toBe('secure');
    expect(verdict.reason).toContain(`matches ${ent} and does not list A`);
  });

  it('negative control: a matching NSEC3 whose bitmap lists the type is bogus', async () => {
    const lying = resigned(matchOf(chain, www), { types: ['A', 'AAAA', 'RRSIG'] });
    const verdict = await validate(www, 'AAAA', response('NOERROR', [soa, lying]));
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toBe(
      `NODATA for ${www} AAAA but NSEC3 ${hashLabel(chain, www)} matching it lists AAAA or CNAME`,
    );
  });

  it('negative control: a matching NSEC3 listing CNAME is bogus', async () => {
    const lying = resigned(matchOf(chain, www), { types: ['CNAME', 'RRSIG'] });
    const verdict = await validate(www, 'AAAA', response('NOERROR', [soa, lying]));
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toContain('lists AAAA or CNAME');
  });

  it('negative control: a flipped bitmap bit breaks the signature', async () => {
    const match = matchOf(chain, www);
    const flipped = tampered(match, { types: ['A', 'AAAA', 'RRSIG'] });
    const verdict = await validate(www, 'MX', response('NOERROR', [soa, flipped]));
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toContain(`NSEC3 ${match.name} RRSIG by key`);
  });

  it('negative control: no matching NSEC3 and no opt-out is bogus', async () => {
    const verdict = await validate(
      NOPE,
      'A',
      response('NOERROR', [soa, matchOf(chain, ZONE), coverOf(chain, NOPE)]),
    );
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toBe(
      `NODATA for ${NOPE} A: no NSEC3 matches ${NOPE} or *.example.test., and ${spanText(coverOf(chain, NOPE))} covering next closer ${NOPE} has no opt-out flag`,
    );
  });
});

describe('NSEC3 wildcard NODATA (RFC 5155 §8.7)', () => {
  const name = 'foo.wild.example.test.';
  const proof = (wildcard: RRset<'NSEC3'>) => [
    soa,
    matchOf(chain, 'wild.example.test.'),
    coverOf(chain, name),
    wildcard,
  ];

  it('a closest encloser proof and a matching wildcard NSEC3 without the type are secure', async () => {
    const verdict = await validate(
      name,
      'A',
      response('NOERROR', proof(matchOf(chain, '*.wild.example.test.'))),
    );
    expect(verdict.status).toBe('secure');
    expect(verdict.reason).toBe(
      `wildcard NODATA ${name} A: NSEC3 ${hashLabel(chain, 'wild.example.test.')} matches closest encloser wild.example.test., ${spanText(coverOf(chain, name))} covers next closer ${name}, NSEC3 ${hashLabel(chain, '*.wild.example.test.')} matches *.wild.example.test. and does not list A`,
    );
  });

  it('negative control: a wildcard NSEC3 that lists the type is bogus', async () => {
    const verdict = await validate(
      name,
      'TXT',
      response('NOERROR', proof(matchOf(chain, '*.wild.example.test.'))),
    );
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toBe(
      `wildcard NODATA for ${name} TXT but NSEC3 ${hashLabel(chain, '*.wild.example.test.')} matching *.wild.example.test. lists TXT or CNAME`,
    );
  });

  it('negative control: without the wildcard NSEC3 it is bogus', async () => {
    const verdict = await validate(name, 'A', response('NOERROR', proof(coverOf(chain, name))));
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toContain(`no NSEC3 matches ${name} or *.wild.example.test.`);
  });
});

describe('NSEC3 wildcard answers (RFC 5155 §8.8)', () => {
  const name = 'foo.wild.example.test.';
  // Signed at the wildcard owner (RRSIG labels 3) and served under the query name.
  const expanded = { ...signed('*.wild.example.test.', 'TXT', [['wild card']]), name };

  it('an NSEC3 covering the next closer name makes the expansion secure', async () => {
    const verdict = await validate(
      name,
      'TXT',
      response('NOERROR', [coverOf(chain, name)], [expanded]),
    );
    expect(verdict.status).toBe('secure');
    expect(verdict.reason).toBe(
      `answer ${name} TXT from wildcard *.wild.example.test. signed by key ${childZsk.tag}; ${spanText(coverOf(chain, name))} covers next closer ${name}`,
    );
  });

  it('a deeper name needs the child of the wildcard parent covered', async () => {
    const deep = 'a.b.wild.example.test.';
    const answer = { ...expanded, name: deep };
    const cover = coverOf(chain, 'b.wild.example.test.');
    const verdict = await validate(deep, 'TXT', response('NOERROR', [cover], [answer]));
    expect(verdict.status).toBe('secure');
    expect(verdict.reason).toContain('covers next closer b.wild.example.test.');
  });

  it('negative control: an NSEC3 that does not cover the next closer name is bogus', async () => {
    const verdict = await validate(
      name,
      'TXT',
      response('NOERROR', [matchOf(chain, 'www.example.test.')], [expanded]),
    );
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toBe(
      `answer ${name} TXT was expanded from wildcard *.wild.example.test. but no NSEC3 covers next closer ${name} (hash ${hashLabel(chain, name)})`,
    );
  });

  it('negative control: a covering NSEC3 with a changed bitmap breaks its signature', async () => {
    const cover = coverOf(chain, name);
    const flipped = tampered(cover, { types: [...cover.records[0]!.types, 'MX'] });
    const verdict = await validate(name, 'TXT', response('NOERROR', [flipped], [expanded]));
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toContain(`NSEC3 ${cover.name} RRSIG by key`);
  });
});

describe('NSEC3 DS NODATA and opt-out (RFC 5155 §8.6, §9.2)', () => {
  const sub = 'sub.example.test.';
  const optOutChain = buildChain({ optOut: true, withoutSub: true });
  const noOptOutChain = buildChain({ withoutSub: true });

  it('a matching NSEC3 without DS proves an unsigned delegation securely', async () => {
    const verdict = await validate(sub, 'DS', response('NOERROR', [soa, matchOf(chain, sub)]));
    expect(verdict.status).toBe('secure');
    expect(verdict.reason).toBe(
      `NODATA ${sub} DS: NSEC3 ${hashLabel(chain, sub)} matches ${sub} and does not list DS (an unsigned delegation)`,
    );
  });

  it('an opt-out span covering the delegation proves it insecure: indeterminate, named', async () => {
    const proof = [soa, matchOf(optOutChain, ZONE), coverOf(optOutChain, sub)];
    const verdict = await validate(sub, 'DS', response('NOERROR', proof));
    expect(verdict.status).toBe('indeterminate');
    expect(verdict.reason).toBe(
      `NODATA ${sub} DS: opt-out, NSEC3 ${hashLabel(optOutChain, ZONE)} matches closest encloser ${ZONE}, ${spanText(coverOf(optOutChain, sub))} covers next closer ${sub} with the opt-out flag: ${sub} is at most an insecure delegation, insecure (RFC 5155 §8.6, §9.2), not validated further`,
    );
    expect(verdict.chain).toHaveLength(3);
  });

  it('negative control: the same proof without the opt-out flag is bogus', async () => {
    const proof = [soa, matchOf(noOptOutChain, ZONE), coverOf(noOptOutChain, sub)];
    const verdict = await validate(sub, 'DS', response('NOERROR', proof));
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toContain('has no opt-out flag');
  });

  it('negative control: an opt-out flag set after signing breaks the signature', async () => {
    const cover = coverOf(noOptOutChain, sub);
    const proof = [soa, matchOf(noOptOutChain, ZONE), tampered(cover, { flags: 1 })];
    const verdict = await validate(sub, 'DS', response('NOERROR', proof));
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toContain(`NSEC3 ${cover.name} RRSIG by key`);
  });

  it('negative control: a matching NSEC3 that lists DS is bogus', async () => {
    const name = 'signed.example.test.';
    const verdict = await validate(name, 'DS', response('NOERROR', [soa, matchOf(chain, name)]));
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toContain('lists DS or CNAME');
  });

  it('a wildcard expansion whose next closer lies in an opt-out span is insecure', async () => {
    const name = 'foo.wild.example.test.';
    const expanded = { ...signed('*.wild.example.test.', 'TXT', [['wild card']]), name };
    const cover = coverOf(optOutChain, name);
    const verdict = await validate(name, 'TXT', response('NOERROR', [cover], [expanded]));
    expect(verdict.status).toBe('indeterminate');
    expect(verdict.reason).toBe(
      `answer ${name} TXT from wildcard *.wild.example.test.: ${spanText(cover)} covers next closer ${name} with the opt-out flag: insecure (RFC 5155 §9.2), not validated further`,
    );
  });

  it('NXDOMAIN through an opt-out span is insecure, not secure', async () => {
    const name = missingName(optOutChain);
    const verdict = await validate(
      name,
      'A',
      response('NXDOMAIN', nxdomainProof(name, optOutChain)),
    );
    expect(verdict.status).toBe('indeterminate');
    expect(verdict.reason).toMatch(/has the opt-out flag: insecure \(RFC 5155 §9\.2\)/);
  });
});

describe('NSEC3 parameters', () => {
  it(`iterations up to the cap of 150 are validated, above it the denial is insecure`, async () => {
    const at = buildChain({ iterations: 150 });
    const atName = missingName(at);
    const ok = await validate(atName, 'A', response('NXDOMAIN', nxdomainProof(atName, at)));
    expect(ok.status).toBe('secure');
    const above = buildChain({ iterations: 151 });
    const aboveName = missingName(above);
    const verdict = await validate(
      aboveName,
      'A',
      response('NXDOMAIN', nxdomainProof(aboveName, above)),
    );
    expect(verdict.status).toBe('indeterminate');
    expect(verdict.reason).toContain(
      "uses 151 NSEC3 iterations, above this validator's cap of 150",
    );
  });

  it('an unknown hash algorithm is indeterminate', async () => {
    const proof = nxdomainProof().map((set) =>
      set.type === 'NSEC3' ? resigned(set as RRset<'NSEC3'>, { hashAlgorithm: 2 }) : set,
    );
    const verdict = await validate(NOPE, 'A', response('NXDOMAIN', proof));
    expect(verdict.status).toBe('indeterminate');
    expect(verdict.reason).toContain('NSEC3 hash algorithm 2, which this validator does not know');
  });

  it('NSEC3 records with unknown flags are ignored, leaving no proof', async () => {
    const proof = nxdomainProof().map((set) =>
      set.type === 'NSEC3' ? resigned(set as RRset<'NSEC3'>, { flags: 2 }) : set,
    );
    const verdict = await validate(NOPE, 'A', response('NXDOMAIN', proof));
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toBe(`the denial for ${NOPE} A has no usable NSEC3 record`);
  });
});

// --- Zones signed by BIND ----------------------------------------------------------------------

/** A zone file signed by BIND, with its NSEC3 chain served under lower-case owner names. */
function bindZone(zone: string) {
  const text = readFileSync(new URL(`fixtures/nsec3/${zone}signed.db`, import.meta.url), 'utf8');
  const sets = groupRRsets(parseZone(text, { origin: zone }));
  const find = <T extends RecordType>(name: string, type: T) =>
    sets.find((set) => set.type === type && set.name.toLowerCase() === name) as RRset<T>;
  const records = (sets.filter((set) => set.type === 'NSEC3') as RRset<'NSEC3'>[])
    .map((set) => ({ ...set, name: set.name.toLowerCase() }))
    .sort((a, b) => (ownerLabel(a) < ownerLabel(b) ? -1 : 1));
  const chain: Chain = { parameters: records[0]!.records[0]!, records };
  return { dnskey: find(zone, 'DNSKEY'), soa: find(zone, 'SOA'), find, chain };
}

describe('NSEC3 denials from zones signed by BIND 9.18', () => {
  const bind = bindZone('nsec3.test.');
  const served = bind.chain;
  const check = (
    name: string,
    type: RecordType,
    rcode: 'NOERROR' | 'NXDOMAIN',
    sets: RRset[],
    answers: RRset[] = [],
  ) =>
    validate(name, type, response(rcode, [bind.soa, ...sets], answers), 'nsec3.test.', bind.dnskey);

  it('NXDOMAIN with no salt and no extra iterations is secure', async () => {
    const name = 'nope.nsec3.test.';
    const verdict = await check(name, 'A', 'NXDOMAIN', [
      matchOf(served, 'nsec3.test.'),
      coverOf(served, name),
      coverOf(served, '*.nsec3.test.'),
    ]);
    expect(verdict.status).toBe('secure');
    expect(verdict.reason).toContain('matches closest encloser nsec3.test.');
  });

  it('NODATA, an empty non-terminal and an unsigned delegation DS are secure', async () => {
    for (const [name, type] of [
      ['ns1.nsec3.test.', 'AAAA'],
      ['b.nsec3.test.', 'A'],
      ['unsigned.nsec3.test.', 'DS'],
    ] as const) {
      const verdict = await check(name, type, 'NOERROR', [matchOf(served, name)]);
      expect(verdict.status, `${name} ${type}: ${verdict.reason}`).toBe('secure');
    }
  });

  it('a wildcard expansion is secure with the next closer covered', async () => {
    const name = 'foo.wild.nsec3.test.';
    const wildcard = bind.find('*.wild.nsec3.test.', 'TXT');
    const verdict = await check(
      name,
      'TXT',
      'NOERROR',
      [coverOf(served, name)],
      [{ ...wildcard, name }],
    );
    expect(verdict.status).toBe('secure');
    expect(verdict.reason).toContain('from wildcard *.wild.nsec3.test.');
  });

  it('the opt-out zone: DS of the unsigned delegation is insecure, NODATA at a name secure', async () => {
    const optOut = bindZone('optout.test.');
    const chainOut = optOut.chain;
    const ask = (name: string, type: RecordType, sets: RRset[]) =>
      validate(
        name,
        type,
        response('NOERROR', [optOut.soa, ...sets]),
        'optout.test.',
        optOut.dnskey,
      );
    const delegation = 'unsigned.optout.test.';
    const ds = await ask(delegation, 'DS', [
      matchOf(chainOut, 'optout.test.'),
      coverOf(chainOut, delegation),
    ]);
    expect(ds.status).toBe('indeterminate');
    expect(ds.reason).toContain('is at most an insecure delegation');
    const nodata = await ask('ns1.optout.test.', 'AAAA', [matchOf(chainOut, 'ns1.optout.test.')]);
    expect(nodata.status).toBe('secure');
  });
});
