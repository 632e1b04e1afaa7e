import { can, canAtOnce, cannot, type SignerCapabilities } from '@chorus/core';

const BASIS = 'Request shapes from the NS1 API documentation and ns1-go, 2026-12';
const EXTERNAL_KEYS =
  'https://www.ibm.com/docs/en/SSSYGZ/resource_management/managing_external_dnssec_keys_api_only.html';
const NS1_DOCS = 'https://www.ibm.com/docs/en/ns1-connect';

/**
 * What the NS1 plugin can do. NS1 signs online with algorithm 13 and keeps its own keys; foreign
 * DNSKEYs go into an external key set, everything else is an ordinary record of the apex.
 */
export const ns1Capabilities: SignerCapabilities = {
  'algorithm-roll': cannot(
    'NS1 signs with algorithm 13 (ECDSAP256SHA256) only and accepts only algorithm-13 external keys, so it cannot take part in a group algorithm rollover',
  ),
  'apex-ns-manage': can(
    `the apex NS is an ordinary record (GET/PUT/POST /v1/zones/{zone}/{zone}/NS); a change that would leave it empty is refused before any write. ${BASIS}`,
    NS1_DOCS,
  ),
  'bootstrap-signal': cannot(
    "NS1's NS hostnames (dnsN.pNN.nsone.net) lie in NS1's own zones: the API writes records only in the account's zones, so no _dsboot.<zone>._signal.<ns> record can be published under them, and NS1 documents no RFC 9615 signalling of its own",
    NS1_DOCS,
  ),
  'cds-import-foreign': can(
    `foreign CDS and CDNSKEY are ordinary records of the apex (GET/PUT/POST/DELETE /v1/zones/{zone}/{zone}/CDS and …/CDNSKEY), merged with the plugin-written CDS/CDNSKEY of NS1's own KSK. ${BASIS}`,
    NS1_DOCS,
  ),
  'concurrent-changes': canAtOnce(
    2,
    'every write route is one token bucket for the whole account (about 1 write a second), so more zones at once only queue behind the same bucket; two keep it busy while one waits on the wire',
  ),
  'content-read': can(
    `GET /v1/zones/{zone} lists every record with its short_answers (one request, following Link rel="next" pages, paced like every read); the apex SOA, linked records and answers the plugin cannot parse are read on the wire at the configured nameserver. DNSSEC types and CSYNC are left out. ${BASIS}`,
    NS1_DOCS,
  ),
  'csync-publish': can(
    `CSYNC is an ordinary record of the apex (PUT to create, POST to replace, DELETE to withdraw), signed by NS1. ${BASIS}`,
    NS1_DOCS,
  ),
  'dnskey-import-foreign': can(
    `foreign DNSKEYs go into one external key set (default "chorus") through /v1/zones/{zone}/dnssec/external_keys/{name} (API only; the body envelope is inferred from the documentation); NS1 serves them as extra DNSKEY answers signed by its KSK. Algorithm 13 only: any other algorithm is refused before any call. ${BASIS}`,
    EXTERNAL_KEYS,
  ),
  'key-hold-published': cannot(
    'NS1 generates its own keys and does not roll them on request; the API cannot add a key that is published but not yet signing',
    EXTERNAL_KEYS,
  ),
  'key-list': can(
    'GET /v1/zones/{zone}/dnssec lists the DNSKEYs NS1 signs with (KSK and ZSK per network); every key found in an external key set is subtracted, so imported keys are never listed as own',
    EXTERNAL_KEYS,
  ),
  'key-roll': cannot(
    'NS1 does not roll its keys on request: the API has no call that introduces a successor key',
    EXTERNAL_KEYS,
  ),
  'own-cds-publish': can(
    `NS1 is not documented to publish CDS/CDNSKEY for its own KSK, so the plugin writes them itself (CDS digest type 2 and CDNSKEY, as ordinary records) at every apply with changes, merged into the same CDS/CDNSKEY records as the foreign ones, and never deletes them. ${BASIS}`,
    NS1_DOCS,
  ),
  'presigned-dnskey': can(
    `model 1 as NS1 describes it for owners who keep the KSK (blog "The Promise of Multi-Signer DNSSEC", 2019): GET /v1/zones/{zone}/dnssec/signing_keys reads NS1's ZSKs, PUT /v1/zones/{zone}/dnssec/presigned_dnskey hands over the whole DNSKEY RRset and the owner's RRSIGs, and NS1 keeps signing the rest with its ZSK. NS1 documents neither route: paths and bodies are inferred (the lab's fake accepts them leniently). Only the snapshot in effect now is sent; a set without NS1's ZSKs is refused before any write`,
    NS1_DOCS,
  ),
};
