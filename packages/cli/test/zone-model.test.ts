/**
 * `chorus zone model`: moving a zone between RFC 8901's models is refused with the safe order
 * and every reason (a member that cannot serve the owner's set, named with its plugin's reason),
 * and nothing is recorded.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteEventLog } from '@chorus/event-log-sqlite';
import { createSigningEventLog, zoneEvent, zoneStream, type ZoneEvent } from '@chorus/core';
import { ensureTrustKit, runCli, type TrustKit } from '@chorus/cli';
import { loadEventKey } from '@chorus/sidecar';
import { capture } from './capture.js';

const ZONE = 'switch.test.';
const BIND_REASON = "BIND 9.18 cannot serve one signed elsewhere; BIND 9.20's dnssec-ksr can";

let directory: string;
let file: string;
let kit: TrustKit;
const logArgs = () => ['--log', file, '--trust', kit.trustFile, '--key', kit.operatorKeyFile];

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-zone-model-'));
  file = path.join(directory, 'events.sqlite');
  kit = ensureTrustKit(path.join(directory, 'kit'), ['bind', 'knot']);
  const log = createSqliteEventLog<ZoneEvent>({ path: file });
  for (const id of ['bind', 'knot']) {
    const signed = createSigningEventLog(log, loadEventKey(kit.keyFileOf(id)));
    const limits =
      id === 'bind' ? [{ capability: 'presigned-dnskey' as const, reason: BIND_REASON }] : [];
    await signed.append(zoneStream(ZONE), await log.streamVersion(zoneStream(ZONE)), [
      zoneEvent(
        'signer-registered',
        { zone: ZONE, source: { kind: 'sidecar', id } },
        {
          signer: {
            id,
            kind: id,
            nameServerNames: [`ns.${id}.test.`],
            endpoints: [{ address: '127.0.0.9', port: 53 }],
            ...(limits.length > 0 ? { limits } : {}),
          },
        },
      ),
    ]);
  }
  await log.close();
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('chorus zone model', () => {
  it('refuses an undefined zone, then a move to model 1 naming the member that cannot serve the owner set', async () => {
    const undefinedZone = capture();
    expect(await runCli(['zone', 'model', ZONE, '--to', '1', ...logArgs()], undefinedZone.io)).toBe(
      1,
    );
    expect(undefinedZone.err()).toMatch(/zone-undefined: zone switch\.test\. is not defined/);

    const define = capture();
    expect(
      await runCli(['zone', 'define', ZONE, '--signer', 'bind', ...logArgs()], define.io),
    ).toBe(0);
    const versionBefore = await streamVersion();

    const refused = capture();
    expect(
      await runCli(['zone', 'model', ZONE, '--to', '1', '--json', ...logArgs()], refused.io),
    ).toBe(1);
    const result = JSON.parse(refused.out()) as {
      from: number;
      to: number;
      order: string[];
      refused: boolean;
      reasons: { code: string; message: string }[];
    };
    expect(result).toMatchObject({ from: 2, to: 1, refused: true });
    expect(result.order).toHaveLength(3);
    expect(result.order[0]).toMatch(/gains the owner KSK's DS/);
    expect(result.reasons.map((reason) => reason.code)).toEqual([
      'presigned-dnskey-missing',
      'model-switch-unbuilt',
    ]);
    expect(result.reasons[0]!.message).toContain(BIND_REASON);
    // Nothing was recorded.
    expect(await streamVersion()).toBe(versionBefore);

    const words = capture();
    expect(await runCli(['zone', 'model', ZONE, '--to', '1', ...logArgs()], words.io)).toBe(1);
    expect(words.err()).toMatch(/cannot move to model 1 now, and nothing was recorded/);
    expect(words.err()).toMatch(
      / {2}2\. each member in turn serves the owner's signed DNSKEY RRset/,
    );
  });

  it('says a zone is in its model already, and takes only 1 or 2', async () => {
    const same = capture();
    expect(
      await runCli(['zone', 'model', ZONE, '--to', '2', '--json', ...logArgs()], same.io),
    ).toBe(1);
    expect(JSON.parse(same.out()).reasons).toEqual([
      { code: 'already-in-model', message: 'switch.test. is in model 2 already' },
    ]);
    const usage = capture();
    expect(await runCli(['zone', 'model', ZONE, '--to', '3', ...logArgs()], usage.io)).toBe(2);
    expect(usage.err()).toMatch(/--to takes 1 .* or 2 .*, not "3"/);
  });
});

async function streamVersion(): Promise<number> {
  const log = createSqliteEventLog<ZoneEvent>({ path: file });
  try {
    return await log.streamVersion(zoneStream(ZONE));
  } finally {
    await log.close();
  }
}
