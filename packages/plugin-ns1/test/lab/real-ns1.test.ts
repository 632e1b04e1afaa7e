/**
 * The conformance suite against the real NS1 API, skipped unless CHORUS_NS1_KEY,
 * CHORUS_NS1_ZONE and CHORUS_NS1_NAMESERVER (an IP address of one of the zone's NS1
 * nameservers) are set. The zone must be a throwaway one with DNSSEC on: the suite adds and
 * removes foreign keys, CDS/CDNSKEY, CSYNC and (with CHORUS_NS1_EXTRA_NAMESERVER) an apex NS.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { signerConformance } from '@chorus/conformance';
import { afterAll, describe, expect, test } from 'vitest';
import { createNs1Signer, ns1Capabilities, type Ns1Config } from '../../src/index.js';

const key = process.env.CHORUS_NS1_KEY;
const zone = process.env.CHORUS_NS1_ZONE;
const nameserver = process.env.CHORUS_NS1_NAMESERVER;
const missing = [
  ['CHORUS_NS1_KEY', key],
  ['CHORUS_NS1_ZONE', zone],
  ['CHORUS_NS1_NAMESERVER', nameserver],
]
  .filter(([, value]) => !value)
  .map(([name]) => name);

if (missing.length > 0) {
  describe.skip(`NS1 conformance against the real API (skipped: set ${missing.join(', ')})`, () => {
    test('runs the signer conformance suite', () => undefined);
  });
} else {
  const scratch = mkdtemp(path.join(tmpdir(), 'chorus-ns1-real-'));
  /** The key goes to a 0600 file, as in production; never into the configuration. */
  const keyFile = scratch.then(async (directory) => {
    const file = path.join(directory, 'ns1.key');
    await writeFile(file, `${key!}\n`, { mode: 0o600 });
    return file;
  });
  const config = async (): Promise<Ns1Config> => ({
    id: 'ns1-real',
    server: { address: nameserver! },
    api: { url: 'https://api.nsone.net/v1/', apiKeyFile: await keyFile },
    requestTimeoutMs: 15_000,
  });

  afterAll(async () => {
    await rm(await scratch, { recursive: true, force: true });
  });

  signerConformance({
    describe,
    test,
    expect,
    capabilities: ns1Capabilities,
    zone: zone!,
    create: async () => createNs1Signer(await config()),
    createWithBadCredentials: async () => {
      const wrong = path.join(await scratch, 'wrong.key');
      await writeFile(wrong, 'not-an-ns1-api-key\n', { mode: 0o600 });
      const base = await config();
      return createNs1Signer({ ...base, api: { ...base.api, apiKeyFile: wrong } });
    },
    createUnreachable: async () => {
      const base = await config();
      // TEST-NET-1: nothing answers there.
      return createNs1Signer({
        ...base,
        server: { address: '192.0.2.1' },
        api: { ...base.api, url: 'http://192.0.2.1/v1/' },
        requestTimeoutMs: 2000,
      });
    },
    ...(process.env.CHORUS_NS1_EXTRA_NAMESERVER
      ? { extraNameServer: process.env.CHORUS_NS1_EXTRA_NAMESERVER }
      : {}),
    // NS1's nameservers pick a change up within seconds, not at once.
    convergenceTimeoutMs: 120_000,
  });
}
