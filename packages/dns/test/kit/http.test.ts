import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortError, ApiCallError } from '@chorus/core';
import { HttpClient, parseRetryAfter, safeUrl } from '@chorus/dns';

// A real HTTP server on a loopback port; each path answers one way.
let server: Server;
let base: string;
const seen: { key: string | undefined; body: string }[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      seen.push({ key: request.headers['x-api-key'] as string | undefined, body });
      const [pathname] = (request.url ?? '').split('?');
      if (pathname === '/ok') return void response.end(JSON.stringify({ url: request.url }));
      if (pathname === '/text') return void response.end('not json');
      if (pathname === '/hang') return;
      const status = Number(pathname!.slice(1));
      const headers: Record<string, string> = {};
      if (status === 429) headers['Retry-After'] = '7';
      if (status === 503) headers['Retry-After'] = new Date(Date.now() + 60_000).toUTCString();
      response.writeHead(status, headers).end(JSON.stringify({ error: `status ${status}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

const client = (timeoutMs = 2000) =>
  new HttpClient({
    baseUrl: `${base}/`,
    timeoutMs,
    headers: () => ({ 'X-API-Key': 'hunter2' }),
    errorText: (body) => (JSON.parse(body) as { error: string }).error,
  });

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('HttpClient', () => {
  it('sends the headers, the query and a JSON body, and parses JSON', async () => {
    const body = await client().json(
      { method: 'PATCH', path: '/ok', query: { rrsets: 'false' }, body: { a: 1 } },
      (value) => value as { url: string },
    );
    expect(body.url).toBe('/ok?rrsets=false');
    expect(seen.at(-1)).toEqual({ key: 'hunter2', body: '{"a":1}' });
  });

  it.each([
    [401, false, undefined],
    [403, false, undefined],
    [404, false, undefined],
    [408, true, undefined],
    [409, true, undefined],
    [429, true, 7],
    [500, true, undefined],
  ])(
    'HTTP %i is an ApiCallError, retryable %s, Retry-After %s',
    async (status, retryable, after) => {
      const error = await rejection(client().request({ method: 'GET', path: `/${status}` }));
      expect(ApiCallError.isInstance(error)).toBe(true);
      const failure = error as ApiCallError;
      expect(failure.statusCode).toBe(status);
      expect(failure.isRetryable).toBe(retryable);
      expect(failure.retryAfterSeconds).toBe(after);
      expect(failure.responseBody).toBe(`status ${status}`);
      expect(failure.url).toBe(`${base}/${status}`);
      expect(failure.message).not.toContain('hunter2');
    },
  );

  it('reads Retry-After as an HTTP date', async () => {
    const error = (await rejection(
      client().request({ method: 'GET', path: '/503' }),
    )) as ApiCallError;
    expect(error.retryAfterSeconds).toBeGreaterThan(50);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(
      parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:00 GMT')),
    ).toBe(60);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('a body that is not what the parser expects is a non-retryable ApiCallError', async () => {
    const error = await rejection(client().json({ method: 'GET', path: '/text' }, (v) => v));
    expect((error as ApiCallError).responseBody).toMatch(/not JSON/);
    expect((error as ApiCallError).isRetryable).toBe(false);
  });

  it('no answer is a retryable ApiCallError without status; the caller abort is AbortError', async () => {
    const slow = (await rejection(
      client(200).request({ method: 'GET', path: '/hang' }),
    )) as ApiCallError;
    expect(slow.statusCode).toBeUndefined();
    expect(slow.isRetryable).toBe(true);
    expect(slow.responseBody).toMatch(/no answer within 200 ms/);
    const controller = new AbortController();
    const pending = client().request({ method: 'GET', path: '/hang', signal: controller.signal });
    controller.abort();
    expect(AbortError.isInstance(await rejection(pending))).toBe(true);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const refused = new HttpClient({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 2000 });
    const network = (await rejection(
      refused.request({ method: 'GET', path: '/' }),
    )) as ApiCallError;
    expect(network.isRetryable).toBe(true);
    expect(network.responseBody).toMatch(/ECONNREFUSED/);
  });

  it('never shows credentials of a URL', () => {
    expect(safeUrl('https://user:pass@api.example/v1?x=1')).toBe('https://api.example/v1?x=1');
  });
});
