/**
 * RFC 9615 authenticated bootstrapping of a three-provider group. `boot.test.` starts delegated to
 * BIND, PowerDNS and Knot without DS; each signer serves a signed signalling zone of its own.
 *
 * 1. `chorus demo --scenario bootstrap`: Chorus syncs the keys, every signer publishes the
 *    signals, the lab's registry agent authenticates them through a validating resolver and
 *    writes the DS; no resolver fails from the first DS on, and the signals are withdrawn.
 * 2. The negative control: skipping the DNSKEY wait before the signals lets the DS meet cached
 *    DNSKEY RRsets without the other signers' keys, and the observers report it (I3).
 * 3. The parent's side of a tampered signal: in a lab without the agent, the test plays it
 *    (`runRegistryScanOnce`, the agent's own scan). Once the signals are out it would bootstrap;
 *    one signal changed by a single digest character is refused naming that signal; restored, the
 *    scan writes the DS and the process completes.
 */
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  openLabEventLog,
  sidecarConfigFor,
  startSidecarProcess,
  stopSidecarProcess,
  type RunningSidecar,
} from '@chorus/cli';
import { zoneStream, type DsData, type ZoneEvent } from '@chorus/core';
import {
  query,
  readSignalsFromServer,
  readTsigKeyFile,
  sendUpdate,
  signallingName,
  UpdateBuilder,
} from '@chorus/dns';
import {
  labStatus,
  labUp,
  registryAgentConfigFromStatus,
  runRegistryScanOnce,
  type LabStatus,
} from '@chorus/lab';
import { labDirectoriesRemovedAfterAll, runDemoOnOwnLab, type DemoJson } from './helpers/demo.js';
import { chorusOnLog, until } from './helpers/operator.js';

// CHORUS_TEST_BOOTSTRAP_PREFIX lets several test runs share one machine without colliding.
const DEMO_PREFIX = process.env.CHORUS_TEST_BOOTSTRAP_PREFIX ?? '127.65.0';
const TAMPER_PREFIX = process.env.CHORUS_TEST_BOOTSTRAP_TAMPER_PREFIX ?? '127.66.0';
const UNSAFE_PREFIX = process.env.CHORUS_TEST_BOOTSTRAP_UNSAFE_PREFIX ?? '127.67.0';
const ZONE = 'boot.test.';
const SIGNERS = ['bind', 'powerdns', 'knot'] as const;

const directories = labDirectoriesRemovedAfterAll();
const cleanup: (() => Promise<unknown>)[] = [];
// Registered after the directories' hook, so it runs first: sidecars stop before their lab.
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

const serverOf = (lab: LabStatus, id: string) => lab.servers.find((entry) => entry.id === id)!;
const endpointOf = (lab: LabStatus, id: string) => {
  const server = serverOf(lab, id);
  return { address: server.address, port: server.port };
};

async function parentDs(lab: LabStatus): Promise<DsData[]> {
  const answer = await query(endpointOf(lab, 'parent'), ZONE, 'DS', { transport: 'tcp' });
  return (answer.answers.find((set) => set.type === 'DS')?.records ?? []) as DsData[];
}

/** Through the delegation-following validating resolver. */
async function validated(lab: LabStatus, name: string, type: 'SOA' | 'A') {
  const resolver = lab.resolvers.find((entry) => entry.id === 'resolver-delegation')!;
  const answer = await query({ address: resolver.address, port: resolver.port }, name, type, {
    recursionDesired: true,
    dnssecOk: true,
  });
  return { rcode: answer.rcode, ad: answer.flags.ad };
}

