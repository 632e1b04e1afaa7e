/** `chorus sidecar --config FILE`: the sidecar of one signer, in the foreground. */
import { composeSidecar, loadSidecarConfig } from '@chorus/sidecar';
import { expectPositionals, parseCommandArgs, UsageError } from '../args.js';
import { SIDECAR_HELP } from '../help.js';
import type { CliIo } from '../io.js';

function untilStopped(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
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
  const config = await loadSidecarConfig(values.config);
  // Plugin packages resolve from the CLI, which depends on every plugin shipped with Chorus.
  const { runtime, telemetry } = await composeSidecar(config, {
    importModule: (specifier: string) => import(specifier),
  });
  await runtime.start();
  io.stderr(
    `[sidecar ${config.id}] following ${config.zones.join(', ')} in ${config.eventLog.path}\n`,
  );
  await untilStopped();
  await runtime.stop();
  await telemetry.shutdown();
  return 0;
}
