/**
 * Zone file content. Every signer serves the same records; only the SOA (primary name and
 * serial as the server bumps it) and the apex NS (the signer's own name) differ.
 */
import { DSYNC_SCHEME_NOTIFY } from '@chorus/core';
import { dsyncGenericRdata } from '@chorus/dns';

/** `example.test.` → `example.test.<extension>`. */
export function zoneFileName(zone: string, extension: string): string {
  return `${stripDot(zone)}.${extension}`;
}

export function stripDot(zone: string): string {
  return zone.replace(/\.$/, '');
}

export interface ChildZoneOptions {
  zone: string;
  ttl: number;
  /** The signer's own name: SOA MNAME, and the only apex NS unless `apexNameservers` says others. */
  nameserverName: string;
  /** The apex NS names (an insecure zone: every signer's); default `[nameserverName]`. */
  apexNameservers?: readonly string[];
}

function soaLine(zone: string, primary: string, ttl: number): string {
  // serial refresh retry expire minimum(negative TTL)
  return `@ SOA ${primary} hostmaster.${zone} 1 3600 600 86400 ${ttl}`;
}

/** The lab's content for a signed child zone such as `example.test.`. */
export function childZoneFile(options: ChildZoneOptions): string {
  const { zone, ttl } = options;
  return [
    `$ORIGIN ${zone}`,
    `$TTL ${ttl}`,
    soaLine(zone, options.nameserverName, ttl),
    ...(options.apexNameservers ?? [options.nameserverName]).map((name) => `@ NS ${name}`),
    `@ MX 10 mail.${zone}`,
    `www A 192.0.2.80`,
    `www AAAA 2001:db8::80`,
    `mail A 192.0.2.25`,
    `mail AAAA 2001:db8::25`,
    `txt TXT "Chorus lab zone ${zone}"`,
    '',
  ].join('\n');
}

export interface SignallingZoneOptions {
  zone: string;
  ttl: number;
  /** The signer's NS name, inside `zone`. */
  nameserverName: string;
  /** The signer's address, for `nameserverName`. */
  address: string;
}

/** A signer's signalling zone (RFC 9615): SOA, NS and the address of its NS name, nothing else. */
export function signallingZoneFile(options: SignallingZoneOptions): string {
  const { zone, ttl, nameserverName } = options;
  return [
    `$ORIGIN ${zone}`,
    `$TTL ${ttl}`,
    soaLine(zone, nameserverName, ttl),
    `@ NS ${nameserverName}`,
    `${nameserverName} A ${options.address}`,
    '',
  ].join('\n');
}

export interface Delegation {
  zone: string;
  nameserverNames: readonly string[];
  /** DS records in presentation rdata form: `keytag algorithm digesttype DIGEST`. */
  ds: string[];
}

export interface ParentZoneOptions {
  zone: string;
  ttl: number;
  nameserverName: string;
  /** Address records of the nameserver names: the parent's own and each provider's. */
  addresses: { name: string; address: string }[];
  delegations: Delegation[];
  /** Where the parent's scanner takes NOTIFY(CDS) and NOTIFY(CSYNC): published as DSYNC. */
  dsync?: DsyncPublication;
}

/** The parent's DSYNC records (RFC 9859): a wildcard for every child, naming `targetName`. */
export interface DsyncPublication {
  /** Relative to the parent zone, e.g. `scanner`. */
  targetName: string;
  address: string;
  port: number;
}

/**
 * `*._dsync` DSYNC CDS and CSYNC, scheme NOTIFY, and the target's address. BIND 9.18 has no
 * DSYNC parser, so the rdata goes in the generic form (RFC 3597).
 */
function dsyncLines(zone: string, dsync: DsyncPublication): string[] {
  const target = `${dsync.targetName}.${zone}`;
  const record = (rrtype: 'CDS' | 'CSYNC') =>
    `*._dsync TYPE66 ${dsyncGenericRdata({ rrtype, scheme: DSYNC_SCHEME_NOTIFY, port: dsync.port, target })}`;
  return [`${dsync.targetName} A ${dsync.address}`, record('CDS'), record('CSYNC')];
}

/** The parent zone `test.`: nameserver addresses and delegations, with DS or without. */
export function parentZoneFile(options: ParentZoneOptions): string {
  const { zone, ttl } = options;
  const lines = [
    `$ORIGIN ${zone}`,
    `$TTL ${ttl}`,
    soaLine(zone, options.nameserverName, ttl),
    `@ NS ${options.nameserverName}`,
  ];
  for (const { name, address } of options.addresses) lines.push(`${name} A ${address}`);
  if (options.dsync) lines.push(...dsyncLines(zone, options.dsync));
  for (const delegation of options.delegations) {
    for (const name of delegation.nameserverNames) lines.push(`${delegation.zone} NS ${name}`);
    for (const ds of delegation.ds) lines.push(`${delegation.zone} DS ${ds}`);
  }
  lines.push('');
  return lines.join('\n');
}