describe('RFC 9615 bootstrapping of a three-provider group', () => {
  it('takes boot.test from unsigned to signed by three with no resolver failing', async () => {
    const { code, result, stderr, directory } = await runDemoOnOwnLab<DemoJson>({
      name: 'bootstrap',
      prefix: DEMO_PREFIX,
      ttl: 5,
      args: ['--scenario', 'bootstrap'],
      directories,
      keepLab: true,
    });
    expect(code, stderr.slice(-3000)).toBe(0);
    expect(result.ok).toBe(true);
    expect(result.processes.map((process) => `${process.kind} ${process.signerId}`)).toEqual([
      'bootstrap bind',
    ]);
    // It started insecure (answers without AD), and nothing failed at any time.
    expect(result.traffic.insecure).toBeGreaterThan(0);
    expect(result.traffic.failures).toEqual([]);
    expect(result.observers.violations).toEqual([]);
    expect(result.observers.validationFailures).toEqual([]);
    expect(result.observers.disagreements).toEqual([]);
    expect(result.parent.asExpected).toBe(true);
    expect(result.parent.ds).toHaveLength(3);

    const lab = (await labStatus({ directory }))!;
    expect(await validated(lab, ZONE, 'SOA')).toEqual({ rcode: 'NOERROR', ad: true });
    // The signals are gone from every signer's signalling zone.
    for (const id of SIGNERS) {
      const name = signallingName(ZONE, serverOf(lab, id).nameserverName);
      expect(await readSignalsFromServer(endpointOf(lab, id), name)).toEqual({
        cds: [],
        cdnskey: [],
      });
    }
    // One NOTIFY(CDS) asked the agent to look, once the signals were out.
    const log = await openLabEventLog<ZoneEvent>(
      lab,
      path.join(lab.directory, 'demo', 'events.sqlite'),
      'operator',
    );
    try {
      const events = (await log.readStream(zoneStream(ZONE))).map(({ event }) => event);
      const notified = events.flatMap((event) =>
        event.type === 'parent-notified' ? [event.data] : [],
      );
      expect(notified).toHaveLength(1);
      const steps = events.flatMap((event) =>
        event.type === 'step-started' ? [event.data.stepIndex] : [],
      );
      expect(steps).toEqual([0, 1, 2, 3]);
    } finally {
      await log.close();
    }
  }, 300_000);

  it('negative control: signals before the old DNSKEY RRsets expired are caught (I3)', async () => {
    const { code, result } = await runDemoOnOwnLab<DemoJson>({
      name: 'bootstrap-unsafe',
      prefix: UNSAFE_PREFIX,
      ttl: 5,
      args: ['--scenario', 'bootstrap', '--unsafe-skip-wait', 'bootstrap/sync-dnskeys'],
      directories,
    });
    expect(code).toBe(1);
    expect(result.ok).toBe(false);
    const invariants = (result.observers.violations as { invariant: string }[]).map(
      (violation) => violation.invariant,
    );
    expect(invariants).toContain('I3');
    expect(result.parent.asExpected).toBe(true);
  }, 300_000);

  it('the parent agent refuses a tampered signal, and bootstraps once it is restored', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'chorus-bootstrap-tamper-'));
    directories.push(directory);
    const lab = await labUp({
      directory,
      addressPrefix: TAMPER_PREFIX,
      ttl: 5,
      signalling: true,
      insecureZones: [ZONE],
      registryAgent: false,
    });
    expect(await parentDs(lab)).toEqual([]);
    expect(await validated(lab, `www.${ZONE}`, 'A')).toEqual({ rcode: 'NOERROR', ad: false });

    const demo = path.join(lab.directory, 'demo');
    await mkdir(demo, { recursive: true, mode: 0o700 });
    const sqliteFile = path.join(demo, 'events.sqlite');
    const sidecars: RunningSidecar[] = [];
    cleanup.push(() => Promise.all(sidecars.map((sidecar) => stopSidecarProcess(sidecar))));
    for (const id of SIGNERS)
      sidecars.push(
        await startSidecarProcess(demo, sidecarConfigFor(lab, serverOf(lab, id), sqliteFile, ZONE)),
      );
    const timing = ['--record-ttl', '5', '--max-zone-ttl', '5'];
    const margins = [
      '--child-propagation',
      '1',
      '--parent-propagation',
      '1',
      '--safety-margin',
      '1',
    ];
    const signers = SIGNERS.flatMap((id) => ['--signer', id]);
    // The sidecars register first: asked again until they have (then it returns once started).
    const started = await until('the bootstrap to start', async () => {
      const run = await chorusOnLog(sqliteFile, [
        'bootstrap',
        ZONE,
        ...signers,
        ...timing,
        ...margins,
        '--detach',
      ]);
      return run.code === 0 ? run : undefined;
    });
    expect(started.stdout).toContain('bootstrap');

    // The scanner's view once every signer signals: it would bootstrap.
    const agent = registryAgentConfigFromStatus(lab);
    expect(agent.validatingResolver).toBeDefined();
    const wouldBootstrap = await until('the signals to authenticate', async () => {
      const scan = await runRegistryScanOnce(agent, ZONE, { dryRun: true });
      return scan.decision?.ds.status === 'change' ? scan : undefined;
    });
    expect(wouldBootstrap.decision!.ds.reasons.map((reason) => reason.code)).toContain(
      'bootstrapped',
    );

    // Tamper with BIND's signal: one CDS digest character changed, still signed by bind.test.
    const bind = serverOf(lab, 'bind');
    const name = signallingName(ZONE, bind.nameserverName);
    const original = await readSignalsFromServer(endpointOf(lab, 'bind'), name);
    expect(original.cds).toHaveLength(3);
    const [first, ...rest] = original.cds;
    const flipped = { ...first!, digest: flipFirstHexDigit(first!.digest) };
    const tsig = await readTsigKeyFile(bind.tsig.keyFile);
    const rewrite = async (cds: DsData[]) => {
      const update = new UpdateBuilder(`bind.${lab.parentZone}`);
      update.deleteRRset(name, 'CDS');
      for (const data of cds) update.add({ name, type: 'CDS', class: 'IN', ttl: 5, data });
      await sendUpdate(endpointOf(lab, 'bind'), update, { tsig });
    };
    await rewrite([flipped, ...rest]);
    const refused = await until('the tampered signal to be refused', async () => {
      const scan = await runRegistryScanOnce(agent, ZONE, { dryRun: true });
      return scan.decision?.ds.status === 'refused' ? scan : undefined;
    });
    const reasons = refused.decision!.ds.reasons;
    expect(reasons.map((reason) => reason.code)).toContain('bootstrap-signal-differs');
    expect(reasons.map((reason) => reason.message).join('\n')).toContain(name);
    // A real scan changes nothing while it is refused.
    await runRegistryScanOnce(agent, ZONE);
    expect(await parentDs(lab)).toEqual([]);

    // Restored, the scan bootstraps the DS, and the process completes.
    await rewrite(original.cds);
    await until('the DS to be bootstrapped', async () => {
      await runRegistryScanOnce(agent, ZONE);
      return (await parentDs(lab)).length === 3 ? true : undefined;
    });
    const log = await openLabEventLog<ZoneEvent>(lab, sqliteFile, 'operator');
    cleanup.push(() => log.close());
    const ended = await until('the bootstrap to end', async () => {
      const events = (await log.readStream(zoneStream(ZONE))).map(({ event }) => event.type);
      return events.find((type) => type === 'process-completed' || type === 'process-failed');
    });
    expect(ended).toBe('process-completed');
    expect(await validated(lab, `www.${ZONE}`, 'A')).toEqual({ rcode: 'NOERROR', ad: true });
  }, 300_000);
});

function flipFirstHexDigit(digest: string): string {
  const first = digest[0]!.toUpperCase();
  return `${first === 'A' ? 'B' : 'A'}${digest.slice(1)}`;
}
