/** Signer configurations for the lab's Knot servers (normal and traps). */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KnotcControl, LabStatus, ServerId } from '@chorus/lab';
import { endpoint, labServer } from '@chorus/lab/testing';
import type { KnotUpdateMethod } from '../../src/config.js';

export function knotConfigFor(
  lab: LabStatus,
  id: ServerId,
  overrides: { updateMethod?: KnotUpdateMethod; tsigKeyFile?: string } = {},
) {
  const server = labServer(lab, id);
  if (server.control.kind !== 'knotc') throw new Error(`${id} is not a Knot server`);
  const control: KnotcControl = server.control;
  return {
    id,
    server: endpoint(server),
    tsigKeyFile: overrides.tsigKeyFile ?? server.tsig.keyFile,
    knotc: { configFile: control.configFile },
    updateMethod: overrides.updateMethod ?? 'dns-update',
  };
}

const temporaryDirectories: string[] = [];

/** Removes the directories wrongTsigKeyFile made. */
export function removeTemporaryFiles(): void {
  for (const directory of temporaryDirectories.splice(0))
    rmSync(directory, { recursive: true, force: true });
}

/** A copy of the server's TSIG key file with the same key name and a different secret. */
export function wrongTsigKeyFile(keyFile: string): string {
  const text = readFileSync(keyFile, 'utf8');
  const wrong = text.replace(
    /secret\s+"[^"]+"/,
    `secret "${Buffer.alloc(32, 7).toString('base64')}"`,
  );
  const directory = mkdtempSync(path.join(os.tmpdir(), 'chorus-knot-badkey-'));
  temporaryDirectories.push(directory);
  const file = path.join(directory, 'wrong.key');
  writeFileSync(file, wrong, { mode: 0o600 });
  return file;
}
