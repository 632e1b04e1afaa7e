import { describe, expect, test } from 'vitest';
import { REGISTRAR_API_ACCEPTS } from '@chorus/parent';
import {
  ACCEPTED_ALGORITHMS,
  ACCEPTED_DIGEST_TYPES,
  MAX_DS,
  MAX_NAMESERVERS,
  canonicalAddress,
  FieldError,
  hostName,
  IdempotencyStore,
  canonicalJson,
  idempotencyKeyOf,
  isKeptAnswer,
  parseDsBody,
  parseNameserversBody,
  parseRegistrarFakeConfig,
  requestFingerprint,
} from '../../src/index.js';

const SHA256 = 'ab'.repeat(32);
const SHA384 = 'cd'.repeat(48);
const DOMAIN = 'example.test.';

function ds(fields: Record<string, unknown> = {}) {
  return { keyTag: 4711, algorithm: 13, digestType: 2, digest: SHA256, ...fields };
}

/** The FieldError `parse` throws, as `[field, detail]`. */
function refusal(parse: () => unknown): [string, string] {
  try {
    parse();
  } catch (error) {
    if (error instanceof FieldError) return [error.field, error.detail];
    throw error;
  }
  throw new Error('expected a FieldError');
}

describe('the registrar DS body', () => {
  test('takes SHA-256 and SHA-384 DS of the accepted algorithms, digests upper-cased', () => {
    expect(
      parseDsBody({ ds: [ds(), ds({ algorithm: 8, digestType: 4, digest: SHA384 })] }),
    ).toEqual([
      { keyTag: 4711, algorithm: 13, digestType: 2, digest: SHA256.toUpperCase() },
      { keyTag: 4711, algorithm: 8, digestType: 4, digest: SHA384.toUpperCase() },
    ]);
    expect(parseDsBody({ ds: [] })).toEqual([]);
    for (const algorithm of [8, 13, 14, 15, 16])
      expect(parseDsBody({ ds: [ds({ algorithm })] })).toHaveLength(1);
  });

  test('refuses SHA-1 and unknown digest types, naming the field', () => {
    expect(
      refusal(() => parseDsBody({ ds: [ds(), ds({ digestType: 1, digest: 'ab'.repeat(20) })] })),
    ).toEqual(['ds[1].digestType', 'SHA-1 DS not accepted: use digest type 2 or 4']);
    expect(refusal(() => parseDsBody({ ds: [ds({ digestType: 3 })] }))[0]).toBe('ds[0].digestType');
  });

  test('refuses a digest whose length does not match its type', () => {
    const [field, detail] = refusal(() => parseDsBody({ ds: [ds({ digestType: 4 })] }));
    expect(field).toBe('ds[0].digest');
    expect(detail).toMatch(
      /digest length must match the digest type: SHA-384 \(type 4\) has 96 hex digits, not 64/,
    );
    expect(refusal(() => parseDsBody({ ds: [ds({ digest: 'zz'.repeat(32) })] }))).toEqual([
      'ds[0].digest',
      'must be a hex string',
    ]);
  });

  test('refuses other algorithms, bad key tags, repeats, more than 8 and a wrong shape', () => {
    expect(refusal(() => parseDsBody({ ds: [ds({ algorithm: 5 })] }))).toEqual([
      'ds[0].algorithm',
      'algorithm 5 not accepted: 8, 13, 14, 15, 16',
    ]);
    expect(refusal(() => parseDsBody({ ds: [ds({ keyTag: 65536 })] }))[0]).toBe('ds[0].keyTag');
    expect(
      refusal(() => parseDsBody({ ds: [ds(), ds({ digest: SHA256.toUpperCase() })] })),
    ).toEqual(['ds[1]', 'repeats ds[0]']);
    const nine = Array.from({ length: 9 }, (_, index) => ds({ keyTag: index }));
    expect(refusal(() => parseDsBody({ ds: nine }))).toEqual(['ds', 'at most 8 DS records, not 9']);
    expect(refusal(() => parseDsBody({ records: [] }))[0]).toBe('ds');
    expect(refusal(() => parseDsBody([]))[0]).toBe('(body)');
  });
});

