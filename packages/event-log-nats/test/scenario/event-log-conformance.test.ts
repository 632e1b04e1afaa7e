// The NATS backend runs the one EventLog conformance suite against a real nats-server that this
// file starts (JetStream, store in a temporary directory, 127.0.0.1 only, a port the OS picks).
// Each test gets a fresh JetStream stream and bucket, so tests stay independent and fast.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { eventLogConformance, type ConformanceEvent } from '@chorus/conformance';
import { createNatsEventLog } from '../../src/nats-event-log.js';
import { startNatsServer, type NatsServer } from '../../src/testing.js';

const dir = mkdtempSync(join(tmpdir(), 'chorus-nats-log-'));
let server: NatsServer;
beforeAll(async () => {
  server = await startNatsServer({ dir });
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});
let logs = 0;

eventLogConformance({
  name: 'nats',
  describe,
  test,
  expect,
  create: () => {
    const id = ++logs;
    return createNatsEventLog<ConformanceEvent>({
      servers: [server.url],
      createStream: true,
      streamName: `T${id}`,
      subjectPrefix: `t${id}.log`,
      consumersBucket: `T${id}_CONSUMERS`,
      requestTimeoutMs: 2000,
      reconnectWaitMs: 50,
    });
  },
  outage: {
    stopServer: () => server.stop(),
    startServer: () => server.start(),
    failWithinMs: 2500,
    recoverWithinMs: 10_000,
  },
});
