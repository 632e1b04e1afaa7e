/**
 * Knot 3.2 (reference/nameservers.md §4): automatic signing with a policy that accepts foreign
 * DNSKEY/CDS/CDNSKEY (`dnskey-management: incremental`), publishes its own CDS/CDNSKEY at once,
 * and keeps DDNS changes across restarts (`zonefile-sync: 0`). The traps change one of the two:
 * `dnskey-management: full` (the default) or `zonefile-sync: -1`.
 */

export interface KnotConfigOptions {
  directory: string;
  address: string;
  port: number;
  ttl: number;
  zones: string[];
  controlSocket: string;
  pidFile: string;
  keyDirectory: string;
  tsigKeyName: string;
  /** A file with the `key:` section (mode 0600), included so knot.conf holds no secret. */
  tsigKeySectionFile: string;
  /** `incremental` keeps foreign DNSKEY/CDS/CDNSKEY; `full` (Knot's default) drops them (§4.2). */
  dnskeyManagement: 'incremental' | 'full';
  /** 0 writes DDNS changes back to the zone file; -1 never does, so a restart reverts them (§4.3). */
  zonefileSync: 0 | -1;
}

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

export function knotConfig(options: KnotConfigOptions): string {
  return [
    'server:',
    `  rundir: ${quoted(options.directory)}`,
    `  pidfile: ${quoted(options.pidFile)}`,
    `  listen: ${options.address}@${options.port}`,
    '',
    'log:',
    '  - target: stderr',
    '    any: info',
    '',
    'database:',
    `  storage: ${quoted(options.directory)}`,
    `  kasp-db: ${quoted(options.keyDirectory)}`,
    '',
    'control:',
    `  listen: ${quoted(options.controlSocket)}`,
    '',
    `include: ${quoted(options.tsigKeySectionFile)}`,
    '',
    'acl:',
    '  - id: tsig-update',
    `    key: ${options.tsigKeyName}`,
    '    action: update',
    '',
    'policy:',
    '  - id: chorus',
    '    algorithm: ecdsap256sha256',
    '    ksk-lifetime: 0',
    '    zsk-lifetime: 0',
    `    dnskey-ttl: ${options.ttl}`,
    `    zone-max-ttl: ${options.ttl}`,
    '    propagation-delay: 0',
    '    nsec3: off',
    '    cds-cdnskey-publish: always',
    // Keep DNSKEY/CDS/CDNSKEY that others add; with "full" Knot drops them silently (§4.2).
    `    dnskey-management: ${options.dnskeyManagement}`,
    // Required with incremental.
    ...(options.dnskeyManagement === 'incremental' ? ['    delete-delay: 1d'] : []),
    '',
    'template:',
    '  - id: default',
    `    storage: ${quoted(options.directory)}`,
    '    file: "%s.zone"',
    // 0: flush the signed zone, foreign keys included, so a restart keeps DDNS changes (§4.3).
    `    zonefile-sync: ${options.zonefileSync}`,
    '    zonefile-load: difference-no-serial',
    '    journal-content: all',
    '    dnssec-signing: on',
    '    dnssec-policy: chorus',
    '    acl: tsig-update',
    '',
    'zone:',
    ...options.zones.map((zone) => `  - domain: ${zone}`),
    '',
  ].join('\n');
}
