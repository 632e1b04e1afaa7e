import type { Logger } from 'pino';
import type { CallOptions, NameServer, ZoneName } from '@chorus/core';
import { sendSignalUpdate, SignallerBase, type SignalWrite, type TsigKey } from '@chorus/dns';

/** What the BIND signaller shares with its signer. */
export interface BindSignallerContext {
  signerId: string;
  /** Where BIND takes DNS UPDATE (the same endpoint as for the child zones). */
  server: NameServer;
  signallingZones: readonly ZoneName[];
  tsigKey: () => Promise<TsigKey>;
  logger: Logger;
}

/**
 * RFC 9615 signals in BIND's signalling zone: one TSIG-signed DNS UPDATE per signalling zone
 * that replaces the CDS and CDNSKEY RRsets at each signalling name.
 */
export class BindSignaller extends SignallerBase {
  readonly #context: BindSignallerContext;

  constructor(context: BindSignallerContext) {
    super(context.signerId, context.signallingZones, context.logger);
    this.#context = context;
  }

  protected async writeSignals(
    child: ZoneName,
    write: SignalWrite,
    options: CallOptions,
  ): Promise<void> {
    const { signerId, server } = this.#context;
    const tsig = await this.#context.tsigKey();
    await sendSignalUpdate(server, write, { ...options, tsig, signerId, zone: child });
  }
}
