/**
 * The NS1 fake's model 1 (RFC 8901 §2.1.1) [inferred API, see presigned.ts]: the zone owner
 * hands over the final DNSKEY RRset and its RRSIGs; NS1 serves them as they are and signs the
 * rest of the zone with its own ZSK.
 *
 * PowerDNS 4.7 cannot serve a DNSKEY RRset signed elsewhere while signing the rest itself, so
 * the fake acts as NS1's signing platform: the zone becomes presigned at the backend, the fake
 * signs every RRset with the backend's ZSK (NS1's ZSK, read through the API), builds the NSEC
 * chain and writes RRSIG and NSEC rows and order names into the backend's database. It signs
 * again after every record write and when its signatures pass half their life. Leaving model 1
 * clears all of it, puts the NSEC3 parameters back and rectifies the zone.
 */
import type { DnskeyData } from '@chorus/core';
import { HttpError } from '../errors.js';
import type {
  BackendCryptokey,
  BackendRrset,
  BackendZone,
  PowerDnsBackend,
} from '../powerdns-backend.js';
import type { PowerDnsDatabase, ReplacedRrset } from '../powerdns-database.js';
import type { FakeState, Ns1PresignedSet, Ns1ZoneState } from '../state.js';
import {
  asDnskey,
  checkPresignedSet,
  keyObject,
  parsePresignedBody,
  presignedObject,
} from './presigned.js';
import { signZone, zoneSigningKey, ZoneSigningError } from './zone-signer.js';

/** NS1's signatures last this long, and are renewed after half of it. */
export const ZSK_SIGNATURE_SECONDS = 14 * 86_400;
/** NS1's signatures begin this long before they are made (clock skew). */
const INCEPTION_SLACK_SECONDS = 3600;

export interface Model1Options {
  backend: PowerDnsBackend;
  /** Absent: the fake was configured without `backend.database`; the routes answer 501. */
  database: PowerDnsDatabase | undefined;
  state: FakeState;
  /** Seconds since the epoch (tests may move it). */
  now?: () => number;
}

const withoutDot = (name: string) => name.replace(/\.$/, '');

/** The zone's RRsets with the RRsets about to be written in their place (no contents: gone). */
function withReplaced(
  rrsets: readonly BackendRrset[],
  replaced: readonly ReplacedRrset[],
): BackendRrset[] {
  const key = (name: string, type: string) => `${name.toLowerCase()}|${type}`;
  const gone = new Set(replaced.map((rrset) => key(rrset.name, rrset.type)));
  return [
    ...rrsets.filter((rrset) => !gone.has(key(rrset.name, rrset.type))),
    ...replaced
      .filter((rrset) => rrset.contents.length > 0)
      .map((rrset) => ({
        name: rrset.name,
        type: rrset.type,
        ttl: rrset.ttl,
        records: rrset.contents.map((content) => ({ content, disabled: false })),
      })),
  ];
}

/** The apex SOA with its serial one higher, as NS1 bumps it on every change. */
function bumpedSoa(rrsets: readonly BackendRrset[], zone: string): ReplacedRrset[] {
  const soa = rrsets.find(
    (rrset) => rrset.type === 'SOA' && rrset.name.toLowerCase() === zone.toLowerCase(),
  );
  const fields = soa?.records[0]?.content.split(/\s+/);
  if (!soa || !fields || fields.length < 7) return [];
  fields[2] = String((Number(fields[2]) + 1) % 2 ** 32);
  return [{ name: soa.name, type: 'SOA', ttl: soa.ttl, contents: [fields.join(' ')] }];
}

function parseDnskeyText(text: string): DnskeyData {
  const [flags = '', protocol = '', algorithm = '', ...key] = text.trim().split(/\s+/);
  return {
    flags: Number(flags),
    protocol: Number(protocol),
    algorithm: Number(algorithm),
    publicKey: key.join(''),
  };
}

export class Ns1Model1 {
  readonly #options: Model1Options;

  constructor(options: Model1Options) {
    this.#options = options;
  }

