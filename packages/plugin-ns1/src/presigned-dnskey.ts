/**
 * Model 1 at NS1 (capability `presigned-dnskey`, RFC 8901 §2.1.1): the zone owner keeps the KSK,
 * NS1 keeps signing the zone with its own ZSK and serves the DNSKEY RRset the owner signed. NS1
 * describes this (blog "The Promise of Multi-Signer DNSSEC", 2019): read NS1's signing keys, then
 * hand over the final DNSKEY RRset and its signatures. The routes are inferred, not documented:
 * `GET /v1/zones/{zone}/dnssec/signing_keys` and `PUT /v1/zones/{zone}/dnssec/presigned_dnskey`.
 * NS1 keeps no schedule: the snapshot in effect now is sent, and a later one at its own time.
 */
import {
  SignerConfigurationError,
  type CallOptions,
  type DnskeyData,
  type PlannedZsks,
  type PresignedDnskeyPublisher,
  type SignedDnskeySnapshot,
  type ZoneName,
} from '@chorus/core';
import { dnskeyIdentity, inEffectAt, keyTag, normalizeName, throwIfAborted } from '@chorus/dns';
import type { Logger } from 'pino';
import { apexDomain, isApiError, type Ns1Api } from './api.js';

/** What the publisher needs of the signer. */
export interface Ns1PresignedHost {
  signerId: string;
  api: Ns1Api;
  logger: Logger;
  /** Seconds since the epoch (tests may move it). */
  now?: () => number;
}

export class Ns1PresignedDnskey implements PresignedDnskeyPublisher {
  readonly #host: Ns1PresignedHost;

  constructor(host: Ns1PresignedHost) {
    this.#host = host;
  }

  #now(): number {
    return this.#host.now?.() ?? Math.floor(Date.now() / 1000);
  }

  /** NS1 keeps its ZSK: one entry, from now on, with the keys it signs with today. */
  async plannedZsks(
    zone: ZoneName,
    _untilSeconds: number,
    options: CallOptions,
  ): Promise<PlannedZsks[]> {
    const name = normalizeName(zone);
    throwIfAborted(options.signal, `plannedZsks ${name}`);
    return [{ at: this.#now(), zsks: await this.#signingKeys(name, options) }];
  }

  /**
   * Sends the snapshot in effect now. Refuses, before any write, a set without NS1's current
   * ZSKs; NS1's own refusal (a 400: a signature that does not verify, an expired one, DNSSEC
   * off) becomes a SignerConfigurationError with NS1's message.
   */
  async publishSignedDnskeys(
    zone: ZoneName,
    snapshots: readonly SignedDnskeySnapshot[],
    options: CallOptions,
  ): Promise<void> {
    const name = normalizeName(zone);
    throwIfAborted(options.signal, `publishSignedDnskeys ${name}`);
    const snapshot = inEffectAt(snapshots, this.#now());
    if (snapshot === undefined) throw this.#refusal(name, 'no signed DNSKEY snapshot to publish');
    const missing = this.#missingZsks(snapshot, await this.#signingKeys(name, options));
    if (missing.length > 0)
      throw this.#refusal(
        name,
        `the DNSKEY RRset from ${snapshot.at} lacks NS1's ZSK ${missing.map(keyTag).join(', ')}, which signs the zone`,
      );
    try {
      await this.#host.api.putPresignedDnskey(name, snapshot, { signal: options.signal });
    } catch (error) {
      if (isApiError(error, 400) || isApiError(error, 404, /zone not found/i))
        throw this.#refusal(name, `NS1 refused the DNSKEY RRset: ${error.responseBody}`);
      throw error;
    }
    this.#host.logger.info(
      {
        zone: name,
        at: snapshot.at,
        keys: snapshot.dnskeys.map(keyTag),
        later: snapshots.filter((entry) => entry.at > snapshot.at).map((entry) => entry.at),
      },
      'published the owner-signed DNSKEY RRset',
    );
  }

  async #signingKeys(zone: string, options: CallOptions): Promise<DnskeyData[]> {
    try {
      return await this.#host.api.getSigningKeys(zone, { signal: options.signal });
    } catch (error) {
      if (isApiError(error, 400, /DNSSEC is not enabled/i) || isApiError(error, 404, /DNSSEC/i))
        throw new SignerConfigurationError({
          signerId: this.#host.signerId,
          zone,
          setting: 'dnssec',
          problem: 'DNSSEC online signing is off for the zone at NS1',
          fix: `turn DNSSEC on: POST /v1/zones/${apexDomain(zone)} {"dnssec": true}`,
        });
      throw error;
    }
  }

  #missingZsks(snapshot: SignedDnskeySnapshot, zsks: readonly DnskeyData[]): DnskeyData[] {
    const present = new Set(snapshot.dnskeys.map(dnskeyIdentity));
    return zsks.filter((zsk) => !present.has(dnskeyIdentity(zsk)));
  }

  #refusal(zone: ZoneName, problem: string): SignerConfigurationError {
    return new SignerConfigurationError({
      signerId: this.#host.signerId,
      zone,
      setting: 'presigned DNSKEY RRset',
      problem,
      fix: "have the owner sign a DNSKEY RRset that holds NS1's ZSKs (GET /v1/zones/{zone}/dnssec/signing_keys), with an unexpired RRSIG by its KSK",
    });
  }
}
