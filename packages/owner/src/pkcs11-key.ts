/**
 * An owner KSK in an HSM, reached through PKCS#11 with OpenSC's `pkcs11-tool` (Debian `opensc`):
 * the key pair is made and kept in the token, and only a hash goes in and a signature comes out.
 * The user PIN is read by the tool from an environment variable (`--pin env:NAME`), so it is on
 * no command line, in no log and in no error.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DnssecAlgorithm, type CallOptions, type OwnerKey } from '@chorus/core';
import { runCommand } from '@chorus/dns';
import { OwnerKeyError } from './errors.js';
import { dnskeyOf } from './public-key.js';

export interface Pkcs11OwnerKeyConfig {
  /** The PKCS#11 module, e.g. `/usr/lib/softhsm/libsofthsm2.so`. */
  module: string;
  tokenLabel: string;
  /** The key pair's CKA_ID, in hex (`pkcs11-tool --id`). */
  keyId: string;
  /** The environment variable that holds the token's user PIN (never the PIN itself). */
  pinEnv: string;
  /** `pkcs11-tool`; default from PATH. */
  tool?: string;
  /** Environment for the module, e.g. `{ SOFTHSM2_CONF: … }`. */
  env?: Record<string, string>;
  timeoutMs?: number;
}

const MISSING_TOOL = 'install opensc (it has pkcs11-tool), or set the owner key tool';

/** Runs pkcs11-tool on the configured module and token; failures become OwnerKeyError. */
async function pkcs11Tool(config: Pkcs11OwnerKeyConfig, args: string[], options: CallOptions) {
  const base = ['--module', config.module, '--token-label', config.tokenLabel];
  try {
    return await runCommand(config.tool ?? 'pkcs11-tool', [...base, ...args], {
      timeoutMs: config.timeoutMs ?? 15_000,
      signal: options.signal,
      ...(config.env ? { env: config.env } : {}),
      missingHint: MISSING_TOOL,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new OwnerKeyError(
      `PKCS#11 token ${config.tokenLabel} (${config.module}) refused: ${message}`,
      { cause: error, isRetryable: /timed out/i.test(message) },
    );
  }
}

/** Runs `use` with a private temporary directory, removed afterwards. */
async function withScratch<T>(use: (directory: string) => Promise<T>): Promise<T> {
  const directory = await mkdtemp(path.join(tmpdir(), 'chorus-owner-'));
  try {
    return await use(directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** Opens the key pair `keyId` of the token: reads its public key, checks the PIN is set. */
export async function openPkcs11OwnerKey(
  config: Pkcs11OwnerKeyConfig,
  options: CallOptions = {},
): Promise<OwnerKey> {
  const description = `pkcs11 token ${config.tokenLabel} id ${config.keyId}`;
  if (!process.env[config.pinEnv])
    throw new OwnerKeyError(
      `${description}: set ${config.pinEnv} to the token's user PIN in the environment`,
    );
  const der = await withScratch(async (directory) => {
    const file = path.join(directory, 'public.der');
    const read = ['--read-object', '--type', 'pubkey', '--id', config.keyId, '-o', file];
    await pkcs11Tool(config, read, options);
    return readFile(file);
  });
  const publicKey = createPublicKey({ key: der, format: 'der', type: 'spki' });
  const dnskey = dnskeyOf(publicKey, description);
  if (dnskey.algorithm !== DnssecAlgorithm.ECDSAP256SHA256)
    throw new OwnerKeyError(
      `${description} is algorithm ${dnskey.algorithm}; through PKCS#11 Chorus signs with ECDSA P-256 (13) only`,
    );
  const sign = (data: Buffer, callOptions: CallOptions = {}) =>
    withScratch(async (directory) => {
      const input = path.join(directory, 'hash');
      const output = path.join(directory, 'signature');
      await writeFile(input, createHash('sha256').update(data).digest(), { mode: 0o600 });
      const args = ['--login', '--pin', `env:${config.pinEnv}`, '--sign', '--mechanism', 'ECDSA'];
      await pkcs11Tool(
        config,
        [...args, '--id', config.keyId, '-i', input, '-o', output],
        callOptions,
      );
      const signature = await readFile(output);
      if (signature.length !== 64)
        throw new OwnerKeyError(
          `${description} made a ${signature.length}-octet signature, not 64`,
        );
      return signature;
    });
  return { description, dnskey, sign };
}
