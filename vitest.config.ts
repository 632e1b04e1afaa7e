import { configDefaults, defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources through the "chorus-source" export condition.
const resolve = { conditions: ['chorus-source'] };
const ssr = { resolve: { conditions: ['chorus-source'], externalConditions: ['chorus-source'] } };

/**
 * Scenario files bring up labs of their own on their own address prefixes (demos, lab life
 * cycle, NATS cluster): they run one at a time beside the files of the shared lab.
 */
const OWN_LAB_FILES = [
  'test/observers-demo.test.ts',
  'test/saas-demo.test.ts',
  'test/rollovers-demo.test.ts',
  'test/telemetry.test.ts',
  'test/forged-events.test.ts',
  'test/nats-faults.test.ts',
  'test/nats-netns.test.ts',
  'test/nsec3-validator.test.ts',
  'test/nsec3-rsa-demo.test.ts',
  'test/group-scale.test.ts',
  'test/person-at-parent.test.ts',
  'test/adopt-group.test.ts',
  'test/registrar-demo.test.ts',
  'test/bootstrap.test.ts',
  'test/stop-undo-demo.test.ts',
  'test/lab-lifecycle.test.ts',
  'test/model1-owner.test.ts',
  'test/model1-demo.test.ts',
  'test/bootstrap-signal.test.ts',
  'packages/*/test/scenario/**/*.test.ts',
];

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
          exclude: [
            ...configDefaults.exclude,
            'packages/*/test/lab/**',
            'packages/*/test/scenario/**',
          ],
        },
      },
      {
        resolve,
        ssr,
        test: {
          // Real BIND, PowerDNS, Knot and unbound: one lab for the whole run (test/global-setup.ts).
          name: 'integration',
          include: ['test/**/*.test.ts', 'packages/*/test/lab/**/*.test.ts'],
          // test/ is a workspace package: keep the default exclusions (its node_modules).
          exclude: [...configDefaults.exclude, ...OWN_LAB_FILES],
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        resolve,
        ssr,
        test: {
          // Labs of their own: in parallel with the shared lab's files, one scenario at a time.
          name: 'scenarios',
          include: OWN_LAB_FILES,
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
