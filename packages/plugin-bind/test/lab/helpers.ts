import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import type { LabServer, LabStatus, ServerId } from '@chorus/lab';
import { labServer } from '@chorus/lab/testing';
import type { BindConfig } from '../../src/index.js';

/** The plugin configuration for one of the lab's BIND servers ('bind' or the trap). */
export function bindConfigFor(lab: LabStatus, id: ServerId): BindConfig {
  const server: LabServer = labServer(lab, id);
  if (server.software !== 'bind' || server.control.kind !== 'rndc')
    throw new Error(`${id} is not a BIND server of the lab`);
  return {
    id,
    server: { address: server.address, port: server.port },
    tsigKeyFile: server.tsig.keyFile,
    rndc: { configFile: server.control.configFile },
    keyDirectory: server.keys.zonePath ?? server.keys.path,
    namedConfigFile: server.configFile,
  };
}

/** The rndc key file of a lab BIND server. */
export function rndcKeyFile(lab: LabStatus, id: ServerId): string {
  const { control } = labServer(lab, id);
  if (control.kind !== 'rndc') throw new Error(`${id} has no rndc control channel`);
  return control.keyFile;
}

let scratch: string | undefined;

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

/** A directory for the files a test file writes (wrong keys…), removed after that file. */
export function scratchDirectory(): string {
  scratch ??= mkdtempSync(path.join(os.tmpdir(), 'chorus-bind-test-'));
  return scratch;
}

/** A copy of a BIND key file with the same key name and algorithm and a random secret. */
export function wrongKeyFile(keyFile: string, name = 'wrong.key'): string {
  const text = readFileSync(keyFile, 'utf8');
  const wrong = text.replace(/secret\s+"[^"]+"/, `secret "${randomBytes(32).toString('base64')}"`);
  if (wrong === text) throw new Error(`no secret found in ${keyFile}`);
  const file = path.join(scratchDirectory(), `${randomBytes(4).toString('hex')}-${name}`);
  writeFileSync(file, wrong, { mode: 0o600 });
  return file;
}
