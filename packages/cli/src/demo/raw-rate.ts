/**
 * The raw update rates of a lab's servers, measured in the same run as Chorus, with nothing in
 * between: PowerDNS takes one HTTP API PATCH per zone, one at a time; BIND takes one `nsupdate`
 * session sending one UPDATE per zone. Each change adds a TXT RRset that is removed afterwards.
 */
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { checkPrograms, type LabStatus } from '@chorus/lab';
import type { Say } from './phases.js';

const run = promisify(execFile);

/** What a raw measurement found. */
export interface RawRate {
  changesPerSecond: number;
  sample: number;
}

/** At most this many zones are written for the measurement. */
const SAMPLE = 200;

async function patch(url: string, apiKey: string, zone: string, changetype: 'REPLACE' | 'DELETE') {
  const rrset = {
    name: `_chorus-bench.${zone}`,
    type: 'TXT',
    ttl: 60,
    changetype,
    records: changetype === 'REPLACE' ? [{ content: '"raw rate"', disabled: false }] : [],
  };
  const response = await fetch(`${url}/zones/${zone}`, {
    method: 'PATCH',
    headers: { 'X-API-Key': apiKey, 'Content-Type': 'application/json' },
    body: JSON.stringify({ rrsets: [rrset] }),
  });
  if (!response.ok)
    throw new Error(
      `PowerDNS answered ${response.status} to PATCH ${zone}: ${await response.text()}`,
    );
}

export async function measurePowerDnsRate(
  status: LabStatus,
  zones: readonly string[],
  say: Say,
): Promise<RawRate> {
  const server = status.servers.find((entry) => entry.id === 'powerdns');
  if (server?.control.kind !== 'powerdns-api') throw new Error('the lab has no PowerDNS API');
  const { url, apiKeyFile } = server.control;
  const apiKey = (await readFile(apiKeyFile, 'utf8')).trim();
  const sample = zones.slice(0, SAMPLE);
  const started = performance.now();
  for (const zone of sample) await patch(url, apiKey, zone, 'REPLACE');
  const seconds = (performance.now() - started) / 1000;
  for (const zone of sample) await patch(url, apiKey, zone, 'DELETE');
  const changesPerSecond = sample.length / seconds;
  say(
    `PowerDNS raw: ${sample.length} API PATCHes one at a time in ${seconds.toFixed(2)} s = ${changesPerSecond.toFixed(1)}/s`,
  );
  return { changesPerSecond, sample: sample.length };
}

/** An nsupdate batch: one UPDATE per zone, adding or deleting the bench's TXT RRset. */
function nsupdateBatch(
  server: { address: string; port: number },
  zones: readonly string[],
  add: boolean,
) {
  const lines = [`server ${server.address} ${server.port}`];
  for (const zone of zones) {
    const name = `_chorus-bench.${zone}`;
    lines.push(
      `zone ${zone}`,
      add ? `update add ${name} 60 TXT "raw rate"` : `update delete ${name} TXT`,
      'send',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Runs one nsupdate session (`nsupdate -k KEYFILE BATCH`), signed with the server's TSIG key. */
async function nsupdateSession(program: string, keyFile: string, batchFile: string, batch: string) {
  await writeFile(batchFile, batch);
  try {
    await run(program, ['-k', keyFile, batchFile], { timeout: 600_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim().split('\n').slice(-3).join(' ');
    throw new Error(`nsupdate to BIND failed: ${stderr || (error as Error).message}`, {
      cause: error,
    });
  }
}

export async function measureBindRate(
  status: LabStatus,
  zones: readonly string[],
  say: Say,
): Promise<RawRate> {
  const server = status.servers.find((entry) => entry.id === 'bind');
  if (!server) throw new Error('the lab has no BIND signer');
  const { nsupdate } = await checkPrograms(['nsupdate'], {
    files: [],
    debianPackages: { nsupdate: 'bind9-dnsutils' },
  });
  const sample = zones.slice(0, SAMPLE);
  const batchFile = path.join(status.directory, 'bench-nsupdate.txt');
  try {
    const started = performance.now();
    await nsupdateSession(
      nsupdate,
      server.tsig.keyFile,
      batchFile,
      nsupdateBatch(server, sample, true),
    );
    const seconds = (performance.now() - started) / 1000;
    await nsupdateSession(
      nsupdate,
      server.tsig.keyFile,
      batchFile,
      nsupdateBatch(server, sample, false),
    );
    const changesPerSecond = sample.length / seconds;
    say(
      `BIND raw: ${sample.length} UPDATEs in one nsupdate session in ${seconds.toFixed(2)} s = ${changesPerSecond.toFixed(1)}/s`,
    );
    return { changesPerSecond, sample: sample.length };
  } finally {
    await rm(batchFile, { force: true });
  }
}
