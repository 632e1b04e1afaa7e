/**
 * Process entry: `node dist/main.js --config FILE`, for every fake (the config's `provider`:
 * desec, ns1 or registrar). Logs one JSON line per event to stdout (never tokens, headers or the
 * backend API key); exit 2 on a bad config; stops on SIGTERM/SIGINT.
 */
import process from 'node:process';
import { FakeConfigError } from './errors.js';
import { startProviderFake } from './fake.js';
import { parseProviderFakeConfig, readConfigJson } from './load-config.js';
import { parseRegistrarFakeConfig } from './registrar/config.js';
import { startRegistrarFake } from './registrar/fake.js';
import type { RunningFake } from './server.js';

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

/** Reads the config and returns the function that starts its fake. */
async function loadFake(file: string): Promise<() => Promise<RunningFake>> {
  const raw = await readConfigJson(file);
  const isRegistrar = (raw as { provider?: unknown } | null)?.provider === 'registrar';
  if (isRegistrar) {
    const config = parseRegistrarFakeConfig(raw);
    return () => startRegistrarFake(config, { log: logEvent });
  }
  const config = parseProviderFakeConfig(raw);
  return () => startProviderFake(config, { log: logEvent });
}

async function main(): Promise<void> {
  let start;
  try {
    start = await loadFake(configPath(process.argv.slice(2)));
  } catch (error) {
    if (!(error instanceof FakeConfigError)) throw error;
    logEvent('config-error', { field: error.field, message: error.message });
    process.stderr.write(`provider fake: ${error.message}\n`);
    process.exit(2);
  }
  const fake = await start();
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
