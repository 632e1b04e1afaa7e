import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zoneEvent } from '@chorus/core';
import { GROUP, SIDECAR, startFixture, ZONE, type Fixture } from './fixture.js';

let fixture: Fixture;
beforeAll(async () => void (fixture = await startFixture()));
afterAll(() => fixture.close());

/** The JSON answers the tests look at. */
interface Body {
  error: { code: string; message: string; retryable: boolean };
  processId: string;
  status: string;
  pendingRequests: unknown[];
  zones: unknown[];
  events: { event: { type: string } }[];
}

async function call(method: string, path: string, token?: string, body?: unknown) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${fixture.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Body };
}

const addSigner = { kind: 'add-signer', signerId: 'powerdns' };
const processes = `/v1/zones/${ZONE}/processes`;

describe('auth', () => {
  it.each([
    ['no token', undefined],
    ['an unknown token', 'chorus_not-a-token'],
  ])('answers 401 to %s and appends nothing', async (_what, token) => {
    const before = await fixture.events();
    const { status, body } = await call('POST', processes, token, addSigner);
    expect(status).toBe(401);
    expect(body.error).toMatchObject({ code: 'Chorus_UnauthorizedError', retryable: false });
    expect(await fixture.events()).toEqual(before);
  });

  it('answers 403 to a viewer that POSTs, and appends nothing', async () => {
    for (const path of [processes, `/v1/zones/${ZONE}/stop`, `/v1/zones/${ZONE}/undo`]) {
      const before = await fixture.events();
      const { status, body } = await call('POST', path, fixture.tokens.viewer, addSigner);
      expect(status).toBe(403);
      expect(body.error.code).toBe('Chorus_ForbiddenError');
      expect(await fixture.events()).toEqual(before);
    }
  });

  it('logs refused attempts without the token', () => {
    const lines: { msg: string; code: string }[] = fixture
      .logged()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string; code: string });
    const refused = lines.filter((line) => line.msg === 'refused API call');
    expect(refused.map((line) => line.code)).toContain('Chorus_UnauthorizedError');
    expect(refused.map((line) => line.code)).toContain('Chorus_ForbiddenError');
    for (const token of Object.values(fixture.tokens))
      expect(fixture.logged()).not.toContain(token);
  });

  it('shows a viewer the signers and the observation stream', async () => {
    const signers = await fetch(`${fixture.url}/v1/zones/${ZONE}/signers`, {
      headers: { authorization: `Bearer ${fixture.tokens.viewer}` },
    });
    expect(signers.status).toBe(200);
    const listed = (await signers.json()) as { signers: { id: string; member: boolean }[] };
    expect(listed.signers).toEqual([expect.objectContaining({ id: 'bind', member: true })]);
    const observations = await call('GET', `/v1/zones/${ZONE}/observations`, fixture.tokens.viewer);
    expect(observations.status).toBe(200);
    expect(observations.body.events).toEqual([]);
    const bad = `/v1/zones/${ZONE}/observations?after=-1`;
    expect((await call('GET', bad, fixture.tokens.viewer)).status).toBe(400);
    expect((await call('GET', `/v1/zones/${ZONE}/signers`)).status).toBe(401);
  });

  it('shows a viewer the groups, one group, and a clear error for an unknown or bad name', async () => {
    const listed = await fetch(`${fixture.url}/v1/groups`, {
      headers: { authorization: `Bearer ${fixture.tokens.viewer}` },
    });
    const { groups } = (await listed.json()) as { groups: { name: string; zones: string[] }[] };
    expect(groups).toEqual([expect.objectContaining({ name: GROUP, zones: [ZONE] })]);
    expect((await call('GET', `/v1/groups/${GROUP}`, fixture.tokens.viewer)).status).toBe(200);
    const unknown = await call('GET', '/v1/groups/nosuch', fixture.tokens.viewer);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('Chorus_UnknownGroupError');
    expect((await call('GET', '/v1/groups/-bad', fixture.tokens.viewer)).status).toBe(400);
  });

  it('audits a live zone from the public DNS: an unreachable parent is a failing row', async () => {
    const path = `/v1/zones/${ZONE}/audit?parentServer=127.0.0.1:1`;
    const response = await fetch(`${fixture.url}${path}`, {
      headers: { authorization: `Bearer ${fixture.tokens.viewer}` },
    });
    expect(response.status).toBe(200);
    const report = (await response.json()) as {
      status: string;
      checks: { id: string; status: string }[];
    };
    expect(report.status).toBe('fail');
    expect(report.checks).toContainEqual(
      expect.objectContaining({ id: 'reachable', status: 'fail' }),
    );
    const bad = await call(
      'GET',
      `/v1/zones/${ZONE}/audit?parentServer=nowhere`,
      fixture.tokens.viewer,
    );
    expect(bad.status).toBe(400);
  });

  it('lets a viewer read, without a token only /openapi.json', async () => {
    expect((await call('GET', '/v1/zones', fixture.tokens.viewer)).status).toBe(200);
    expect((await call('GET', '/v1/zones')).status).toBe(401);
    expect((await call('GET', '/openapi.json')).status).toBe(200);
  });
});

