import { encodeRdata } from '../rdata.js';
import type { DnskeyData } from '@chorus/core';

/** RSA/MD5 (algorithm 1) keys use a different key tag rule (RFC 4034 Appendix B.1). */
const ALGORITHM_RSAMD5 = 1;

/** The DNSKEY rdata on the wire: flags, protocol, algorithm, public key. */
export function dnskeyRdata(key: DnskeyData): Buffer {
  return encodeRdata({ type: 'DNSKEY', data: key });
}

/**
 * The key tag of a DNSKEY (RFC 4034 Appendix B): the one's-complement-style 16-bit sum of the
 * rdata, or for algorithm 1 the 16 bits just above the last octet of the modulus.
 * Throws DnsWireError when the public key is not valid base64.
 */
export function keyTag(key: DnskeyData): number {
  const rdata = dnskeyRdata(key);
  if (key.algorithm === ALGORITHM_RSAMD5) {
    // The public key ends with the modulus; take its third- and second-to-last octets.
    if (rdata.length < 7) return 0;
    return rdata.readUInt16BE(rdata.length - 3);
  }
  let sum = 0;
  for (let index = 0; index < rdata.length; index += 1) {
    const byte = rdata[index]!;
    sum += index % 2 === 0 ? byte << 8 : byte;
  }
  sum += (sum >>> 16) & 0xffff;
  return sum & 0xffff;
}
