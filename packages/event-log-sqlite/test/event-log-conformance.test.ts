// Both backends run the one EventLog conformance suite: through the port they must be
// indistinguishable. SQLite-only behaviour is in event-log-sqlite.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { eventLogConformance, type ConformanceEvent } from '@chorus/conformance';
import { createMemoryEventLog } from '../src/memory-event-log.js';
import { createSqliteEventLog } from '../src/sqlite-event-log.js';

const dir = mkdtempSync(join(tmpdir(), 'chorus-event-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

eventLogConformance({
  name: 'memory',
  describe,
  test,
  expect,
  create: () => createMemoryEventLog<ConformanceEvent>(),
  contiguousPositions: true,
});

eventLogConformance({
  name: 'sqlite',
  describe,
  test,
  expect,
  create: () => createSqliteEventLog<ConformanceEvent>({ path: join(dir, `log-${++files}.db`) }),
  contiguousPositions: true,
});
