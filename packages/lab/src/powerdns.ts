/**
 * PowerDNS 4.7 with the gsqlite3 backend (reference/nameservers.md §3): pdns.conf and the
 * database, with every zone loaded, secured (KSK + ZSK, algorithm 13), publishing its own
 * CDS (SHA-256) and CDNSKEY, and open to DNS UPDATE signed with the lab's TSIG key. The
 * `powerdns-no-direct-dnskey` trap sets `direct-dnskey=no`, and nothing else.
 */
import type * as NodeSqlite from 'node:sqlite';
import { runTool } from './commands.js';
import { LabError } from './errors.js';
import { TSIG_ALGORITHM } from './secrets.js';

export const POWERDNS_SCHEMA_FILE = '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql';

export interface PowerDnsConfigOptions {
  directory: string;
  address: string;
  port: number;
  apiPort: number;
  /** Goes into pdns.conf, which is therefore written with mode 0600. */
  apiKey: string;
  database: string;
  /** `direct-dnskey=yes` serves backend DNSKEYs next to pdns's own; `no` (the trap) hides them. */
  directDnskey: boolean;
}

/** pdns.conf. It contains the API key: write it with `writeSecretFile`. */
export function pdnsConfig(options: PowerDnsConfigOptions): string {
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
    'webserver-allow-from=127.0.0.0/8',
    // Serve DNSKEY/CDS/CDNSKEY records from the backend next to pdns's own keys (§3.2).
    `direct-dnskey=${options.directDnskey ? 'yes' : 'no'}`,
    'dnsupdate=yes',
    'allow-dnsupdate-from=127.0.0.0/8',
    // Without a ZSK algorithm, secure-zone makes a single CSK (§3.1).
    'default-ksk-algorithm=ecdsa256',
    'default-zsk-algorithm=ecdsa256',
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

/** Creates the gsqlite3 schema and stores the TSIG key (by SQL, so the secret is never an argument). */
async function createDatabase(options: {
  database: string;
  schema: string;
  tsigKeyName: string;
  tsigSecret: string;
}): Promise<void> {
  const { DatabaseSync } = await loadSqlite();
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

/**
 * Builds the database before pdns_server starts: schema, TSIG key, then per zone
 * `load-zone`, `secure-zone` (which also rectifies), PUBLISH-CDS (digest type 2) and
 * PUBLISH-CDNSKEY for pdns's own KSK (§3.3), and `TSIG-ALLOW-DNSUPDATE`. Metadata written
 * before the server starts is seen at once (and pdns.conf turns the metadata cache off anyway).
 */
export async function preparePowerDnsDatabase(options: {
  pdnsutil: string;
  configDirectory: string;
  database: string;
  schema: string;
  zones: PowerDnsZone[];
  tsigKeyName: string;
  tsigSecret: string;
}): Promise<void> {
  await createDatabase(options);
  const pdnsutil = (...args: string[]) =>
    runTool(options.pdnsutil, [`--config-dir=${options.configDirectory}`, ...args], {
      cwd: options.configDirectory,
    });
  // pdnsutil runs one at a time: SQLite takes one writer.
  for (const { zone, file } of options.zones) {
    await pdnsutil('load-zone', zone, file);
    await pdnsutil('secure-zone', zone);
    await pdnsutil('set-publish-cds', zone, '2');
    await pdnsutil('set-publish-cdnskey', zone);
    await pdnsutil('set-meta', zone, 'TSIG-ALLOW-DNSUPDATE', options.tsigKeyName);
  }
}
