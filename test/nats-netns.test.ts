/**
 * The migration demo on the lab's NATS cluster with separate hosts, simulated (`--hosts netns`):
 * each signer's server and its sidecar in a network namespace of their own, the parent, the
 * registry agent and each NATS node in theirs. While it runs, the test checks from inside the
 * namespaces that each sidecar runs beside its own server and that one signer's host reaches
 * another's nameserver (port 53) but not its API; then it cuts powerdns's host off from every NATS
 * node for a while (a real partition, in the switch's firewall). The partitioned sidecar must say
 * so and decide nothing until it is healed, no resolver may see a failure and no safety invariant
 * may break, and the migration must complete. When the partition falls on a step that needs
 * powerdns to act (sync-ns), the group cannot converge until it heals: the observers then report
 * the liveness invariants I6/I7 (providers serve different NS for longer than the grace), which is
 * right, and the demo exits 1 for them; nothing else is allowed. At the end, `down` must leave no
 * namespace and no link behind.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemoOnOwnLab } from './helpers/demo.js';
import { zoneStream, type Observer, type ZoneEvent } from '@chorus/core';
import { runCommand } from '@chorus/dns';
import { openLabEventLog } from '@chorus/cli';
import { ipProgram, labDown, labStatus, type LabStatus } from '@chorus/lab';

// CHORUS_TEST_NETNS_PREFIX lets several test runs share one machine without colliding.
const PREFIX = process.env.CHORUS_TEST_NETNS_PREFIX ?? '127.74.0';
const PARTITION_MS = 15_000;
const PARTITIONED = 'powerdns';

const directories: string[] = [];
afterAll(async () => {
  for (const directory of directories) {
    await labDown({ directory }).catch(() => undefined);
    if (process.env.CHORUS_TEST_KEEP !== '1') await rm(directory, { recursive: true, force: true });
  }
});

const ip = (args: string[]) =>
  runCommand(ipProgram(), args, { timeoutMs: 20_000, allowFailure: true });
const inHost = (namespace: string, command: string[]) =>
  ip(['netns', 'exec', namespace, ...command]);

function hostOf(status: LabStatus, id: string) {
  const host = status.hosts?.namespaces.find((entry) => entry.id === id);
  if (!host) throw new Error(`no host for ${id}`);
  return host;
}

/** The command lines of the processes in a namespace. */
async function processesIn(namespace: string): Promise<string[]> {
  const { stdout } = await ip(['netns', 'pids', namespace]);
  const lines: string[] = [];
  for (const pid of stdout.split('\n').filter(Boolean)) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    lines.push(cmdline.split('\0').join(' '));
  }
  return lines;
}

interface Seen {
  sidecarsInHosts?: Record<string, boolean>;
  dnsAcross?: string;
  apiAcross?: number | undefined;
  partitionedAt?: number;
  healedAt?: number;
  done?: Promise<void>;
}

/** The partition: a table of its own in the switch, dropped to heal. */
function partitionRules(status: LabStatus): string {
  const natsAddresses = status
    .hosts!.namespaces.filter((host) => host.id.startsWith('nats-'))
    .map((host) => host.address);
  const cut = hostOf(status, PARTITIONED).address;
  return [
    'table bridge partition {',
    '  chain forward {',
    '    type filter hook forward priority -10; policy accept;',
    `    ip saddr ${cut} ip daddr { ${natsAddresses.join(', ')} } drop`,
    `    ip saddr { ${natsAddresses.join(', ')} } ip daddr ${cut} drop`,
    '  }',
    '}',
    '',
  ].join('\n');
}

async function checkAndPartition(directory: string, seen: Seen): Promise<void> {
  const status = (await labStatus({ directory }))!;
  const switchNamespace = status.hosts!.switchNamespace!;
  seen.sidecarsInHosts = {};
  for (const id of ['bind', 'powerdns', 'knot']) {
    const lines = await processesIn(hostOf(status, id).namespace);
    seen.sidecarsInHosts[id] = lines.some((line) => line.includes(`sidecar-${id}.json`));
  }
  const powerdns = hostOf(status, 'powerdns').address;
  const dig = await inHost(hostOf(status, 'bind').namespace, [
    'dig',
    '+time=2',
    '+tries=1',
    '+short',
    `@${powerdns}`,
    status.zones[0]!,
    'SOA',
  ]);
  seen.dnsAcross = dig.stdout.trim();
  const api = await inHost(hostOf(status, 'bind').namespace, [
    'timeout',
    '3',
    'bash',
    '-c',
    `echo > /dev/tcp/${powerdns}/8081`,
  ]);
  seen.apiAcross = api.exitCode;

  const rules = path.join(directory, 'partition.nft');
  await writeFile(rules, partitionRules(status));
  const load = await ip(['netns', 'exec', switchNamespace, 'nft', '-f', rules]);
  if (load.exitCode !== 0) throw new Error(`cannot partition: ${load.stderr}`);
  seen.partitionedAt = Date.now();
  await new Promise((resolve) => setTimeout(resolve, PARTITION_MS));
  await ip(['netns', 'exec', switchNamespace, 'nft', 'delete', 'table', 'bridge', 'partition']);
  seen.healedAt = Date.now();
}

