/**
 * The DNSSEC checks a parental agent makes on one child nameserver's answers (pure functions):
 * the chain current DS → that server's DNSKEY RRset → RRSIG over CDS/CDNSKEY/CSYNC/NS/A/AAAA,
 * and whether a prospective DS set still authenticates a server's DNSKEY RRset (RFC 7344 §4.1
 * "Continuity").
 */
import { createHash } from 'node:crypto';
import { DNSKEY_FLAG_REVOKE, type DnskeyData, type DsData, type RRset } from '@chorus/core';
import {
  dnskeyRdata,
  dsMatchesKey,
  keyTag,
  namesEqual,
  nameToWire,
  verifyRrsig,
} from '@chorus/dns';

export type RrsetValidationResult = { ok: true } | { ok: false; reason: string };

/**
 * True when `ds` (a DS or CDS at `owner`) refers to `key`. Digest types 2 and 4 through core's
 * dsMatchesKey; digest type 1 (SHA-1, RFC 3658) is recognised here so that a legacy CDS is
 * matched to its key, even though Chorus never publishes one.
 */
export function dsReferencesKey(owner: string, ds: DsData, key: DnskeyData): boolean {
  if (ds.digestType !== 1) return dsMatchesKey(owner, ds, key);
  if (ds.algorithm !== key.algorithm) return false;
  let digest: string;
  try {
    digest = createHash('sha1')
      .update(nameToWire(owner, { lowercase: true }))
      .update(dnskeyRdata(key))
      .digest('hex')
      .toUpperCase();
  } catch {
    return false;
  }
  return keyTag(key) === ds.keyTag && digest === ds.digest.replace(/\s+/g, '').toUpperCase();
}

function signedRrset(rrset: RRset) {
  return { name: rrset.name, type: rrset.type, class: rrset.class, records: rrset.records };
}

/** Keys eligible to verify `signatureKeyTag`: same tag and algorithm, not revoked. */
function candidates(keys: readonly DnskeyData[], tag: number, algorithm: number): DnskeyData[] {
  return keys.filter(
    (key) =>
      key.algorithm === algorithm && (key.flags & DNSKEY_FLAG_REVOKE) === 0 && keyTag(key) === tag,
  );
}

export type DnskeyValidation =
  | { ok: true; /** Keys of the RRset that match a DS and sign the RRset. */ anchors: DnskeyData[] }
  | { ok: false; reason: string };

/**
 * Validates a server's DNSKEY RRset under a DS set: at least one key of the RRset matches a DS
 * and its RRSIG over the whole RRset verifies (RFC 4035 §5.2). All keys of the RRset are then
 * trusted for the zone.
 */
export function validateDnskeyRrset(
  zone: string,
  dnskey: RRset<'DNSKEY'> | null,
  ds: readonly DsData[],
  now: number,
): DnskeyValidation {
  if (!dnskey || dnskey.records.length === 0) return { ok: false, reason: 'no DNSKEY RRset' };
  if (ds.length === 0) return { ok: false, reason: 'no DS to validate against' };
  const referenced = dnskey.records.filter((key) =>
    ds.some((entry) => dsReferencesKey(zone, entry, key)),
  );
  if (referenced.length === 0) {
    return {
      ok: false,
      reason: `no key of the DNSKEY RRset (tags ${dnskey.records.map(keyTag).join(', ')}) matches a DS (tags ${ds.map((entry) => entry.keyTag).join(', ')})`,
    };
  }
  const anchors: DnskeyData[] = [];
  const failures: string[] = [];
  for (const signature of dnskey.signatures) {
    if (!namesEqual(signature.signerName, zone)) continue;
    for (const key of candidates(referenced, signature.keyTag, signature.algorithm)) {
      const result = verifyRrsig({ rrset: signedRrset(dnskey), signature, key, now });
      if (result.ok) {
        if (!anchors.includes(key)) anchors.push(key);
      } else {
        failures.push(`RRSIG by ${signature.keyTag}: ${result.reason}`);
      }
    }
  }
  if (anchors.length > 0) return { ok: true, anchors };
  return {
    ok: false,
    reason:
      failures.length > 0
        ? `no RRSIG over the DNSKEY RRset by a key with a DS verifies (${failures.join('; ')})`
        : `the DNSKEY RRset is not signed by a key with a DS (key tags with DS: ${referenced.map(keyTag).join(', ')})`,
  };
}

/** Validates an RRset of the zone with any of `keys` (RFC 4035 §5.3). */
export function validateRrset(
  zone: string,
  rrset: RRset,
  keys: readonly DnskeyData[],
  now: number,
): RrsetValidationResult {
  if (rrset.signatures.length === 0) return { ok: false, reason: 'no RRSIG (unsigned)' };
  const failures: string[] = [];
  for (const signature of rrset.signatures) {
    if (!namesEqual(signature.signerName, zone)) {
      failures.push(`RRSIG by ${signature.keyTag} has signer ${signature.signerName}`);
      continue;
    }
    const eligible = candidates(keys, signature.keyTag, signature.algorithm);
    if (eligible.length === 0) {
      failures.push(`RRSIG by ${signature.keyTag}: no such key in the validated DNSKEY RRset`);
      continue;
    }
    for (const key of eligible) {
      const result = verifyRrsig({ rrset: signedRrset(rrset), signature, key, now });
      if (result.ok) return { ok: true };
      failures.push(`RRSIG by ${signature.keyTag}: ${result.reason}`);
    }
  }
  return { ok: false, reason: `no RRSIG verifies (${failures.join('; ')})` };
}
