#!/usr/bin/env node
// `pnpm test`: the unit and shared-lab files in one Vitest run, the scenario files (labs of
// their own: demos, forged events, NATS faults) in a second run beside it. Vitest gives a 2-core
// machine one worker, so two runs are what lets a demo's waits overlap the shared lab's tests.
// Each line is prefixed with its run; the exit code is the first failure's.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const extra = process.argv.slice(2);
const runs = [
  { name: 'lab', args: ['run', '--project', 'unit', '--project', 'integration', ...extra] },
  { name: 'scenarios', args: ['run', '--project', 'scenarios', ...extra] },
];

function run({ name, args }) {
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

const codes = await Promise.all(runs.map(run));
for (const [index, code] of codes.entries())
  process.stdout.write(`[${runs[index].name}] vitest exited with ${code}\n`);
process.exit(codes.find((code) => code !== 0) ?? 0);
