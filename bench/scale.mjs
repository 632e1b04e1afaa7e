// `pnpm bench:scale [--zones 10,100,1000] [--parallel 20] [--ttl 10] [--process migrate]`: the scale benchmark (not
// part of CI). For each N, a fresh lab of N zones signed by BIND, one group holding them all, and
// ADD-SIGNER of PowerDNS (or, with --process migrate, a migration from BIND to PowerDNS) on every
// zone from one command. Prints, per N: the wall time against one
// zone's mandated waits, sidecar CPU and RSS per zone, the calls made to servers per zone
// (UPDATEs, commands, HTTP), errors and retries, and the raw update rates of PowerDNS (API
// PATCHes) and BIND (an nsupdate session) measured in the same run, with Chorus's rate beyond the
// waits as a ratio of the slower one.
// It stops at the first N that fails, saying why.
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { labDown } from '../packages/lab/dist/index.js';
import { runScale } from '../packages/cli/dist/index.js';

const HELP = `Usage: pnpm bench:scale [options]

The scale benchmark (not part of CI): for each N, a fresh lab of N zones signed by BIND, one
group holding them all, and ADD-SIGNER of PowerDNS (or a migration) on every zone from one command.

Options:
  --zones N[,N…]        zone counts to run, in order (default 10,100,1000; up to 10000)
  --parallel P          zones whose processes run at once (default 20)
  --ttl SECONDS         the lab's TTLs (default 10)
  --dir DIRECTORY       the lab's directory, removed with its lab after each N (default .scale-lab)
  --prefix A.B.C        the lab's loopback /24 (default 127.58.0)
  --process KIND        add-signer or migrate (default add-signer)
  -h, --help            this text

It stops at the first N that fails, saying why, and prints a table of all N that completed.
`;

