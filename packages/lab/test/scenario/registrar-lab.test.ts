/**
 * `lab up --registrar` for real: a lab of its own on 127.84.0 (or $CHORUS_TEST_REGISTRAR_PREFIX)
 * with the fake registrar in front of the parent. What the registrar's API accepts appears in
 * `test.`; the status records the registrar; `down` stops it by its PID.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dsIdentity } from '@chorus/dns';
import { observeDelegation } from '@chorus/parent';
import { labDown, labStatus, labUp } from '../../src/lab.js';
import { isRegistrarRunning } from '../../src/registrar.js';
import type { LabRegistrar, LabStatus } from '../../src/types.js';

const PREFIX = process.env.CHORUS_TEST_REGISTRAR_PREFIX ?? '127.84.0';
const ZONE = 'example.test.';

let directory: string;
let status: LabStatus;
let registrar: LabRegistrar;
const progress: string[] = [];

async function api(method: string, requestPath: string, body?: unknown) {
  const token = (await readFile(registrar.tokenFile, 'utf8')).trim();
  const response = await fetch(`${registrar.url}${requestPath}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

function delegation() {
  const parent = status.servers.find((server) => server.id === 'parent')!;
  return observeDelegation(
    status.parentZone,
    [{ address: parent.address, port: parent.port }],
    ZONE,
  );
}

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-registrar-lab-'));
  // No registry agent: it would put the DS back to what the signers' CDS say.
  status = await labUp({
    directory,
    addressPrefix: PREFIX,
    zones: ['example.test', 'shop.test'],
    registrar: true,
    registryAgent: false,
    onProgress: (line) => progress.push(line),
  });
  registrar = status.registrar!;
}, 60_000);

afterAll(async () => {
  await labDown({ directory });
  await rm(directory, { recursive: true, force: true });
});

describe('lab up --registrar', () => {
  it('runs the registrar on its own address, recorded in the status, token in a 0600 file', async () => {
    expect(registrar).toMatchObject({
      id: 'registrar',
      alive: true,
      url: `http://${PREFIX}.61:8000/v1/`,
      domains: ['example.test.', 'shop.test.'],
      parentZone: 'test.',
    });
    expect(isRegistrarRunning(registrar)).toBe(true);
    expect((await stat(registrar.tokenFile)).mode & 0o777).toBe(0o600);
    expect((await readFile(registrar.pidFile, 'utf8')).trim()).toBe(String(registrar.pid));
    expect(progress.some((line) => line.startsWith(`ready: registrar pid ${registrar.pid}`))).toBe(
      true,
    );
    const again = await labStatus({ directory });
    expect(again?.registrar).toMatchObject({ pid: registrar.pid, alive: true });
    expect(again?.running).toBe(true);
  });

  it('shows the delegation as the parent serves it', async () => {
    const served = await delegation();
    const answer = await api('GET', 'domains/example.test');
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({
      domain: 'example.test',
      nameservers: ['ns.bind.test'],
      glue: [],
      ds: served.ds!.records.map((ds) => ({ ...ds, digest: ds.digest.toUpperCase() })),
    });
  });

  it('writes what its API accepts to test., and only answers once the parent serves it', async () => {
    const original = (await delegation()).ds!.records;
    const extra = { keyTag: 999, algorithm: 13, digestType: 4, digest: 'EE'.repeat(48) };
    const put = await api('PUT', 'domains/example.test/ds', { ds: [...original, extra] });
    expect(put.status).toBe(200);
    const served = await delegation();
    expect(served.ds!.records.map(dsIdentity).sort()).toEqual(
      [...original, extra].map(dsIdentity).sort(),
    );
    const back = await api('PUT', 'domains/example.test/ds', { ds: original });
    expect(back.status).toBe(200);
    expect((await delegation()).ds!.records.map(dsIdentity).sort()).toEqual(
      original.map(dsIdentity).sort(),
    );
  });

  it('down stops it by its PID', async () => {
    const report = await labDown({ directory });
    expect(report.registrar).toEqual({ pid: registrar.pid, outcome: 'stopped' });
    expect(isRegistrarRunning(registrar)).toBe(false);
  });
});
