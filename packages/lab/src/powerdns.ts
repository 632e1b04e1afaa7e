/**
 * PowerDNS 4.7 with the gsqlite3 backend (reference/nameservers.md §3): pdns.conf and the
 * database, with every zone loaded, secured (KSK + ZSK of the lab's algorithm: ECDSA P-256, or
 * 2048-bit RSASHA256), switched to NSEC3 `1 0 0 -` with `denial: 'nsec3'`, publishing its own
 * CDS (SHA-256) and CDNSKEY, and open to DNS UPDATE signed with the lab's TSIG key. The
 * `powerdns-no-direct-dnskey` trap sets `direct-dnskey=no`, and nothing else.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type * as NodeSqlite from 'node:sqlite';
import type { DnskeyData } from '@chorus/core';
import { parseRdata } from '@chorus/dns';
import { reportedVersion, runTool } from './commands.js';
import { NSEC3PARAM_TEXT, POWERDNS_API_PORT, RSA_KEY_BITS } from './config.js';
import { LabError } from './errors.js';
import { FILE_WRITES_AT_ONCE, mapLimited } from './limit.js';
import { controlClients } from './hosts.js';
import type { CheckResult } from './readiness.js';
import { newApiKey, TSIG_ALGORITHM, writeSecretFile } from './secrets.js';
import {
  programPath,
  sha256DsFrom,
  type LabServerKind,
  type PrepareContext,
  type ZoneDs,
} from './server-kind.js';
import { signallingZoneOf } from './signalling.js';
import { powerDnsSettings } from './traps.js';
import type { DenialMethod, LabAlgorithm, LabServer, ServerId } from './types.js';
import { serverZoneFile } from './server-zones.js';
import { stripDot, zoneFileName } from './zones.js';

export const POWERDNS_SCHEMA_FILE = '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql';

export interface PowerDnsConfigOptions {
  directory: string;
  address: string;
  port: number;
  /** Who may use the API and send updates (default loopback). */
  clients?: readonly string[];
  apiPort: number;
  /** Goes into pdns.conf, which is therefore written with mode 0600. */
  apiKey: string;
  database: string;
  /** `direct-dnskey=yes` serves backend DNSKEYs next to pdns's own; `no` (the trap) hides them. */
  directDnskey: boolean;
  /** `csk`: secure-zone makes one combined key (deSEC's way); `ksk-zsk`: a KSK and a ZSK. */
  keys: 'ksk-zsk' | 'csk';
  /** The algorithm secure-zone gives every key. */
  algorithm: LabAlgorithm;
}

/** pdns.conf's name of each lab algorithm, and the key size it must be told (0: the default). */
const POWERDNS_ALGORITHM: Readonly<Record<LabAlgorithm, { name: string; bits: number }>> = {
  13: { name: 'ecdsa256', bits: 0 },
  8: { name: 'rsasha256', bits: RSA_KEY_BITS },
};

/**
 * How each PowerDNS of the lab signs and what it publishes for its own KSK: the signer and the
 * trap publish CDS (SHA-256) and CDNSKEY; the deSEC backend, like deSEC, one CSK with CDS SHA-256
 * and SHA-384 and CDNSKEY; the NS1 backend no CDS/CDNSKEY at all (NS1 documents none).
 */
export function powerDnsServerSettings(id: ServerId): {
  directDnskey: boolean;
  keys: 'ksk-zsk' | 'csk';
  publishCds: string | null;
  publishCdnskey: boolean;
} {
  if (id === 'desec')
    return { directDnskey: true, keys: 'csk', publishCds: '2,4', publishCdnskey: true };
  if (id === 'ns1')
    return { directDnskey: true, keys: 'ksk-zsk', publishCds: null, publishCdnskey: false };
  return { ...powerDnsSettings(id), keys: 'ksk-zsk', publishCds: '2', publishCdnskey: true };
}