describe('the registrar nameservers body', () => {
  test('takes names out of the domain without glue and names inside it with glue', () => {
    expect(
      parseNameserversBody(
        {
          nameservers: ['NS.Bind.Test.', 'ns1.example.test'],
          glue: [{ name: 'ns1.example.test.', addresses: ['2001:DB8:0::1', '192.0.2.1'] }],
        },
        DOMAIN,
      ),
    ).toEqual({
      nameservers: ['ns.bind.test.', 'ns1.example.test.'],
      glue: [{ name: 'ns1.example.test.', addresses: ['192.0.2.1', '2001:db8::1'] }],
    });
  });

  test('requires glue inside the domain and refuses it outside', () => {
    expect(
      refusal(() =>
        parseNameserversBody({ nameservers: ['ns.bind.test', 'ns1.example.test'] }, DOMAIN),
      ),
    ).toEqual([
      'nameservers[1]',
      'ns1.example.test is inside example.test and needs glue (glue: [{ name, addresses }])',
    ]);
    const outside = {
      nameservers: ['ns.bind.test'],
      glue: [{ name: 'ns.bind.test', addresses: ['192.0.2.1'] }],
    };
    expect(refusal(() => parseNameserversBody(outside, DOMAIN))[1]).toMatch(
      /glue refused for ns\.bind\.test: it is outside example\.test/,
    );
    const stranger = {
      nameservers: ['ns.bind.test'],
      glue: [{ name: 'ns9.example.test', addresses: ['192.0.2.1'] }],
    };
    expect(refusal(() => parseNameserversBody(stranger, DOMAIN))[1]).toBe(
      'ns9.example.test is not one of the nameservers',
    );
  });

  test('refuses fewer than 1 or more than 13 names, bad names, repeats and bad addresses', () => {
    expect(refusal(() => parseNameserversBody({ nameservers: [] }, DOMAIN))).toEqual([
      'nameservers',
      'must list 1 to 13 host names, not 0',
    ]);
    const fourteen = Array.from({ length: 14 }, (_, index) => `ns${index}.other.test`);
    expect(refusal(() => parseNameserversBody({ nameservers: fourteen }, DOMAIN))[0]).toBe(
      'nameservers',
    );
    expect(
      refusal(() =>
        parseNameserversBody({ nameservers: ['ns.bind.test', 'bad_name.test'] }, DOMAIN),
      )[0],
    ).toBe('nameservers[1]');
    expect(refusal(() => parseNameserversBody({ nameservers: ['localhost'] }, DOMAIN))[0]).toBe(
      'nameservers[0]',
    );
    expect(
      refusal(() => parseNameserversBody({ nameservers: ['a.test', 'A.test.'] }, DOMAIN)),
    ).toEqual(['nameservers[1]', 'a.test is listed twice']);
    const badAddress = {
      nameservers: ['ns1.example.test'],
      glue: [{ name: 'ns1.example.test', addresses: ['192.0.2.300'] }],
    };
    expect(refusal(() => parseNameserversBody(badAddress, DOMAIN))[0]).toBe('glue[0].addresses[0]');
  });

  test('host names and addresses are canonical', () => {
    expect(hostName('Ns1.Example.TEST')).toBe('ns1.example.test.');
    expect(hostName('-ns.example.test')).toBeUndefined();
    expect(hostName(`${'a'.repeat(64)}.test`)).toBeUndefined();
    expect(canonicalAddress('2001:0DB8:0000::0001')).toBe('2001:db8::1');
    expect(canonicalAddress('192.0.2.1')).toBe('192.0.2.1');
    expect(canonicalAddress('example.test')).toBeUndefined();
  });
});

