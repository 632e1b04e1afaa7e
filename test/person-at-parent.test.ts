/**
 * A parent that nobody scans: a lab without the registry agent, where a person must change the
 * DS and NS at the parent. ADD-SIGNER of PowerDNS shows exactly which records to change
 * (`chorus status --json`, and the process output); this test plays the person. It first makes a
 * wrong change (a DS that matches no key), which Chorus must name without moving on, then makes
 * the change exactly as shown, and the process completes.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  sidecarConfigFor,
  startSidecarProcess,
  stopSidecarProcess,
  type RunningSidecar,
} from '@chorus/cli';
import { labDown, labUp, type LabStatus } from '@chorus/lab';
import { parseRecord, query, readTsigKeyFile, sendUpdate, UpdateBuilder } from '@chorus/dns';
import type { ParentChange } from '@chorus/core';
import { chorusOnLog, until } from './helpers/operator.js';

// CHORUS_TEST_PERSON_PREFIX lets several test runs share one machine without colliding.
const PREFIX = process.env.CHORUS_TEST_PERSON_PREFIX ?? '127.62.0';
const ZONE = 'example.test.';

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

interface ProcessJson {
  kind: string;
  status: string;
  currentStep: number;
  steps: string[];
  parentChange?: Omit<ParentChange, 'processId' | 'stepIndex'>;
}

async function processNow(lab: LabStatus, sqliteFile: string): Promise<ProcessJson | undefined> {
  const { stdout } = await chorusOnLog(sqliteFile, ['status', ZONE, '--json']);
  const [status] = JSON.parse(stdout) as { activeProcess: ProcessJson | null }[];
  return status?.activeProcess ?? undefined;
}

describe('a parent where a person acts', () => {
  it('is told the exact records, and a wrong change is named and not passed', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'chorus-person-'));
    cleanup.push(() => rm(directory, { recursive: true, force: true }));
    cleanup.push(() => labDown({ directory }));
    const lab = await labUp({
      directory,
      addressPrefix: PREFIX,
      ttl: 5,
      zones: [ZONE],
      registryAgent: false,
    });
    expect(lab.registryAgent).toBeNull();
    const demo = path.join(lab.directory, 'demo');
    await mkdir(demo, { recursive: true, mode: 0o700 });
    const sqliteFile = path.join(demo, 'events.sqlite');
    const sidecars: RunningSidecar[] = [];
    cleanup.push(() => Promise.all(sidecars.map((sidecar) => stopSidecarProcess(sidecar))));
    for (const id of ['bind', 'powerdns']) {
      const server = lab.servers.find((entry) => entry.id === id)!;
      sidecars.push(
        await startSidecarProcess(demo, sidecarConfigFor(lab, server, sqliteFile, ZONE)),
      );
    }
    // zone define needs BIND's sidecar registered: asked again until it is.
    let lastDefine = '';
    const defined = await until(
      'the zone to be defined',
      async () => {
        const result = await chorusOnLog(sqliteFile, [
          'zone',
          'define',
          ZONE,
          '--signer',
          'bind',
          '--record-ttl',
          '5',
          '--max-zone-ttl',
          '5',
          '--child-propagation',
          '1',
          '--parent-propagation',
          '1',
          '--safety-margin',
          '1',
        ]);
        lastDefine = `${result.stdout}${result.stderr}`;
        return result.code === 0 ? result : undefined;
      },
      () =>
        Promise.resolve(
          `last "zone define": ${lastDefine.slice(-1500)}\nsidecar logs: ${sidecars.map((sidecar) => sidecar.logFile).join(', ')}`,
        ),
    );
    expect(defined.code).toBe(0);
    // The joiner's sidecar must have registered, listed its keys and read its zone: the
    // pre-flight compares them, and refuses a request that comes first (unknown-signer).
    await until('PowerDNS to list its keys and zone content', async () => {
      const { stdout } = await chorusOnLog(sqliteFile, ['events', ZONE]);
      return /powerdns keys: /.test(stdout) && /powerdns zone content: /.test(stdout)
        ? true
        : undefined;
    });

    // The operator's command follows the process; the parent steps wait for the person.
    const adding = chorusOnLog(sqliteFile, ['signer', 'add', ZONE, 'powerdns', '--json']);
    const parent = lab.servers.find((entry) => entry.id === 'parent')!;
    const parentServer = { address: parent.address, port: parent.port };
    const tsig = await readTsigKeyFile(parent.tsig.keyFile);
    const updateParent = async (build: (update: UpdateBuilder) => void) => {
      const update = new UpdateBuilder(lab.parentZone);
      build(update);
      await sendUpdate(parentServer, update, { tsig });
    };

    // 1. The DS step: add PowerDNS's DS (and its DNSKEY for registrars that take keys).
    const explain = async () =>
      (await chorusOnLog(sqliteFile, ['status', ZONE])).stdout +
      (await chorusOnLog(sqliteFile, ['events', ZONE])).stdout.slice(-4000);
    const dsStep = await until(
      'the DS instructions',
      async () => {
        const process = await processNow(lab, sqliteFile);
        return process?.parentChange?.kind === 'ds' ? process : undefined;
      },
      explain,
    );
    const ds = dsStep.parentChange!.ds!;
    expect(ds.add).toHaveLength(1);
    expect(ds.add[0]).toMatch(/^example\.test\. \d+ IN DS \d+ 13 2 [0-9A-F]{64}$/);
    expect(ds.keep).toHaveLength(1);
    expect(ds.remove).toEqual([]);
    expect(dsStep.parentChange!.dnskey?.add[0]).toMatch(/^example\.test\. \d+ IN DNSKEY 257 3 13 /);
    expect(dsStep.parentChange!.differs).toEqual([]);

    // 2. The person adds a wrong DS: Chorus names it and does not move on.
    const wanted = parseRecord(ds.add[0]!);
    const wrongDigest = randomBytes(32).toString('hex').toUpperCase();
    const wrongRdata = `${ds.add[0]!.split(' IN DS ')[1]!.split(' ').slice(0, 3).join(' ')} ${wrongDigest}`;
    const wrong = parseRecord(`${ZONE} 5 IN DS ${wrongRdata}`);
    await updateParent((update) => update.add(wrong));
    const named = await until('Chorus to name the wrong DS', async () => {
      const process = await processNow(lab, sqliteFile);
      const differs = process?.parentChange?.differs ?? [];
      return differs.some((line) => line.includes(wrongDigest)) ? process : undefined;
    });
    expect(named.steps[named.currentStep]).toBe(dsStep.steps[dsStep.currentStep]);
    expect(named.parentChange!.differs.join('\n')).toMatch(/matches no key of the group/);
    expect(named.parentChange!.ds!.remove.join('\n')).toContain(wrongDigest);

    // 3. The person makes the change as shown: the step moves on.
    await updateParent((update) => update.deleteRecord(wrong).add(wanted));
    const nsStep = await until('the NS instructions', async () => {
      const process = await processNow(lab, sqliteFile);
      return process?.parentChange?.kind === 'ns' ? process : undefined;
    });
    const ns = nsStep.parentChange!.ns!;
    expect(ns.add).toEqual([lab.servers.find((entry) => entry.id === 'powerdns')!.nameserverName]);
    expect(ns.keep).toEqual([lab.servers.find((entry) => entry.id === 'bind')!.nameserverName]);
    expect(nsStep.parentChange!.differs).toEqual([]);
    await updateParent((update) =>
      update.add({ name: ZONE, type: 'NS', class: 'IN', ttl: 5, data: ns.add[0]! }),
    );

    // 4. The process completes, and its output carried both instructions.
    const added = await adding;
    expect(added.code, added.stderr.slice(-2000)).toBe(0);
    const notices = added.stdout
      .split('\n')
      .filter((line) => line.includes('"notice":"parent-change-needed"'))
      .map((line) => JSON.parse(line) as { kind: string });
    expect(notices.map((notice) => notice.kind)).toEqual(expect.arrayContaining(['ds', 'ns']));
    const served = await query(parentServer, ZONE, 'DS', { transport: 'tcp' });
    expect(served.answers.find((set) => set.type === 'DS')?.records).toHaveLength(2);
  }, 300_000);
});