let parsed;
try {
  parsed = parseArgs({
    options: {
      help: { type: 'boolean', short: 'h', default: false },
      zones: { type: 'string', default: '10,100,1000' },
      parallel: { type: 'string', default: '20' },
      ttl: { type: 'string', default: '10' },
      dir: { type: 'string', default: '.scale-lab' },
      prefix: { type: 'string', default: '127.58.0' },
      process: { type: 'string', default: 'add-signer' },
    },
  });
} catch (error) {
  process.stderr.write(`bench:scale: ${error.message}\n(see --help)\n`);
  process.exit(2);
}
const { values } = parsed;
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const counts = values.zones.split(',').map(Number);
if (!['add-signer', 'migrate'].includes(values.process)) {
  process.stderr.write(`bench:scale: --process is add-signer or migrate, not ${values.process}\n`);
  process.exit(2);
}
if (counts.some((n) => !Number.isInteger(n) || n < 1)) {
  process.stderr.write(`bench:scale: --zones takes positive integers, e.g. 10,100,1000\n`);
  process.exit(2);
}
const io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};
const reports = [];
for (const zones of counts) {
  try {
    const report = await runScale(
      {
        zones,
        parallel: Number(values.parallel),
        ttl: Number(values.ttl),
        directory: values.dir,
        addressPrefix: values.prefix,
        process: values.process,
      },
      io,
    );
    reports.push(report);
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } catch (error) {
    process.stdout.write(
      `scale: stopped at N = ${zones}: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
    break;
  } finally {
    await labDown({ directory: values.dir }).catch(() => undefined);
  }
}
const sum = (calls, keep) =>
  Object.entries(calls).reduce((total, [key, value]) => total + (keep(key) ? value : 0), 0);
const isError = (key) =>
  / failed$/.test(key) || /^http \d{3}$/.test(key) || /^dns update [A-Z]+$/.test(key);
/** The calls every sidecar of the run made that `keep` selects. */
const allCalls = (r, keep) => r.sidecars.reduce((total, s) => total + sum(s.calls, keep), 0);
const perZone = (r, keep) => (allCalls(r, keep) / r.zones).toFixed(1);
const first = reports[0];
const marginalHeap = (r, index) => {
  if (r === first) return 'n/a';
  const base = first.sidecars[index];
  return `${(((r.sidecars[index].retainedHeapKb - base.retainedHeapKb) / (r.zones - first.zones)) | 0).toString()} KB`;
};
const marginalRss = (r, index) => {
  if (r === first) return 'n/a';
  const base = first.sidecars[index];
  return `${(((r.sidecars[index].rssKb - base.rssKb) / (r.zones - first.zones)) | 0).toString()} KB`;
};
process.stdout.write(
  `\n${values.process} on every zone of one group, --parallel ${values.parallel}, TTL ${values.ttl} s:\n`,
);
process.stdout.write(
  '\n|      N | lab up | completed | wall | one zone waits | sidecar CPU/zone | peak RSS/zone | RSS added/zone | heap kept/zone | heap kept added/zone | UPDATEs/zone | commands/zone | HTTP/zone | errors | retries | parent right | raw: PowerDNS, BIND | ratio to the slowest |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n',
);
for (const r of reports) {
  const cpu = r.sidecars
    .map((s) => `${s.id} ${(s.cpuSecondsPerZone * 1000).toFixed(0)} ms`)
    .join(', ');
  const rss = r.sidecars.map((s) => `${s.id} ${s.rssKbPerZone.toFixed(0)} KB`).join(', ');
  const added = r.sidecars.map((s, index) => `${s.id} ${marginalRss(r, index)}`).join(', ');
  const kept = r.sidecars
    .map((s) => `${s.id} ${(s.retainedHeapKb / r.zones).toFixed(0)} KB`)
    .join(', ');
  const keptAdded = r.sidecars.map((s, index) => `${s.id} ${marginalHeap(r, index)}`).join(', ');
  const errors = r.sidecars.reduce((total, s) => total + sum(s.calls, isError), 0);
  const retries =
    r.sidecars.reduce((total, s) => total + sum(s.calls, (key) => key === 'dns retry'), 0) +
    r.applyFailures;
  process.stdout.write(
    `| ${String(r.zones).padStart(6)} | ${r.labUpSeconds.toFixed(0)} s | ${r.completed}/${r.zones} | ${r.wallSeconds.toFixed(0)} s | ${r.oneZoneWaitsSeconds.toFixed(0)} s | ${cpu} | ${rss} | ${added} | ${kept} | ${keptAdded} | ${perZone(r, (key) => key === 'dns update')} | ${perZone(r, (key) => key.startsWith('command ') && !isError(key))} | ${perZone(r, (key) => /^http [A-Z]+$/.test(key))} | ${errors} | ${retries} | ${r.parentRight}/${r.zones} | ${r.powerdnsRaw.changesPerSecond.toFixed(0)}/s, ${r.bindRaw.changesPerSecond.toFixed(0)}/s | ${r.ratioToRaw === null ? 'n/a' : `${(r.ratioToRaw * 100).toFixed(0)} %`} |\n`,
  );
}
process.stdout.write(
  `\nCalls during the run, per sidecar, and its V8 heap in use at the end (errors: failed commands, HTTP error statuses, failed DNS exchanges, refused UPDATEs; retries: DNS resends and apply attempts after a failure):\n`,
);
for (const r of reports)
  if (r.registryAgentCoreShare !== null)
    process.stdout.write(
      `  N = ${r.zones}: the lab's registry agent used ${(r.registryAgentCoreShare * 100).toFixed(0)} % of a core during the run\n`,
    );
for (const r of reports) {
  const { groupCommand, servers, registryAgent } = r.hostCpuSeconds;
  const sidecarsCpu = r.sidecars.map(
    (s) => `${s.id} sidecar ${(s.cpuSecondsPerZone * r.zones).toFixed(0)} s`,
  );
  const serversCpu = Object.entries(servers).map(
    ([id, seconds]) => `${id} ${seconds.toFixed(0)} s`,
  );
  const all =
    r.sidecars.reduce((total, s) => total + s.cpuSecondsPerZone * r.zones, 0) +
    groupCommand +
    (registryAgent ?? 0) +
    Object.values(servers).reduce((total, seconds) => total + seconds, 0);
  process.stdout.write(
    `  N = ${r.zones}: host CPU during the run ${all.toFixed(0)} s in ${r.wallSeconds.toFixed(0)} s of wall time on 2 cores: ${[...sidecarsCpu, `the group command ${groupCommand.toFixed(0)} s`, ...serversCpu, `the registry agent ${(registryAgent ?? 0).toFixed(0)} s`].join(', ')}\n`,
  );
  // The same work costs more or less CPU as the machine varies: against its own server, it does not.
  const againstServer = r.sidecars
    .filter((s) => servers[s.id] > 0)
    .map((s) => `${s.id} ${((s.cpuSecondsPerZone * r.zones) / servers[s.id]).toFixed(2)}×`);
  if (againstServer.length > 0)
    process.stdout.write(
      `  N = ${r.zones}: each sidecar's CPU against its own server's in this run: ${againstServer.join(', ')}\n`,
    );
}
// The wall-time target beside what the servers alone need: the same writes at their raw rates,
// and their own CPU spread over every core, which no client of these servers can go below.
for (const r of reports) {
  const target = r.oneZoneWaitsSeconds + r.zones / (0.8 * r.slowestRaw.changesPerSecond);
  const patches = allCalls(r, (key) => key === 'http PATCH');
  const updates = allCalls(r, (key) => key === 'dns update');
  const serversCpu = Object.values(r.hostCpuSeconds.servers).reduce((n, seconds) => n + seconds, 0);
  const cores = availableParallelism();
  process.stdout.write(
    `  N = ${r.zones}: the wall-time target (one zone's waits + N changes at 80 % of the slowest raw rate) is ${target.toFixed(0)} s; the run wrote ${patches} PATCHes to PowerDNS and ${updates} UPDATEs to BIND, ${(patches / r.powerdnsRaw.changesPerSecond).toFixed(0)} s and ${(updates / r.bindRaw.changesPerSecond).toFixed(0)} s at their raw rates; the lab's servers used ${serversCpu.toFixed(0)} s of CPU, at least ${(serversCpu / cores).toFixed(0)} s of wall time on ${cores} cores\n`,
  );
}
for (const r of reports) {
  const notifies = r.sidecars.reduce(
    (total, s) => total + sum(s.calls, (key) => key.startsWith('dns notify ')),
    0,
  );
  process.stdout.write(
    `  N = ${r.zones}: ${r.parentSteps.count} steps waited for the parent, median ${r.parentSteps.medianSeconds.toFixed(1)} s, longest ${r.parentSteps.maxSeconds.toFixed(1)} s; the sidecars sent ${notifies} NOTIFY(CDS/CSYNC) to its scanner\n`,
  );
}
for (const r of reports)
  if (!r.parentControlCaught)
    process.stdout.write(
      `  N = ${r.zones}: the parent check's negative control failed (the group without its last member was judged right): "parent right" proves nothing\n`,
    );
for (const r of reports)
  if (r.parentWrong.length > 0)
    process.stdout.write(
      `  N = ${r.zones}: the parent's DS or NS is not the group's for ${r.parentWrong.slice(0, 20).join(' ')}${r.parentWrong.length > 20 ? ' …' : ''}\n`,
    );
// A zone that did not complete is named with the reason its process gave, a few per run.
for (const r of reports) {
  const shown = r.notCompletedZones.slice(0, 10);
  for (const z of shown)
    process.stdout.write(
      `  N = ${r.zones}: ${z.zone} ${z.status}${z.processId ? ` (${z.processId})` : ''}: ${z.message || 'no reason given'}\n`,
    );
  if (r.notCompletedZones.length > shown.length)
    process.stdout.write(
      `  N = ${r.zones}: … and ${r.notCompletedZones.length - shown.length} more zone(s) not completed\n`,
    );
}
for (const r of reports)
  for (const s of r.sidecars)
    process.stdout.write(
      `  N = ${r.zones}, ${s.id}: heap ${(s.heapUsedKb / 1024).toFixed(0)} MB (${(s.heapUsedKb / r.zones).toFixed(0)} KB/zone), ${JSON.stringify(s.calls)}\n`,
    );
