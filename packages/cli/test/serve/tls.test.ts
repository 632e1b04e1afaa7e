/** HTTPS: with a certificate the API answers over TLS, and a plain-HTTP client gets nothing. */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createSqliteEventLog } from '@chorus/event-log-sqlite';
import type { ZoneEvent } from '@chorus/core';
import { ensureTrustKit, serveOnLog } from '@chorus/cli';
import { createToken, type RunningServer } from '@chorus/serve';

const run = promisify(execFile);
let directory: string;
let server: RunningServer;
let ca: string;
let close: () => Promise<void>;

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-serve-tls-'));
  const cert = path.join(directory, 'cert.pem');
  const key = path.join(directory, 'key.pem');
  await run('openssl', [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
    ...['-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'],
    ...['-addext', 'subjectAltName=IP:127.0.0.1'],
  ]);
  ca = await readFile(cert, 'utf8');
  const logFile = path.join(directory, 'chorus.db');
  const log = createSqliteEventLog<ZoneEvent>({ path: logFile });
  const kit = ensureTrustKit(directory, ['bind']);
  const tokensFile = path.join(directory, 'tokens.json');
  await createToken(tokensFile, 'vera', 'viewer');
  server = await serveOnLog(
    log,
    logFile,
    { trust: kit.trustFile, key: kit.operatorKeyFile },
    {
      host: '127.0.0.1',
      port: 0,
      tokensFile,
      tls: { cert: ca, key: await readFile(key, 'utf8') },
      logger: pino({ level: 'silent' }),
    },
  );
  close = async () => (await server.close(), await log.close());
});

afterAll(async () => {
  await close?.();
  await rm(directory, { recursive: true, force: true });
});

function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (response) => (response.resume(), resolve(response.statusCode ?? 0)))
      .on('error', reject)
      .end();
  });
}

describe('chorus serve over TLS', () => {
  it('answers HTTPS with the given certificate', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await get(`${server.url}/openapi.json`)).toBe(200);
  });

  it('gives a plain-HTTP client no answer (the control)', async () => {
    const plain = server.url.replace(/^https:/, 'http:');
    await expect(fetch(`${plain}/openapi.json`)).rejects.toThrow();
  });
});
