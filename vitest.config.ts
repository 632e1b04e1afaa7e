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
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts'],
        },
      },
      {
        resolve,
        ssr,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
