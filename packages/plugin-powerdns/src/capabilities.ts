import { can, canAtOnce, cannot, type SignerCapabilities, type ZoneName } from '@chorus/core';
import { bootstrapSignalCapability, withBootstrapSignal } from '@chorus/dns';

const VERIFIED = 'Last verified 2026-11-22 on pdns 4.7.3';
const VERIFIED_CONTENT = 'Last verified 2026-12-03 on pdns 4.7.3';
const ROLL_VERIFIED = 'Last verified 2026-12-02 on pdns 4.7.3';
const MODEL1_VERIFIED = 'Last verified 2026-12-04 on pdns 4.7.3';
const ZONE_API = 'https://doc.powerdns.com/authoritative/http-api/zone.html';
const CRYPTOKEY_API = 'https://doc.powerdns.com/authoritative/http-api/cryptokey.html';
const DIRECT_DNSKEY = 'https://doc.powerdns.com/authoritative/settings.html#direct-dnskey';
const METADATA = 'https://doc.powerdns.com/authoritative/domainmetadata.html';

/** `bootstrap-signal` with signallingZone set. */
const BOOTSTRAP_SIGNAL_REASON = `one API PATCH of the signalling zone REPLACEs the CDS and CDNSKEY rrsets at each _dsboot.<zone>._signal.<ns> name (DELETE when empty); PowerDNS takes them below the apex, signs them live and drops the zone from its packet cache. Last verified 2026-12-04 on pdns 4.7.3`;

/**
 * What the PowerDNS plugin can do, with PowerDNS Authoritative 4.7 on a gsql backend
 * (gsqlite3 in the lab), proven by the conformance suite and test/lab/powerdns-server.test.ts.
 */
export const powerdnsCapabilities: SignerCapabilities = {
  'algorithm-roll': cannot(
    "group algorithm rollover is not implemented in Chorus yet; the mixed-algorithm policy stays an explicit operator choice (a roll keeps the predecessors' algorithm)",
  ),
  'apex-ns-manage': can(
    `API PATCH REPLACE of the apex NS rrset; a change that would leave it empty is refused before any call. ${VERIFIED}`,
    ZONE_API,
  ),
  'bootstrap-signal': bootstrapSignalCapability(undefined, BOOTSTRAP_SIGNAL_REASON),
  'cds-import-foreign': can(
    `foreign CDS/CDNSKEY are backend records (API PATCH); with direct-dnskey=yes PowerDNS serves them together with the CDS/CDNSKEY it generates for its own KSK. ${VERIFIED}`,
    DIRECT_DNSKEY,
  ),
  'concurrent-changes': canAtOnce(
    1,
    'with the gsqlite3 backend (the lab\'s) every write locks the whole database file: two API writes at once fail with HTTP 500 "database is locked"; with a server backend such as gpgsql raise it with the sidecar\'s maxConcurrentChanges',
  ),
  'content-read': can(
    `GET /zones/{zone} lists every backend record; disabled records are left out and the SOA takes the served serial (edited_serial). PowerDNS signs live, so its DNSSEC records are not listed, which the content digest leaves out anyway. ${VERIFIED_CONTENT}`,
    ZONE_API,
  ),
  'csync-publish': can(
    `API PATCH REPLACE/DELETE of the apex CSYNC rrset, signed by PowerDNS's ZSK. ${VERIFIED}`,
    ZONE_API,
  ),
  'dnskey-import-foreign': can(
    `API PATCH REPLACE of the backend DNSKEY rrset, which holds only foreign keys (own keys live in /cryptokeys); served and signed by PowerDNS's KSK only with direct-dnskey=yes, which checkZone requires (otherwise stored but never served). ${VERIFIED}`,
    DIRECT_DNSKEY,
  ),
  'key-hold-published': can(
    `keys are created inactive and published (POST /cryptokeys with active: false, published: true) and activated by Chorus via the API (PUT active: true); PowerDNS 4.7 has no automatic rolls. ${ROLL_VERIFIED}`,
    CRYPTOKEY_API,
  ),
  'key-list': can(
    'GET /zones/{zone}/cryptokeys: the published KSK/ZSK/CSK with their active/published state',
    CRYPTOKEY_API,
  ),
  'key-roll': can(
    `held mode through the cryptokeys API: a ZSK successor is generated inactive and published, activated before its predecessors are deactivated, and the predecessors are deleted; a KSK or CSK successor is generated active (double signature). The apex is flushed from the packet cache after each step. ${ROLL_VERIFIED}`,
    CRYPTOKEY_API,
  ),
  'own-cds-publish': can(
    `PowerDNS generates CDS/CDNSKEY for its own KSK from the PUBLISH-CDS/PUBLISH-CDNSKEY zone metadata, which checkZone requires; Chorus never injects them. ${VERIFIED}`,
    METADATA,
  ),
  'presigned-dnskey': cannot(
    `PowerDNS 4.7 signs every DNSKEY RRset itself, with its own active KSKs; direct-dnskey only adds records to the RRset it signs. PowerDNS 5's direct-dnskey-signature serves a signature made elsewhere. ${MODEL1_VERIFIED}`,
  ),
};

/** The capabilities of a signer with these signalling zones (`bootstrap-signal` can with any). */
export function powerdnsCapabilitiesFor(
  signallingZones: readonly ZoneName[] | undefined,
): SignerCapabilities {
  return withBootstrapSignal(powerdnsCapabilities, signallingZones, BOOTSTRAP_SIGNAL_REASON);
}
