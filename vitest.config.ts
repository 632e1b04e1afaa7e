import { defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources through the "chorus-source" export condition.
const resolve = { conditions: ['chorus-source'] };
const ssr = { resolve: { conditions: ['chorus-source'], externalConditions: ['chorus-source'] } };

export default defineConfig({
  test: {
    projects: [
      {
        resolve,
        ssr,
        test: {
          // No servers: codecs, planning, parsing, misbehaving sockets the test opens itself.
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts'],
          exclude: ['packages/*/test/lab/**'],
        },
      },
      {
        resolve,
        ssr,
        test: {
          // Real BIND, PowerDNS, Knot and unbound: one lab for the whole run (test/global-setup.ts).
          name: 'integration',
          include: ['test/**/*.test.ts', 'packages/*/test/lab/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
