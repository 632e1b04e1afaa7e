import { describe, expect, test } from 'vitest';
import { planWrites, type PlanContext } from '../../src/desec/plan.js';
import { paginate } from '../../src/desec/pagination.js';
import { matchDesecRoute } from '../../src/desec/routes.js';
import { rrsetKey, type DesecRrset } from '../../src/desec/types.js';
import { HttpError } from '../../src/errors.js';
import { canonicalRdata, RdataError } from '../../src/rdata.js';

describe('canonical presentation format', () => {
  test.each([
    ['CSYNC', '066 03  NS  AAAA A', '66 3 A NS AAAA'],
    ['DNSKEY', '0256 03 08 AwEAAb4N 53kPbdRl', '256 3 8 AwEAAb4N53kPbdRl'],
    ['DS', '06006 13 2 F34B75AB CDEF', '6006 13 2 f34b75abcdef'],
    ['CDS', '0 0 0 00', '0 0 0 00'],
    ['CDNSKEY', '0 3 0 AA==', '0 3 0 AA=='],
    ['AAAA', '2001:DB8:0::1', '2001:db8::1'],
    ['MX', '010 mx.example.test.', '10 mx.example.test.'],
  ])('%s %j → %j', (type, input, expected) => {
    expect(canonicalRdata(type, input)).toBe(expected);
  });

  test('content that is not its type is refused', () => {
    expect(() => canonicalRdata('A', 'not-an-address')).toThrow(RdataError);
    expect(() => canonicalRdata('DS', '1 13 2 zz')).toThrow(RdataError);
  });
});

describe('deSEC routes', () => {
  test('apex forms and trailing slashes', () => {
    expect(matchDesecRoute('/api/v1/domains/a.test/rrsets/@/A/')).toMatchObject({
      subname: '',
      type: 'A',
    });
    expect(matchDesecRoute('/api/v2/domains/a.test/rrsets/.../A/')).toMatchObject({
      subname: '',
      type: 'A',
    });
    expect(matchDesecRoute('/api/v1/domains/a.test/rrsets/www.../A/')).toMatchObject({
      subname: 'www',
    });
    expect(matchDesecRoute('/api/v1/domains/a.test/rrsets/www/A/')).toMatchObject({
      subname: 'www',
    });
    expect(matchDesecRoute('/api/v1/domains/a.test/rrsets')).toBeUndefined();
    expect(matchDesecRoute('/api/v3/domains/')).toBeUndefined();
  });
});

const A_RRSET: DesecRrset = { subname: 'www', type: 'A', ttl: 3600, records: ['192.0.2.1'] };

function context(overrides: Partial<PlanContext> = {}): PlanContext {
  return {
    mode: 'PATCH',
    bulk: true,
    zone: 'a.test',
    minimumTtl: 3600,
    existing: new Map([[rrsetKey(A_RRSET.subname, A_RRSET.type), A_RRSET]]),
    ...overrides,
  };
}

