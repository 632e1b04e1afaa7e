import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import {
  ConfigError,
  eventSigningKey,
  generateEventKey,
  isEventPublicKey,
  type EventSigningKey,
  type TrustAnchor,
} from '@chorus/core';

/**
 * Event keys and trust files on disk. A private key is a PKCS #8 PEM file that only its owner may
 * read (0600); a trust file is JSON naming public keys by principal id:
 * `{ "operators": { "alice": "<base64url>" }, "sidecars": { "bind": "…" }, "observers": {} }`.
 */

function refuse(key: string, problem: string, source: string): never {
  throw new ConfigError({ key, problem, source });
}

/** Reads a private event key; refuses a file that group or others may read. Never shows key material. */
export function loadEventKey(file: string, key = 'eventKeyFile'): EventSigningKey {
  let mode: number;
  let pem: string;
  try {
    mode = statSync(file).mode;
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    return refuse(
      key,
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      file,
    );
  }
  if ((mode & 0o077) !== 0)
    refuse(
      key,
      `${file} is readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`,
      file,
    );
  try {
    return eventSigningKey(pem);
  } catch (error) {
    return refuse(key, `${file} holds no Ed25519 private key (${(error as Error).message})`, file);
  }
}

/** Writes a new key pair: the private key to `file` (0600, never overwritten). Returns the public key. */
export function createEventKeyFile(file: string): string {
  const { privateKeyPem, publicKey } = generateEventKey();
  writeFileSync(file, privateKeyPem, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return publicKey;
}

const GROUPS = ['operators', 'sidecars', 'observers'] as const;

/** Validates a trust anchor (from a trust file or inline configuration). */
export function parseTrustAnchor(raw: unknown, source: string, key = 'trust'): TrustAnchor {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    refuse(
      key,
      'must be an object with "operators" (and optionally "sidecars", "observers")',
      source,
    );
  const entries = raw as Record<string, unknown>;
  const unknown = Object.keys(entries).filter(
    (name) => !(GROUPS as readonly string[]).includes(name),
  );
  if (unknown.length > 0)
    refuse(`${key}.${unknown[0]}`, `unknown key; expected ${GROUPS.join(', ')}`, source);
  const anchor: TrustAnchor = { operators: {} };
  for (const group of GROUPS) {
    const keys = entries[group] ?? {};
    if (typeof keys !== 'object' || keys === null || Array.isArray(keys))
      refuse(`${key}.${group}`, 'must map ids to public keys', source);
    for (const [id, publicKey] of Object.entries(keys))
      if (!isEventPublicKey(publicKey))
        refuse(
          `${key}.${group}.${id}`,
          'is not an Ed25519 public key (43 base64url characters)',
          source,
        );
    anchor[group] = keys as Record<string, string>;
  }
  if (Object.keys(anchor.operators).length === 0)
    refuse(
      `${key}.operators`,
      'names no operator: nobody could define a zone or request a process',
      source,
    );
  return anchor;
}

/** Reads and validates a trust file. */
export function loadTrustFile(file: string, key = 'trust.file'): TrustAnchor {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return refuse(key, code ? `cannot read ${file}: ${code}` : `${file} is not valid JSON`, file);
  }
  return parseTrustAnchor(raw, file, key);
}
