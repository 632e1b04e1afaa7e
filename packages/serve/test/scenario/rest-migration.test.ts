/**
 * ADD-SIGNER through the REST API alone: a lab of its own on 127.89.0 (or
 * $CHORUS_TEST_SERVE_PREFIX) with the registry agent, sidecars for BIND and PowerDNS, the zone
 * defined with `chorus zone define`; then an operator token POSTs the process to `chorus serve`
 * and follows its server-sent progress until it ends. The parent then serves both signers' DS
 * and NS.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ZoneEvent } from '@chorus/core';
import { query } from '@chorus/dns';
import { createSqliteEventLog } from '@chorus/event-log-sqlite';
import { labDown, labUp, type LabStatus } from '@chorus/lab';
import {
  runCli,
  serveOnLog,
  sidecarConfigFor,
  startSidecarProcess,
  stopSidecarProcess,
  trustKitAt,
  type RunningSidecar,
} from '@chorus/cli';
import { createToken } from '@chorus/serve';

const PREFIX = process.env.CHORUS_TEST_SERVE_PREFIX ?? '127.89.0';
const ZONE = 'example.test.';

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

/** `chorus …` on the lab's log with the kit's trust file and operator key. */
async function chorusOnLog(sqliteFile: string, args: string[]) {
  const kit = trustKitAt(path.dirname(sqliteFile));
  let output = '';
  const io = {
    stdout: (text: string) => void (output += text),
    stderr: (text: string) => void (output += text),
  };
  const code = await runCli(
    [...args, '--log', sqliteFile, '--trust', kit.trustFile, '--key', kit.operatorKeyFile],
    io,
  );
  return { code, output };
}

/** Asks `probe` every half second until it gives a value, at most 90 s. */
async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function startSidecars(lab: LabStatus, demo: string, sqliteFile: string) {
  const sidecars: RunningSidecar[] = [];
  cleanup.push(() => Promise.all(sidecars.map((sidecar) => stopSidecarProcess(sidecar))));
  for (const id of ['bind', 'powerdns']) {
    const server = lab.servers.find((entry) => entry.id === id)!;
    sidecars.push(await startSidecarProcess(demo, sidecarConfigFor(lab, server, sqliteFile, ZONE)));
  }
}

const DEFINE = ['--signer', 'bind', '--record-ttl', '5', '--max-zone-ttl', '5'];
const WAITS = ['--child-propagation', '1', '--parent-propagation', '1', '--safety-margin', '1'];

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

describe('ADD-SIGNER through chorus serve', () => {
  it('is requested by POST, followed over SSE to its end, and the parent serves both DS and NS', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'chorus-serve-lab-'));
    cleanup.push(() => rm(directory, { recursive: true, force: true }));
    cleanup.push(() => labDown({ directory }));
    const lab = await labUp({ directory, addressPrefix: PREFIX, ttl: 5, zones: [ZONE] });
    const demo = path.join(lab.directory, 'demo');
    await mkdir(demo, { recursive: true, mode: 0o700 });
    const sqliteFile = path.join(demo, 'events.sqlite');
    await startSidecars(lab, demo, sqliteFile);
    const defined = await until('the zone to be defined', async () => {
      const result = await chorusOnLog(sqliteFile, ['zone', 'define', ZONE, ...DEFINE, ...WAITS]);
      return result.code === 0 ? result : undefined;
    });
    expect(defined.code).toBe(0);

    const kit = trustKitAt(demo);
    const log = createSqliteEventLog<ZoneEvent>({ path: sqliteFile });
    cleanup.push(() => log.close());
    const tokensFile = path.join(demo, 'tokens.json');
    const token = await createToken(tokensFile, 'rita', 'operator');
    const values = { trust: kit.trustFile, key: kit.operatorKeyFile };
    const server = await serveOnLog(log, sqliteFile, values, {
      host: '127.0.0.1',
      port: 0,
      tokensFile,
    });
    cleanup.push(() => server.close());
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

    const parent = lab.servers.find((entry) => entry.id === 'parent')!;
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
    expect(end).toEqual({ processId, status: 'completed' });
    const types = events.map((recorded) => (recorded.event as { type: string }).type);
    expect(types[0]).toBe('process-requested');
    expect(types).toContain('process-completed');

    const status = await fetch(`${server.url}/v1/zones/${ZONE}`, { headers });
    expect(((await status.json()) as { members: string[] }).members.sort()).toEqual([
      'bind',
      'powerdns',
    ]);

    expect(await dsCount()).toBe(2);
    const ns = await query(parentServer, ZONE, 'NS', { transport: 'tcp' });
    const delegation = [...ns.answers, ...ns.authorities].find((set) => set.type === 'NS');
    const names = (delegation?.records ?? []).map((record) => (record as string).toLowerCase());
    for (const id of ['bind', 'powerdns'])
      expect(names).toContain(
        lab.servers.find((entry) => entry.id === id)!.nameserverName.toLowerCase(),
      );
  }, 300_000);
});
