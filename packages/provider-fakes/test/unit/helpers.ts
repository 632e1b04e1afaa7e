/**
 * Unit-test helpers: a tiny stand-in for the PowerDNS API (zones, rrsets, PATCH, cryptokeys) on
 * 127.0.0.1:0, and a fake started in-process against it with its files in a temp directory.
 * The stand-in is for unit tests only; the lab tests use a real PowerDNS.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  startProviderFake,
  type ProviderFakeConfig,
  type ProviderKind,
  type RequestRecord,
} from '../../src/index.js';

export interface StandInRrset {
  name: string;
  type: string;
  ttl: number;
  records: { content: string; disabled: boolean }[];
}

export interface StandInKey {
  id: number;
  keytype: 'ksk' | 'zsk' | 'csk';
  active: boolean;
  published: boolean;
  dnskey: string;
  ds?: string[];
  /** PowerDNS's private-key text, shown only by `GET …/cryptokeys/{id}`. */
  privatekey?: string;
}

export interface StandInZone {
  rrsets: StandInRrset[];
  keys: StandInKey[];
}

export const STAND_IN_API_KEY = 'stand-in-api-key';

/** A KSK from RFC-style test data; its DS values are what PowerDNS would report. */
export const BACKEND_KSK: StandInKey = {
  id: 1,
  keytype: 'csk',
  active: true,
  published: true,
  dnskey:
    '257 3 13 /If1LGJRREHnX24PsjmjRX102S+omORfcX361HZEdCsMUVKXSD2i2OihXxRckinsnIFSpmfXz7n9L2HtXnPa4g==',
  ds: [
    '22787 13 1 24bbcf852bdfa7a480da47a5bbec3125b40ce024',
    '22787 13 2 c9d1a9ea10eac51cbf4f6be7efc44ea74ddefac28fc951d78e0e45f3335c91c5',
    '22787 13 4 a0937d3331e3e9679d093608865707af9dfa48bfdce39754ef33e1d207176e5c1511350a43e840c784a5773fced7aa69',
  ],
};

/** Another key (a foreign KSK a user may add). */
export const FOREIGN_KSK =
  '257 3 13 zvjxhqYsuea5psf9ol/98bcgfYlUAcqRyL4wLGYUP/Z1uaYt2ipZnt0jcvaXszgFxyif5I8/EzqxWI8VUpwsnQ==';

