#!/usr/bin/env node
/**
 * The registry agent without the CLI: `node registry-agent-main.js --dir LAB` or `--config FILE`.
 * `chorus lab registry-agent` runs the same code; `labUp` uses this file when no command is given.
 */
import { parseArgs } from 'node:util';
import { defaultLabDirectory } from './config.js';
import { registryAgentConfigFile, runRegistryAgentProcess } from './registry-agent-process.js';

try {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { dir: { type: 'string' }, config: { type: 'string' } },
    strict: true,
  });
  const configFile = values.config ?? registryAgentConfigFile(values.dir ?? defaultLabDirectory());
  process.exitCode = await runRegistryAgentProcess({ configFile });
} catch (error) {
  process.stderr.write(
    `registry-agent: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
}
