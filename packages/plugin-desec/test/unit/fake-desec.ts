/**
 * A small scripted stand-in for the deSEC API (provider-apis.md §1), on the lab's fake HTTP
 * server: one domain, its user RRsets, bulk PATCH semantics and list-aligned 400s. Enough for
 * unit tests that count requests; the lab's deSEC fake is the full one.
 */
import {
  startFakeHttpServer,
  type FakeHttpServer,
  type FakeRequest,
  type FakeResponse,
  type RecordedRequest,
} from '@chorus/lab/testing';
import { makeForeignKeys } from '@chorus/conformance';
import { formatRdata, keyTag } from '@chorus/dns';
import type { DnskeyData } from '@chorus/core';

export const DOMAIN = 'conformance.test';
export const ZONE = `${DOMAIN}.`;

export interface RrsetJson {
  subname: string;
  type: string;
  ttl: number;
  records: string[];
}

export interface FakeDesecOptions {
  token: string;
  minimumTtl?: number;
  /** Initial user RRsets. Default: the apex NS set. */
  rrsets?: RrsetJson[];
  /** deSEC pages lists by 500; tests use fewer. */
  pageSize?: number;
  /** Answers instead of the route's normal behaviour, by `METHOD path-suffix` (e.g. `PATCH rrsets`). */
  override?: (request: FakeRequest) => FakeResponse | undefined | Promise<FakeResponse | undefined>;
}

export interface FakeDesec {
  server: FakeHttpServer;
  /** Base URL as an operator writes it, e.g. `http://127.0.0.1:4711/api/v1/`. */
  url: string;
  /** deSEC's own key (a CSK). */
  csk: DnskeyData;
  rrsets: RrsetJson[];
  requests: RecordedRequest[];
  /** Requests other than GET. */
  writes(): RecordedRequest[];
  close(): Promise<void>;
}

export const DEFAULT_NS: RrsetJson = {
  subname: '',
  type: 'NS',
  ttl: 3600,
  records: ['ns1.desec.test.', 'ns2.desec.test.'],
};

function domainObject(csk: DnskeyData, rrsets: readonly RrsetJson[], minimumTtl: number) {
  const userKeys = rrsets
    .filter((rrset) => rrset.subname === '' && rrset.type === 'DNSKEY')
    .flatMap((rrset) => rrset.records)
    .sort();
  return {
    created: '2026-11-01T00:00:00.000000Z',
    keys: [
      {
        dnskey: formatRdata({ type: 'DNSKEY', data: csk }),
        ds: [`${keyTag(csk)} 13 2 00ff`, `${keyTag(csk)} 13 4 00ff`],
        flags: 257,
        keytype: 'csk',
        managed: true,
      },
      ...userKeys.map((dnskey) => ({
        dnskey,
        ds: [],
        flags: Number(dnskey.split(' ')[0]),
        keytype: null,
        managed: false,
      })),
    ],
    minimum_ttl: minimumTtl,
    name: DOMAIN,
    published: '2026-11-01T00:00:00.000000Z',
    touched: '2026-11-01T00:00:00.000000Z',
  };
}

/** Bulk PATCH: validates every item first (list-aligned errors), then applies them all. */
function bulkPatch(rrsets: RrsetJson[], body: unknown, minimumTtl: number): FakeResponse {
  if (!Array.isArray(body))
    return { status: 400, body: { non_field_errors: ['Expected a list of items but got dict.'] } };
  const items = body as RrsetJson[];
  const errors = items.map((item) => {
    const problems: Record<string, string[]> = {};
    if (typeof item.subname !== 'string') problems.subname = ['This field is required.'];
    if (item.ttl < minimumTtl)
      problems.ttl = [`Ensure this value is greater than or equal to ${minimumTtl}.`];
    if (item.ttl > 86_400) problems.ttl = ['Ensure this value is less than or equal to 86400.'];
    return problems;
  });
  if (errors.some((problems) => Object.keys(problems).length > 0))
    return { status: 400, body: errors };
  const result: RrsetJson[] = [];
  for (const item of items) {
    const index = rrsets.findIndex(
      (rrset) => rrset.subname === item.subname && rrset.type === item.type,
    );
    if (index >= 0) rrsets.splice(index, 1);
    if (item.records.length > 0) {
      const stored = {
        subname: item.subname,
        type: item.type,
        ttl: item.ttl,
        records: item.records,
      };
      rrsets.push(stored);
      result.push(stored);
    }
  }
  return { status: 200, body: result };
}

/** deSEC's cursor pagination: the cursor here is the offset; links are absolute. */
function paginated(items: RrsetJson[], request: FakeRequest, pageSize: number): FakeResponse {
  const cursor = request.query.get('cursor');
  if (cursor === null)
    return items.length <= pageSize
      ? { body: items }
      : { status: 400, body: { detail: 'Pagination required.' } };
  const offset = Number(cursor || '0');
  const link = (at: number, rel: string) =>
    `<http://${String(request.headers.host)}${request.path}?cursor=${at}>; rel="${rel}"`;
  const links = [link(0, 'first')];
  if (offset + pageSize < items.length) links.push(link(offset + pageSize, 'next'));
  return { body: items.slice(offset, offset + pageSize), headers: { Link: links.join(', ') } };
}

export async function startFakeDesec(options: FakeDesecOptions): Promise<FakeDesec> {
  const minimumTtl = options.minimumTtl ?? 3600;
  const [own] = makeForeignKeys(1, 257);
  const csk = own!.dnskey;
  const rrsets: RrsetJson[] = structuredClone(options.rrsets ?? [DEFAULT_NS]);
  const route =
    (normal: (request: FakeRequest) => FakeResponse) =>
    async (request: FakeRequest): Promise<FakeResponse> => {
      const answer = await options.override?.(request);
      if (answer) return answer;
      if (request.params.name !== DOMAIN) return { status: 404, body: { detail: 'Not found.' } };
      return normal(request);
    };
  const server = await startFakeHttpServer({
    auth: { accept: [`Token ${options.token}`] },
    routes: [
      {
        method: 'GET',
        path: '/api/v1/domains/:name/',
        handler: route(() => ({ body: domainObject(csk, rrsets, minimumTtl) })),
      },
      {
        method: 'GET',
        path: '/api/v1/domains/:name/rrsets/',
        handler: route((request) => {
          const subname = request.query.get('subname');
          const type = request.query.get('type');
          const listed = rrsets.filter(
            (rrset) =>
              (subname === null || rrset.subname === subname) &&
              (type === null || rrset.type === type),
          );
          return paginated(listed, request, options.pageSize ?? 500);
        }),
      },
      {
        method: 'PATCH',
        path: '/api/v1/domains/:name/rrsets/',
        handler: route((request) => bulkPatch(rrsets, request.body, minimumTtl)),
      },
    ],
  });
  return {
    server,
    url: `${server.url}/api/v1/`,
    csk,
    rrsets,
    requests: server.requests,
    writes: () => server.requests.filter((request) => request.method !== 'GET'),
    close: () => server.close(),
  };
}
