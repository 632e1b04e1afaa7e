// `pnpm bench:parent-notify [--zones 10] [--scan-interval 60]`: how long the parent takes to act
// once the group's CDS (or CSYNC) is served everywhere, with and without the sidecars' NOTIFY to
// the parent's DSYNC target (RFC 9859), in one run. Two fresh labs whose registry agent scans
// every --scan-interval seconds; ADD-SIGNER of PowerDNS on every zone in each. Not part of CI.
import { parseArgs } from 'node:util';
import { labDown } from '../packages/lab/dist/index.js';
import { runScale } from '../packages/cli/dist/index.js';

const HELP = `Usage: pnpm bench:parent-notify [options]

How long the parent takes to act once the group's CDS (or CSYNC) is served everywhere: ADD-SIGNER
on every zone of a fresh lab, once with the sidecars' NOTIFY to the parent's DSYNC target and once
without, the parent's scanner running every --scan-interval seconds. Not part of CI.

Options:
  --zones N             zones per lab (default 10)
  --scan-interval S     the parent's scan interval in seconds (default 60)
  --ttl SECONDS         the lab's TTLs (default 10)
  --dir DIRECTORY       the lab's directory, removed after each run (default .parent-notify-lab)
  --prefix A.B.C        the lab's loopback /24 (default 127.61.0)
  -h, --help            this text
`;

let values;
try {
  ({ values } = parseArgs({
    options: {
      help: { type: 'boolean', short: 'h', default: false },
      zones: { type: 'string', default: '10' },
      'scan-interval': { type: 'string', default: '60' },
      ttl: { type: 'string', default: '10' },
      dir: { type: 'string', default: '.parent-notify-lab' },
      prefix: { type: 'string', default: '127.61.0' },
    },
  }));
} catch (error) {
  process.stderr.write(`bench:parent-notify: ${error.message}\n(see --help)\n`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const numbers = {
  zones: Number(values.zones),
  scanInterval: Number(values['scan-interval']),
  ttl: Number(values.ttl),
};
for (const [name, value] of Object.entries(numbers))
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`bench:parent-notify: --${name} takes a positive integer\n`);
    process.exit(2);
  }

const io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};
const runs = [];
for (const parentNotify of [true, false]) {
  try {
    const report = await runScale(
      {
        zones: numbers.zones,
        parallel: numbers.zones,
        ttl: numbers.ttl,
        directory: values.dir,
        addressPrefix: values.prefix,
        scanIntervalSeconds: numbers.scanInterval,
        parentNotify,
      },
      io,
    );
    runs.push({ parentNotify, report });
    process.stdout.write(`${JSON.stringify({ parentNotify, report })}\n`);
  } catch (error) {
    process.stdout.write(
      `parent-notify: the run ${parentNotify ? 'with' : 'without'} NOTIFY stopped: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  } finally {
    await labDown({ directory: values.dir }).catch(() => undefined);
  }
}

const seconds = (figures) =>
  figures.count === 0
    ? 'n/a'
    : `median ${figures.medianSeconds.toFixed(2)} s, longest ${figures.maxSeconds.toFixed(2)} s`;
const notifies = (report) =>
  report.sidecars.reduce(
    (total, sidecar) =>
      total +
      Object.entries(sidecar.calls)
        .filter(([key]) => key.startsWith('dns notify '))
        .reduce((sum, [, count]) => sum + count, 0),
    0,
  );
process.stdout.write(
  `\nADD-SIGNER on ${numbers.zones} zones, the parent scanning every ${numbers.scanInterval} s, TTL ${numbers.ttl} s:\n\n`,
);
process.stdout.write(
  '| NOTIFY | completed | wall | CDS served → DS at the parent | CSYNC served → NS at the parent | NOTIFYs sent |\n|---|---|---|---|---|---|\n',
);
for (const { parentNotify, report } of runs)
  process.stdout.write(
    `| ${parentNotify ? 'yes (DSYNC)' : 'no'} | ${report.completed}/${report.zones} | ${report.wallSeconds.toFixed(0)} s | ${seconds(report.parentSteps.ds)} | ${seconds(report.parentSteps.ns)} | ${notifies(report)} |\n`,
  );
