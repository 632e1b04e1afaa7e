import { can, canAtOnce, cannot, type SignerCapabilities, type ZoneName } from '@chorus/core';
import { bootstrapSignalCapability, withBootstrapSignal } from '@chorus/dns';

// The behaviour below was measured on BIND 9.18.49 (Debian 12) for the Chorus reference notes
// (nameservers.md §2, "Last verified" dates in each reason) and again by this plugin's lab tests.
// Key rolls were measured in the lab (test/lab/key-roll.test.ts) on 2026-12-02.
const ARM_REFERENCE = 'https://bind9.readthedocs.io/en/v9.18.48/reference.html';
const ARM_MANPAGES = 'https://bind9.readthedocs.io/en/v9.18.48/manpages.html';
const ARM_DNSSEC_GUIDE = 'https://bind9.readthedocs.io/en/v9.18.48/dnssec-guide.html';

/** `bootstrap-signal` with signallingZone set. */
const BOOTSTRAP_SIGNAL_REASON =
  'one TSIG-signed DNS UPDATE of the signalling zone (a dynamic dnssec-policy zone, inline-signing no) deletes the CDS and CDNSKEY RRsets at each _dsboot.<zone>._signal.<ns> name and adds the signals; BIND 9.18 takes CDS/CDNSKEY below the apex of any algorithm (its DNSKEY-algorithm check covers the apex only) and signs them. Last verified 2026-12-04 with BIND 9.18.49';

/**
 * What a BIND 9.18 signer can do, on a dynamic zone (allow-update/update-policy) with
 * dnssec-policy and `inline-signing no`; `checkZone` refuses anything else.
 */
export const bindCapabilities: SignerCapabilities = {
  'algorithm-roll': cannot(
    'group algorithm rollover (standards §7.6) is not implemented in Chorus yet: a group keeps one algorithm, and every signer would have to declare this capability',
  ),
  'apex-ns-manage': can(
    'DNS UPDATE (TSIG) adds and deletes single apex NS records. Last verified 2026-11-22 with BIND 9.18.49',
  ),
  'bootstrap-signal': bootstrapSignalCapability(undefined, BOOTSTRAP_SIGNAL_REASON),
  'cds-import-foreign': can(
    'DNS UPDATE (TSIG) of single CDS/CDNSKEY records; BIND signs them with its KSK and keeps them next to its own. BIND 9.18 only checks that each CDS/CDNSKEY algorithm has a DNSKEY of that algorithm, so a whole plan goes in one UPDATE (nameservers.md §2.4). Last verified 2026-11-22 with BIND 9.18.49',
    ARM_DNSSEC_GUIDE,
  ),
  'concurrent-changes': canAtOnce(
    8,
    "named applies each zone's UPDATE in that zone's own task and answers rndc at once; eight zones keep it busy without queuing behind one another (raise it with maxConcurrentChanges for a larger server)",
  ),
  'content-read': can(
    "AXFR from the `server` endpoint, signed with the plugin's TSIG key: the zone's allow-transfer must match the sidecar's address or that key, else BIND answers REFUSED (a SignerConfigurationError naming allow-transfer). Every answer message is TSIG-verified, MACs chained as RFC 8945 §5.3.1 says. At most maxConcurrentTransfers (default 8) at once: beyond BIND's transfers-out (10) it answers SERVFAIL. Last verified 2026-12-04 with BIND 9.18.49",
    ARM_REFERENCE,
  ),
  'csync-publish': can(
    'DNS UPDATE (TSIG) of the CSYNC record; BIND signs it with its ZSK (nameservers.md §2.8). Last verified 2026-11-22 with BIND 9.18.49',
    ARM_REFERENCE,
  ),
  'dnskey-import-foreign': can(
    'DNS UPDATE (TSIG) adds and deletes single DNSKEY records on a dynamic zone without inline-signing; BIND signs the DNSKEY RRset with its own KSK and keeps the keys across restarts (journal). RRset-wide deletes are REFUSED and deletes of its own keys are silently ignored, so only single RRs are sent (nameservers.md §2.2, §2.3). Last verified 2026-11-22 with BIND 9.18.49',
    ARM_MANPAGES,
  ),
  'key-hold-published': cannot(
    'dnssec-policy activates a successor after its own pre-publication interval (dnskey-ttl + publish-safety + zone-propagation-delay) and removes the predecessor on its own schedule; rndc has no way to hold a key published and inactive. Chorus reads that interval (rolloverTiming, server-timed) and refuses a group whose DNSKEY wait it does not cover. Last verified 2026-12-02 with BIND 9.18.49',
    ARM_REFERENCE,
  ),
  'key-list': can(
    'own keys are the `K<zone>+<alg>+<tag>.key` files with a `.private` in the key-directory, cross-checked with `rndc dnssec -status`, which lists only own keys with their roles and states (nameservers.md §2.5, §2.6). Last verified 2026-11-22 with BIND 9.18.49',
    ARM_MANPAGES,
  ),
  'key-roll': can(
    '`rndc dnssec -rollover -key TAG ZONE` starts a roll (rndc exits 0 on "no matching key found", so its answer is parsed); BIND creates and publishes the successor within a second, and startRoll returns it once rndc, the key files and the served DNSKEY RRset show it (nameservers.md §2.5). Last verified 2026-11-22 with BIND 9.18.49',
    ARM_MANPAGES,
  ),
  'own-cds-publish': can(
    "dnssec-policy publishes CDS (SHA-256) and CDNSKEY for its own KSK once the KSK's DS state is rumoured, and deletes copies that others inject before that, so Chorus mirrors them and never injects them (nameservers.md §2.4). Last verified 2026-11-22 with BIND 9.18.49",
    ARM_DNSSEC_GUIDE,
  ),
  'presigned-dnskey': cannot(
    "BIND 9.18 signs its DNSKEY RRset with its own KSK and cannot serve one signed elsewhere (its dnssec-policy has no offline-ksk option, and there is no dnssec-ksr); BIND 9.20's offline KSK (dnssec-ksr) can. Last verified 2026-12-04 with BIND 9.18.49",
  ),
};

/** The capabilities of a signer with these signalling zones (`bootstrap-signal` can with any). */
export function bindCapabilitiesFor(
  signallingZones: readonly ZoneName[] | undefined,
): SignerCapabilities {
  return withBootstrapSignal(bindCapabilities, signallingZones, BOOTSTRAP_SIGNAL_REASON);
}
