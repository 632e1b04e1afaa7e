/**
 * What the scenario files of `chorus serve` start from: a lab of their own, a sidecar per signer
 * on its SQLite log, the zone defined with BIND as its signer (`chorus zone define`, short waits),
 * and `chorus serve` on that log with an empty tokens file.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ZoneEvent } from '@chorus/core';
import { createSqliteEventLog } from '@chorus/event-log-sqlite';
import { labDown, labUp, type LabServer, type LabStatus } from '@chorus/lab';
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

export const ZONE = 'example.test.';
const DEFINE = ['--signer', 'bind', '--record-ttl', '5', '--max-zone-ttl', '5'];
const WAITS = ['--child-propagation', '1', '--parent-propagation', '1', '--safety-margin', '1'];

export interface ServedLab {
  lab: LabStatus;
  /** `chorus serve`'s base URL. */
  url: string;
  /** Where `createToken` adds the tokens the test uses. */
  tokensFile: string;
}

/** Steps the file's afterAll runs in reverse: each start pushes its own stop. */
export type Cleanup = (() => Promise<unknown>)[];

export const labServer = (lab: LabStatus, id: string): LabServer =>
  lab.servers.find((entry) => entry.id === id)!;

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

/** `chorus zone define` until the sidecars have registered (at most 90 s). */
async function defineZone(sqliteFile: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const result = await chorusOnLog(sqliteFile, ['zone', 'define', ZONE, ...DEFINE, ...WAITS]);
    if (result.code === 0) return;
    if (Date.now() > deadline) throw new Error(`zone define never succeeded: ${result.output}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export async function startServedLab(options: {
  name: string;
  prefix: string;
  signers: readonly string[];
  cleanup: Cleanup;
}): Promise<ServedLab> {
  const { cleanup } = options;
  const directory = await mkdtemp(path.join(tmpdir(), `chorus-${options.name}-`));
  cleanup.push(() => rm(directory, { recursive: true, force: true }));
  cleanup.push(() => labDown({ directory }));
  const lab = await labUp({ directory, addressPrefix: options.prefix, ttl: 5, zones: [ZONE] });
  const demo = path.join(lab.directory, 'demo');
  await mkdir(demo, { recursive: true, mode: 0o700 });
  const sqliteFile = path.join(demo, 'events.sqlite');
  const sidecars: RunningSidecar[] = [];
  cleanup.push(() => Promise.all(sidecars.map((sidecar) => stopSidecarProcess(sidecar))));
  for (const id of options.signers) {
    const config = sidecarConfigFor(lab, labServer(lab, id), sqliteFile, ZONE);
    sidecars.push(await startSidecarProcess(demo, config));
  }
  await defineZone(sqliteFile);

  const log = createSqliteEventLog<ZoneEvent>({ path: sqliteFile });
  cleanup.push(() => log.close());
  const kit = trustKitAt(demo);
  const tokensFile = path.join(demo, 'tokens.json');
  const values = { trust: kit.trustFile, key: kit.operatorKeyFile };
  const server = await serveOnLog(log, sqliteFile, values, {
    host: '127.0.0.1',
    port: 0,
    tokensFile,
  });
  cleanup.push(() => server.close());
  await signersObserved(server.url, tokensFile, options.signers);
  return { lab, url: server.url, tokensFile };
}

/**
 * Waits (at most 90 s) until every signer's sidecar has listed its server's keys and recorded a
 * digest of its zone, as an operator waits to see them before asking for a process: the
 * pre-flight compares them.
 */
async function signersObserved(url: string, tokensFile: string, ids: readonly string[]) {
  const token = await createToken(tokensFile, 'set-up', 'viewer');
  const deadline = Date.now() + 90_000;
  for (;;) {
    const response = await fetch(`${url}/v1/zones/${ZONE}/signers`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const { signers } = (await response.json()) as {
      signers: { id: string; keys: unknown[]; keysObservedAt?: string; content?: unknown }[];
    };
    // Keys and a content digest: what the pre-flight compares.
    const observed = ids.every((id) =>
      signers.some(
        (signer) =>
          signer.id === id && signer.keys.length > 0 && signer.keysObservedAt && signer.content,
      ),
    );
    if (observed) return;
    if (Date.now() > deadline)
      throw new Error(`the sidecars did not list their keys in 90 s: ${JSON.stringify(signers)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
