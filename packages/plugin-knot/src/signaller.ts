import type { Logger } from 'pino';
import {
  SignerConfigurationError,
  type CallOptions,
  type NameServer,
  type ZoneName,
} from '@chorus/core';
import {
  formatRdata,
  readTsigKeyFile,
  sendSignalUpdate,
  SignallerBase,
  type SignalWrite,
} from '@chorus/dns';
import type { KnotUpdateMethod } from './config.js';
import type { Knotc } from './knotc.js';

/** What the Knot signaller shares with its signer. */
export interface KnotSignallerContext {
  signerId: string;
  signallingZones: readonly ZoneName[];
  /** The same path as the child zones' changes. */
  updateMethod: KnotUpdateMethod;
  /** Where knotd takes DNS UPDATE. */
  server: NameServer;
  tsigKeyFile: string | undefined;
  timeoutMs: number;
  knotc: Knotc;
  logger: Logger;
}

/**
 * RFC 9615 signals in Knot's signalling zone, written like the child zones' records: one
 * TSIG-signed DNS UPDATE, or one knotc zone transaction, per signalling zone, that replaces the
 * CDS and CDNSKEY RRsets at each signalling name.
 */
export class KnotSignaller extends SignallerBase {
  readonly #context: KnotSignallerContext;

  constructor(context: KnotSignallerContext) {
    super(context.signerId, context.signallingZones, context.logger);
    this.#context = context;
  }

  protected async writeSignals(
    child: ZoneName,
    write: SignalWrite,
    options: CallOptions,
  ): Promise<void> {
    if (this.#context.updateMethod === 'knotc') await this.#writeWithKnotc(write, options);
    else await this.#writeWithUpdate(child, write, options);
  }

  protected override logFields(): Record<string, unknown> {
    return { method: this.#context.updateMethod };
  }

  async #writeWithUpdate(child: ZoneName, write: SignalWrite, options: CallOptions): Promise<void> {
    const { signerId, server, tsigKeyFile, timeoutMs } = this.#context;
    if (tsigKeyFile === undefined)
      throw new SignerConfigurationError({
        signerId,
        zone: child,
        setting: 'tsigKeyFile',
        problem: 'the plugin is set to write by DNS UPDATE but has no TSIG key file',
        fix: 'set tsigKeyFile to the key knotd allows to update the signalling zone, or updateMethod: "knotc"',
      });
    const tsig = await readTsigKeyFile(tsigKeyFile);
    await sendSignalUpdate(server, write, { ...options, tsig, signerId, zone: child, timeoutMs });
  }

  /**
   * One zone transaction. Knot empties it when zone-unset meets an absent RRset, so each RRset
   * is read first and unset only when present; then every record is set.
   */
  async #writeWithKnotc(write: SignalWrite, options: CallOptions): Promise<void> {
    await this.#context.knotc.transaction(
      write.signallingZone,
      async (transaction) => {
        for (const rrset of write.rrsets) {
          const present = await transaction.getAt(rrset.name, rrset.type);
          if (present.length > 0) await transaction.unsetRrset(rrset.name, rrset.type);
          for (const record of rrset.records)
            await transaction.setAt(rrset.name, rrset.ttl, rrset.type, formatRdata(record));
        }
      },
      { signal: options.signal },
    );
  }
}
