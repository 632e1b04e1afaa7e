/**
 * Process entry: `node dist/main.js --config FILE`. Logs one JSON line per event to stdout
 * (never tokens, headers or the backend API key); exit 2 on a bad config; stops on SIGTERM/SIGINT.
 */
import process from 'node:process';
import { FakeConfigError } from './errors.js';
import { startProviderFake } from './fake.js';
import { readProviderFakeConfig } from './load-config.js';

function logEvent(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), event, ...fields })}\n`);
}

function configPath(argv: readonly string[]): string {
  const index = argv.indexOf('--config');
  const value = index >= 0 ? argv[index + 1] : undefined;
  if (value === undefined || value.startsWith('--'))
    throw new FakeConfigError('--config', 'usage: main.js --config FILE');
  return value;
}

async function main(): Promise<void> {
  let config;
  try {
    config = await readProviderFakeConfig(configPath(process.argv.slice(2)));
  } catch (error) {
    if (!(error instanceof FakeConfigError)) throw error;
    logEvent('config-error', { field: error.field, message: error.message });
    process.stderr.write(`provider fake: ${error.message}\n`);
    process.exit(2);
  }
  const fake = await startProviderFake(config, { log: logEvent });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logEvent('signal', { signal });
    fake.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logEvent('stop-error', { message: (error as Error).message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  logEvent('fatal', { message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
