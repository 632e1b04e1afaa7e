/**
 * RFC 9615 signalling records, the publishing half shared by the plugins: the `signallingZone`
 * setting and the capability it gives, where each signalling name goes, the RRsets to write
 * there (and the DNS UPDATE that writes them), and what a server serves there now.
 */
import {
  DnsResponseError,
  SignerConfigurationError,
  can,
  cannot,
  type BootstrapSignalSet,
  type CallOptions,
  type CapabilityNote,
  type DnskeyData,
  type DnsRecord,
  type DsData,
  type NameServer,
  type SignerCapabilities,
  type ZoneName,
} from '@chorus/core';
import { canonicalName, isSubdomain, normalizeName } from '../names.js';
import { query, type QueryOptions } from '../query.js';
import type { TsigKey } from '../tsig.js';
import { UpdateBuilder, sendUpdate } from '../update.js';
import { signalOption } from './abort.js';
import { dnsName, list, type Field } from './config.js';
import { dnskeyIdentity, dsIdentity } from './plan.js';

/** `_dsboot.<child>._signal.<nameserver>` (RFC 9615 §3), lower-case, absolute. */
export function signallingName(zone: string, nameserver: string): string {
  const child = canonicalName(normalizeName(zone)).replace(/\.$/, '');
  return `_dsboot.${child}._signal.${canonicalName(normalizeName(nameserver))}`;
}

/** One signalling name and the signalling zone it is written in. */
export interface SignalPlacement {
  nameserver: string;
  name: string;
  signallingZone: ZoneName;
}

/**
 * Where each NS hostname's signalling name goes: the deepest configured signalling zone that
 * holds it. Hostnames inside the child get none (RFC 9615 §3 skips them). Throws
 * SignerConfigurationError naming a hostname that no signalling zone holds.
 */
export function placeSignals(
  zone: ZoneName,
  nameservers: readonly string[],
  signallingZones: readonly ZoneName[],
  signerId: string,
): SignalPlacement[] {
  const zones = signallingZones
    .map((entry) => canonicalName(normalizeName(entry)))
    .sort((a, b) => b.length - a.length);
  const placements: SignalPlacement[] = [];
  for (const nameserver of [
    ...new Set(nameservers.map((ns) => canonicalName(normalizeName(ns)))),
  ]) {
    if (isSubdomain(nameserver, zone)) continue;
    const signallingZone = zones.find((candidate) => isSubdomain(nameserver, candidate));
    if (!signallingZone) {
      throw new SignerConfigurationError({
        signerId,
        zone,
        setting: 'signallingZone',
        problem: `no signalling zone holds its NS ${nameserver}${zones.length > 0 ? ` (configured: ${zones.join(', ')})` : ' (none configured)'}, so it cannot publish the RFC 9615 signal for it`,
        fix: `set it to the signed, securely delegated zone that holds ${nameserver}`,
      });
    }
    placements.push({ nameserver, name: signallingName(zone, nameserver), signallingZone });
  }
  return placements;
}

/** What one server serves at one signalling name (RD=0, TCP). Empty arrays for NXDOMAIN/NODATA. */
export async function readSignalsFromServer(
  server: NameServer,
  name: string,
  options: CallOptions & Pick<QueryOptions, 'timeoutMs' | 'retries'> = {},
): Promise<BootstrapSignalSet> {
  const [cds, cdnskey] = await Promise.all(
    (['CDS', 'CDNSKEY'] as const).map(async (type) => {
      const response = await query(server, name, type, { transport: 'tcp', ...options });
      return response.answers
        .filter((set) => set.type === type && canonicalName(set.name) === canonicalName(name))
        .flatMap((set) => set.records as unknown[]);
    }),
  );
  return { cds: cds as DsData[], cdnskey: cdnskey as DnskeyData[] };
}

/** A CDS's identity, digest case and spaces ignored. */
function cdsIdentity(ds: DsData): string {
  return dsIdentity({ ...ds, digest: ds.digest.replace(/\s+/g, '') });
}

/** Whether two signal sets hold the same records (order and digest case ignored). */
export function sameSignals(left: BootstrapSignalSet, right: BootstrapSignalSet): boolean {
  const ids = (set: BootstrapSignalSet) =>
    [
      ...set.cds.map((ds) => `CDS ${cdsIdentity(ds)}`),
      ...set.cdnskey.map((key) => `CDNSKEY ${dnskeyIdentity(key)}`),
    ]
      .sort()
      .join('\n');
  return ids(left) === ids(right);
}

/** The `signallingZone` setting: one zone name or a non-empty list of them, parsed to a list. */
export function signallingZoneSetting(): Field<ZoneName[]> {
  const one = dnsName();
  const many = list(dnsName(), { hint: 'zone names' });
  return (value, scope) => (Array.isArray(value) ? many(value, scope) : [one(value, scope)]);
}

/**
 * The `bootstrap-signal` capability of one signer: `can` with the plugin's reason when signalling
 * zones are configured, else `cannot` saying which setting is missing.
 */
export function bootstrapSignalCapability(
  signallingZones: readonly ZoneName[] | undefined,
  canReason: string,
): CapabilityNote {
  if (signallingZones !== undefined && signallingZones.length > 0) return can(canReason);
  return cannot(
    "no signallingZone configured: set signallingZone to the signed, securely delegated zone that holds this server's NS hostnames (e.g. example.net. for ns1.example.net.) to publish RFC 9615 signals",
  );
}

