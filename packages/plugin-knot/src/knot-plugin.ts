import { defineSignerPlugin, type PluginDependencies } from '@chorus/core';
import { pino } from 'pino';
import { knotCapabilities } from './capabilities.js';
import { parseKnotConfig, type KnotSignerConfig } from './config.js';
import { KnotSigner } from './knot-signer.js';

/** What createKnotSigner accepts besides the configuration. */
export interface KnotSignerDependencies extends Partial<PluginDependencies> {
  /**
   * Skip the configuration check that runs before every apply. Only for tests that must show what
   * a misconfigured server does; never set it in production.
   */
  unsafeSkipZoneCheck?: boolean;
}

/**
 * Creates a Knot signer from raw (JSON) configuration: validates it, checks that the TSIG key
 * file is readable (ConfigError naming the key otherwise), and builds the signer. The logger
 * defaults to a silent pino.
 *
 * @example
 * const signer = createKnotSigner({
 *   id: 'knot', server: { address: '127.53.0.4' }, tsigKeyFile: '/etc/knot/chorus.key',
 *   knotc: { configFile: '/etc/knot/knot.conf' },
 * });
 */
export function createKnotSigner(
  rawConfig: unknown,
  dependencies: KnotSignerDependencies = {},
): KnotSigner {
  const parsed = parseKnotConfig(rawConfig, { checkFiles: true });
  return new KnotSigner(parsed, {
    logger: dependencies.logger ?? pino({ level: 'silent' }),
    ...(dependencies.unsafeSkipZoneCheck ? { unsafeSkipZoneCheck: true } : {}),
  });
}

export const knotPlugin = defineSignerPlugin<KnotSignerConfig>({
  specificationVersion: 'v1',
  kind: 'knot',
  capabilities: knotCapabilities,
  parseConfig: parseKnotConfig,
  create: (config, dependencies) => createKnotSigner(config, { logger: dependencies.logger }),
});
