/**
 * RFC 9615 signalling records, reconciled like the apex: read what the signer's servers serve
 * at each signalling name, publish through the plugin when any differs, then read again; and
 * the publishing loop the plugins' signallers share.
 */
import {
  ConvergenceError,
  UnsupportedCapabilityError,
  type BootstrapSignaller,
  type BootstrapSignalSet,
  type CallOptions,
  type DesiredBootstrapSignals,
  type Signer,
  type ZoneName,
} from '@chorus/core';
import { describeServer } from '../transport.js';
import { normalizeName } from '../names.js';
import { throwIfAborted } from './abort.js';
import {
  describeSignalWrite,
  placeSignals,
  readSignalsFromServer,
  sameSignals,
  signalWrites,
  type SignalWrite,
} from './signals.js';

const NONE: BootstrapSignalSet = { cds: [], cdnskey: [] };

/** The signalling names (at any of the signer's servers) that do not serve `wanted`. */
async function differingNames(
  signer: Signer,
  names: readonly string[],
  wanted: BootstrapSignalSet,
  options: CallOptions,
): Promise<string[]> {
  const checks = await Promise.all(
    names.flatMap((name) =>
      signer.nameServers.map(async (server) => {
        const served = await readSignalsFromServer(server, name, { ...options, retries: 1 });
        return sameSignals(served, wanted) ? null : `${name} at ${describeServer(server)}`;
      }),
    ),
  );
  return checks.filter((entry): entry is string => entry !== null);
}

/**
 * Makes the signer serve `desired` at its signalling names. Returns how many names it wrote (0
 * when they were right already). Throws UnsupportedCapabilityError without a signaller, and
 * ConvergenceError (retryable) when a server still differs after the write.
 */
export async function reconcileBootstrapSignals(
  signer: Signer,
  zone: ZoneName,
  desired: DesiredBootstrapSignals,
  ttl: number,
  options: CallOptions = {},
): Promise<number> {
  const signaller = signer.bootstrapSignaller;
  if (!signaller) {
    const note = signer.capabilities['bootstrap-signal'];
    throw new UnsupportedCapabilityError({
      capability: 'bootstrap-signal',
      signerId: signer.id,
      ...(note ? { reason: note.reason } : {}),
    });
  }
  const placements = placeSignals(zone, desired.nameservers, signaller.signallingZones, signer.id);
  const names = placements.map((placement) => placement.name);
  const wanted = desired.signals ?? NONE;
  if ((await differingNames(signer, names, wanted, options)).length === 0) return 0;
  await signaller.publishSignals(zone, desired.nameservers, wanted, ttl, options);
  const remaining = await differingNames(signer, names, wanted, options);
  if (remaining.length > 0) {
    throw new ConvergenceError({
      zone,
      signerId: signer.id,
      remaining: remaining.length,
      detail: `signalling records differ at ${remaining.join(', ')}`,
    });
  }
  return names.length;
}

/** Where a signaller logs each write (a pino logger fits). */
export interface SignalLogger {
  info(fields: Record<string, unknown>, message: string): void;
}

/**
 * The publishing loop every plugin's signaller shares: the writes per signalling zone
 * (`signalWrites`), each made by the plugin's own channel (`writeSignals`) and logged. A plugin
 * subclasses it and supplies only how one signalling zone is written.
 */
export abstract class SignallerBase implements BootstrapSignaller {
  readonly signallingZones: readonly ZoneName[];

  protected constructor(
    protected readonly signerId: string,
    signallingZones: readonly ZoneName[],
    protected readonly logger: SignalLogger,
  ) {
    this.signallingZones = Object.freeze([...signallingZones]);
  }

  /** Writes one signalling zone's RRsets: one UPDATE, transaction or PATCH. */
  protected abstract writeSignals(
    child: ZoneName,
    write: SignalWrite,
    options: CallOptions,
  ): Promise<void>;

  /** Extra fields for each write's log line (e.g. the method used). */
  protected logFields(): Record<string, unknown> {
    return {};
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
    const writes = signalWrites(
      child,
      nameservers,
      signals,
      ttl,
      this.signallingZones,
      this.signerId,
    );
    for (const write of writes) {
      throwIfAborted(options.signal, `publishSignals ${child}`);
      await this.writeSignals(child, write, options);
      const { fields, message } = describeSignalWrite(child, write, signals);
      this.logger.info({ ...fields, ...this.logFields() }, message);
    }
  }
}
