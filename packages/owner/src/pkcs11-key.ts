/**
 * An owner KSK in an HSM, through PKCS#11 with `pkcs11js` (SoftHSM2 in the lab and the tests):
 * the key pair is made and kept in the token; only a hash goes in and a signature comes out. The
 * user PIN is read from a named environment variable or a 0600 file at open, handed to C_Login and not kept; no
 * message shows it. `pkcs11js` is a native addon, loaded only when an HSM key is opened.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { DnssecAlgorithm, type OwnerKey } from '@chorus/core';
import type * as Pkcs11Module from 'pkcs11js';
import type { PKCS11 } from 'pkcs11js';
import { OwnerKeyError } from './errors.js';
import { KSK_FLAGS } from './public-key.js';

export interface Pkcs11OwnerKeyConfig {
  /** The PKCS#11 module, e.g. `/usr/lib/softhsm/libsofthsm2.so`. */
  module: string;
  tokenLabel: string;
  /** The key pair's CKA_ID, in hex. */
  keyId: string;
  /** The environment variable that holds the token's user PIN (never the PIN itself). */
  pinEnv?: string;
  /** Or a file (mode 0600 or stricter) that holds it, e.g. a systemd credential. */
  pinFile?: string;
  /** Set in this process's environment before the module loads, e.g. `{ SOFTHSM2_CONF: … }`. */
  env?: Record<string, string>;
}

type Pkcs11Api = typeof Pkcs11Module;
const requireAddon = createRequire(import.meta.url);
let api: Pkcs11Api | undefined;

function pkcs11(): Pkcs11Api {
  try {
    api ??= requireAddon('pkcs11js') as Pkcs11Api;
    return api;
  } catch (error) {
    throw new OwnerKeyError(
      `the PKCS#11 binding pkcs11js could not be loaded (${(error as Error).message}); its native addon builds at install with python3, make and g++`,
      { cause: error },
    );
  }
}

/** DER of the P-256 curve's OID (1.2.840.10045.3.1.7), as CKA_EC_PARAMS holds it. */
const P256_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex');

/**
 * One initialised library per module path, with the environment it read at C_Initialize (e.g.
 * SoftHSM2's SOFTHSM2_CONF, where its tokens are). Another environment re-initialises it.
 */
const libraries = new Map<string, { library: PKCS11; env: string }>();

function library(config: Pkcs11OwnerKeyConfig): PKCS11 {
  const env = JSON.stringify(config.env ?? {});
  const known = libraries.get(config.module);
  if (known?.env === env) return known.library;
  const { PKCS11: Library, CKR_CRYPTOKI_ALREADY_INITIALIZED } = pkcs11();
  if (known) finalize(known.library);
  Object.assign(process.env, config.env);
  const loaded = known?.library ?? new Library();
  if (!known) loaded.load(config.module);
  try {
    loaded.C_Initialize();
  } catch (error) {
    if ((error as { code?: number }).code !== CKR_CRYPTOKI_ALREADY_INITIALIZED) throw error;
  }
  libraries.set(config.module, { library: loaded, env });
  return loaded;
}

/** C_Finalize, which closes the library's sessions; one never initialised is left as it is. */
function finalize(loaded: PKCS11): void {
  try {
    loaded.C_Finalize();
  } catch {
    // CKR_CRYPTOKI_NOT_INITIALIZED: nothing to finalise.
  }
}

/** The slot whose token has `label`. */
function slotOf(library: PKCS11, label: string) {
  const slot = library
    .C_GetSlotList(true)
    .find((candidate) => library.C_GetTokenInfo(candidate).label.trim() === label);
  if (!slot) throw new OwnerKeyError(`no PKCS#11 token labelled ${label}`);
  return slot;
}

/** The uncompressed P-256 point in CKA_EC_POINT (a DER OCTET STRING around 04‖X‖Y) as X‖Y. */
function pointOf(value: Buffer, where: string): Buffer {
  const point =
    value.length === 67 && value[0] === 0x04 && value[1] === 65 ? value.subarray(2) : value;
  if (point.length !== 65 || point[0] !== 0x04)
    throw new OwnerKeyError(`${where} holds no uncompressed P-256 public point`);
  return point.subarray(1);
}

/** The user PIN from the configured file or environment variable; never part of a message. */
function userPin(config: Pkcs11OwnerKeyConfig, description: string): string {
  if ((config.pinEnv === undefined) === (config.pinFile === undefined))
    throw new OwnerKeyError(`${description}: give exactly one of pinEnv and pinFile`);
  if (config.pinEnv !== undefined) {
    const pin = process.env[config.pinEnv];
    if (!pin)
      throw new OwnerKeyError(
        `${description}: set ${config.pinEnv} to the token's user PIN in the environment`,
      );
    return pin;
  }
  const file = config.pinFile!;
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (error) {
    throw new OwnerKeyError(`${description}: cannot read the PIN file ${file}`, { cause: error });
  }
  if ((mode & 0o077) !== 0)
    throw new OwnerKeyError(
      `${description}: the PIN file ${file} is readable by others (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${file}`,
    );
  const pin = readFileSync(file, 'utf8').trim();
  if (!pin) throw new OwnerKeyError(`${description}: the PIN file ${file} is empty`);
  return pin;
}

