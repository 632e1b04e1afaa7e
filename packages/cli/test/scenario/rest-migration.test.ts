/**
 * A whole migration through the REST API alone: a lab of its own on 127.89.0 (or
 * $CHORUS_TEST_SERVE_PREFIX) with the registry agent, sidecars for BIND and PowerDNS, the zone
 * defined with `chorus zone define`; then an operator token POSTs ADD-SIGNER powerdns to `chorus
 * serve` and follows its server-sent progress until it ends (the parent serves both signers' DS
 * and NS), then REMOVE-SIGNER bind the same way (the parent serves PowerDNS's alone).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { query } from '@chorus/dns';
import { createToken } from '@chorus/serve';
import { labServer, startServedLab, ZONE, type Cleanup } from './served-lab.js';

const PREFIX = process.env.CHORUS_TEST_SERVE_PREFIX ?? '127.89.0';

const cleanup: Cleanup = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

/** The `data:` payloads of a server-sent event stream, and the `end` event's, until it closes. */
async function readProgress(response: Response) {
  const text = await response.text();
  const frames = text.split('\n\n').filter((frame) => frame.trim() !== '');
  const data = (frame: string) =>
    JSON.parse(
      frame
        .split('\n')
        .find((line) => line.startsWith('data: '))!
        .slice(6),
    ) as Record<string, unknown>;
  const end = frames.find((frame) => frame.startsWith('event: end'));
  return {
    events: frames.filter((frame) => frame.startsWith('data: ')).map(data),
    end: end && data(end),
  };
}

/** The NS names the parent delegates the zone to, lower case. */
async function delegation(parentServer: { address: string; port: number }): Promise<string[]> {
  const ns = await query(parentServer, ZONE, 'NS', { transport: 'tcp' });
  const set = [...ns.answers, ...ns.authorities].find((rrset) => rrset.type === 'NS');
  return (set?.records ?? []).map((record) => (record as string).toLowerCase()).sort();
}

describe('a migration through chorus serve', () => {
  it('adds PowerDNS, then removes BIND, each requested by POST and followed over SSE to its end', async () => {
    const { lab, url, tokensFile } = await startServedLab({
      name: 'serve-lab',
      prefix: PREFIX,
      signers: ['bind', 'powerdns'],
      cleanup,
    });
    const server = { url };
    const token = await createToken(tokensFile, 'rita', 'operator');
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

    const parent = labServer(lab, 'parent');
    const parentServer = { address: parent.address, port: parent.port };
    const dsCount = async () =>
      (await query(parentServer, ZONE, 'DS', { transport: 'tcp' })).answers.find(
        (set) => set.type === 'DS',
      )?.records.length;
    expect(await dsCount()).toBe(1);

    const requested = await fetch(`${server.url}/v1/zones/${ZONE}/processes`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ kind: 'add-signer', signerId: 'powerdns' }),
    });
    expect(requested.status).toBe(202);
    const { processId } = (await requested.json()) as { processId: string };
    const progress = await fetch(`${server.url}/v1/zones/${ZONE}/processes/${processId}/progress`, {
      headers,
    });
    expect(progress.headers.get('content-type')).toBe('text/event-stream');
    const { events, end } = await readProgress(progress);
    // On a refusal, the last event names the pre-flight's reasons.
    expect(end, JSON.stringify(events.at(-1))).toEqual({ processId, status: 'completed' });
    const types = events.map((recorded) => (recorded.event as { type: string }).type);
    expect(types[0]).toBe('process-requested');
    expect(types).toContain('process-completed');

    const status = await fetch(`${server.url}/v1/zones/${ZONE}`, { headers });
    expect(((await status.json()) as { members: string[] }).members.sort()).toEqual([
      'bind',
      'powerdns',
    ]);

    expect(await dsCount()).toBe(2);
    const nameOf = (id: string) => labServer(lab, id).nameserverName.toLowerCase();
    expect(await delegation(parentServer)).toEqual([nameOf('bind'), nameOf('powerdns')].sort());

    // The migration's second half: BIND leaves.
    const removal = await fetch(`${server.url}/v1/zones/${ZONE}/processes`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ kind: 'remove-signer', signerId: 'bind' }),
    });
    expect(removal.status).toBe(202);
    const removalId = ((await removal.json()) as { processId: string }).processId;
    const removed = await readProgress(
      await fetch(`${server.url}/v1/zones/${ZONE}/processes/${removalId}/progress`, { headers }),
    );
    expect(removed.end).toEqual({ processId: removalId, status: 'completed' });
    const after = await fetch(`${server.url}/v1/zones/${ZONE}`, { headers });
    expect(((await after.json()) as { members: string[] }).members).toEqual(['powerdns']);
    expect(await dsCount()).toBe(1);
    expect(await delegation(parentServer)).toEqual([nameOf('powerdns')]);
  }, 400_000);
});
