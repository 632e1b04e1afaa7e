/**
 * Model 1 in the lab (`up --owner`): the zone owner's KSK, made in a SoftHSM2 token of the lab's
 * own, signs the one DNSKEY RRset that the Knot signer serves for `owner.test.` through
 * offline-KSK and, when the lab runs the NS1 fake, NS1 serves presigned (its ZSK in the set).
 * The token and its PIN file stay in the lab directory (0700 and 0600); the private key never
 * leaves the token.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { OwnerKey, PlannedZsks, SignedDnskeySnapshot } from '@chorus/core';
import { computeDs, formatRdata } from '@chorus/dns';
import { generatePkcs11OwnerKey, openPkcs11OwnerKey, signDnskeySnapshots } from '@chorus/owner';
import { runTool } from './commands.js';
import { NAMESERVER_NAME, OWNER_ZONE, type LabConfig } from './config.js';
import { writeSecretFile } from './secrets.js';
import type { LabOwner, ProviderId, ServerId } from './types.js';

/** Debian 12's SoftHSM2 PKCS#11 module (package softhsm2). */
export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const TOKEN_LABEL = 'chorus-owner';
const KEY_ID = '01';
/** How long the lab's first owner signatures last: the lab's life, at most. */
const FIRST_SIGNATURE_SECONDS = 30 * 86_400;

/** The provider fakes that serve the model-1 zone too when the lab runs them (presigned). */
export const OWNER_PROVIDERS: readonly ProviderId[] = ['ns1'];

type OwnerConfig = Pick<LabConfig, 'owner' | 'providers'>;

/** The servers of the model-1 zone: Knot, and each running provider of OWNER_PROVIDERS. */
export function ownerServers(config: OwnerConfig): ServerId[] {
  if (!config.owner) return [];
  return ['knot', ...OWNER_PROVIDERS.filter((id) => config.providers.includes(id))];
}

/** The model-1 zone's apex NS names: every server's, the same at each. */
export function ownerNameservers(config: OwnerConfig): string[] {
  return ownerServers(config).map((id) => NAMESERVER_NAME[id]);
}

/** The owner's entry in the lab status, or undefined without `owner`. */
export function planOwner(
  config: Pick<LabConfig, 'owner' | 'directory' | 'providers'>,
): LabOwner | undefined {
  if (!config.owner) return undefined;
  const directory = path.join(config.directory, 'owner');
  return {
    zone: OWNER_ZONE,
    servers: ownerServers(config),
    directory,
    hsm: {
      module: SOFTHSM_MODULE,
      tokenLabel: TOKEN_LABEL,
      keyId: KEY_ID,
      pinFile: path.join(directory, 'user-pin'),
      env: { SOFTHSM2_CONF: path.join(directory, 'softhsm2.conf') },
    },
  };
}

/** A fresh token with the owner's KSK (P-256, made inside it); records its DNSKEY and DS in `owner`. */
export async function createOwnerKey(owner: LabOwner, softhsmUtil: string): Promise<OwnerKey> {
  const tokens = path.join(owner.directory, 'tokens');
  await mkdir(tokens, { recursive: true, mode: 0o700 });
  await chmod(owner.directory, 0o700);
  await writeFile(
    owner.hsm.env.SOFTHSM2_CONF,
    `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`,
  );
  const pin = randomBytes(12).toString('base64url');
  await writeSecretFile(owner.hsm.pinFile, `${pin}\n`);
  const soPin = randomBytes(12).toString('base64url');
  await runTool(
    softhsmUtil,
    ['--init-token', '--free', '--label', TOKEN_LABEL, '--pin', pin, '--so-pin', soPin],
    { env: owner.hsm.env, secrets: [pin, soPin] },
  );
  generatePkcs11OwnerKey(owner.hsm, 'owner-ksk');
  const key = await openPkcs11OwnerKey(owner.hsm);
  owner.dnskey = formatRdata({ type: 'DNSKEY', data: key.dnskey });
  owner.ds = formatRdata({ type: 'DS', data: computeDs(owner.zone, key.dnskey, 2) });
  return key;
}

/** The owner's first DNSKEY snapshots over every server's planned ZSKs, by server id. */
export function signFirstSnapshots(
  key: OwnerKey,
  owner: LabOwner,
  ttl: number,
  providers: Readonly<Record<string, readonly PlannedZsks[]>>,
): Promise<SignedDnskeySnapshot[]> {
  return signDnskeySnapshots([key], {
    zone: owner.zone,
    ttl,
    providers,
    now: Math.floor(Date.now() / 1000),
    validity: {
      inceptionSlackSeconds: 3600,
      overlapSeconds: ttl * 4,
      lastSnapshotSeconds: FIRST_SIGNATURE_SECONDS,
    },
  });
}

/**
 * The owner's one first DNSKEY RRset: the signer that plans its ZSKs at prepare (Knot) asks for
 * it with its plan; the providers' ZSKs, known already, go in too. Kept for the providers' PUT.
 */
export interface OwnerFirstSigning {
  status: LabOwner;
  signFirst(server: ServerId, planned: readonly PlannedZsks[]): Promise<SignedDnskeySnapshot[]>;
  /** What `signFirst` signed, once it has. */
  snapshots?: SignedDnskeySnapshot[];
}

export function ownerFirstSigning(
  key: OwnerKey,
  owner: LabOwner,
  ttl: number,
  providers: Readonly<Record<string, readonly PlannedZsks[]>>,
): OwnerFirstSigning {
  const signing: OwnerFirstSigning = {
    status: owner,
    async signFirst(server, planned) {
      const all = { ...providers, [server]: planned };
      signing.snapshots = await signFirstSnapshots(key, owner, ttl, all);
      return signing.snapshots;
    },
  };
  return signing;
}