describe('the registrar idempotency keys', () => {
  const A = requestFingerprint(
    'PUT',
    '/v1/domains/a.test/ds',
    '{"ds":[{"keyTag":1,"algorithm":13}]}',
  );

  test('the fingerprint ignores key order and white space, not content, path or method', () => {
    expect(
      requestFingerprint(
        'PUT',
        '/v1/domains/a.test/ds',
        '{ "ds": [ {"algorithm":13, "keyTag":1} ] }',
      ),
    ).toBe(A);
    expect(
      requestFingerprint('PUT', '/v1/domains/a.test/ds', '{"ds":[{"keyTag":2,"algorithm":13}]}'),
    ).not.toBe(A);
    expect(
      requestFingerprint('PUT', '/v1/domains/b.test/ds', '{"ds":[{"keyTag":1,"algorithm":13}]}'),
    ).not.toBe(A);
    expect(
      requestFingerprint('POST', '/v1/domains/a.test/ds', '{"ds":[{"keyTag":1,"algorithm":13}]}'),
    ).not.toBe(A);
    expect(canonicalJson({ b: [1, { d: 1, c: 2 }], a: null })).toBe(
      '{"a":null,"b":[1,{"c":2,"d":1}]}',
    );
  });

  test('replays the first kept answer, refuses the key for another request, per account', () => {
    const store = new IdempotencyStore({ ttlMs: 60_000 });
    expect(store.lookup('acct', 'k1', A, 0)).toEqual({ kind: 'new' });
    store.remember('acct', 'k1', A, { status: 200, body: { requestId: 'r1' } }, 0);
    store.remember('acct', 'k1', A, { status: 200, body: { requestId: 'r2' } }, 1); // the first stays
    expect(store.lookup('acct', 'k1', A, 10)).toEqual({
      kind: 'replay',
      answer: { status: 200, body: { requestId: 'r1' } },
    });
    expect(store.lookup('acct', 'k1', 'other', 10)).toEqual({ kind: 'conflict' });
    expect(store.lookup('another-account', 'k1', A, 10)).toEqual({ kind: 'new' });
    // forgotten after the TTL
    expect(store.lookup('acct', 'k1', A, 60_000)).toEqual({ kind: 'new' });
  });

  test('keeps 2xx and 4xx answers, not 429 or 5xx (a retry must run again)', () => {
    expect([200, 404, 422, 429, 500, 502, 503].map(isKeptAnswer)).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
    const store = new IdempotencyStore({ ttlMs: 60_000 });
    store.remember('acct', 'k', A, { status: 503 }, 0);
    expect(store.lookup('acct', 'k', A, 1)).toEqual({ kind: 'new' });
  });

  test('forgets the oldest keys beyond its size', () => {
    const store = new IdempotencyStore({ ttlMs: 60_000, maxEntries: 2 });
    for (const key of ['a', 'b', 'c']) store.remember('acct', key, A, { status: 200 }, 0);
    expect(store.size).toBe(2);
    expect(store.lookup('acct', 'a', A, 1).kind).toBe('new');
    expect(store.lookup('acct', 'c', A, 1).kind).toBe('replay');
  });

  test('reads the header: absent, malformed or a key', () => {
    expect(idempotencyKeyOf(undefined)).toBeUndefined();
    expect(idempotencyKeyOf('chorus-ds-0123')).toBe('chorus-ds-0123');
    expect(idempotencyKeyOf('')).toBeNull();
    expect(idempotencyKeyOf('has space')).toBeNull();
    expect(idempotencyKeyOf('x'.repeat(256))).toBeNull();
    expect(idempotencyKeyOf(['a', 'b'])).toBeNull();
  });
});

describe('the registrar config', () => {
  const valid = {
    provider: 'registrar',
    listen: { address: '127.53.0.61', port: 8000 },
    tokenFile: '/lab/registrar/api.token',
    adminTokenFile: '/lab/registrar/admin.token',
    requestLogFile: '/lab/registrar/requests.jsonl',
    stateFile: '/lab/registrar/state.json',
    parent: {
      zone: 'test',
      servers: [{ address: '127.53.0.1', port: 53 }],
      tsigKeyFile: '/lab/parent/tsig.key',
    },
    domains: ['Example.test', 'other.test.'],
    ttl: 30,
    rateLimits: { api: { limit: 5, periodSeconds: 10 } },
  };

  test('reads a valid config, names absolute and lower-case', () => {
    expect(parseRegistrarFakeConfig(valid)).toMatchObject({
      parent: { zone: 'test.', servers: [{ address: '127.53.0.1', port: 53 }] },
      domains: ['example.test.', 'other.test.'],
      rateLimits: { api: { limit: 5, periodSeconds: 10 } },
    });
  });

  test('names the wrong field', () => {
    expect(() => parseRegistrarFakeConfig({ ...valid, domains: ['example.org'] })).toThrow(
      /domains\[0\]: example\.org\. is not below test\./,
    );
    expect(() =>
      parseRegistrarFakeConfig({ ...valid, parent: { ...valid.parent, servers: [] } }),
    ).toThrow(/parent\.servers/);
    expect(() => parseRegistrarFakeConfig({ ...valid, rateLimits: { write: {} } })).toThrow(
      /rateLimits\.write/,
    );
    expect(() =>
      parseRegistrarFakeConfig({ ...valid, listen: { address: '10.0.0.1', port: 1 } }),
    ).toThrow(/listen\.address/);
  });
});

describe('the fake and the registrar channel', () => {
  test('accept the same: what the channel declares is what the fake checks', () => {
    expect(REGISTRAR_API_ACCEPTS).toMatchObject({
      takes: 'ds',
      acceptedDigestTypes: ACCEPTED_DIGEST_TYPES,
      acceptedAlgorithms: ACCEPTED_ALGORITHMS,
      maxDs: MAX_DS,
      nsChanges: true,
      maxNameservers: MAX_NAMESERVERS,
    });
  });
});