  #now(): number {
    return this.#options.now?.() ?? Math.floor(Date.now() / 1000);
  }

  #zoneState(zone: BackendZone): Ns1ZoneState {
    return this.#options.state.ns1Zone(withoutDot(zone.name));
  }

  isPresigned(zone: BackendZone): boolean {
    return this.#zoneState(zone).presigned !== undefined;
  }

  /** NS1's ZSKs: the backend's active, published ZSKs (its CSKs when it has no ZSK). */
  async #signingKeys(zone: BackendZone): Promise<BackendCryptokey[]> {
    const keys = (await this.#options.backend.listCryptokeys(zone.name)).filter(
      (key) => key.active && key.published,
    );
    const zsks = keys.filter((key) => key.keytype === 'zsk');
    return zsks.length > 0 ? zsks : keys.filter((key) => key.keytype === 'csk');
  }

  /** `GET …/dnssec/signing_keys`. */
  async signingKeysResponse(zone: BackendZone) {
    const keys = (await this.#signingKeys(zone)).map((key) =>
      keyObject(parseDnskeyText(key.dnskey)),
    );
    const ttl = zone.rrsets.find((rrset) => rrset.type === 'SOA')?.ttl ?? 3600;
    return { status: 200, body: { zone: withoutDot(zone.name), zsk: { ttl, data: keys } } };
  }

  /** `GET …/dnssec/presigned_dnskey`. */
  get(zone: BackendZone) {
    const presigned = this.#zoneState(zone).presigned;
    if (presigned === undefined)
      throw new HttpError(404, { message: 'no presigned DNSKEY set for the zone' });
    return { status: 200, body: presignedObject(zone.name, presigned.set) };
  }

  /** `PUT …/dnssec/presigned_dnskey`: checks the set, then serves it and signs the zone. */
  async put(zone: BackendZone, body: unknown) {
    const database = this.#database();
    const set = parsePresignedBody(body, zone.name);
    const zsks = await this.#signingKeys(zone);
    checkPresignedSet(
      set,
      zone.name,
      zsks.map((key) => parseDnskeyText(key.dnskey)),
      this.#now(),
    );
    const state = this.#zoneState(zone);
    // The DNSKEY rows and their RRSIGs change in one transaction: never one without the other.
    const removed = await this.#sign(zone.name, set, database, [
      {
        name: zone.name,
        type: 'DNSKEY',
        ttl: set.ttl,
        contents: set.data.map(
          (key) => `${key.flags} ${key.protocol} ${key.algorithm} ${key.public_key}`,
        ),
      },
    ]);
    state.presigned = {
      set,
      ...pickNsec3(state.presigned?.nsec3param ?? removed),
      resignAfter: this.#now() + ZSK_SIGNATURE_SECONDS / 2,
    };
    await this.#options.state.save();
    return { status: 200, body: presignedObject(zone.name, set) };
  }

  /** `DELETE …/dnssec/presigned_dnskey`: NS1 signs its own DNSKEY RRset again (model 2). */
  async delete(zone: BackendZone, restoreDnskey: () => Promise<void>) {
    if (!this.isPresigned(zone))
      throw new HttpError(404, { message: 'no presigned DNSKEY set for the zone' });
    await this.leave(zone, restoreDnskey);
    return { status: 200, body: {} };
  }

  /** Back to live signing at the backend (also when DNSSEC is turned off). */
  async leave(zone: BackendZone, restoreDnskey: () => Promise<void>): Promise<void> {
    const state = this.#zoneState(zone);
    if (state.presigned === undefined) return;
    await this.#database().clearPresigned(zone.name, state.presigned.nsec3param);
    delete state.presigned;
    await this.#options.state.save();
    await restoreDnskey();
    await this.#options.backend.rectify(zone.name);
  }

  /**
   * A record write to a zone in model 1: the rows, the SOA serial and every signature change in
   * one transaction, so PowerDNS never serves a changed RRset without its RRSIG or NSEC chain.
   */
  async writeRecords(zone: BackendZone, replaced: readonly ReplacedRrset[]): Promise<void> {
    const presigned = this.#zoneState(zone).presigned!;
    const bumped = [...replaced, ...bumpedSoa(zone.rrsets, zone.name)];
    await this.#sign(zone.name, presigned.set, this.#database(), bumped);
    presigned.resignAfter = this.#now() + ZSK_SIGNATURE_SECONDS / 2;
    await this.#options.state.save();
  }

  /** Signs the zone again after a record write. */
  async resign(zoneName: string): Promise<void> {
    const presigned = this.#options.state.ns1Zone(withoutDot(zoneName)).presigned;
    if (presigned === undefined) return;
    await this.#sign(zoneName, presigned.set, this.#database());
    presigned.resignAfter = this.#now() + ZSK_SIGNATURE_SECONDS / 2;
    await this.#options.state.save();
  }

  /** Renews NS1's signatures once they have passed half their life. */
  async refreshIfDue(zone: BackendZone): Promise<void> {
    const presigned = this.#zoneState(zone).presigned;
    if (presigned !== undefined && this.#now() >= presigned.resignAfter)
      await this.resign(zone.name);
  }

  /** Signs the backend's current content; returns the NSEC3PARAM the switch removed. */
  async #sign(
    zoneName: string,
    set: Ns1PresignedSet,
    database: PowerDnsDatabase,
    replaced: readonly ReplacedRrset[] = [],
  ): Promise<string | undefined> {
    const backend = this.#options.backend;
    const zone = await backend.getZone(zoneName);
    const [key] = await this.#signingKeys(zone);
    if (key === undefined)
      throw new HttpError(400, { message: 'DNSSEC is not enabled on the zone' });
    const zsk = zoneSigningKey(
      asDnskey(keyObject(parseDnskeyText(key.dnskey))),
      await backend.cryptokeyPrivateKey(zone.name, key.id),
    );
    const now = this.#now();
    let data;
    try {
      data = signZone({
        zone: zone.name,
        rrsets: withReplaced(zone.rrsets, replaced),
        dnskeyRrsigs: set.rrsig,
        zsk,
        inception: now - INCEPTION_SLACK_SECONDS,
        expiration: now + ZSK_SIGNATURE_SECONDS,
      });
    } catch (error) {
      if (error instanceof ZoneSigningError) throw new HttpError(500, { message: error.message });
      throw error;
    }
    return database.writePresigned(zone.name, data, replaced);
  }

  #database(): PowerDnsDatabase {
    const database = this.#options.database;
    if (database === undefined)
      throw new HttpError(501, {
        message:
          "presigned DNSKEY sets need the fake's backend.database (PowerDNS 4.7's API cannot make a zone presigned)",
      });
    return database;
  }
}

function pickNsec3(nsec3param: string | undefined): { nsec3param?: string } {
  return nsec3param === undefined ? {} : { nsec3param };
}
