/**
 * A small scripted stand-in for the NS1 API on loopback (startFakeHttpServer): one zone, its
 * DNSSEC keys, external key sets and apex records, with NS1's error messages and rate-limit
 * headers. Enough for the plugin's request logic; the lab's fake is the one behind a real
 * nameserver.
 */
import {
  startFakeHttpServer,
  type FakeHttpServer,
  type FakeRequest,
  type FakeResponse,
} from '@chorus/lab/testing';

export const API_KEY = 'unit-test-ns1-key-5f3a9c';

export interface RateHeaders {
  limit: number;
  remaining: number;
  period: number;
}

export interface FakeNs1State {
  zone: string;
  dnssec: boolean;
  /** False: GET /zones/{zone} leaves the dnssec flag out. */
  zoneShowsDnssec: boolean;
  /** `[flags, protocol, algorithm, publicKey]` as NS1 sends them. */
  ownKeys: unknown[][];
  /** Whether GET /dnssec also lists the keys of the external key sets. */
  dnssecListsExternal: boolean;
  keySets: Map<string, { ttl: number; data: Record<string, unknown>[] }>;
  /** Apex records by type. */
  records: Map<string, { ttl: number; answers: { answer: unknown[] }[] }>;
  /** The zone's `records` list (GET /zones/{zone}). */
  zoneRecords: Record<string, unknown>[];
  /** Records per page of that list; more pages are linked with `Link: <…>; rel="next"`. */
  recordPageSize: number;
  /** Sent on every response; undefined: no rate-limit headers. */
  rate: RateHeaders | undefined;
  /** Answer every request with this instead (e.g. a 429). */
  override: FakeResponse | undefined;
  /** The last body PUT to `…/dnssec/presigned_dnskey` (model 1). */
  presigned: unknown;
  /** When set, `PUT …/presigned_dnskey` is refused with this 400 message. */
  presignedRefusal: string | undefined;
}

export interface FakeNs1 {
  server: FakeHttpServer;
  state: FakeNs1State;
  /** The API base URL, e.g. `http://127.0.0.1:40123/v1/`. */
  url: string;
  /** Arrival time of each request, by index in `server.requests`. */
  times: number[];
  /** `METHOD path` of each request. */
  calls(): string[];
  close(): Promise<void>;
}

const message = (status: number, text: string): FakeResponse => ({
  status,
  body: { message: text },
});

function keyFromExternal(entry: Record<string, unknown>): unknown[] {
  return [entry.flags, entry.protocol, entry.algorithm, entry.public_key];
}

export async function startFakeNs1(initial: Partial<FakeNs1State> = {}): Promise<FakeNs1> {
  const state: FakeNs1State = {
    zone: 'example.test',
    dnssec: true,
    zoneShowsDnssec: true,
    ownKeys: [],
    dnssecListsExternal: false,
    keySets: new Map(),
    records: new Map(),
    zoneRecords: [],
    recordPageSize: 100,
    rate: undefined,
    override: undefined,
    presigned: undefined,
    presignedRefusal: undefined,
    ...initial,
  };
  const times: number[] = [];
  const withRate = (response: FakeResponse): FakeResponse => {
    times.push(Date.now());
    if (!state.rate) return response;
    if (state.rate.remaining > 0)
      state.rate = { ...state.rate, remaining: state.rate.remaining - 1 };
    return {
      ...response,
      headers: {
        'x-ratelimit-limit': String(state.rate.limit),
        'x-ratelimit-remaining': String(state.rate.remaining),
        'x-ratelimit-period': String(state.rate.period),
        ...response.headers,
      },
    };
  };
  const handle =
    (handler: (request: FakeRequest) => FakeResponse) =>
    (request: FakeRequest): FakeResponse => {
      if (state.override) return withRate(state.override);
      if (request.params.zone !== state.zone) return withRate(message(404, 'zone not found'));
      return withRate(handler(request));
    };

  const routes = [
    {
      method: 'GET',
      path: '/v1/zones/:zone/dnssec/external_keys',
      handler: handle(() => ({
        body: [...state.keySets].map(([name, set]) => ({ name, dnskey: set })),
      })),
    },
    ...['PUT', 'POST', 'DELETE'].map((method) => ({
      method,
      path: '/v1/zones/:zone/dnssec/external_keys/:name',
      handler: handle((request) => keySetWrite(state, method, request)),
    })),
    {
      method: 'GET',
      path: '/v1/zones/:zone/dnssec/signing_keys',
      handler: handle(() => {
        if (!state.dnssec) return message(400, 'DNSSEC is not enabled on the zone');
        const data = state.ownKeys
          .filter((key) => String(key[0]) === '256')
          .map(([flags, protocol, algorithm, key]) => ({
            flags,
            protocol,
            algorithm,
            public_key: key,
          }));
        return { body: { zone: state.zone, zsk: { ttl: 3600, data } } };
      }),
    },
    {
      method: 'PUT',
      path: '/v1/zones/:zone/dnssec/presigned_dnskey',
      handler: handle((request) => {
        if (state.presignedRefusal !== undefined) return message(400, state.presignedRefusal);
        state.presigned = request.body;
        return { body: request.body };
      }),
    },
    {
      method: 'GET',
      path: '/v1/zones/:zone/dnssec',
      handler: handle(() => {
        if (!state.dnssec) return message(400, 'DNSSEC is not enabled on the zone');
        const external = state.dnssecListsExternal
          ? [...state.keySets.values()].flatMap((set) => set.data.map(keyFromExternal))
          : [];
        return {
          body: {
            zone: `${state.zone}.`,
            keys: { dnskey: [...state.ownKeys, ...external], ttl: 3600 },
            delegation: { dnskey: [], ds: [], ttl: 3600 },
          },
        };
      }),
    },
    {
      method: 'GET',
      path: '/v1/zones/:zone',
      handler: handle((request) => zoneObject(state, request)),
    },
    ...['GET', 'PUT', 'POST', 'DELETE'].map((method) => ({
      method,
      path: '/v1/zones/:zone/:domain/:type',
      handler: handle((request) => recordCall(state, method, request)),
    })),
  ];
  const server = await startFakeHttpServer({
    routes,
    auth: { header: 'x-nsone-key', accept: [API_KEY], body: { message: 'Unauthorized' } },
  });
  return {
    server,
    state,
    url: `${server.url}/v1/`,
    times,
    calls: () => server.requests.map((request) => `${request.method} ${request.path}`),
    close: () => server.close(),
  };
}

