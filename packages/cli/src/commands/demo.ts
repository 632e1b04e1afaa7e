/**
 * `chorus demo`: the migration demo. Brings the lab up, starts one sidecar process per signer on
 * the embedded event log, and migrates example.test from BIND alone to PowerDNS + Knot (add
 * PowerDNS, add Knot, remove BIND) while validating resolvers ask every provider several times a
 * second. Ends with a summary; fails if any validation failure was seen.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import {
  canonicalName,
  computeDs,
  createObserveOnlyParentChannel,
  createSqliteEventLog,
  defineZone,
  dsIdentity,
  zoneStream,
  type ZoneEvent,
} from '@chorus/core';
import { labDown, labStatus, labUp, LabError, type LabStatus } from '@chorus/lab';
import { expectPositionals, parseCommandArgs, UsageError } from '../args.js';
import { DEMO_HELP } from '../help.js';
import { progressTo, type CliIo } from '../io.js';
import { readZone, requestAndFollow } from './coordination.js';
import {
  sidecarConfigFor,
  startSidecarProcess,
  stopSidecarProcess,
  type RunningSidecar,
} from '../demo/sidecars.js';
import { summarizeZone } from '../demo/summary.js';
import { TrafficMonitor } from '../demo/traffic.js';

const SIGNERS = ['bind', 'powerdns', 'knot'] as const;

async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new LabError(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function parseTtl(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 2 || value > 3600)
    throw new UsageError(
      `--ttl must be a whole number of seconds from 2 to 3600, not ${JSON.stringify(text)}`,
    );
  return value;
}

export async function demoCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('demo', args, {
    dir: { type: 'string' },
    'address-prefix': { type: 'string' },
    ttl: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(DEMO_HELP);
    return 0;
  }
  expectPositionals(positionals, 0, 'demo');
  const ttl = values.ttl === undefined ? undefined : parseTtl(values.ttl);
  const directoryOption = values.dir === undefined ? {} : { directory: values.dir };
  const say = (line: string) => io.stderr(`[demo] ${line}\n`);
  const began = new Date();

  // 1. A fresh lab: the demo starts from example.test signed by BIND alone.
  const existing = await labStatus(directoryOption);
  if (existing) {
    say(`stopping the lab in ${existing.directory} to start the demo from a clean zone`);
    await labDown(directoryOption);
  }
  say('bringing the lab up');
  const status: LabStatus = await labUp({
    ...directoryOption,
    ...(values['address-prefix'] === undefined ? {} : { addressPrefix: values['address-prefix'] }),
    ...(ttl === undefined ? {} : { ttl }),
    onProgress: progressTo(io),
  });
  const zone = status.zones[0]!;
  const server = (id: string) => status.servers.find((entry) => entry.id === id)!;
  const demoDirectory = path.join(status.directory, 'demo');
  const eventLogPath = path.join(demoDirectory, 'events.sqlite');
  await rm(demoDirectory, { recursive: true, force: true });

  // 2. One sidecar process per signer, each with only its own server's credentials.
  const sidecars: RunningSidecar[] = [];
  let traffic: TrafficMonitor | undefined;
  let parentPoll: NodeJS.Timeout | undefined;
  const log = () => createSqliteEventLog<ZoneEvent>({ path: eventLogPath });
  try {
    for (const id of SIGNERS) {
      const sidecar = await startSidecarProcess(
        demoDirectory,
        sidecarConfigFor(status, server(id), eventLogPath, zone),
      );
      sidecars.push(sidecar);
      say(`sidecar ${id} started, pid ${sidecar.pid}, log ${sidecar.logFile}`);
    }
    const events = await waitFor('the three sidecars to register', 30_000, async () => {
      for (const sidecar of sidecars) {
        try {
          process.kill(sidecar.pid, 0);
        } catch {
          throw new LabError(`the sidecar of ${sidecar.id} exited; see ${sidecar.logFile}`);
        }
      }
      try {
        const opened = log();
        const state = await readZone(opened, zone);
        const ready = SIGNERS.every((id) => (state.signers[id]?.keys.length ?? 0) > 0);
        return ready ? opened : (await opened.close(), undefined);
      } catch {
        return undefined;
      }
    });

    // 3. The group today: BIND alone. Waits come from the lab's TTLs and the agent's 1 s scans.
    const defined = await readZone(events, zone);
    await events.append(zoneStream(zone), defined.version, [
      defineZone(
        defined,
        { source: { kind: 'cli', id: 'demo' }, now: new Date().toISOString() },
        {
          parentZone: status.parentZone,
          signerIds: ['bind'],
          timing: {
            childPropagationSeconds: 1,
            parentPropagationSeconds: 2,
            safetyMarginSeconds: 1,
            maxZoneTtlSeconds: status.ttl,
          },
          recordTtlSeconds: status.ttl,
        },
      ),
    ]);
    say(`${zone} defined with bind as its only signer`);

    // 4. Independent validating resolvers ask every provider reachable through the delegation.
    const parentChannel = createObserveOnlyParentChannel({
      id: 'demo-parent',
      parentZone: status.parentZone,
      parentServers: [{ address: server('parent').address, port: server('parent').port }],
    });
    let parentNs: string[] = [server('bind').nameserverName];
    parentPoll = setInterval(() => {
      parentChannel.getDelegation(zone, {}).then(
        (delegation) => (parentNs = (delegation.ns?.records ?? []).map(canonicalName)),
        () => undefined,
      );
    }, 500);
    const resolver = (id: string) => status.resolvers.find((entry) => entry.id === id)!;
    traffic = new TrafficMonitor({
      zone,
      ratePerSecond: 8,
      lingerSeconds: status.ttl * 2,
      parentNs: () => parentNs,
      resolvers: [
        {
          id: 'resolver-delegation',
          endpoint: {
            address: resolver('resolver-delegation').address,
            port: resolver('resolver-delegation').port,
          },
        },
        ...SIGNERS.map((id) => ({
          id: `resolver-${id}`,
          endpoint: {
            address: resolver(`resolver-${id}`).address,
            port: resolver(`resolver-${id}`).port,
          },
          providerNameServers: [server(id).nameserverName],
        })),
      ],
    });
    traffic.start();
    say(
      'resolvers query www and a missing name 8 times a second each, through every provider in the delegation',
    );

    // 5. The migration: add PowerDNS, add Knot, remove BIND, one process at a time.
    for (const [kind, id] of [
      ['add-signer', 'powerdns'],
      ['add-signer', 'knot'],
      ['remove-signer', 'bind'],
    ] as const) {
      say(`${kind} ${id}`);
      await requestAndFollow(events, zone, kind, id, io, { json: false, detach: false });
    }
    const report = await traffic.stop();
    traffic = undefined;

    // 6. The summary.
    const final = await readZone(events, zone);
    const processes = summarizeZone(final, began.toISOString());
    const delegation = await parentChannel.getDelegation(zone, {});
    const expectedDs = ['powerdns', 'knot']
      .flatMap((id) =>
        final.signers[id]!.keys.filter((key) => key.role !== 'ZSK').map((key) =>
          dsIdentity(computeDs(zone, key.dnskey, 2)),
        ),
      )
      .sort();
    const servedDs = (delegation.ds?.records ?? []).map(dsIdentity).sort();
    const servedNs = (delegation.ns?.records ?? []).map(canonicalName).sort();
    const expectedNs = ['powerdns', 'knot']
      .map((id) => canonicalName(server(id).nameserverName))
      .sort();
    const total = processes.reduce((sum, process) => sum + process.seconds, 0);
    const waits = processes.reduce((sum, process) => sum + process.mandatedWaitSeconds, 0);
    const parent = processes.reduce((sum, process) => sum + process.parentSeconds, 0);
    io.stdout('\nMigration of example.test from BIND to PowerDNS + Knot\n');
    for (const process of processes) {
      io.stdout(
        `  ${process.kind} ${process.signerId}: ${process.seconds.toFixed(1)} s, of which ${process.mandatedWaitSeconds.toFixed(1)} s mandated waits\n`,
      );
      for (const step of process.steps)
        io.stdout(
          `    ${step.name.padEnd(22)} ${step.seconds.toFixed(1).padStart(6)} s${step.wait ? `   wait ${step.wait}` : ''}\n`,
        );
    }
    io.stdout(
      `\n  total ${total.toFixed(1)} s: mandated waits ${waits.toFixed(1)} s (${((waits / total) * 100).toFixed(0)} %), waiting for the parent ${parent.toFixed(1)} s, everything else ${(total - waits - parent).toFixed(1)} s\n`,
    );
    io.stdout(
      `  validating resolvers: ${report.queries} queries in ${report.seconds.toFixed(0)} s (${Object.entries(
        report.perResolver,
      )
        .map(([id, entry]) => `${id} ${entry.queries}`)
        .join(', ')})\n`,
    );
    io.stdout(`  validation failures: ${report.failures.length}\n`);
    for (const failure of report.failures.slice(0, 10))
      io.stdout(
        `    ${failure.at} ${failure.resolver} ${failure.name} ${failure.rcode}${failure.authenticated ? '' : ' (not authenticated)'}\n`,
      );
    io.stdout(
      `  parent DS: ${servedDs.length} record(s) ${JSON.stringify(servedDs) === JSON.stringify(expectedDs) ? '= the KSKs of PowerDNS and Knot' : '≠ expected!'}\n`,
    );
    io.stdout(`  parent NS: ${servedNs.join(' ')}\n`);
    io.stdout(
      `\nThe event log is ${eventLogPath} ("chorus events ${zone} --log ${eventLogPath}"). The lab keeps running; stop it with: chorus lab down${values.dir === undefined ? '' : ` --dir ${values.dir}`}\n`,
    );
    await events.close();
    const ok =
      report.failures.length === 0 &&
      JSON.stringify(servedDs) === JSON.stringify(expectedDs) &&
      JSON.stringify(servedNs) === JSON.stringify(expectedNs);
    if (!ok)
      io.stderr(
        '[demo] FAILED: validation failures were seen, or the parent does not hold exactly the new group\n',
      );
    return ok ? 0 : 1;
  } finally {
    if (parentPoll) clearInterval(parentPoll);
    await traffic?.stop();
    for (const sidecar of sidecars) await stopSidecarProcess(sidecar);
  }
}
