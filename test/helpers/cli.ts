/** The built CLI entry point (`pnpm build`), for tests that start sidecars or the demo as processes. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI_MAIN = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'packages',
  'cli',
  'dist',
  'main.js',
);
