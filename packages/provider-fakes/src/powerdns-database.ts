/**
 * Direct access to the gsqlite3 database of the PowerDNS behind a fake, for what PowerDNS 4.7's
 * HTTP API cannot do: switching a zone to presigned (the API refuses metadata kind PRESIGNED and
 * ignores the zone's `presigned` field) and giving a presigned zone its NSEC order names
 * (`pdnsutil rectify-zone` refuses presigned zones). PowerDNS reads both at every query when its
 * caches are off, as in the lab. Every change runs in one SQLite transaction.
 */
import type * as NodeSqlite from 'node:sqlite';

/** One row PowerDNS serves from the records table. */
export interface DatabaseRecord {
  /** Absolute, with the trailing dot. */
  name: string;
  type: string;
  ttl: number;
  content: string;
}

/** One RRset a presigned write replaces: absolute name, type, TTL and presentation contents. */
export interface ReplacedRrset {
  name: string;
  type: string;
  ttl: number;
  contents: readonly string[];
}

/** How PowerDNS must see every name of a presigned zone (what a rectify would have written). */
export interface NameOrder {
  /** Absolute, with the trailing dot. */
  name: string;
  /** NSEC order name (labels right to left, space-separated; '' at the apex); null = not in the chain. */
  ordername: string | null;
  /** Types whose rows are authoritative at this name (others, e.g. a delegation's NS or glue, are not). */
  authTypes: ReadonlySet<string>;
}

export interface PresignedData {
  /** RRSIG and NSEC rows; every earlier RRSIG, NSEC and empty-non-terminal row is replaced. */
  records: readonly DatabaseRecord[];
  /** Empty non-terminals: rows of no type that tell PowerDNS the name exists. */
  emptyNonTerminals: readonly string[];
  names: readonly NameOrder[];
}

/** The database is missing, or the zone is not in it. */
export class PowerDnsDatabaseError extends Error {
  readonly isRetryable = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PowerDnsDatabaseError';
  }
}

const SIGNATURE_TYPES = ['RRSIG', 'NSEC', 'NSEC3'];

function rowName(name: string): string {
  return name.replace(/\.$/, '').toLowerCase();
}

async function loadSqlite(): Promise<typeof NodeSqlite> {
  try {
    return await import('node:sqlite');
  } catch (error) {
    throw new PowerDnsDatabaseError(
      `node:sqlite is missing from Node.js ${process.version}; the NS1 fake's presigned zones need Node.js 22.13 or later`,
      { cause: error },
    );
  }
}

/** The PowerDNS gsqlite3 database at `file`; opened for each change and closed after it. */
export class PowerDnsDatabase {
  readonly file: string;

  constructor(file: string) {
    this.file = file;
  }