/** Opens the key pair `keyId` of the token: its public key, and a session logged in for signing. */
export function openPkcs11OwnerKey(config: Pkcs11OwnerKeyConfig): Promise<OwnerKey> {
  const description = `pkcs11 token ${config.tokenLabel} id ${config.keyId}`;
  try {
    return Promise.resolve(open(config, description, userPin(config, description)));
  } catch (error) {
    if (OwnerKeyError.isInstance(error)) return Promise.reject(error);
    return Promise.reject(
      new OwnerKeyError(`${description}: ${(error as Error).message}`, { cause: error }),
    );
  }
}

function open(config: Pkcs11OwnerKeyConfig, description: string, pin: string): OwnerKey {
  const constants = pkcs11();
  const hsm = library(config);
  const session = hsm.C_OpenSession(
    slotOf(hsm, config.tokenLabel),
    constants.CKF_SERIAL_SESSION | constants.CKF_RW_SESSION,
  );
  const find = (objectClass: number) => {
    hsm.C_FindObjectsInit(session, [
      { type: constants.CKA_CLASS, value: objectClass },
      { type: constants.CKA_ID, value: Buffer.from(config.keyId, 'hex') },
    ]);
    const found = hsm.C_FindObjects(session);
    hsm.C_FindObjectsFinal(session);
    if (!found) throw new OwnerKeyError(`${description}: no such key in the token`);
    return found;
  };
  try {
    hsm.C_Login(session, constants.CKU_USER, pin);
  } catch (error) {
    if ((error as { code?: number }).code !== constants.CKR_USER_ALREADY_LOGGED_IN) throw error;
  }
  const [params, point] = hsm.C_GetAttributeValue(session, find(constants.CKO_PUBLIC_KEY), [
    { type: constants.CKA_EC_PARAMS },
    { type: constants.CKA_EC_POINT },
  ]);
  if (!params?.value.equals(P256_PARAMS))
    throw new OwnerKeyError(
      `${description} is not an ECDSA P-256 key; through PKCS#11 Chorus signs with algorithm 13 only`,
    );
  const publicKey = pointOf(point!.value, description).toString('base64');
  const privateKey = find(constants.CKO_PRIVATE_KEY);
  // One operation at a time per session: signatures queue.
  let queue: Promise<unknown> = Promise.resolve();
  const signOnce = (data: Buffer) =>
    new Promise<Buffer>((resolve, reject) => {
      hsm.C_SignInit(session, { mechanism: constants.CKM_ECDSA }, privateKey);
      const hash = createHash('sha256').update(data).digest();
      hsm.C_Sign(session, hash, Buffer.alloc(64), (error, signature) =>
        error
          ? reject(
              new OwnerKeyError(`${description} refused to sign: ${error.message}`, {
                cause: error,
              }),
            )
          : resolve(signature),
      );
    });
  return {
    description,
    dnskey: {
      flags: KSK_FLAGS,
      protocol: 3,
      algorithm: DnssecAlgorithm.ECDSAP256SHA256,
      publicKey,
    },
    sign: (data) => {
      const signed = queue.then(() => signOnce(data));
      queue = signed.catch(() => undefined);
      return signed;
    },
    close: () => {
      hsm.C_CloseSession(session);
      return Promise.resolve();
    },
  };
}

/**
 * Makes a P-256 key pair inside the token (sensitive, never extractable, for signing only) with
 * `keyId` and `label`; returns nothing of the private key.
 */
export function generatePkcs11OwnerKey(config: Pkcs11OwnerKeyConfig, label: string): void {
  const pin = userPin(config, `pkcs11 token ${config.tokenLabel}`);
  const constants = pkcs11();
  const hsm = library(config);
  const session = hsm.C_OpenSession(
    slotOf(hsm, config.tokenLabel),
    constants.CKF_SERIAL_SESSION | constants.CKF_RW_SESSION,
  );
  try {
    hsm.C_Login(session, constants.CKU_USER, pin);
    const id = Buffer.from(config.keyId, 'hex');
    const common = [
      { type: constants.CKA_TOKEN, value: true },
      { type: constants.CKA_ID, value: id },
      { type: constants.CKA_LABEL, value: label },
    ];
    hsm.C_GenerateKeyPair(
      session,
      { mechanism: constants.CKM_EC_KEY_PAIR_GEN },
      [
        ...common,
        { type: constants.CKA_VERIFY, value: true },
        { type: constants.CKA_EC_PARAMS, value: P256_PARAMS },
      ],
      [
        ...common,
        { type: constants.CKA_SIGN, value: true },
        { type: constants.CKA_PRIVATE, value: true },
        { type: constants.CKA_SENSITIVE, value: true },
        { type: constants.CKA_EXTRACTABLE, value: false },
      ],
    );
  } finally {
    hsm.C_CloseSession(session);
  }
}
