import type { Logger } from 'pino';
import type {
  BootstrapSignaller,
  BootstrapSignalSet,
  CallOptions,
  NameServer,
  ZoneName,
} from '@chorus/core';
import {
  describeSignalWrite,
  normalizeName,
  sendSignalUpdate,
  signalWrites,
  throwIfAborted,
  type TsigKey,
} from '@chorus/dns';

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
export class BindSignaller implements BootstrapSignaller {
  readonly signallingZones: readonly ZoneName[];
  readonly #context: BindSignallerContext;

  constructor(context: BindSignallerContext) {
    this.#context = context;
    this.signallingZones = Object.freeze([...context.signallingZones]);
  }

  async publishSignals(
    zone: ZoneName,
    nameservers: readonly string[],
    signals: BootstrapSignalSet,
    ttl: number,
    options: CallOptions,
  ): Promise<void> {
    const child = normalizeName(zone);
    throwIfAborted(options.signal, `publishSignals ${child}`);
    const { signerId, server, logger } = this.#context;
    const writes = signalWrites(child, nameservers, signals, ttl, this.signallingZones, signerId);
    const tsig = await this.#context.tsigKey();
    for (const write of writes) {
      throwIfAborted(options.signal, `publishSignals ${child}`);
      await sendSignalUpdate(server, write, {
        ...options,
        tsig,
        signerId,
        zone: child,
      });
      const { fields, message } = describeSignalWrite(child, write, signals);
      logger.info(fields, message);
    }
  }
}
