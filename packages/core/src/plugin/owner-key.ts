import type { DnskeyData } from '../dns/types.js';
import type { CallOptions } from './signer.js';

/**
 * Model 1 (RFC 8901 §2.1): the zone owner's KSK, which signs the one DNSKEY RRset every provider
 * serves. The private key stays where it is kept (a 0600 PKCS#8 file, or an HSM through
 * PKCS#11): only `sign` uses it, and no implementation hands it out, logs it or puts it in an
 * event.
 */
export interface OwnerKey {
  /** Where the key is kept, for messages: `file /etc/chorus/ksk.pem`, `pkcs11 token owner id 01`. */
  readonly description: string;
  /** The public key as a DNSKEY (flags 257: zone key, secure entry point). */
  readonly dnskey: DnskeyData;
  /**
   * Signs `data` (RFC 4034 §3.1.8.1: the RRSIG rdata without its signature, then the RRset in
   * canonical form) with the DNSKEY's algorithm; the signature as an RRSIG carries it.
   */
  sign(data: Buffer, options?: CallOptions): Promise<Buffer>;
  /** Lets go of the key (an HSM session); the key cannot sign afterwards. */
  close(): Promise<void>;
}
