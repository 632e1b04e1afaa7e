import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, type SignerPluginDefinition } from '@chorus/core';

function isDefinition(value: unknown): value is SignerPluginDefinition<unknown> {
  const candidate = value as Partial<SignerPluginDefinition<unknown>> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    candidate.specificationVersion === 'v1' &&
    typeof candidate.kind === 'string' &&
    typeof candidate.create === 'function' &&
    typeof candidate.parseConfig === 'function'
  );
}

/** How to import a module. Package names resolve from the caller, so the application passes its own `import`. */
export type ModuleImporter = (specifier: string) => Promise<unknown>;

/** Imports a plugin package (or file) and returns the one plugin definition it exports. */
export async function loadSignerPlugin(
  specifier: string,
  importModule: ModuleImporter = (target) => import(target),
): Promise<SignerPluginDefinition<unknown>> {
  const target =
    specifier.startsWith('.') || path.isAbsolute(specifier)
      ? pathToFileURL(path.resolve(specifier)).href
      : specifier;
  let module: Record<string, unknown>;
  try {
    module = (await importModule(target)) as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError({
      key: 'signer.plugin',
      problem: `cannot load ${specifier}: ${(error as Error).message}`,
    });
  }
  const definitions = Object.values(module).filter(isDefinition);
  if (definitions.length !== 1) {
    throw new ConfigError({
      key: 'signer.plugin',
      problem: `${specifier} must export exactly one signer plugin definition (found ${definitions.length})`,
    });
  }
  return definitions[0]!;
}