  /**
   * Marks the zone presigned (metadata PRESIGNED=1, no NSEC3PARAM: the zone is served with NSEC)
   * and writes its signatures, NSEC rows and order names. Returns the NSEC3PARAM it removed.
   */
  async writePresigned(
    zone: string,
    data: PresignedData,
    /** RRsets to replace (no contents: delete), written in the same transaction as their RRSIGs. */
    replaced: readonly ReplacedRrset[] = [],
  ): Promise<string | undefined> {
    return this.#transaction(zone, (db, domainId) => {
      for (const rrset of replaced) this.#replaceRrset(db, domainId, rrset);
      const nsec3param = this.#metadata(db, domainId, 'NSEC3PARAM');
      for (const kind of ['NSEC3PARAM', 'NSEC3NARROW', 'PRESIGNED'])
        this.#deleteMetadata(db, domainId, kind);
      db.prepare('INSERT INTO domainmetadata (domain_id, kind, content) VALUES (?, ?, ?)').run(
        domainId,
        'PRESIGNED',
        '1',
      );
      this.#deleteSignatureRows(db, domainId);
      const insert = db.prepare(
        'INSERT INTO records (domain_id, name, type, content, ttl, prio, disabled, ordername, auth) VALUES (?, ?, ?, ?, ?, 0, 0, NULL, 1)',
      );
      for (const record of data.records)
        insert.run(domainId, rowName(record.name), record.type, record.content, record.ttl);
      for (const name of data.emptyNonTerminals)
        db.prepare(
          'INSERT INTO records (domain_id, name, type, ordername, auth) VALUES (?, ?, NULL, NULL, 1)',
        ).run(domainId, rowName(name));
      this.#order(db, domainId, data.names);
      return nsec3param;
    });
  }

  /**
   * Back to live signing: removes PRESIGNED, every RRSIG/NSEC/empty-non-terminal row, and puts
   * `nsec3param` back (undefined: NSEC). The caller then rectifies through the API.
   */
  async clearPresigned(zone: string, nsec3param: string | undefined): Promise<void> {
    await this.#transaction(zone, (db, domainId) => {
      this.#deleteMetadata(db, domainId, 'PRESIGNED');
      this.#deleteSignatureRows(db, domainId);
      if (nsec3param !== undefined) {
        this.#deleteMetadata(db, domainId, 'NSEC3PARAM');
        db.prepare('INSERT INTO domainmetadata (domain_id, kind, content) VALUES (?, ?, ?)').run(
          domainId,
          'NSEC3PARAM',
          nsec3param,
        );
      }
    });
  }

  /** Whether PowerDNS treats the zone as presigned. */
  async isPresigned(zone: string): Promise<boolean> {
    return this.#transaction(
      zone,
      (db, domainId) => this.#metadata(db, domainId, 'PRESIGNED') === '1',
    );
  }

  #replaceRrset(db: NodeSqlite.DatabaseSync, domainId: number, rrset: ReplacedRrset): void {
    const name = rowName(rrset.name);
    db.prepare('DELETE FROM records WHERE domain_id = ? AND name = ? AND type = ?').run(
      domainId,
      name,
      rrset.type,
    );
    const insert = db.prepare(
      'INSERT INTO records (domain_id, name, type, content, ttl, prio, disabled, ordername, auth) VALUES (?, ?, ?, ?, ?, 0, 0, NULL, 1)',
    );
    for (const content of rrset.contents)
      insert.run(domainId, name, rrset.type, content, rrset.ttl);
  }

  #deleteSignatureRows(db: NodeSqlite.DatabaseSync, domainId: number): void {
    db.prepare(
      `DELETE FROM records WHERE domain_id = ? AND (type IS NULL OR type = '' OR type IN (${SIGNATURE_TYPES.map(() => '?').join(', ')}))`,
    ).run(domainId, ...SIGNATURE_TYPES);
  }

  /** Order names and auth flags of every row, as `pdnsutil rectify-zone` writes them for NSEC. */
  #order(db: NodeSqlite.DatabaseSync, domainId: number, names: readonly NameOrder[]): void {
    // Empty non-terminals keep what the insert gave them: auth, no order name.
    db.prepare(
      'UPDATE records SET ordername = NULL, auth = 0 WHERE domain_id = ? AND type IS NOT NULL',
    ).run(domainId);
    const setName = db.prepare(
      'UPDATE records SET ordername = ? WHERE domain_id = ? AND name = ? AND type IS NOT NULL',
    );
    const setAuth = db.prepare(
      'UPDATE records SET auth = 1 WHERE domain_id = ? AND name = ? AND type = ?',
    );
    for (const entry of names) {
      setName.run(entry.ordername, domainId, rowName(entry.name));
      for (const type of entry.authTypes) setAuth.run(domainId, rowName(entry.name), type);
    }
  }

  #metadata(db: NodeSqlite.DatabaseSync, domainId: number, kind: string): string | undefined {
    const row = db
      .prepare('SELECT content FROM domainmetadata WHERE domain_id = ? AND kind = ?')
      .get(domainId, kind) as { content?: unknown } | undefined;
    return typeof row?.content === 'string' ? row.content : undefined;
  }

  #deleteMetadata(db: NodeSqlite.DatabaseSync, domainId: number, kind: string): void {
    db.prepare('DELETE FROM domainmetadata WHERE domain_id = ? AND kind = ?').run(domainId, kind);
  }

  async #transaction<T>(
    zone: string,
    work: (db: NodeSqlite.DatabaseSync, domainId: number) => T,
  ): Promise<T> {
    const { DatabaseSync } = await loadSqlite();
    let db: NodeSqlite.DatabaseSync;
    try {
      db = new DatabaseSync(this.file);
    } catch (error) {
      throw new PowerDnsDatabaseError(
        `cannot open the PowerDNS database ${this.file}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    try {
      db.exec('PRAGMA busy_timeout = 5000');
      db.exec('BEGIN IMMEDIATE');
      try {
        const domain = db.prepare('SELECT id FROM domains WHERE name = ?').get(rowName(zone)) as
          { id?: unknown } | undefined;
        if (typeof domain?.id !== 'number' && typeof domain?.id !== 'bigint')
          throw new PowerDnsDatabaseError(`the PowerDNS database ${this.file} has no zone ${zone}`);
        const result = work(db, Number(domain.id));
        db.exec('COMMIT');
        return result;
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
    } finally {
      db.close();
    }
  }
}
