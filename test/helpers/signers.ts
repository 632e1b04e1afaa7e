/**
 * Signers for the lab's servers, built exactly as a sidecar builds them: the configuration the
 * demo writes for its sidecars, parsed and created by the plugin definition.
 */
import { pino } from 'pino';
import type { Signer, SignerPluginDefinition } from '@chorus/core';
import { signerPluginConfigFor } from '@chorus/cli';
import type { LabServer, LabStatus } from '@chorus/lab';
import { bindPlugin } from '@chorus/plugin-bind';
import { knotPlugin } from '@chorus/plugin-knot';
import { powerdnsPlugin } from '@chorus/plugin-powerdns';

const PLUGINS: Record<string, SignerPluginDefinition<unknown>> = {
  '@chorus/plugin-bind': bindPlugin,
  '@chorus/plugin-powerdns': powerdnsPlugin,
  '@chorus/plugin-knot': knotPlugin,
};

export function signerForLabServer(lab: LabStatus, server: LabServer): Signer {
  const { plugin, config } = signerPluginConfigFor(lab, server);
  const definition = PLUGINS[plugin];
  if (!definition) throw new Error(`no plugin ${plugin} for lab server ${server.id}`);
  return definition.create(definition.parseConfig(config), { logger: pino({ level: 'silent' }) });
}
