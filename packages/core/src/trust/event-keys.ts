import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

/**
 * Ed25519 event keys. A public key travels as its 32 raw bytes in base64url (43 characters), the
 * form trust files and `trust-changed` events use; the signature over an event is base64url too.
 */

/** Domain separation: an event signature can never be mistaken for any other Ed25519 signature. */
const SIGNING_CONTEXT = 'chorus-event-v1\n';

/** What every signed event carries: the signer's public key and the signature over the rest. */
export interface EventSignature {
  /** The author's Ed25519 public key, base64url (raw 32 bytes). */
  keyId: string;
  /** Ed25519 over `chorus-event-v1\n` + the RFC 8785 form of the event without `signature`. */
  value: string;
}

/** The fields signing adds to an event. */
export interface SignedFields {
  /** Unique per event (a UUID). */
  id: string;
  /** The stream version the event was written for: a copy at another position is a replay. */
  streamVersion: number;
  signature: EventSignature;
}

/** A private key ready to sign, with its public key in the wire form. */
export interface EventSigningKey {
  privateKey: KeyObject;
  publicKey: string;
}

const PUBLIC_KEY = /^[A-Za-z0-9_-]{43}$/;

/** True when `text` looks like an Ed25519 public key in base64url (43 characters). */
export function isEventPublicKey(text: unknown): text is string {
  return typeof text === 'string' && PUBLIC_KEY.test(text);
}

/** A new Ed25519 key pair; the private key as PKCS #8 PEM, for a 0600 file. */
export function generateEventKey(): { privateKeyPem: string; publicKey: string } {
  const { privateKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKeyText(privateKey),
  };
}

/** Reads a PKCS #8 PEM Ed25519 private key. Throws a TypeError naming no key material. */
export function eventSigningKey(privateKeyPem: string): EventSigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(privateKeyPem);
  } catch {
    throw new TypeError('not a PEM private key');
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new TypeError(`an ${privateKey.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
  return { privateKey, publicKey: publicKeyText(privateKey) };
}

function publicKeyText(privateKey: KeyObject): string {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  return String(jwk.x);
}

function signingInput(event: object): Buffer {
  const unsigned: Record<string, unknown> = { ...event };
  delete unsigned.signature;
  return Buffer.from(SIGNING_CONTEXT + canonicalJson(unsigned), 'utf8');
}

/** The event with its id, stream version and signature (any earlier signature is replaced). */
export function signEvent<E extends object>(
  event: E,
  key: EventSigningKey,
  fields: { id: string; streamVersion: number },
): E & SignedFields {
  const unsigned = { ...event, id: fields.id, streamVersion: fields.streamVersion };
  const input = signingInput(unsigned);
  const value = sign(null, input, key.privateKey).toString('base64url');
  // Read back later (the author's own fold), the very same bytes need no verification.
  rememberValid(value, bindingOf(key.publicKey, input));
  return { ...unsigned, signature: { keyId: key.publicKey, value } };
}

/** Public keys in KeyObject form: a group has a handful, read for every event. */
const publicKeys = new Map<string, KeyObject>();
const MAX_PUBLIC_KEYS = 1000;

function publicKeyObject(keyId: string): KeyObject {
  let key = publicKeys.get(keyId);
  if (!key) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: keyId }, format: 'jwk' });
    if (publicKeys.size >= MAX_PUBLIC_KEYS) publicKeys.clear();
    publicKeys.set(keyId, key);
  }
  return key;
}

/**
 * Signatures seen valid, each bound to the SHA-256 of the key and the exact signed bytes: the
 * same event is verified by the subscription and again by the fold, and a cache hit needs the
 * very bytes that verified. Bounded; the oldest entries go first.
 */
const validSignatures = new Map<string, string>();
const MAX_VALID_SIGNATURES = 20_000;

function bindingOf(keyId: string, input: Buffer): string {
  return createHash('sha256').update(keyId).update(input).digest('base64url');
}

function rememberValid(value: string, binding: string): void {
  if (validSignatures.size >= MAX_VALID_SIGNATURES)
    validSignatures.delete(validSignatures.keys().next().value!);
  validSignatures.set(value, binding);
}

/** True when the event's signature verifies under the key it names. Never throws. */
export function hasValidSignature(event: object): boolean {
  const signature = (event as { signature?: Partial<EventSignature> }).signature;
  if (!isEventPublicKey(signature?.keyId) || typeof signature.value !== 'string') return false;
  try {
    const input = signingInput(event);
    const binding = bindingOf(signature.keyId, input);
    if (validSignatures.get(signature.value) === binding) return true;
    const valid = verify(
      null,
      input,
      publicKeyObject(signature.keyId),
      Buffer.from(signature.value, 'base64url'),
    );
    if (valid) rememberValid(signature.value, binding);
    return valid;
  } catch {
    return false;
  }
}
