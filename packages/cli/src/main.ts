#!/usr/bin/env node
import { configureTelemetry, createRootLogger } from '@chorus/sidecar';
import { runCli } from './cli.js';
import { exitQuietlyOnClosedOutput } from './io.js';

exitQuietlyOnClosedOutput(process.stdout);
exitQuietlyOnClosedOutput(process.stderr);
const args = process.argv.slice(2);
// OpenTelemetry export when the OTEL_ variables ask for it (nothing is registered otherwise). A
// sidecar sets up its own, with its id as the service instance (composeSidecar).
const telemetry =
  args[0] === 'sidecar'
    ? undefined
    : configureTelemetry(process.env, createRootLogger('warn', process.stderr), {
        serviceName: 'chorus-cli',
        attributes: { 'chorus.component': 'cli' },
      });
process.exitCode = await runCli(args);
await telemetry?.shutdown();
