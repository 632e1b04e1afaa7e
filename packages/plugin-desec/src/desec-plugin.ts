import { defineSignerPlugin, type PluginDependencies } from '@chorus/core';
import { pino } from 'pino';
import { desecCapabilities } from './capabilities.js';
import { parseConfig, type ResolvedDesecConfig } from './config.js';
import { DesecSigner } from './desec-signer.js';

/**
 * Creates a deSEC signer from raw (JSON) configuration: validates it, checks that the token
 * file is readable (ConfigError naming `api.tokenFile` otherwise), and builds the signer.
 * Without a logger, logs nowhere.
 *
 * @example
 * const signer = createDesecSigner({
 *   id: 'desec',
 *   api: { tokenFile: '/etc/chorus/desec.token' },
 *   server: { address: '192.0.2.53' },
 * });
 * await signer.checkZone('example.com.', {});
 */
export function createDesecSigner(
  rawConfig: unknown,
  dependencies: Partial<PluginDependencies> = {},
): DesecSigner {
  return new DesecSigner(parseConfig(rawConfig, { checkFiles: true }), {
    logger: dependencies.logger ?? pino({ level: 'silent' }),
  });
}

/** The deSEC signer plugin, driven through the deSEC REST API. */
export const desecPlugin = defineSignerPlugin<ResolvedDesecConfig>({
  specificationVersion: 'v1',
  kind: 'desec',
  capabilities: desecCapabilities,
  parseConfig,
  create: createDesecSigner,
});
