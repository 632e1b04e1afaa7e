/** `chorus sidecar --config FILE`: the sidecar of one signer, in the foreground. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { callTally } from '@chorus/dns';
import { composeSidecar, loadSidecarConfig } from '@chorus/sidecar';
import { expectPositionals, parseCommandArgs, UsageError } from '../args.js';
import { SIDECAR_HELP } from '../help.js';
import type { CliIo } from '../io.js';

/** Resolves on the first SIGTERM or SIGINT. Installed before start-up, so that a stop during start-up is clean too. */
function stopRequested(): { requested: Promise<void>; isRequested: () => boolean } {
  let requested = false;
  const promise = new Promise<void>((resolve) => {
    const stop = () => {
      requested = true;
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return { requested: promise, isRequested: () => requested };
}

/** The zones followed, in a line: all of a few, or the first and last of many. */
function describeZones(zones: readonly string[]): string {
  if (zones.length <= 5) return zones.join(', ');
  return `${zones.slice(0, 2).join(', ')} … ${zones.at(-1)} (${zones.length} zones)`;
}

/** The V8 heap still in use after a full collection: what the sidecar keeps, garbage aside. */
function retainedHeapBytes(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

export async function sidecarCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('sidecar', args, {
    config: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(SIDECAR_HELP);
    return 0;
  }
  expectPositionals(positionals, 0, 'sidecar');
  if (!values.config)
    throw new UsageError('give the sidecar configuration with --config FILE', 'sidecar');
  const stop = stopRequested();
  const config = await loadSidecarConfig(values.config);
  // Plugin packages resolve from the CLI, which depends on every plugin shipped with Chorus.
  const { runtime, telemetry, logger, closeEventLog } = await composeSidecar(config, {
    importModule: (specifier: string) => import(specifier),
  });
  // `kill -USR2 <pid>`: the calls made to servers so far (commands, HTTP, DNS), the memory in
  // use, and the heap kept after a full collection, at info level.
  const logTally = () => {
    const memory = process.memoryUsage();
    logger.info({ calls: callTally(), memory, retainedHeap: retainedHeapBytes() }, 'call tally');
  };
  process.on('SIGUSR2', logTally);
  // A stop during start-up aborts the start-up's calls; that is a clean stop, not a failure.
  void stop.requested.then(() => runtime.stop());
  try {
    await runtime.start();
  } catch (error) {
    if (!stop.isRequested()) {
      await runtime.stop();
      await closeEventLog().catch(() => undefined);
      throw error;
    }
  }
  if (!stop.isRequested())
    io.stderr(
      `[sidecar ${config.id}] following ${describeZones(config.zones)} in ${config.eventLog.kind === 'sqlite' ? config.eventLog.path : `NATS at ${config.eventLog.servers.join(', ')}`}\n`,
    );
  await stop.requested;
  await runtime.stop();
  await closeEventLog().catch((error: unknown) =>
    logger.warn({ err: error }, 'the event log did not close cleanly'),
  );
  process.off('SIGUSR2', logTally);
  logger.info({ calls: callTally() }, 'sidecar stopped');
  await telemetry.shutdown();
  return 0;
}
