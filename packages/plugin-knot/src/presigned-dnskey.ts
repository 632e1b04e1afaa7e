/**
 * Model 1 at Knot (capability `presigned-dnskey`): Knot keeps signing the zone with its own
 * pre-generated ZSKs, and serves the DNSKEY RRset and RRSIGs the zone owner made, imported as a
 * SignedKeyResponse.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  SignerCommandError,
  SignerConfigurationError,
  type CallOptions,
  type PlannedZsks,
  type PresignedDnskeyPublisher,
  type SignedDnskeySnapshot,
  type ZoneName,
} from '@chorus/core';
import {
  formatSkr,
  keyTag,
  missingPlannedZsks,
  normalizeName,
  parseKsr,
  throwIfAborted,
  withoutRepeats,
} from '@chorus/dns';
import type { Logger } from 'pino';
import type { Keymgr } from './keymgr.js';
import type { Knotc } from './knotc.js';

import { findModel1Misconfigurations, type ResolvedZoneConfig } from './zone-config.js';
import { knotTimesZskRolls } from './offline-ksk-roller.js';

/** What the publisher needs of the signer. */
export interface KnotPresignedHost {
  signerId: string;
  logger: Logger;
  readZoneConfig(zone: ZoneName, options: CallOptions): Promise<ResolvedZoneConfig>;
  keymgr(options: CallOptions): Promise<Keymgr>;
  knotc: Knotc;
}

export class KnotPresignedDnskey implements PresignedDnskeyPublisher {
  readonly #host: KnotPresignedHost;

  constructor(host: KnotPresignedHost) {
    this.#host = host;
  }

  /** Pre-generates Knot's ZSKs up to `untilSeconds` (offline-KSK needs them) and reads its KSR. */
  async plannedZsks(
    zone: ZoneName,
    untilSeconds: number,
    options: CallOptions,
  ): Promise<PlannedZsks[]> {
    const name = normalizeName(zone);
    const config = await this.#checkOfflineKsk(name, options);
    const keymgr = await this.#host.keymgr(options);
    const until = String(Math.ceil(untilSeconds));
    // Only a policy that rolls ZSKs itself needs them pre-generated; pregenerate also re-times
    // a ZSK that Chorus holds published (a model-1 roll) as Knot's own roll.
    if (knotTimesZskRolls(config))
      await keymgr.run([name, 'pregenerate', until], { signal: options.signal });
    const args = [name, 'generate-ksr', '+0', until];
    const text = await keymgr.run(args, { signal: options.signal });
    try {
      return withoutRepeats(parseKsr(text, name));
    } catch (error) {
      throw new SignerCommandError({
        command: ['keymgr', ...args],
        stderr: `unexpected KeySigningRequest: ${(error as Error).message}`,
        cause: error,
      });
    }
  }

  async publishSignedDnskeys(
    zone: ZoneName,
    snapshots: readonly SignedDnskeySnapshot[],
    options: CallOptions,
  ): Promise<void> {
    const name = normalizeName(zone);
    if (snapshots.length === 0) throw this.#refusal(name, 'no signed DNSKEY snapshot to import');
    const last = Math.max(...snapshots.map((snapshot) => snapshot.at));
    const planned = await this.plannedZsks(name, Math.max(last, Date.now() / 1000 + 1), options);
    const gaps = missingPlannedZsks(planned, snapshots, keyTag);
    if (gaps.length > 0) throw this.#refusal(name, gaps.join('; '));
    await this.#importSkr(name, formatSkr(name, snapshots), options);
    await this.#resign(name, options);
    this.#host.logger.info(
      { zone: name, snapshots: snapshots.map((snapshot) => snapshot.at) },
      'imported the owner-signed DNSKEY RRset',
    );
  }

  async #checkOfflineKsk(zone: ZoneName, options: CallOptions): Promise<ResolvedZoneConfig> {
    const config = await this.#host.readZoneConfig(zone, options);
    const [problem] = findModel1Misconfigurations(config);
    if (problem)
      throw new SignerConfigurationError({
        signerId: this.#host.signerId,
        zone,
        setting: problem.setting,
        problem: problem.problem,
        fix: problem.fix,
      });
    return config;
  }

  #refusal(zone: ZoneName, problem: string): SignerConfigurationError {
    return new SignerConfigurationError({
      signerId: this.#host.signerId,
      zone,
      setting: 'presigned DNSKEY RRset',
      problem,
      fix: "have the owner sign a DNSKEY RRset that holds every ZSK from Knot's KeySigningRequest (keymgr ZONE generate-ksr)",
    });
  }

  /** `keymgr import-skr`: Knot checks every RRSIG and refuses the whole file if one fails. */
  async #importSkr(zone: ZoneName, skr: string, options: CallOptions): Promise<void> {
    throwIfAborted(options.signal, `importing the SKR of ${zone}`);
    const directory = await mkdtemp(path.join(tmpdir(), 'chorus-skr-'));
    try {
      const file = path.join(directory, 'owner.skr');
      await writeFile(file, skr, { mode: 0o600 });
      const keymgr = await this.#host.keymgr(options);
      await keymgr.run([zone, 'import-skr', file], { signal: options.signal });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }

  /** A loaded zone is re-signed; one knotd could not load without an SKR is loaded now. */
  async #resign(zone: ZoneName, options: CallOptions): Promise<void> {
    const knotc = this.#host.knotc;
    const status = await knotc.run(['zone-status', zone], { signal: options.signal });
    const loaded = !/serial:\s*-/.test(status);
    await knotc.run([loaded ? 'zone-sign' : 'zone-reload', zone], { signal: options.signal });
  }
}
