/**
 * The NATS cluster's certificates, made with `openssl`: a lab CA and one server certificate for
 * the three node addresses (ECDSA P-256). Clients trust the CA only; the nodes present the same
 * certificate to clients and to each other (routes use mutual TLS), so it serves both purposes.
 * Private keys are mode 0600 in a 0700 directory, and are never printed.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runTool } from './commands.js';
import { writeSecretFile } from './secrets.js';

export interface NatsTlsFiles {
  directory: string;
  caFile: string;
  caKeyFile: string;
  certFile: string;
  keyFile: string;
}

const CA_DAYS = 3650;
const SERVER_DAYS = 825;
const P256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

export function natsTlsFiles(directory: string): NatsTlsFiles {
  return {
    directory,
    caFile: path.join(directory, 'ca.crt'),
    caKeyFile: path.join(directory, 'ca.key'),
    certFile: path.join(directory, 'server.crt'),
    keyFile: path.join(directory, 'server.key'),
  };
}

/**
 * The server certificate's extensions. Besides the node addresses it names `localhost`: Node's
 * TLS upgrade in the NATS client checks an IP server against that name (nats.js passes no host
 * when it upgrades the socket), and the lab CA signs this certificate only.
 */
export function serverExtensions(addresses: readonly string[]): string {
  const names = [...addresses.map((address) => `IP:${address}`), 'DNS:localhost'];
  return [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth,clientAuth',
    `subjectAltName=${names.join(',')}`,
    '',
  ].join('\n');
}

/** A positive random serial number, as openssl's `-set_serial` reads it. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return `0x${bytes.toString('hex')}`;
}

/** Creates the CA and the server certificate for `addresses` in `files.directory`. */
export async function makeNatsTls(
  files: NatsTlsFiles,
  addresses: readonly string[],
  openssl: string,
): Promise<void> {
  await mkdir(files.directory, { recursive: true, mode: 0o700 });
  await chmod(files.directory, 0o700);
  // openssl keeps an existing file's mode: the keys are 0600 from their first byte.
  await Promise.all([writeSecretFile(files.caKeyFile, ''), writeSecretFile(files.keyFile, '')]);
  const request = path.join(files.directory, 'server.csr');
  const extensions = path.join(files.directory, 'server.ext');
  const options = { cwd: files.directory };
  await Promise.all([
    runTool(
      openssl,
      [
        ...['req', '-x509', '-new', ...P256, '-keyout', files.caKeyFile, '-out', files.caFile],
        ...['-days', String(CA_DAYS), '-subj', '/CN=Chorus lab NATS CA'],
        ...['-addext', 'basicConstraints=critical,CA:TRUE'],
        ...['-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
      ],
      options,
    ),
    runTool(
      openssl,
      [
        ...['req', '-new', ...P256, '-keyout', files.keyFile, '-out', request],
        ...['-subj', '/CN=chorus-lab-nats'],
      ],
      options,
    ),
    writeFile(extensions, serverExtensions(addresses)),
  ]);
  await runTool(
    openssl,
    [
      ...['x509', '-req', '-in', request, '-CA', files.caFile, '-CAkey', files.caKeyFile],
      ...['-set_serial', serialNumber(), '-days', String(SERVER_DAYS), '-sha256'],
      ...['-extfile', extensions, '-out', files.certFile],
    ],
    options,
  );
  await Promise.all([
    rm(request, { force: true }),
    rm(extensions, { force: true }),
    chmod(files.caKeyFile, 0o600),
    chmod(files.keyFile, 0o600),
  ]);
}
