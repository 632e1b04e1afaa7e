import { pino } from 'pino';
import { defineSignerPlugin, type PluginDependencies } from '@chorus/core';
import { BIND_PLUGIN_KIND, BindSigner } from './bind-signer.js';
import { bindCapabilities } from './capabilities.js';
import { parseBindConfig, type BindConfig } from './config.js';

/**
 * Creates a BIND signer from raw (JSON) configuration: validates it, checks that the TSIG and
 * rndc key files are readable (ConfigError naming the key otherwise), and builds the signer.
 * Without a logger, logs go nowhere.
 *
 * @example
 * const signer = createBindSigner(json, { logger });
 * await signer.checkZone('example.test.', {});
 */
export function createBindSigner(
  rawConfig: unknown,
  dependencies: Partial<PluginDependencies> = {},
): BindSigner {
  const config = parseBindConfig(rawConfig, { checkFiles: true });
  const logger = (dependencies.logger ?? pino({ level: 'silent' })).child({
    plugin: BIND_PLUGIN_KIND,
    signerId: config.id,
  });
  return new BindSigner(config, logger);
}

/** The BIND 9.18 signer plugin: dnssec-policy zones, DNS UPDATE with TSIG, rndc. */
export const bindPlugin = defineSignerPlugin<BindConfig>({
  specificationVersion: 'v1',
  kind: BIND_PLUGIN_KIND,
  capabilities: bindCapabilities,
  parseConfig: parseBindConfig,
  create: createBindSigner,
});
