import { defineSignerPlugin, type PluginDependencies } from '@chorus/core';
import { pino } from 'pino';
import { powerdnsCapabilities } from './capabilities.js';
import { parseConfig, type ResolvedPowerDnsConfig } from './config.js';
import { PowerDnsSigner } from './powerdns-signer.js';

/**
 * Creates a PowerDNS signer from raw (JSON) configuration: validates it, checks that the API key
 * file is readable (ConfigError naming the key otherwise), and builds the signer. Without a
 * logger, logs nowhere.
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
  rawConfig: unknown,
  dependencies: Partial<PluginDependencies> = {},
): PowerDnsSigner {
  return new PowerDnsSigner(parseConfig(rawConfig, { checkFiles: true }), {
    logger: dependencies.logger ?? pino({ level: 'silent' }),
  });
}

/** The PowerDNS Authoritative 4.7 signer plugin, driven through the HTTP API. */
export const powerdnsPlugin = defineSignerPlugin<ResolvedPowerDnsConfig>({
  specificationVersion: 'v1',
  kind: 'powerdns',
  capabilities: powerdnsCapabilities,
  parseConfig,
  create: createPowerDnsSigner,
});
