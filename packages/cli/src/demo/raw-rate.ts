/**
 * The raw update rate of a lab's PowerDNS, measured in the same run as Chorus: one HTTP API
 * PATCH per zone, one at a time (what the server takes with nothing in between), each adding a
 * TXT RRset that is removed again afterwards.
 */
import { readFile } from 'node:fs/promises';
import type { LabStatus } from '@chorus/lab';
import type { Say } from './phases.js';

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
): Promise<{ changesPerSecond: number; sample: number }> {
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
