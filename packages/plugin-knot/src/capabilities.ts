import { can, canAtOnce, cannot, type SignerCapabilities, type ZoneName } from '@chorus/core';
import { bootstrapSignalCapability, withBootstrapSignal } from '@chorus/dns';

/** `bootstrap-signal` with signallingZone set. */
const BOOTSTRAP_SIGNAL_REASON =
  'the signalling zone is written with the updateMethod of the child zones: one TSIG-signed DNS UPDATE (delete the CDS and CDNSKEY RRsets at each _dsboot.<zone>._signal.<ns> name, add the signals) or one knotc zone transaction (zone-get, zone-unset of a present RRset, zone-set); Knot takes CDS/CDNSKEY of any algorithm below the apex and signs them (Knot 3.2.6, Last verified 2026-12-04)';

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
  'bootstrap-signal': bootstrapSignalCapability(undefined, BOOTSTRAP_SIGNAL_REASON),
  'cds-import-foreign': can(
    "with dnskey-management: incremental, foreign CDS/CDNSKEY added by DNS UPDATE are merged with Knot's own and signed by its KSK. The merged RRset takes the foreign TTL instead of Knot's TTL 0 and keeps it after the foreign records are withdrawn (Knot 3.2.6, Last verified 2026-11-22)",
    'https://www.knot-dns.cz/docs/3.2/html/reference.html#dnskey-management',
  ),
  'concurrent-changes': canAtOnce(
    4,
    "knotd applies each zone's UPDATE or control-socket transaction on its own, but the control socket takes one knotc command at a time; more zones at once only queue there",
  ),
  'content-read': can(
    'knotc zone-read ZONE prints every record knotd holds for the zone, DNSSEC records included, one per line in presentation format (Knot 3.2.6, Last verified 2026-12-03)',
    'https://www.knot-dns.cz/docs/3.2/html/man_knotc.html',
  ),
  'csync-publish': can(
    'DNS UPDATE (or knotc) of the apex CSYNC record; Knot signs it with its ZSK (Knot 3.2.6, Last verified 2026-11-22)',
  ),
  'algorithm-roll': cannot(
    'a group algorithm rollover (standards §7.6) is not implemented in Chorus yet; Knot would roll its own algorithm when the policy algorithm changes, on its own timing, which Chorus does not coordinate',
  ),
  'dnskey-import-foreign': can(
    'DNS UPDATE of single DNSKEY records with dnskey-management: incremental; Knot signs the DNSKEY RRset with its own KSK. With the default "full" Knot answers NOERROR and drops them, so checkZone refuses it (Knot 3.2.6, Last verified 2026-11-22)',
    'https://www.knot-dns.cz/docs/3.2/html/reference.html#dnskey-management',
  ),
  'key-hold-published': cannot(
    "Knot's automatic policy activates a successor ZSK dnskey-ttl + propagation-delay after publishing it and removes the predecessor by itself, so a roll is server-timed: keyRoller.rolloverTiming reports that interval and Chorus refuses a group whose DNSKEY wait is longer. The exception is a model-1 zone (offline-ksk: on, manual: on): there the roller holds each ZSK with explicit keymgr timers (generate publish=+0 active=+5y, then set active, retire with remove=+5y, then remove) and reports held; an unset active timer Knot fills in itself (dnskey-ttl + propagation-delay after publication, measured on 3.2.6, Last verified 2026-12-05)",
    'https://www.knot-dns.cz/docs/3.2/html/reference.html#propagation-delay',
  ),
  'key-list': can(
    'keymgr ZONE list -j reads the KASP database: roles from the ksk/zsk flags (both: CSK), state from the timers; import-pub (public-only) keys are not own keys and are left out',
    'https://www.knot-dns.cz/docs/3.2/html/man_keymgr.html',
  ),
  'key-roll': can(
    'knotc zone-key-rollover ZONE zsk|ksk (ksk for a CSK) starts a roll that the automatic policy then times: the new ZSK is published at once and signs after dnskey-ttl + propagation-delay, the old one leaves DNSKEY propagation-delay + zone-max-ttl later (40 s and 40 s with 30 + 10 + 30); a new KSK waits in ready for zone-ksk-submitted. Knot ignores the command while another roll runs, so startRoll refuses it first (Knot 3.2.6, Last verified 2026-12-02)',
    'https://www.knot-dns.cz/docs/3.2/html/man_knotc.html',
  ),
  'own-cds-publish': can(
    'with cds-cdnskey-publish: always (checkZone requires it) Knot publishes CDS/CDNSKEY for its own KSK at once, with TTL 0, and keeps them through zone-ksk-submitted (Knot 3.2.6, Last verified 2026-11-22)',
    'https://www.knot-dns.cz/docs/3.2/html/reference.html#cds-cdnskey-publish',
  ),
  'presigned-dnskey': can(
    'with a policy of offline-ksk: on, keymgr pregenerate and generate-ksr list the ZSKs Knot will sign with (plannedZsks), and keymgr import-skr loads the owner-signed DNSKEY RRsets, checking every RRSIG; knotc zone-sign then serves them. The plugin refuses a snapshot without a ZSK Knot signs with at its time (Knot 3.2.6, Last verified 2026-12-05)',
    'https://www.knot-dns.cz/docs/3.2/html/configuration.html#offline-ksk',
  ),
};

/** The capabilities of a signer with these signalling zones (`bootstrap-signal` can with any). */
export function knotCapabilitiesFor(
  signallingZones: readonly ZoneName[] | undefined,
): SignerCapabilities {
  return withBootstrapSignal(knotCapabilities, signallingZones, BOOTSTRAP_SIGNAL_REASON);
}
