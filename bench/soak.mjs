// `pnpm soak`: the rollover soak, a benchmark (not part of CI). A group of BIND, PowerDNS and Knot
// runs for SOAK_MINUTES (default 30) with automatic ZSK lifetimes of SOAK_ZSK_LIFETIME seconds
// (default 420) at BIND and Knot; every roll the servers begin must be followed with no glitch.
// Figures: the rolls, the glitches, the time from a new key appearing to every provider serving it.
import { labDown } from '../packages/lab/dist/index.js';
import { runSoak } from '../packages/cli/dist/index.js';

const minutes = Number(process.env.SOAK_MINUTES ?? 30);
const zskLifetimeSeconds = Number(process.env.SOAK_ZSK_LIFETIME ?? 420);
const ttl = Number(process.env.SOAK_TTL ?? 10);
const directory = process.env.SOAK_DIR ?? '.soak-lab';
const addressPrefix = process.env.SOAK_PREFIX ?? '127.59.0';
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
