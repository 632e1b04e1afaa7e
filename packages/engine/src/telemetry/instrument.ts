import { SpanKind, type Attributes } from '@opentelemetry/api';
import {
  activeTraceparent,
  withSpan,
  type CallOptions,
  type DsData,
  type ParentChannel,
  type BootstrapSignaller,
  type PresignedDnskeyPublisher,
  type KeyRoller,
  type Signer,
} from '@chorus/core';
import { recordPluginCall, type CallOutcome } from './metrics.js';

/**
 * Wraps plugins so that every call into one is a CLIENT span (`signer.<method>`,
 * `parent.<method>`) in the caller's trace, and its duration is recorded in
 * `chorus.plugin.call.duration`. The plugin gets the span's traceparent in `CallOptions`, for
 * plugins that start spans of their own. Only ids, kinds, zones and counts become attributes.
 */

async function instrumentedCall<T>(
  spanName: string,
  attributes: Attributes,
  plugin: string,
  method: string,
  options: CallOptions,
  call: (options: CallOptions) => Promise<T>,
): Promise<T> {
  const started = performance.now();
  let outcome: CallOutcome = 'ok';
  try {
    return await withSpan(
      spanName,
      { ...attributes, 'chorus.plugin': plugin, 'chorus.plugin.method': method },
      undefined,
      () => {
        const traceparent = activeTraceparent();
        return call(traceparent ? { ...options, traceparent } : options);
      },
      { kind: SpanKind.CLIENT },
    );
  } catch (error) {
    outcome = 'error';
    throw error;
  } finally {
    recordPluginCall(plugin, method, outcome, (performance.now() - started) / 1000);
  }
}

export interface InstrumentOptions {
  /** The plugin name used in attributes; default the plugin's `kind`. */
  pluginKind?: string;
}