/** pdns.conf. It contains the API key: write it with `writeSecretFile`. */
export function pdnsConfig(options: PowerDnsConfigOptions): string {
  const algorithm = POWERDNS_ALGORITHM[options.algorithm];
  return [
    'launch=gsqlite3',
    `gsqlite3-database=${options.database}`,
    'gsqlite3-dnssec=yes',
    `local-address=${options.address}:${options.port}`,
    `query-local-address=${options.address}`,
    'daemon=no',
    'guardian=no',
    // The control socket and pdns.pid live here.
    `socket-dir=${options.directory}`,
    'disable-syslog=yes',
    // No security-status lookups to powerdns.com: nothing leaves the loopback.
    'security-poll-suffix=',
    'loglevel=4',
    'api=yes',
    `api-key=${options.apiKey}`,
    'webserver=yes',
    `webserver-address=${options.address}`,
    `webserver-port=${options.apiPort}`,
    `webserver-allow-from=${(options.clients ?? ['127.0.0.0/8']).join(',')}`,
    // Serve DNSKEY/CDS/CDNSKEY records from the backend next to pdns's own keys (§3.2).
    `direct-dnskey=${options.directDnskey ? 'yes' : 'no'}`,
    'dnsupdate=yes',
    `allow-dnsupdate-from=${(options.clients ?? ['127.0.0.0/8']).join(',')}`,
    // Without a ZSK algorithm, secure-zone makes a single CSK (§3.1).
    `default-ksk-algorithm=${algorithm.name}`,
    `default-zsk-algorithm=${options.keys === 'csk' ? '' : algorithm.name}`,
    // RSA needs its size; ECDSA P-256 has one size (0, PowerDNS's default, means that).
    ...(algorithm.bits > 0
      ? [`default-ksk-size=${algorithm.bits}`, `default-zsk-size=${algorithm.bits}`]
      : []),
    // The lab wants changes (pdnsutil metadata included) visible at once, not after a cache TTL.
    'zone-metadata-cache-ttl=0',
    'cache-ttl=0',
    'query-cache-ttl=0',
    'negquery-cache-ttl=0',
    '',
  ].join('\n');
}

async function loadSqlite(): Promise<typeof NodeSqlite> {
  try {
    return await import('node:sqlite');
  } catch (error) {
    throw new LabError(
      `the PowerDNS database is created with node:sqlite, which this Node.js ${process.version} lacks; use Node.js 22.13 or later`,
      { cause: error },
    );
  }
}

/**
 * Creates the gsqlite3 schema and stores the TSIG key (by SQL, so the secret is never an
 * argument). The file is made 0600 first: it holds the TSIG secret and the private keys, and
 * SQLite gives its -wal and -shm files the database's mode.
 */
async function createDatabase(options: {
  database: string;
  schema: string;
  tsigKeyName: string;
  tsigSecret: string;
}): Promise<void> {
  const { DatabaseSync } = await loadSqlite();
  await writeSecretFile(options.database, '');
  const database = new DatabaseSync(options.database);
  try {
    database.exec(options.schema);
    database
      .prepare('INSERT INTO tsigkeys (name, algorithm, secret) VALUES (?, ?, ?)')
      .run(options.tsigKeyName, TSIG_ALGORITHM, options.tsigSecret);
  } finally {
    database.close();
  }
}

export interface PowerDnsZone {
  zone: string;
  file: string;
}

/** The zone list zone2sql reads, in named.conf syntax, so that it converts every zone in one run. */
export function zoneListForZone2sql(zones: readonly PowerDnsZone[]): string {
  return zones
    .map(({ zone, file }) => `zone "${zone}" { type master; file "${file}"; };\n`)
    .join('');
}

/** Metadata rows given to every zone, as pdnsutil's `set-meta`, `set-nsec3` and `set-publish-*` write them. */
function zoneMetadata(options: {
  tsigKeyName: string;
  publishCds: string | null;
  publishCdnskey: boolean;
  denial: DenialMethod;
}): [kind: string, content: string][] {
  return [
    ...(options.publishCds !== null
      ? [['PUBLISH-CDS', options.publishCds] as [string, string]]
      : []),
    ...(options.publishCdnskey ? [['PUBLISH-CDNSKEY', '1'] as [string, string]] : []),
    ['TSIG-ALLOW-DNSUPDATE', options.tsigKeyName],
    // Not narrow: no NSEC3NARROW row.
    ...(options.denial === 'nsec3' ? [['NSEC3PARAM', NSEC3PARAM_TEXT] as [string, string]] : []),
  ];
}

