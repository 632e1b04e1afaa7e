import { can, type SignerCapabilities } from '@chorus/core';

/**
 * What the Knot 3.2 plugin can do, each with the reason. Empirical statements were measured on
 * Knot 3.2.6 (Debian 12) in the Chorus lab. Last verified 2026-11-22.
 *
 * Why DNS UPDATE is the default change path, and not knotc zone transactions (measured on
 * Knot 3.2.6, Last verified 2026-11-22):
 * - A DNS UPDATE is one atomic message, and RFC 2136 makes it idempotent: adding an existing RR
 *   or deleting an absent one is a no-op, so a retried or re-applied plan is harmless.
 * - `knotc zone-set` of an RR that exists (or `zone-unset` of one that does not) fails with
 *   "such record already exists in zone" / "no such record in zone found", and Knot then EMPTIES
 *   the open transaction: every earlier change in it is dropped, yet the following `zone-commit`
 *   prints OK. The knotc path therefore has to read the transaction (`zone-get`) and set/unset
 *   only the differences, which this plugin does.
 * - An open knotc transaction blocks every DNS UPDATE to the zone (the UPDATE got no answer for
 *   12 s until `zone-abort`), and a second `zone-begin` fails with "too many transactions". A
 *   sidecar killed between zone-begin and zone-commit wedges the zone until someone aborts it.
 * - A DNS UPDATE needs only the TSIG key and the DNS port; knotc needs the control socket.
 * - Speed, same 6-change plan in the lab (2-core VM, median of 7, including the configuration
 *   check and the keymgr reads): DNS UPDATE ≈145 ms (the UPDATE itself ≈10 ms; once in 14 runs
 *   Knot took ≈0.9 s to answer), knotc ≈330 ms (one knotc process per record, ≈20-50 ms each).
 * Both paths are silently ignored under `dnskey-management: full`, which checkZone refuses.
 * `updateMethod: 'knotc'` remains available (and passes the conformance suite) for set-ups
 * where no TSIG key may be configured.
 */
export const knotCapabilities: SignerCapabilities = {
  'apex-ns-manage': can(
    'DNS UPDATE (or knotc zone-set/zone-unset) of single apex NS records; Knot re-signs the NS RRset with its ZSK',
  ),
  'cds-import-foreign': can(
    "with dnskey-management: incremental, foreign CDS/CDNSKEY added by DNS UPDATE are merged with Knot's own and signed by its KSK. The merged RRset takes the foreign TTL instead of Knot's TTL 0 and keeps it after the foreign records are withdrawn (Knot 3.2.6, Last verified 2026-11-22)",
    'https://www.knot-dns.cz/docs/3.2/html/reference.html#dnskey-management',
  ),
  'csync-publish': can(
    'DNS UPDATE (or knotc) of the apex CSYNC record; Knot signs it with its ZSK (Knot 3.2.6, Last verified 2026-11-22)',
  ),
  'dnskey-import-foreign': can(
    'DNS UPDATE of single DNSKEY records with dnskey-management: incremental; Knot signs the DNSKEY RRset with its own KSK. With the default "full" Knot answers NOERROR and drops them, so checkZone refuses it (Knot 3.2.6, Last verified 2026-11-22)',
    'https://www.knot-dns.cz/docs/3.2/html/reference.html#dnskey-management',
  ),
  'key-list': can(
    'keymgr ZONE list -j reads the KASP database: roles from the ksk/zsk flags (both: CSK), state from the timers; import-pub (public-only) keys are not own keys and are left out',
    'https://www.knot-dns.cz/docs/3.2/html/man_keymgr.html',
  ),
  'own-cds-publish': can(
    'with cds-cdnskey-publish: always (checkZone requires it) Knot publishes CDS/CDNSKEY for its own KSK at once, with TTL 0, and keeps them through zone-ksk-submitted (Knot 3.2.6, Last verified 2026-11-22)',
    'https://www.knot-dns.cz/docs/3.2/html/reference.html#cds-cdnskey-publish',
  ),
};