/** The zone object with one page of its records (`?page=N`, from 0). */
function zoneObject(state: FakeNs1State, request: FakeRequest): FakeResponse {
  const page = Number(request.query.get('page') ?? '0');
  const start = page * state.recordPageSize;
  const records =
    request.query.get('records') === 'false'
      ? []
      : state.zoneRecords.slice(start, start + state.recordPageSize);
  const more =
    request.query.get('records') !== 'false' && start + records.length < state.zoneRecords.length;
  const next = `<http://${String(request.headers.host)}${request.path}?page=${page + 1}>; rel="next"`;
  return {
    body: {
      id: 'z1',
      zone: state.zone,
      ttl: 3600,
      ...(state.zoneShowsDnssec ? { dnssec: state.dnssec } : {}),
      records,
    },
    ...(more ? { headers: { Link: next } } : {}),
  };
}

function keySetWrite(state: FakeNs1State, method: string, request: FakeRequest): FakeResponse {
  const name = request.params.name!;
  const exists = state.keySets.has(name);
  if (method === 'DELETE') {
    if (!exists) return message(404, 'external key set not found');
    state.keySets.delete(name);
    return { status: 200, body: {} };
  }
  if (method === 'PUT' && exists) return message(400, 'external key set already exists');
  if (method === 'POST' && !exists) return message(404, 'external key set not found');
  const body = request.body as { dnskey?: { ttl: number; data: Record<string, unknown>[] } };
  if (!body?.dnskey || !Array.isArray(body.dnskey.data))
    return message(400, 'Input validation failed (dnskey)');
  state.keySets.set(name, body.dnskey);
  return { body: { name, dnskey: body.dnskey } };
}

function recordCall(state: FakeNs1State, method: string, request: FakeRequest): FakeResponse {
  const { domain, type } = request.params;
  if (domain !== state.zone) return message(404, 'record not found');
  const current = state.records.get(type!);
  if (method === 'GET') {
    if (!current) return message(404, 'record not found');
    return {
      body: { zone: state.zone, domain, type, id: 'r1', ...current, filters: [], meta: {} },
    };
  }
  if (method === 'DELETE') {
    if (!current) return message(404, 'record not found');
    state.records.delete(type!);
    return { status: 200, body: {} };
  }
  if (method === 'PUT' && current) return message(400, 'record already exists');
  if (method === 'POST' && !current) return message(404, 'record not found');
  const body = request.body as { ttl: number; answers: { answer: unknown[] }[]; filters?: unknown };
  if (!Array.isArray(body.filters))
    return message(
      400,
      "Input validation failed (Value None for field '<obj>.filters' is not of type array)",
    );
  state.records.set(type!, { ttl: body.ttl, answers: body.answers });
  return { body: { zone: state.zone, domain, type, id: 'r1', ...body } };
}
