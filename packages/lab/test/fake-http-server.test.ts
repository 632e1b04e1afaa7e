import { afterEach, describe, expect, it } from 'vitest';
import {
  startFakeHttpServer,
  type FakeHttpServer,
  type FakeHttpServerOptions,
} from '../src/testing/index.js';

// Real sockets and the real fetch: the fake must behave as an HTTP server does.
let server: FakeHttpServer | undefined;

async function start(options: FakeHttpServerOptions): Promise<FakeHttpServer> {
  server = await startFakeHttpServer(options);
  return server;
}

afterEach(async () => {
  await server?.close();
  server = undefined;
});

const rrsets: FakeHttpServerOptions['routes'] = [
  {
    method: 'GET',
    path: '/api/v1/domains/:name/rrsets/',
    handler: (request) => ({ body: [{ domain: request.params.name, type: 'DNSKEY' }] }),
  },
  {
    method: 'POST',
    path: '/api/v1/domains/:name/rrsets/',
    handler: (request) => ({ status: 201, body: { received: request.body } }),
  },
];

describe('startFakeHttpServer', () => {
  it('routes by method and path pattern, with JSON in and out', async () => {
    const fake = await start({ routes: rrsets });
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const listed = await fetch(`${fake.url}/api/v1/domains/example.test/rrsets/`);
    expect(listed.status).toBe(200);
    expect(listed.headers.get('content-type')).toBe('application/json');
    expect(await listed.json()).toEqual([{ domain: 'example.test', type: 'DNSKEY' }]);

    const created = await fetch(`${fake.url}/api/v1/domains/example.test/rrsets/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'CDS', records: ['1 13 2 AB'] }),
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ received: { type: 'CDS', records: ['1 13 2 AB'] } });
  });

  it('answers 404 for an unknown path, 405 for a wrong method and 400 for broken JSON', async () => {
    const fake = await start({ routes: rrsets });
    expect((await fetch(`${fake.url}/api/v1/domains/example.test/rrsets`)).status).toBe(404);
    const deleted = await fetch(`${fake.url}/api/v1/domains/example.test/rrsets/`, {
      method: 'DELETE',
    });
    expect(deleted.status).toBe(405);
    const broken = await fetch(`${fake.url}/api/v1/domains/example.test/rrsets/`, {
      method: 'POST',
      body: '{not json',
    });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({ detail: expect.stringMatching(/^invalid JSON/) });
  });

  it('refuses a missing or wrong token with 401 JSON and lets the right one through', async () => {
    const fake = await start({ routes: rrsets, auth: { accept: ['Token right'] } });
    const url = `${fake.url}/api/v1/domains/example.test/rrsets/`;
    const missing = await fetch(url);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ detail: 'Invalid token.' });
    expect((await fetch(url, { headers: { authorization: 'Token wrong' } })).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Token right' } })).status).toBe(200);
  });

  it('checks a custom auth header', async () => {
    const fake = await start({
      routes: rrsets,
      auth: { header: 'X-NSONE-Key', accept: ['k1'], body: { message: 'Unauthorized' } },
    });
    const url = `${fake.url}/api/v1/domains/example.test/rrsets/`;
    const refused = await fetch(url, { headers: { authorization: 'k1' } });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ message: 'Unauthorized' });
    expect((await fetch(url, { headers: { 'x-nsone-key': 'k1' } })).status).toBe(200);
  });

  it('throttles with 429, Retry-After and extra headers past the global limit', async () => {
    const fake = await start({
      routes: rrsets,
      rateLimit: {
        limit: 2,
        windowMs: 3_600_000,
        retryAfterSeconds: 7,
        headers: { 'x-ratelimit-remaining': '0' },
      },
    });
    const url = `${fake.url}/api/v1/domains/example.test/rrsets/`;
    expect((await fetch(url)).status).toBe(200);
    expect((await fetch(url)).status).toBe(200);
    const throttled = await fetch(url);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('7');
    expect(throttled.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(await throttled.json()).toEqual({ detail: 'Request was throttled.' });
    fake.resetRateLimits();
    expect((await fetch(url)).status).toBe(200);
  });

  it('throttles one route alone, with Retry-After from the window when not given', async () => {
    const fake = await start({
      routes: [{ ...rrsets[1]!, rateLimit: { limit: 1, windowMs: 3_600_000 } }, rrsets[0]!],
    });
    const url = `${fake.url}/api/v1/domains/example.test/rrsets/`;
    const post = () => fetch(url, { method: 'POST', body: '{}' });
    expect((await post()).status).toBe(201);
    const throttled = await post();
    expect(throttled.status).toBe(429);
    const retryAfter = Number(throttled.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect((await fetch(url)).status).toBe(200); // GET has no limit
  });

  it('records every request with its body and the status it got', async () => {
    const fake = await start({ routes: rrsets, auth: { accept: ['Token t'] } });
    const url = `${fake.url}/api/v1/domains/example.test/rrsets/?cursor=2`;
    await fetch(url, { method: 'POST', headers: { authorization: 'Token t' }, body: '{"a":1}' });
    await fetch(url);
    expect(
      fake.requests.map(({ method, path, query, body, status }) => ({
        method,
        path,
        query,
        body,
        status,
      })),
    ).toEqual([
      {
        method: 'POST',
        path: '/api/v1/domains/example.test/rrsets/',
        query: '?cursor=2',
        body: { a: 1 },
        status: 201,
      },
      {
        method: 'GET',
        path: '/api/v1/domains/example.test/rrsets/',
        query: '?cursor=2',
        body: undefined,
        status: 401,
      },
    ]);
  });

  it('answers 500 when a handler throws, and stops listening on close', async () => {
    const fake = await start({
      routes: [
        {
          method: 'GET',
          path: '/boom',
          handler: () => {
            throw new Error('handler failed');
          },
        },
      ],
    });
    const failed = await fetch(`${fake.url}/boom`);
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ detail: 'Error: handler failed' });
    await fake.close();
    server = undefined;
    await expect(fetch(`${fake.url}/boom`)).rejects.toThrow();
  });
});
