import { can, canAtOnce, cannot, type SignerCapabilities } from '@chorus/core';

const SOURCE =
  "Shapes from deSEC's source and docs (2026-11); checked by test/lab/conformance.test.ts against the lab's deSEC fake, not yet against desec.io";
const RRSETS = 'https://desec.readthedocs.io/en/latest/dns/rrsets.html';
const DOMAINS = 'https://desec.readthedocs.io/en/latest/dns/domains.html';

/**
 * What the deSEC plugin can do through the deSEC REST API. deSEC signs every domain with one
 * CSK of its own (algorithm 13) and lets users add DNSKEY, CDS, CDNSKEY, CSYNC and NS records
 * at the apex: exactly what model 2 needs, but nothing to roll its keys with.
 */
export const desecCapabilities: SignerCapabilities = {
  'algorithm-roll': cannot(
    "deSEC chooses its keys' algorithm (13) and offers no API to change it; group algorithm rollover is not implemented in Chorus either",
  ),
  'apex-ns-manage': can(
    `the apex NS RRset is a user RRset, replaced in the bulk PATCH; a change that would leave it empty is refused before it is sent. ${SOURCE}`,
    RRSETS,
  ),
  'bootstrap-signal': cannot(
    "the signalling names of deSEC's NS hostnames (_dsboot.<zone>._signal.ns1.desec.io, …ns2.desec.org) lie in deSEC's own zones, which no user token can write, so the group-wide CDS/CDNSKEY set cannot be put there through the API; whatever deSEC publishes there by itself is not under the group's control",
    RRSETS,
  ),
  'cds-import-foreign': can(
    `foreign CDS/CDNSKEY are user RRsets at the apex (bulk PATCH), served next to the CDS/CDNSKEY deSEC publishes automatically for its own key. ${SOURCE}`,
    RRSETS,
  ),
  'concurrent-changes': canAtOnce(
    4,
    'RRset writes are throttled per domain (2/s, 15/min), so zones can be written side by side; the account-wide read limits (10/s, 50/min) are shared by all of them, and the plugin waits out every 429 it gets',
  ),
  'content-read': can(
    `GET /domains/{name}/rrsets/ (cursor pages of 500) lists every RRset but the SOA; the apex SOA, and any RRset whose type the plugin cannot parse, are read on the wire at the configured nameserver. DNSSEC types and CSYNC are left out (the API shows only the user-added ones). ${SOURCE}`,
    RRSETS,
  ),
  'csync-publish': can(
    `CSYNC is a writable user RRset at the apex (bulk PATCH). ${SOURCE}`,
    RRSETS,
  ),
  'dnskey-import-foreign': can(
    `foreign DNSKEYs are the user DNSKEY RRset at the apex (bulk PATCH), served in addition to deSEC's own key and signed by it; the TTL sent is stored but ignored when serving (they get the TTL of deSEC's own DNSKEYs). ${SOURCE}`,
    RRSETS,
  ),
  'key-hold-published': cannot(
    "deSEC's keys are managed by deSEC: the API cannot create, hold or activate a key",
    DOMAINS,
  ),
  'key-list': can(
    `GET /domains/{name}/: the keys entries with managed: true are deSEC's own (one CSK); managed: false entries are user-added foreign keys and are not listed. ${SOURCE}`,
    DOMAINS,
  ),
  'key-roll': cannot(
    "deSEC's keys are managed by deSEC: the API has no call to roll them",
    DOMAINS,
  ),
  'own-cds-publish': can(
    `deSEC publishes CDS (digest types 2 and 4) and CDNSKEY for its own key by itself; they cannot be read or removed through the API, and Chorus never injects them. ${SOURCE}`,
    DOMAINS,
  ),
  'presigned-dnskey': cannot(
    `deSEC signs every zone with its own key, and a DNSKEY written through the API is only added to the RRset deSEC signs; no API takes a signature made elsewhere. ${SOURCE}`,
    RRSETS,
  ),
};
