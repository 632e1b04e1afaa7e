// `pnpm typecheck:tests`: type-checks every test directory that has a tsconfig.json (tests are not
// part of the `tsc -b` build), so a new package's tests are never forgotten.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import process from 'node:process';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const projects = [
  'test',
  ...readdirSync('packages')
    .map((name) => `packages/${name}/test`)
    .filter((directory) => existsSync(`${directory}/tsconfig.json`)),
];
for (const project of projects)
  execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