/** Runs zone2sql's INSERTs and the metadata rows in one transaction. */
async function loadZonesAndMetadata(
  database: string,
  zonesSql: string,
  metadata: readonly [kind: string, content: string][],
): Promise<void> {
  const { DatabaseSync } = await loadSqlite();
  const db = new DatabaseSync(database);
  try {
    db.exec('BEGIN');
    db.exec(zonesSql);
    const insert = db.prepare(
      'INSERT INTO domainmetadata (domain_id, kind, content) SELECT id, ?, ? FROM domains',
    );
    for (const [kind, content] of metadata) insert.run(kind, content);
    db.exec('COMMIT');
  } finally {
    db.close();
  }
}

/**
 * Builds the database before pdns_server starts, in a handful of program runs whatever the
 * number of zones: schema and TSIG key; every zone file converted by one `zone2sql` run; the
 * metadata of `set-publish-cds` (the given digest types), `set-publish-cdnskey`,
 * `TSIG-ALLOW-DNSUPDATE` and, with NSEC3, `set-nsec3 '1 0 0 -'` (not narrow), as rows; then
 * `pdnsutil secure-all-zones` (a KSK and a ZSK, or a CSK, per zone) and `rectify-all-zones`
 * (order names, hashed with NSEC3). Metadata written before the server starts is seen at once.
 */
export async function preparePowerDnsDatabase(options: {
  pdnsutil: string;
  zone2sql: string;
  configDirectory: string;
  database: string;
  schema: string;
  zones: PowerDnsZone[];
  tsigKeyName: string;
  tsigSecret: string;
  publishCds: string | null;
  publishCdnskey: boolean;
  denial: DenialMethod;
}): Promise<void> {
  await createDatabase(options);
  const zoneList = path.join(options.configDirectory, 'zone2sql.conf');
  await writeFile(zoneList, zoneListForZone2sql(options.zones));
  const converted = await runTool(options.zone2sql, ['--gsqlite', `--named-conf=${zoneList}`], {
    cwd: options.configDirectory,
    timeoutMs: 600_000,
  });
  await loadZonesAndMetadata(options.database, converted.stdout, zoneMetadata(options));
  const pdnsutil = (...args: string[]) =>
    runTool(options.pdnsutil, [`--config-dir=${options.configDirectory}`, ...args], {
      cwd: options.configDirectory,
      timeoutMs: 1_800_000,
    });
  await pdnsutil('secure-all-zones');
  await pdnsutil('rectify-all-zones', 'quiet');
}

function apiControl(server: LabServer) {
  if (server.control.kind !== 'powerdns-api') {
    throw new LabError(`internal: ${server.id} is not PowerDNS`);
  }
  return server.control;
}

/** An authenticated GET on the API answers 2xx. */
async function apiAnswers(server: LabServer): Promise<CheckResult> {
  const { url, apiKeyFile } = apiControl(server);
  const apiKey = (await readFile(apiKeyFile, 'utf8')).trim();
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { 'X-API-Key': apiKey },
      signal: AbortSignal.timeout(1000),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ready: false, reason: `the API at ${url} does not answer (${reason})` };
  }
  await response.body?.cancel();
  return response.ok
    ? { ready: true }
    : { ready: false, reason: `the API at ${url} answered HTTP ${response.status}` };
}

/**
 * The API key (0600), pdns.conf (0600: it holds the key), zone files, then the database; with a
 * signalling zone, the DS of its KSK.
 */
