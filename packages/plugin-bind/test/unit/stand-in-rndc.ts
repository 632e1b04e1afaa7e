import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createBindSigner, type BindSigner } from '../../src/index.js';

/**
 * A BindSigner whose rndc is a shell script in `directory`: `script` holds its lines after the
 * shebang (a `case "$*" in … esac` over real BIND answers in fixtures/). The server address is
 * unused (port 9) and the TSIG key a readable placeholder.
 */
export async function signerWithStandInRndc(
  directory: string,
  script: readonly string[],
  keyDirectory = directory,
): Promise<BindSigner> {
  const binary = path.join(directory, 'rndc');
  await writeFile(binary, ['#!/bin/sh', ...script, ''].join('\n'));
  await chmod(binary, 0o755);
  // The factory checks that the key file is readable; the unit tests never send with it.
  const tsigKeyFile = path.join(directory, 'unused.key');
  await writeFile(tsigKeyFile, 'key "unused" { algorithm hmac-sha256; secret "AAAA"; };\n');
  return createBindSigner({
    id: 'bind-unit',
    server: { address: '127.0.0.1', port: 9 },
    tsigKeyFile,
    rndc: { configFile: path.join(directory, 'rndc.conf'), binary },
    keyDirectory,
  });
}
