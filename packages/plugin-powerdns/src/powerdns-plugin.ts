import { defineSignerPlugin, type PluginDependencies } from '@chorus/core';
import { pino } from 'pino';
import { powerdnsCapabilities } from './capabilities.js';
import { parseConfig, type PowerDnsConfig, type ResolvedPowerDnsConfig } from './config.js';
import { PowerDnsSigner } from './powerdns-signer.js';

export const powerdnsPlugin = defineSignerPlugin<ResolvedPowerDnsConfig>({
  specificationVersion: 'v1',
  kind: 'powerdns',
  capabilities: powerdnsCapabilities,
  parseConfig,
  create: (config, dependencies) => new PowerDnsSigner(config, dependencies),
});

/**
 * Creates a PowerDNS signer from a configuration object (validated here: ConfigError on bad
 * input). Without a logger, logs nowhere.
 *
 * @example
 * const signer = createPowerDnsSigner({
 *   id: 'powerdns-ams',
 *   server: { address: '127.53.0.3' },
 *   api: { url: 'http://127.53.0.3:8081/api/v1/servers/localhost', apiKeyFile: '/etc/chorus/pdns.key' },
 * });
 * await signer.checkZone('example.test.', {});
 */
export function createPowerDnsSigner(
  config: PowerDnsConfig,
  dependencies: Partial<PluginDependencies> = {},
): PowerDnsSigner {
  return new PowerDnsSigner(parseConfig(config), {
    logger: dependencies.logger ?? pino({ level: 'silent' }),
  });
}