/** A signer's capabilities with `bootstrap-signal` as its configuration makes it. */
export function withBootstrapSignal(
  capabilities: SignerCapabilities,
  signallingZones: readonly ZoneName[] | undefined,
  canReason: string,
): SignerCapabilities {
  return {
    ...capabilities,
    'bootstrap-signal': bootstrapSignalCapability(signallingZones, canReason),
  };
}

/** One signalling RRset to write: exactly `records`, none to delete it. */
export interface SignalRrset {
  name: string;
  type: 'CDS' | 'CDNSKEY';
  ttl: number;
  records: DnsRecord[];
}

/** Each record once (a server may refuse a duplicate, e.g. PowerDNS's API). */
function distinct<T>(items: readonly T[], identity: (item: T) => string): T[] {
  return [...new Map(items.map((item) => [identity(item), item])).values()];
}

function signalRrsetsAt(name: string, signals: BootstrapSignalSet, ttl: number): SignalRrset[] {
  const record = (type: 'CDS' | 'CDNSKEY', data: DsData | DnskeyData) =>
    ({ name, type, class: 'IN', ttl, data }) as DnsRecord;
  const cds = distinct(signals.cds, cdsIdentity);
  const cdnskey = distinct(signals.cdnskey, dnskeyIdentity);
  return [
    { name, type: 'CDS', ttl, records: cds.map((ds) => record('CDS', ds)) },
    { name, type: 'CDNSKEY', ttl, records: cdnskey.map((key) => record('CDNSKEY', key)) },
  ];
}

/** What to write in one signalling zone: its signalling names and their RRsets. */
export interface SignalWrite {
  signallingZone: ZoneName;
  names: string[];
  rrsets: SignalRrset[];
}

/**
 * The CDS and CDNSKEY RRsets to write for `zone`, one write per signalling zone. Throws
 * SignerConfigurationError like placeSignals.
 */
export function signalWrites(
  zone: ZoneName,
  nameservers: readonly string[],
  signals: BootstrapSignalSet,
  ttl: number,
  signallingZones: readonly ZoneName[],
  signerId: string,
): SignalWrite[] {
  const writes = new Map<ZoneName, SignalWrite>();
  for (const placement of placeSignals(zone, nameservers, signallingZones, signerId)) {
    const { signallingZone, name } = placement;
    const write = writes.get(signallingZone) ?? { signallingZone, names: [], rrsets: [] };
    write.names.push(name);
    write.rrsets.push(...signalRrsetsAt(name, signals, ttl));
    writes.set(signallingZone, write);
  }
  return [...writes.values()];
}

/** The log line of one signal write: plain fields (no secrets) and a message. */
export function describeSignalWrite(
  zone: ZoneName,
  write: SignalWrite,
  signals: BootstrapSignalSet,
): { fields: Record<string, unknown>; message: string } {
  const withdrawn = signals.cds.length === 0 && signals.cdnskey.length === 0;
  return {
    fields: {
      zone,
      signallingZone: write.signallingZone,
      names: write.names,
      cds: signals.cds.length,
      cdnskey: signals.cdnskey.length,
    },
    message: `${withdrawn ? 'withdrew' : 'published'} the RFC 9615 signals of ${zone} in ${write.signallingZone}`,
  };
}

/**
 * One RFC 2136 UPDATE of a signalling zone: deletes each RRset, then adds its records, so the
 * server ends with exactly them (deleting an absent RRset is a no-op: idempotent).
 */
export function signalUpdate(write: SignalWrite): UpdateBuilder {
  const update = new UpdateBuilder(write.signallingZone);
  for (const rrset of write.rrsets) update.deleteRRset(rrset.name, rrset.type);
  for (const rrset of write.rrsets) rrset.records.forEach((record) => update.add(record));
  return update;
}

/** What sendSignalUpdate needs besides the server and the records. */
export interface SignalUpdateOptions extends CallOptions {
  tsig: TsigKey;
  signerId: string;
  /** The child zone, for errors. */
  zone: ZoneName;
  timeoutMs?: number;
}

/**
 * Sends signalUpdate(write) to the server. A REFUSED or NOTAUTH answer becomes a
 * SignerConfigurationError naming the signalling zone and the TSIG key (never its secret).
 */
export async function sendSignalUpdate(
  server: NameServer,
  write: SignalWrite,
  options: SignalUpdateOptions,
): Promise<void> {
  const { signallingZone } = write;
  try {
    await sendUpdate(server, signalUpdate(write), {
      tsig: options.tsig,
      ...signalOption(options.signal),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
  } catch (error) {
    if (!DnsResponseError.isInstance(error) || !['REFUSED', 'NOTAUTH'].includes(error.rcode))
      throw error;
    const key = options.tsig.name.replace(/\.$/, '');
    throw new SignerConfigurationError({
      signerId: options.signerId,
      zone: options.zone,
      setting: 'signallingZone',
      problem: `the server at ${error.server} answers ${error.rcode} to a DNS UPDATE of signalling zone ${signallingZone} signed with TSIG key ${key}`,
      fix: `serve ${signallingZone} there as a dynamic, signed zone and allow key ${key} to update it`,
    });
  }
}
