export { OwnerKeyError } from './errors.js';
export { openFileOwnerKey } from './file-key.js';
export {
  generatePkcs11OwnerKey,
  openPkcs11OwnerKey,
  type Pkcs11OwnerKeyConfig,
} from './pkcs11-key.js';
export { algorithmOf, dnskeyOf, KSK_FLAGS, type OwnerAlgorithm } from './public-key.js';
export { signDnskeyRrset, type DnskeyRrsetToSign } from './sign-dnskey.js';
export {
  signDnskeySnapshots,
  snapshotKeySets,
  type DnskeySetPlan,
  type SignatureValidity,
} from './sign-snapshots.js';