async function preparePowerDns(
  server: LabServer,
  { config, programs, tsigSecret }: PrepareContext,
) {
  const control = apiControl(server);
  const settings = powerDnsServerSettings(server.id);
  const apiKey = newApiKey();
  const zonesDirectory = path.join(server.directory, 'zones');
  await mkdir(zonesDirectory, { recursive: true });
  const zones = server.zones.map((zone) => ({
    zone: stripDot(zone),
    file: path.join(zonesDirectory, zoneFileName(zone, 'zone')),
  }));
  await Promise.all([
    writeSecretFile(control.apiKeyFile, `${apiKey}\n`),
    writeSecretFile(
      server.configFile,
      pdnsConfig({
        directory: server.directory,
        address: server.address,
        port: server.port,
        clients: controlClients(config.hosts, server.address),
        apiPort: control.port,
        apiKey,
        database: server.keys.path,
        directDnskey: settings.directDnskey,
        keys: settings.keys,
        algorithm: config.algorithm,
      }),
    ),
    mapLimited(server.zones, FILE_WRITES_AT_ONCE, (zone, index) =>
      writeFile(zones[index]!.file, serverZoneFile(server, zone, config)),
    ),
  ]);
  await preparePowerDnsDatabase({
    pdnsutil: programPath(programs, 'pdnsutil'),
    zone2sql: programPath(programs, 'zone2sql'),
    configDirectory: server.directory,
    database: server.keys.path,
    schema: await readFile(POWERDNS_SCHEMA_FILE, 'utf8'),
    zones,
    tsigKeyName: server.tsig.name,
    tsigSecret,
    publishCds: settings.publishCds,
    publishCdnskey: settings.publishCdnskey,
    denial: config.denial,
  });
  await chmod(server.keys.path, 0o600);
  const signalling = signallingZoneOf(server, config);
  if (signalling === undefined) return [];
  return [await exportZoneDs(programPath(programs, 'pdnsutil'), server, signalling)];
}

/** The SHA-256 DS of a zone's KSK, from the database before the server runs. */
async function exportZoneDs(pdnsutil: string, server: LabServer, zone: string): Promise<ZoneDs> {
  const printed = await runTool(
    pdnsutil,
    [`--config-dir=${server.directory}`, 'export-zone-ds', stripDot(zone)],
    { cwd: server.directory },
  );
  return sha256DsFrom(zone, printed.stdout);
}

/**
 * A zone's active, published ZSKs, from the database before the server runs (`pdnsutil list-keys`
 * rows `zone ZSK Act Pub size algorithm id …`, then `export-zone-dnskey` for each).
 */
export async function powerDnsZsks(
  pdnsutil: string,
  server: LabServer,
  zone: string,
): Promise<DnskeyData[]> {
  const run = async (...args: string[]) =>
    (
      await runTool(pdnsutil, [`--config-dir=${server.directory}`, ...args], {
        cwd: server.directory,
      })
    ).stdout;
  const ids = (await run('list-keys', stripDot(zone)))
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(
      ([, type, active, published]) => type === 'ZSK' && active === 'Act' && published === 'Pub',
    )
    .map((fields) => fields[6]!);
  return Promise.all(
    ids.map(async (id) => {
      const printed = await run('export-zone-dnskey', stripDot(zone), id);
      const rdata = /\sDNSKEY\s+(.+)$/m.exec(printed)?.[1];
      if (rdata === undefined)
        throw new LabError(`no DNSKEY for key ${id} of ${zone} in: ${printed}`);
      return parseRdata('DNSKEY', rdata) as DnskeyData;
    }),
  );
}

/** PowerDNS 4.7 with gsqlite3: the PowerDNS signer and the no-direct-dnskey trap. */
export const powerDnsKind: LabServerKind = {
  software: 'powerdns',
  programs: { pdns_server: 'pdns-server', pdnsutil: 'pdns-server', zone2sql: 'pdns-server' },
  requiredFiles: [
    {
      path: POWERDNS_SCHEMA_FILE,
      what: 'the PowerDNS gsqlite3 backend',
      debianPackage: 'pdns-backend-sqlite3',
    },
  ],
  needsLoopbackAlias: false,
  version: (programs) =>
    reportedVersion(
      programPath(programs, 'pdns_server'),
      ['--version'],
      /PowerDNS Authoritative Server\s+(\S+)/,
    ),
  layout: (home, address, programs) => ({
    software: 'powerdns',
    binary: programPath(programs, 'pdns_server'),
    configFile: path.join(home, 'pdns.conf'),
    logFile: path.join(home, 'pdns.log'),
    pidFile: path.join(home, 'pdns.pid'),
    control: {
      kind: 'powerdns-api',
      url: `http://${address}:${POWERDNS_API_PORT}/api/v1/servers/localhost`,
      address,
      port: POWERDNS_API_PORT,
      apiKeyFile: path.join(home, 'api.key'),
    },
    keys: { kind: 'sqlite-database', path: path.join(home, 'pdns.sqlite3') },
  }),
  prepare: preparePowerDns,
  daemonArguments: (server) => [`--config-dir=${server.directory}`],
  sockets: () => [],
  controlCheck: (server) => () => apiAnswers(server),
};
