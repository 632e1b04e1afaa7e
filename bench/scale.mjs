// `pnpm bench:scale [--zones 10,100,1000] [--parallel 20] [--ttl 10]`: the scale benchmark (not
// part of CI). For each N, a fresh lab of N zones signed by BIND, one group holding them all, and
// ADD-SIGNER of PowerDNS on every zone from one command. Prints, per N: the wall time against one
// zone's mandated waits, sidecar CPU and peak RSS per zone, apply failures, and PowerDNS's raw
// API update rate measured in the same run, with Chorus's rate beyond the waits as a ratio of it.
// It stops at the first N that fails, saying why.
import { parseArgs } from 'node:util';
import { labDown } from '../packages/lab/dist/index.js';
import { runScale } from '../packages/cli/dist/index.js';

const { values } = parseArgs({
  options: {
    zones: { type: 'string', default: '10,100,1000' },
    parallel: { type: 'string', default: '20' },
    ttl: { type: 'string', default: '10' },
    dir: { type: 'string', default: '.scale-lab' },
    prefix: { type: 'string', default: '127.58.0' },
  },
});
const counts = values.zones.split(',').map(Number);
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
process.stdout.write(
  '\n|      N | lab up | completed | wall | one zone waits | sidecar CPU/zone | sidecar RSS/zone | apply failures | PowerDNS raw | ratio |\n|---|---|---|---|---|---|---|---|---|---|\n',
);
for (const r of reports) {
  const cpu = r.sidecars
    .map((s) => `${s.id} ${(s.cpuSecondsPerZone * 1000).toFixed(0)} ms`)
    .join(', ');
  const rss = r.sidecars
    .map((s) => `${s.id} ${r.zones > 0 ? s.rssKbPerZone.toFixed(0) : '?'} KB`)
    .join(', ');
  process.stdout.write(
    `| ${String(r.zones).padStart(6)} | ${r.labUpSeconds.toFixed(0)} s | ${r.completed}/${r.zones} | ${r.wallSeconds.toFixed(0)} s | ${r.oneZoneWaitsSeconds.toFixed(0)} s | ${cpu} | ${rss} | ${r.applyFailures} | ${r.powerdnsRaw.changesPerSecond.toFixed(0)}/s | ${r.ratioToRaw === null ? 'n/a' : `${(r.ratioToRaw * 100).toFixed(0)} %`} |\n`,
  );
}