async function body(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

interface Change {
  name: string;
  type: string;
  changetype: 'REPLACE' | 'DELETE';
  ttl?: number;
  records?: { content: string; disabled: boolean }[];
}

/** The PowerDNS API stand-in. */
export class PdnsStandIn {
  readonly zones = new Map<string, StandInZone>();
  /** Every PATCH body received, in order. */
  readonly patches: Change[][] = [];
  /** When set, the next PATCHes are refused with this status (PowerDNS 422). */
  refusePatchStatus: number | undefined;
  /** Zones rectified through `PUT …/rectify`, in order. */
  readonly rectified: string[] = [];
  #server: Server | undefined;
  url = '';

  addZone(name: string, rrsets: StandInRrset[] = [], keys: StandInKey[] = [BACKEND_KSK]): void {
    const soa: StandInRrset = {
      name,
      type: 'SOA',
      ttl: 3600,
      records: [
        { content: `ns1.${name} hostmaster.${name} 1 3600 600 86400 3600`, disabled: false },
      ],
    };
    const ns: StandInRrset = {
      name,
      type: 'NS',
      ttl: 3600,
      records: [{ content: `ns1.${name}`, disabled: false }],
    };
    this.zones.set(name, { rrsets: [soa, ns, ...rrsets], keys: keys.map((key) => ({ ...key })) });
  }

  rrset(zone: string, name: string, type: string): StandInRrset | undefined {
    return this.zones.get(zone)?.rrsets.find((rrset) => rrset.name === name && rrset.type === type);
  }

  async start(): Promise<void> {
    this.#server = createServer((request, response) => {
      void this.#handle(request).then(({ status, json }) => {
        response.writeHead(status, { 'Content-Type': 'application/json' });
        response.end(json === undefined ? '' : JSON.stringify(json));
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.#server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}/api/v1/servers/localhost`;
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()));
  }

  async #handle(request: IncomingMessage): Promise<{ status: number; json?: unknown }> {
    if (request.headers['x-api-key'] !== STAND_IN_API_KEY)
      return { status: 401, json: { error: 'Unauthorized' } };
    const url = new URL(request.url ?? '/', 'http://stand-in');
    const parts = url.pathname
      .replace('/api/v1/servers/localhost/', '')
      .split('/')
      .map(decodeURIComponent);
    const [collection, zoneName = '', sub, id] = parts;
    if (collection !== 'zones') return { status: 404, json: { error: 'Not Found' } };
    if (parts.length === 1)
      return { status: 200, json: [...this.zones.keys()].map((name) => ({ id: name, name })) };
    const zone = this.zones.get(zoneName);
    if (zone === undefined) return { status: 404, json: { error: 'Could not find domain' } };
    const payload = await body(request);
    if (sub === undefined && request.method === 'GET')
      return {
        status: 200,
        json: { id: zoneName, name: zoneName, serial: 1, rrsets: zone.rrsets },
      };
    if (sub === undefined && request.method === 'PATCH') return this.#patch(zone, payload);
    if (sub === 'cryptokeys' && request.method === 'GET' && id !== undefined) {
      const key = zone.keys.find((entry) => entry.id === Number(id));
      return key === undefined
        ? { status: 404, json: { error: 'no key' } }
        : { status: 200, json: key };
    }
    if (sub === 'cryptokeys' && request.method === 'GET')
      return {
        status: 200,
        json: zone.keys.map(({ privatekey: _privatekey, ...key }) => key),
      };
    if (sub === 'rectify' && request.method === 'PUT') {
      this.rectified.push(zoneName);
      return { status: 200, json: { result: 'Rectified' } };
    }
    if (sub === 'cryptokeys' && request.method === 'PUT') {
      const key = zone.keys.find((entry) => entry.id === Number(id));
      if (key === undefined) return { status: 404, json: { error: 'no key' } };
      Object.assign(key, payload);
      return { status: 204 };
    }
    return { status: 405, json: { error: 'Method not allowed' } };
  }

  #patch(zone: StandInZone, payload: unknown): { status: number; json?: unknown } {
    const changes = (payload as { rrsets: Change[] }).rrsets;
    this.patches.push(changes);
    if (this.refusePatchStatus !== undefined)
      return { status: this.refusePatchStatus, json: { error: 'refused by the stand-in' } };
    for (const change of changes) {
      zone.rrsets = zone.rrsets.filter(
        (rrset) => !(rrset.name === change.name && rrset.type === change.type),
      );
      if (change.changetype === 'REPLACE' && (change.records ?? []).length > 0)
        zone.rrsets.push({
          name: change.name,
          type: change.type,
          ttl: change.ttl ?? 3600,
          records: change.records ?? [],
        });
    }
    return { status: 204 };
  }
}

export interface TestFake {
  url: string;
  standIn: PdnsStandIn;
  directory: string;
  config: ProviderFakeConfig;
  token: string;
  /** An API request with the valid credentials (`auth: false` sends none). */
  call(
    method: string,
    path: string,
    body?: unknown,
    options?: { auth?: boolean; headers?: Record<string, string>; rawBody?: string },
  ): Promise<{ status: number; headers: Headers; json: unknown }>;
  /** An admin request (`/_fake/…`) with the admin token. */
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }>;
  requestLog(): Promise<RequestRecord[]>;
  close(): Promise<void>;
}

/** Limits no unit test reaches unless it sets its own. */
const GENEROUS_LIMITS: Record<ProviderKind, ProviderFakeConfig['rateLimits']> = {
  desec: {
    read: [{ limit: 10_000, periodSeconds: 1 }],
    perDomainWrite: [{ limit: 10_000, periodSeconds: 1 }],
  },
  ns1: { read: { limit: 10_000, periodSeconds: 1 }, write: { limit: 10_000, periodSeconds: 1 } },
};