/** A Signer that traces and times every call into `signer`; everything else is passed through. */
export function instrumentSigner(signer: Signer, options: InstrumentOptions = {}): Signer {
  const plugin = options.pluginKind ?? signer.kind;
  const call = <T>(
    method: string,
    zone: string,
    callOptions: CallOptions,
    fn: (callOptions: CallOptions) => Promise<T>,
    extra: Attributes = {},
  ) =>
    instrumentedCall(
      `signer.${method}`,
      { 'chorus.signer.id': signer.id, 'chorus.zone': zone, ...extra },
      plugin,
      method,
      callOptions,
      fn,
    );
  const close = signer.close?.bind(signer);
  const fingerprint = signer.ownKeysFingerprint?.bind(signer);
  const ownKeysFingerprint: Signer['ownKeysFingerprint'] =
    fingerprint &&
    ((zone, callOptions) =>
      call('ownKeysFingerprint', zone, callOptions, (o) => fingerprint(zone, o)));
  const readContent = signer.readZoneContent?.bind(signer);
  const readZoneContent: Signer['readZoneContent'] =
    readContent &&
    ((zone, callOptions) =>
      call('readZoneContent', zone, callOptions, (o) => readContent(zone, o)));
  const roller = signer.keyRoller;
  const keyRoller: KeyRoller | undefined = roller && {
    rolloverTiming: (zone, callOptions) =>
      call('rolloverTiming', zone, callOptions, (o) => roller.rolloverTiming(zone, o)),
    startRoll: (zone, role, predecessors, callOptions) =>
      call('startRoll', zone, callOptions, (o) => roller.startRoll(zone, role, predecessors, o), {
        'chorus.key.role': role,
      }),
    activateSuccessor: (zone, successor, predecessors, callOptions) =>
      call('activateSuccessor', zone, callOptions, (o) =>
        roller.activateSuccessor(zone, successor, predecessors, o),
      ),
    removeKeys: (zone, keyTags, callOptions) =>
      call('removeKeys', zone, callOptions, (o) => roller.removeKeys(zone, keyTags, o)),
    ...(roller.confirmParentDs
      ? {
          confirmParentDs: (zone, change, callOptions) =>
            call('confirmParentDs', zone, callOptions, (o) =>
              roller.confirmParentDs!(zone, change, o),
            ),
        }
      : {}),
  };
  const signaller = signer.bootstrapSignaller;
  const bootstrapSignaller: BootstrapSignaller | undefined = signaller && {
    get signallingZones() {
      return signaller.signallingZones;
    },
    publishSignals: (zone, nameservers, signals, ttl, callOptions) =>
      call(
        'publishSignals',
        zone,
        callOptions,
        (o) => signaller.publishSignals(zone, nameservers, signals, ttl, o),
        { 'chorus.signals': signals.cds.length + signals.cdnskey.length },
      ),
  };
  const publisher = signer.presignedDnskey;
  const presignedDnskey: PresignedDnskeyPublisher | undefined = publisher && {
    plannedZsks: (zone, untilSeconds, callOptions) =>
      call('plannedZsks', zone, callOptions, (o) => publisher.plannedZsks(zone, untilSeconds, o)),
    publishSignedDnskeys: (zone, snapshots, callOptions) =>
      call(
        'publishSignedDnskeys',
        zone,
        callOptions,
        (o) => publisher.publishSignedDnskeys(zone, snapshots, o),
        { 'chorus.snapshots': snapshots.length },
      ),
  };
  return {
    get specificationVersion() {
      return signer.specificationVersion;
    },
    get kind() {
      return signer.kind;
    },
    get id() {
      return signer.id;
    },
    get capabilities() {
      return signer.capabilities;
    },
    get nameServers() {
      return signer.nameServers;
    },
    checkZone: (zone, callOptions) =>
      call('checkZone', zone, callOptions, (o) => signer.checkZone(zone, o)),
    listOwnKeys: (zone, callOptions) =>
      call('listOwnKeys', zone, callOptions, (o) => signer.listOwnKeys(zone, o)),
    readApex: (zone, callOptions) =>
      call('readApex', zone, callOptions, (o) => signer.readApex(zone, o)),
    applyChanges: (plan, callOptions) =>
      call('applyChanges', plan.zone, callOptions, (o) => signer.applyChanges(plan, o), {
        'chorus.changes': plan.changes.length,
      }),
    ...(readZoneContent ? { readZoneContent } : {}),
    ...(ownKeysFingerprint ? { ownKeysFingerprint } : {}),
    ...(close ? { close } : {}),
    ...(keyRoller ? { keyRoller } : {}),
    ...(bootstrapSignaller ? { bootstrapSignaller } : {}),
    ...(presignedDnskey ? { presignedDnskey } : {}),
  };
}

/** A ParentChannel that traces and times every call into `parent`. */
export function instrumentParentChannel(
  parent: ParentChannel,
  options: InstrumentOptions = {},
): ParentChannel {
  const plugin = options.pluginKind ?? parent.kind;
  const call = <T>(
    method: string,
    zone: string,
    callOptions: CallOptions,
    fn: (callOptions: CallOptions) => Promise<T>,
  ) =>
    instrumentedCall(
      `parent.${method}`,
      { 'chorus.parent.id': parent.id, 'chorus.zone': zone },
      plugin,
      method,
      callOptions,
      fn,
    );
  const requestDsUpdate = parent.requestDsUpdate?.bind(parent);
  const requestNsUpdate = parent.requestNsUpdate?.bind(parent);
  return {
    get specificationVersion() {
      return parent.specificationVersion;
    },
    get kind() {
      return parent.kind;
    },
    get id() {
      return parent.id;
    },
    get capabilities() {
      return parent.capabilities;
    },
    getDelegation: (zone, callOptions) =>
      call('getDelegation', zone, callOptions, (o) => parent.getDelegation(zone, o)),
    ...(requestDsUpdate
      ? {
          requestDsUpdate: (zone: string, desired: DsData[], o: CallOptions) =>
            call('requestDsUpdate', zone, o, (inner) => requestDsUpdate(zone, desired, inner)),
        }
      : {}),
    ...(requestNsUpdate
      ? {
          requestNsUpdate: (zone: string, desired: string[], o: CallOptions) =>
            call('requestNsUpdate', zone, o, (inner) => requestNsUpdate(zone, desired, inner)),
        }
      : {}),
  };
}
