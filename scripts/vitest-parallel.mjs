#!/usr/bin/env node
// `pnpm test`: two Vitest runs side by side, each a sequence. Vitest gives a 2-core machine one
// worker, so two runs are what lets a demo's waits overlap other tests.
// - lab: the unit and shared-lab files, then a few long scenario files (labs of their own);
// - scenarios: every other scenario file.
// The long files moved behind the shared lab's make the two runs end at about the same time.
// With arguments (a file filter, an option) the scenario files stay in one run, as before.
// Each line is prefixed with its run; the exit code is the first failure's.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** About 730 s of scenario files on a CI machine: the shared lab's run takes about 930 s alone. */
const AFTER_THE_SHARED_LAB = [
  'test/saas-demo.test.ts',
  'test/nsec3-rsa-demo.test.ts',
  'test/registrar-demo.test.ts',
  'test/model1-demo.test.ts',
];

const extra = process.argv.slice(2);
const split = extra.length === 0;
const runs = [
  {
    name: 'lab',
    steps: [
      ['run', '--project', 'unit', '--project', 'integration', ...extra],
      ...(split ? [['run', '--project', 'scenarios', ...AFTER_THE_SHARED_LAB]] : []),
    ],
  },
  {
    name: 'scenarios',
    steps: [
      [
        'run',
        '--project',
        'scenarios',
        ...(split ? AFTER_THE_SHARED_LAB.flatMap((file) => ['--exclude', file]) : []),
        ...extra,
      ],
    ],
  },
];

function vitest(name, args) {
  return new Promise((resolve) => {
    const child = spawn('vitest', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      const target = stream === child.stdout ? process.stdout : process.stderr;
      createInterface({ input: stream }).on('line', (line) => target.write(`[${name}] ${line}\n`));
    }
    child.on('error', (error) => {
      process.stderr.write(`[${name}] could not start vitest: ${error.message}\n`);
      resolve(1);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** Runs every step of `run` (a failed step does not skip the next); the first failure's code. */
async function sequence({ name, steps }) {
  const codes = [];
  for (const args of steps) codes.push(await vitest(name, args));
  return codes.find((code) => code !== 0) ?? 0;
}

const codes = await Promise.all(runs.map(sequence));
for (const [index, code] of codes.entries())
  process.stdout.write(`[${runs[index].name}] vitest exited with ${code}\n`);
process.exit(codes.find((code) => code !== 0) ?? 0);