describe('the web page and who calls', () => {
  it('serves the page and its two files without a token, from this server only', async () => {
    const page = await fetch(`${fixture.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    const html = await page.text();
    expect(html).toContain('<script type="module" src="/ui/app.mjs">');
    // Nothing from elsewhere: every src and href is a path on this server.
    for (const [, url] of html.matchAll(/(?:src|href)="([^"]+)"/g)) expect(url).toMatch(/^\//);
    const script = await fetch(`${fixture.url}/ui/app.mjs`);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await script.text()).toContain('/v1/whoami');
    expect((await fetch(`${fixture.url}/ui/app.css`)).status).toBe(200);
    const missing = await fetch(`${fixture.url}/ui/..%2Fpackage.json`);
    expect(missing.status).toBe(404);
  });

  it('tells a token its name and role, and lists tokens to an admin only, never their hashes', async () => {
    expect((await call('GET', '/v1/whoami', fixture.tokens.viewer)).body).toEqual({
      name: 'vera',
      role: 'viewer',
    });
    expect((await call('GET', '/v1/whoami')).status).toBe(401);
    expect((await call('GET', '/v1/tokens', fixture.tokens.operator)).status).toBe(403);
    const listed = await call('GET', '/v1/tokens', fixture.tokens.admin);
    expect(listed.status).toBe(200);
    const text = JSON.stringify(listed.body);
    expect(text).toContain('"ada"');
    expect(text).not.toMatch(/sha256|chorus_/);
  });
});

describe('processes', () => {
  it('appends exactly one process-requested, signed, naming the token, for an operator', async () => {
    const before = await fixture.events();
    const { status, body } = await call('POST', processes, fixture.tokens.operator, addSigner);
    expect(status).toBe(202);
    const added = (await fixture.events()).slice(before.length);
    expect(added).toHaveLength(1);
    const event = added[0]!.event;
    expect(event.type).toBe('process-requested');
    expect(event.data).toMatchObject({
      ...addSigner,
      processId: body.processId,
      requestedBy: 'otto',
    });
    expect(event.source).toEqual({ kind: 'cli', id: 'lab-operator' });
    expect(event).toHaveProperty('signature');
  });

  it('shows the requested process in the zone status and by id', async () => {
    const zone = await call('GET', `/v1/zones/${ZONE}`, fixture.tokens.viewer);
    expect(zone.status).toBe(200);
    expect(zone.body).toMatchObject({
      zone: ZONE,
      defined: true,
      members: ['bind'],
      verified: true,
    });
    expect(zone.body.pendingRequests).toHaveLength(1);
    const zones = await call('GET', '/v1/zones', fixture.tokens.viewer);
    expect(zones.body.zones).toEqual([
      { zone: ZONE, group: null, members: ['bind'], defined: true },
    ]);
    const events = await call('GET', `/v1/zones/${ZONE}/events?after=2`, fixture.tokens.viewer);
    expect(events.body.events.map((recorded) => recorded.event.type)).toEqual([
      'process-requested',
    ]);
  });

  it('refuses a malformed body with 400 and appends nothing', async () => {
    const before = await fixture.events();
    const { status, body } = await call('POST', processes, fixture.tokens.operator, { kind: 'x' });
    expect(status).toBe(400);
    expect(body.error.code).toBe('Chorus_BadRequestError');
    expect(await fixture.events()).toEqual(before);
  });

  it('answers 409 to a stop with no process in flight', async () => {
    const { status, body } = await call(
      'POST',
      `/v1/zones/${ZONE}/stop`,
      fixture.tokens.operator,
      {},
    );
    expect(status).toBe(409);
    expect(body.error.code).toBe('Chorus_NotInFlightError');
  });
});

describe('a process refused at pre-flight', () => {
  const reasons = [{ code: 'last-signer', message: 'powerdns is not in the group' }];

  it('streams its events over SSE until it ends, and shows its reasons', async () => {
    const remove = { kind: 'remove-signer', signerId: 'powerdns' };
    const { body } = await call('POST', processes, fixture.tokens.operator, remove);
    const headers = { authorization: `Bearer ${fixture.tokens.viewer}` };
    const progress = await fetch(`${fixture.url}${processes}/${body.processId}/progress`, {
      headers,
    });
    expect(progress.headers.get('content-type')).toBe('text/event-stream');
    const data = {
      processId: body.processId,
      kind: 'remove-signer' as const,
      signerId: 'powerdns',
      reasons,
    };
    await fixture.appendAsSidecar(
      zoneEvent('process-blocked', { zone: ZONE, source: SIDECAR }, data),
    );
    const frames = (await progress.text()).split('\n\n').filter((frame) => frame !== '');
    const types = frames.map(
      (frame) => /"type":"([a-z-]+)"/.exec(frame)?.[1] ?? frame.split('\n')[0],
    );
    expect(types).toEqual(['process-requested', 'process-blocked', 'event: end']);
    expect(frames[2]).toBe(
      `event: end\ndata: {"processId":"${body.processId}","status":"blocked"}`,
    );

    const process = await call('GET', `${processes}/${body.processId}`, fixture.tokens.viewer);
    expect(process.status).toBe(200);
    expect(process.body).toMatchObject({ status: 'blocked', reasons });
    expect(process.body.error).toMatchObject({ code: 'Chorus_ProcessBlockedError', reasons });
  });
});

describe('errors', () => {
  it('answers a bad zone name with 400 and the JSON error shape', async () => {
    const { status, body } = await call('GET', '/v1/zones/bad..name', fixture.tokens.viewer);
    expect(status).toBe(400);
    expect(body).toEqual({
      error: { code: 'Chorus_InvalidZoneNameError', message: expect.any(String), retryable: false },
    });
  });

  it('answers an unknown zone with 404 naming the known zones', async () => {
    const { status, body } = await call('GET', '/v1/zones/nowhere.test.', fixture.tokens.viewer);
    expect(status).toBe(404);
    expect(body.error).toMatchObject({ code: 'Chorus_UnknownZoneError', retryable: false });
    expect(body.error.message).toContain(ZONE);
  });

  it('answers an unknown process with 404 and an unknown route with 404', async () => {
    expect((await call('GET', `${processes}/nope`, fixture.tokens.viewer)).body.error.code).toBe(
      'Chorus_UnknownProcessError',
    );
    expect((await call('GET', '/v2/nothing', fixture.tokens.viewer)).status).toBe(404);
  });
});