export interface TestFakeOptions {
  rateLimits?: ProviderFakeConfig['rateLimits'];
  minimumTtl?: number;
  desecPageSize?: number;
  ns1RecordPageSize?: number;
  /** Prepare the stand-in's zones (default: one zone `example.test.`). */
  zones?: (standIn: PdnsStandIn) => void;
  /** NS1: the backend database file (`backend.database`) for model 1. */
  database?: string;
}

/** Starts the stand-in and a fake in front of it. */
export async function startTestFake(
  provider: ProviderKind,
  options: TestFakeOptions = {},
): Promise<TestFake> {
  const standIn = new PdnsStandIn();
  if (options.zones) options.zones(standIn);
  else standIn.addZone('example.test.');
  await standIn.start();
  const directory = await mkdtemp(path.join(tmpdir(), `chorus-fake-${provider}-`));
  const token = `token-${provider}`;
  const adminToken = `admin-${provider}`;
  await writeFile(path.join(directory, 'token'), `${token}\n`, { mode: 0o600 });
  await writeFile(path.join(directory, 'admin'), adminToken, { mode: 0o600 });
  await writeFile(path.join(directory, 'api.key'), STAND_IN_API_KEY, { mode: 0o600 });
  const config: ProviderFakeConfig = {
    provider,
    listen: { address: '127.0.0.1', port: 0 },
    tokenFile: path.join(directory, 'token'),
    adminTokenFile: path.join(directory, 'admin'),
    backend: {
      url: standIn.url,
      apiKeyFile: path.join(directory, 'api.key'),
      ...(options.database === undefined ? {} : { database: options.database }),
    },
    stateFile: path.join(directory, 'state.json'),
    requestLogFile: path.join(directory, 'requests.jsonl'),
    ...(options.minimumTtl === undefined ? {} : { minimumTtl: options.minimumTtl }),
    rateLimits: options.rateLimits ?? GENEROUS_LIMITS[provider],
  };
  const fake = await startProviderFake(config, {
    ...(options.desecPageSize === undefined ? {} : { desecPageSize: options.desecPageSize }),
    ...(options.ns1RecordPageSize === undefined
      ? {}
      : { ns1RecordPageSize: options.ns1RecordPageSize }),
  });
  const authHeaders: Record<string, string> =
    provider === 'desec' ? { Authorization: `Token ${token}` } : { 'X-NSONE-Key': token };
  return {
    url: fake.url,
    standIn,
    directory,
    config,
    token,
    async call(method, requestPath, requestBody, callOptions = {}) {
      const headers: Record<string, string> = {
        ...(callOptions.auth === false ? {} : authHeaders),
        ...callOptions.headers,
      };
      const bodyText =
        callOptions.rawBody ??
        (requestBody === undefined ? undefined : JSON.stringify(requestBody));
      if (bodyText !== undefined) headers['Content-Type'] = 'application/json';
      const response = await fetch(`${fake.url}${requestPath}`, {
        method,
        headers,
        ...(bodyText === undefined ? {} : { body: bodyText }),
      });
      const text = await response.text();
      return {
        status: response.status,
        headers: response.headers,
        json: text === '' ? undefined : (JSON.parse(text) as unknown),
      };
    },
    async admin(method, requestPath, requestBody) {
      const response = await fetch(`${fake.url}${requestPath}`, {
        method,
        headers: { 'X-Fake-Admin': adminToken, 'Content-Type': 'application/json' },
        ...(requestBody === undefined ? {} : { body: JSON.stringify(requestBody) }),
      });
      return { status: response.status, json: await response.json() };
    },
    async requestLog() {
      const text = await readFile(config.requestLogFile, 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as RequestRecord);
    },
    async close() {
      await fake.close();
      await standIn.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