/** At the first wait of the second process (ADD-SIGNER knot), checks the hosts, then partitions. */
function partitionObserver(directory: string, seen: Seen): Observer<ZoneEvent> {
  let processes = 0;
  return {
    name: 'netns-partition',
    onEvent(event) {
      if (event.type === 'process-started') processes += 1;
      if (event.type !== 'wait-scheduled' || processes !== 2 || seen.done) return;
      seen.done = checkAndPartition(directory, seen);
    },
  };
}

describe('the migration demo on NATS, each sidecar on a host of its own', () => {
  it('completes glitch-free; hosts are isolated; a partitioned sidecar decides nothing', async () => {
    const seen: Seen = {};
    const { code, result, stderr, directory } = await runDemoOnOwnLab<{
      ok: boolean;
      traffic: { queries: number; failures: unknown[] };
      observers: {
        violations: { invariant: string; providers: string[] }[];
        validationFailures: unknown[];
      };
    }>({
      name: 'nats-netns',
      prefix: PREFIX,
      ttl: 5,
      args: ['--event-log', 'nats', '--hosts', 'netns'],
      extraObservers: (labDirectory) => [partitionObserver(labDirectory, seen)],
      directories,
      keepLab: true,
    });
    await seen.done;
    await writeFile(path.join(directory, 'demo-stderr.log'), stderr);
    const { violations } = result.observers;
    const context = `${stderr.slice(-3000)}\n(all of it: ${directory}/demo-stderr.log)`;
    // Liveness only: while powerdns is cut off, the others may have moved on without it.
    const unsafe = violations.filter(
      ({ invariant, providers }) =>
        !['I6', 'I7'].includes(invariant) || !providers.includes(PARTITIONED),
    );
    expect(unsafe, context).toEqual([]);
    expect(code, context).toBe(violations.length === 0 ? 0 : 1);
    expect(result.traffic.failures).toEqual([]);
    expect(result.observers.validationFailures).toEqual([]);
    expect(result.traffic.queries).toBeGreaterThan(500);

    // Each sidecar ran in its server's namespace; across hosts DNS answers, the API does not.
    expect(seen.sidecarsInHosts).toEqual({ bind: true, powerdns: true, knot: true });
    expect(seen.dnsAcross).toMatch(/^ns\.powerdns\.test\. /);
    expect(seen.apiAcross).not.toBe(0);

    // The partitioned sidecar said so, and decided nothing while it lasted.
    const sidecarLog = await readFile(
      path.join(directory, 'demo', `sidecar-${PARTITIONED}.log`),
      'utf8',
    );
    expect(sidecarLog).toMatch(/event log unavailable: .*acting on nothing until it answers/);
    const status = (await labStatus({ directory }))!;
    const log = await openLabEventLog<ZoneEvent>(status, '', 'operator');
    let decidedDuring: string[];
    try {
      const events = await log.readStream(zoneStream(status.zones[0]!));
      decidedDuring = events
        .filter(({ event }) => {
          const at = Date.parse(event.occurredAt);
          return (
            event.source.id === PARTITIONED &&
            at > seen.partitionedAt! + 1000 &&
            at < seen.healedAt!
          );
        })
        .map(({ event }) => event.type);
      expect(events.at(-1)?.event.type).toBe('process-completed');
    } finally {
      await log.close();
    }
    expect(decidedDuring).toEqual([]);

    // Down leaves no namespace, no link and no address of the lab.
    const report = await labDown({ directory });
    const tag = PREFIX.split('.').slice(1).join('-');
    expect(report.removedNamespaces).toContain(`chorus-${tag}-powerdns`);
    expect((await ip(['netns', 'list'])).stdout).not.toContain(`chorus-${tag}-`);
    expect((await ip(['link', 'show', `chorus${tag}`])).exitCode).not.toBe(0);
    expect((await ip(['-4', 'addr', 'show'])).stdout).not.toContain(status.hosts!.uplink!.address);
    process.stderr.write(
      `[nats-netns] ${result.traffic.queries} resolver queries, 0 failures; ${PARTITIONED} cut off from NATS for ${((seen.healedAt! - seen.partitionedAt!) / 1000).toFixed(1)} s; liveness reports ${violations.map((violation) => violation.invariant).join(', ') || 'none'}\n`,
    );
  }, 600_000);
});
