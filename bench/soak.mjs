// `pnpm soak`: the rollover soak, a benchmark (not part of CI). A group of BIND, PowerDNS and Knot
// runs for --minutes (default 30) with automatic ZSK lifetimes of --zsk-lifetime seconds
// (default 420) at BIND and Knot; every roll the servers begin must be followed with no glitch.
// Figures: the rolls, the glitches, the time from a new key appearing to every provider serving it.
import { parseArgs } from 'node:util';
import { labDown } from '../packages/lab/dist/index.js';
import { runSoak } from '../packages/cli/dist/index.js';

const HELP = `Usage: pnpm soak [options]

The rollover soak (not part of CI): a group of BIND, PowerDNS and Knot on a lab of its own, whose
servers roll their ZSKs on their own schedule; Chorus must follow every roll with no glitch.

Options (each also read from the environment variable named, for scripts):
  --minutes M           how long to run (SOAK_MINUTES, default 30)
  --zsk-lifetime S      BIND's and Knot's ZSK lifetime in seconds (SOAK_ZSK_LIFETIME, default 420)
  --ttl SECONDS         the lab's TTLs (SOAK_TTL, default 10)
  --dir DIRECTORY       the lab's directory, removed with its lab at the end (SOAK_DIR, default .soak-lab)
  --prefix A.B.C        the lab's loopback /24 (SOAK_PREFIX, default 127.59.0)
  -h, --help            this text

It prints the report as JSON, then one summary line, and exits 1 on any glitch or unfinished roll.
`;

let values;
try {
  ({ values } = parseArgs({
    options: {
      help: { type: 'boolean', short: 'h', default: false },
      minutes: { type: 'string', default: process.env.SOAK_MINUTES ?? '30' },
      'zsk-lifetime': { type: 'string', default: process.env.SOAK_ZSK_LIFETIME ?? '420' },
      ttl: { type: 'string', default: process.env.SOAK_TTL ?? '10' },
      dir: { type: 'string', default: process.env.SOAK_DIR ?? '.soak-lab' },
      prefix: { type: 'string', default: process.env.SOAK_PREFIX ?? '127.59.0' },
    },
  }));
} catch (error) {
  process.stderr.write(`soak: ${error.message}\n(see --help)\n`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

/** A positive number from an option, or exit 2 naming it. */
function positive(name) {
  const value = Number(values[name]);
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(`soak: --${name} takes a positive number, not ${values[name]}\n`);
    process.exit(2);
  }
  return value;
}

const minutes = positive('minutes');
const zskLifetimeSeconds = positive('zsk-lifetime');
const ttl = positive('ttl');
const directory = values.dir;
const addressPrefix = values.prefix;
const io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

try {
  const report = await runSoak({ minutes, ttl, zskLifetimeSeconds, directory, addressPrefix }, io);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  const glitches = Object.values(report.glitches).reduce((sum, count) => sum + count, 0);
  process.stdout.write(
    `soak: ${minutes} min, ${report.rollsCompleted} roll(s) followed to the end, ${report.rollsNotCompleted} not, ${report.mostRollsAtOnce} at once at most, ${glitches} glitch(es), ${report.disagreements} disagreement(s); new key to every provider: ${report.keyToEverywhereSeconds ? `min ${report.keyToEverywhereSeconds.min} s, median ${report.keyToEverywhereSeconds.median} s, max ${report.keyToEverywhereSeconds.max} s` : 'n/a'}\n`,
  );
  process.exitCode = glitches === 0 && report.rollsNotCompleted === 0 ? 0 : 1;
} finally {
  await labDown({ directory }).catch(() => undefined);
}
