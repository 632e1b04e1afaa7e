import type { Logger } from 'pino';
import {
  ApiCallError,
  SignerConfigurationError,
  type CallOptions,
  type ZoneName,
} from '@chorus/core';
import { formatRdata, SignallerBase, type SignalWrite } from '@chorus/dns';
import type { PdnsRrsetChange, PowerDnsApi } from './api.js';

/** What the PowerDNS signaller shares with its signer. */
export interface PowerDnsSignallerContext {
  signerId: string;
  signallingZones: readonly ZoneName[];
  api: PowerDnsApi;
  logger: Logger;
}

/** The PATCH of one signalling zone: REPLACE each RRset with its records, DELETE it when empty. */
export function signalRrsetChanges(write: SignalWrite): PdnsRrsetChange[] {
  return write.rrsets.map(({ name, type, ttl, records }) =>
    records.length === 0
      ? { name, type, changetype: 'DELETE' }
      : {
          name,
          type,
          changetype: 'REPLACE',
          ttl,
          records: records.map((record) => ({ content: formatRdata(record), disabled: false })),
        },
  );
}

/**
 * RFC 9615 signals in PowerDNS's signalling zone through the HTTP API: one PATCH per signalling
 * zone (one transaction), which also drops the zone from the packet cache.
 */
export class PowerDnsSignaller extends SignallerBase {
  readonly #context: PowerDnsSignallerContext;

  constructor(context: PowerDnsSignallerContext) {
    super(context.signerId, context.signallingZones, context.logger);
    this.#context = context;
  }

  protected writeSignals(child: ZoneName, write: SignalWrite, options: CallOptions): Promise<void> {
    return this.#patch(child, write, options);
  }

  /** A 404 (no such zone) or 422 (refused rrsets) names the signalling zone setting. */
  async #patch(child: ZoneName, write: SignalWrite, options: CallOptions): Promise<void> {
    const { signallingZone } = write;
    try {
      await this.#context.api.patchRrsets(signallingZone, signalRrsetChanges(write), {
        signal: options.signal,
      });
    } catch (error) {
      if (!ApiCallError.isInstance(error) || ![404, 422].includes(error.statusCode ?? 0))
        throw error;
      throw new SignerConfigurationError({
        signerId: this.#context.signerId,
        zone: child,
        setting: 'signallingZone',
        problem: `PowerDNS answered HTTP ${error.statusCode} to the PATCH of signalling zone ${signallingZone}: ${error.responseBody}`,
        fix: `serve ${signallingZone} from this PowerDNS (a signed Native or Master zone on a gsql backend), or correct signallingZone`,
      });
    }
  }
}