describe('bulk semantics', () => {
  test('errors are a list aligned with the request, {} for good items, and nothing is planned', () => {
    const result = planWrites(
      [
        { subname: '', ttl: 3600, records: ['1.2.3.4'] },
        { subname: 'x', type: 'A', ttl: 60, records: ['1.2.3.4'] },
        { type: 'A', ttl: 3600, records: ['1.2.3.4'] },
        { subname: 'ok', type: 'A', ttl: 3600, records: ['1.2.3.4'] },
        { subname: '', type: 'SOA', ttl: 3600, records: ['x'] },
        { subname: 'g', type: 'TYPE65534', ttl: 3600, records: ['x'] },
        { subname: 'big', type: 'A', ttl: 86401, records: ['1.2.3.4'] },
        { subname: 'k', type: 'DNSKEY', ttl: 3600, records: ['257 3 13 AA=='] },
        { subname: '', type: 'DS', ttl: 3600, records: ['1 13 2 abcd'] },
        { subname: 'w', type: 'ALIAS', ttl: 3600, records: ['x.'] },
      ],
      context(),
    );
    expect(result).toEqual({
      errors: [
        { type: ['This field is required.'] },
        { ttl: ['Ensure this value is greater than or equal to 3600.'] },
        { subname: ['This field is required.'] },
        {},
        { type: ['You cannot tinker with the SOA RR set. It is managed automatically.'] },
        { type: ['Generic type format is not supported.'] },
        { ttl: ['Ensure this value is less than or equal to 86400.'] },
        { non_field_errors: ['DNSKEY RRset must have empty subname.'] },
        { non_field_errors: ['DS RRset cannot have empty subname.'] },
        { type: ['The ALIAS RR set type is currently unsupported.'] },
      ],
    });
  });

  test('duplicates in one request name each other', () => {
    const item = { subname: 'd', type: 'A', ttl: 3600, records: ['1.2.3.4'] };
    const result = planWrites(
      [item, { subname: 'e', type: 'A', ttl: 3600, records: ['1.2.3.4'] }, item],
      context(),
    );
    expect(result).toMatchObject({
      errors: [
        { non_field_errors: ['Same subname and type as in position(s) 2, but must be unique.'] },
        {},
        { non_field_errors: ['Same subname and type as in position(s) 0, but must be unique.'] },
      ],
    });
  });

  test('duplicate records after canonicalisation are refused', () => {
    const result = planWrites(
      [{ subname: 'd', type: 'DS', ttl: 3600, records: ['1 13 2 ABCD', '01 13 2 abcd'] }],
      context(),
    );
    expect(result).toEqual({
      errors: [{ records: ['Duplicate: records must be semantically unique'] }],
    });
  });

  test('PATCH: deletions first, partial update keeps fields, unknown+empty is a no-op', () => {
    const result = planWrites(
      [
        { subname: 'new', type: 'CDS', ttl: 3600, records: ['0 0 0 00'] },
        { subname: 'www', type: 'A', ttl: 7200 },
        { subname: 'gone', type: 'A', records: [] },
        { subname: 'www', type: 'AAAA', records: [] },
      ],
      context({
        existing: new Map([
          [rrsetKey('www', 'A'), A_RRSET],
          [rrsetKey('www', 'AAAA'), { ...A_RRSET, type: 'AAAA', records: ['2001:db8::1'] }],
        ]),
      }),
    );
    if (!('plan' in result)) throw new Error(JSON.stringify(result.errors));
    expect(
      result.plan.changes.map((change) => `${change.changetype} ${change.name} ${change.type}`),
    ).toEqual(['DELETE www.a.test. AAAA', 'REPLACE new.a.test. CDS', 'REPLACE www.a.test. A']);
    expect(result.plan.results).toEqual([
      { subname: 'new', type: 'CDS', ttl: 3600, records: ['0 0 0 00'] },
      { subname: 'www', type: 'A', ttl: 7200, records: ['192.0.2.1'] },
    ]);
  });

  test('PATCH creating an RRset needs ttl and records', () => {
    expect(planWrites([{ subname: 'new', type: 'A', records: ['1.2.3.4'] }], context())).toEqual({
      errors: [{ ttl: ['This field is required.'] }],
    });
  });

  test('POST refuses an existing RRset and empty records', () => {
    expect(
      planWrites(
        [{ subname: 'www', type: 'A', ttl: 3600, records: ['1.2.3.4'] }],
        context({ mode: 'POST', bulk: false }),
      ),
    ).toEqual({
      errors: [
        {
          non_field_errors: [
            'Another RRset with the same subdomain and type exists for this domain. (Try modifying it.)',
          ],
        },
      ],
    });
    expect(
      planWrites([{ type: 'A', ttl: 3600, records: [] }], context({ mode: 'POST', bulk: false })),
    ).toEqual({
      errors: [{ records: ['This field must not be empty when using POST.'] }],
    });
  });

  test('invalid record content names the record', () => {
    expect(
      planWrites([{ subname: 'x', type: 'DS', ttl: 3600, records: ['bad'] }], context()),
    ).toMatchObject({
      errors: [
        { records: [expect.stringMatching(/^Record content of DS x\.a\.test\. invalid: 'bad': /)] },
      ],
    });
  });
});

describe('pagination', () => {
  const url = new URL('http://fake.test/api/v1/domains/a.test/rrsets/?type=A');
  const items = [1, 2, 3, 4, 5];

  test('up to a page: a plain list without Link', () => {
    expect(paginate(items, url, 5)).toEqual({ status: 200, body: items });
  });

  test('more than a page without cursor: 400 and a first link', () => {
    try {
      paginate(items, url, 2);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(HttpError);
      const http = error as HttpError;
      expect(http.status).toBe(400);
      expect(http.body).toEqual({
        detail:
          'Pagination required. You can query up to 2 items at a time (5 total). Please use the `first` page link (see Link header).',
      });
      expect(http.headers.Link).toBe(
        '<http://fake.test/api/v1/domains/a.test/rrsets/?type=A&cursor=>; rel="first"',
      );
    }
  });

  test('pages follow next links to the end, filters kept', () => {
    const seen: unknown[] = [];
    let next: string | undefined = 'http://fake.test/api/v1/domains/a.test/rrsets/?type=A&cursor=';
    while (next !== undefined) {
      const page = paginate(items, new URL(next), 2);
      seen.push(...(page.body as unknown[]));
      const link = page.headers?.Link ?? '';
      expect(link).toContain('rel="first"');
      next = /<([^>]+)>; rel="next"/.exec(link)?.[1];
      if (next) expect(next).toContain('type=A');
    }
    expect(seen).toEqual(items);
  });
});
