import { defineSignerPlugin, type PluginDependencies } from '@chorus/core';
import { pino } from 'pino';
import { ns1Capabilities } from './capabilities.js';
import { parseConfig, type ResolvedNs1Config } from './config.js';
import { Ns1Signer } from './ns1-signer.js';

/**
 * Creates an NS1 signer from raw (JSON) configuration: validates it, checks that the API key
 * file is readable (ConfigError naming the key otherwise), and builds the signer. Without a
 * logger, logs nowhere.
 *
 * @example
 * const signer = createNs1Signer({
 *   id: 'ns1',
 *   server: { address: '198.51.100.53' },
 *   api: { apiKeyFile: '/etc/chorus/ns1-api.key' },
 * });
 * await signer.checkZone('example.test.', {});
 */
export function createNs1Signer(
  rawConfig: unknown,
  dependencies: Partial<PluginDependencies> = {},
): Ns1Signer {
  return new Ns1Signer(parseConfig(rawConfig, { checkFiles: true }), {
    logger: dependencies.logger ?? pino({ level: 'silent' }),
  });
}

/** The NS1 (IBM NS1 Connect) signer plugin, driven through the REST API. */
export const ns1Plugin = defineSignerPlugin<ResolvedNs1Config>({
  specificationVersion: 'v1',
  kind: 'ns1',
  capabilities: ns1Capabilities,
  parseConfig,
  create: createNs1Signer,
});
