/**
 * The embedded event-log backend: one SQLite file shared by several processes on one host,
 * through Node's built-in `node:sqlite` (no native build; needs Node ≥ 22.13, where the module
 * no longer needs a flag). WAL journal, `synchronous=FULL` (every commit is fsynced before
 * `append` resolves), `busy_timeout` for writers that meet each other. Appends run in
 * `BEGIN IMMEDIATE` transactions, so writers are serialised and commit order is position order;
 * appends made in the same turn of the event loop share one transaction (group commit), each
 * refused on its own on a version conflict.
 *
 * Subscribers wake at once for appends made through the same log object; appends by other
 * processes (or other log objects) are noticed through `fs.watch` on the database's directory and
 * `PRAGMA data_version`, with a safety poll (1 s by default) in case a watch event is missed.
 *
 * @module
 */
import { resolve as resolvePath } from 'node:path';
import type * as NodeSqlite from 'node:sqlite';
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import type { Logger } from 'pino';
import {
  assertInteger,
  assertName,
  ChorusError,
  EventLogError,
  normalizeFromVersion,
  normalizeReadAll,
  serializeEvents,
  WrongExpectedVersionError,
  type AppendResult,
  type EventLog,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeOptions,
  type Subscription,
} from '@chorus/core';
import { AppendBatcher, type AppendOutcome, type PendingAppend } from './append-batch.js';
import { CommitWatcher } from './sqlite-commit-watcher.js';
import { LiveSubscription, type SubscriptionSource } from './subscription.js';

/** The schema version this code writes. A database with a newer one is refused at open. */
export const SQLITE_EVENT_LOG_SCHEMA_VERSION = 1;

/** Options of {@link createSqliteEventLog}. */
export interface SqliteEventLogOptions {
  /** Path of the database file; created (with its tables) if missing. Its directory must exist. */
  path: string;
  /** Receives open/close details, watch failures and errors of subscriptions without `onError`. */
  logger?: Logger;
  /** How long a writer waits for another process's write lock before `busy` (default 5000 ms). */
  busyTimeoutMs?: number;
  /** Safety poll for appends by other processes, in ms (default 1000, at most 60000). */
  pollIntervalMs?: number;
  /** Watch the database directory to notice other processes' appends at once (default true). */
  watch?: boolean;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;
const DEFAULT_POLL_INTERVAL_MS = 1000;

/** SQLite primary result codes (the low byte of an extended code). */
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;
/** Extended codes for a UNIQUE or PRIMARY KEY violation. */
const SQLITE_CONSTRAINT_UNIQUE = 2067;
const SQLITE_CONSTRAINT_PRIMARYKEY = 1555;

function sqliteCode(error: unknown): number | undefined {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === 'number' ? code : undefined;
}

/**
 * `BEGIN IMMEDIATE` that fails at once with SQLITE_BUSY instead of sleeping in SQLite's busy
 * handler, which would block the whole event loop; the caller waits asynchronously and retries.
 */
function beginWithoutWaiting(db: DatabaseSync, busyTimeoutMs: number): void {
  db.exec('PRAGMA busy_timeout = 0');
  try {
    db.exec('BEGIN IMMEDIATE');
  } finally {
    db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
  }
}

/** Wraps a SQLite (or other) failure into an EventLogError; Chorus errors pass through. */
function storageError(what: string, error: unknown): ChorusError {
  if (ChorusError.isInstance(error)) return error;
  const code = sqliteCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  const primary = code === undefined ? undefined : code & 0xff;
  if (primary === SQLITE_BUSY || primary === SQLITE_LOCKED)
    return new EventLogError(
      'busy',
      `${what}: the database is locked by another writer (${detail})`,
      {
        cause: error,
      },
    );
  if (primary === SQLITE_CORRUPT || primary === SQLITE_NOTADB)
    return new EventLogError('corrupt', `${what}: ${detail}`, { cause: error });
  return new EventLogError('storage', `${what}: ${detail}`, { cause: error });
}

type SqliteModule = typeof NodeSqlite;

function loadSqlite(): SqliteModule {
  // Loaded lazily so that importing @chorus/core works on Node versions without node:sqlite.
  // (process.getBuiltinModule itself appeared in Node 22.3.)
  let sqlite: SqliteModule | undefined;
  try {
    sqlite =
      typeof process.getBuiltinModule === 'function'
        ? process.getBuiltinModule('node:sqlite')
        : undefined;
  } catch {
    sqlite = undefined;
  }
  if (sqlite === undefined)
    throw new EventLogError(
      'storage',
      `node:sqlite is not available in Node ${process.versions.node}: the SQLite event log needs Node ≥ 22.13`,
    );
  return sqlite;
}

const SCHEMA_V1 = `
  CREATE TABLE meta (schema_version INTEGER NOT NULL);
  CREATE TABLE events (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    stream TEXT NOT NULL,
    stream_version INTEGER NOT NULL,
    recorded_at TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (stream, stream_version)
  );
  CREATE TABLE consumers (name TEXT PRIMARY KEY, position INTEGER NOT NULL);
`;

/** Runs `fn` inside BEGIN IMMEDIATE … COMMIT, rolling back on any error. */
function immediate<T>(db: DatabaseSync, fn: () => T, options: { busyTimeoutMs?: number } = {}): T {
  if (options.busyTimeoutMs === undefined) db.exec('BEGIN IMMEDIATE');
  else beginWithoutWaiting(db, options.busyTimeoutMs);
  try {
    const result = fn();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    try {
      db.exec('ROLLBACK');
    } catch {
      // No transaction left to roll back (SQLite already ended it).
    }
    throw error;
  }
}

/** Creates the schema, or checks the one found. */
function migrate(db: DatabaseSync, path: string): number {
  return immediate(db, () => {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all()
      .map((row) => row.name);
    if (!tables.includes('meta')) {
      if (tables.length > 0)
        throw new EventLogError(
          'schema',
          `${path} is a SQLite database but not a Chorus event log (tables: ${tables.join(', ')})`,
        );
      db.exec(SCHEMA_V1);
      db.prepare('INSERT INTO meta (schema_version) VALUES (?)').run(
        SQLITE_EVENT_LOG_SCHEMA_VERSION,
      );
      return SQLITE_EVENT_LOG_SCHEMA_VERSION;
    }
    const rows = db.prepare('SELECT schema_version FROM meta').all();
    const found = rows[0]?.schema_version;
    if (rows.length !== 1 || typeof found !== 'number' || !Number.isSafeInteger(found) || found < 1)
      throw new EventLogError(
        'corrupt',
        `${path}: the meta table does not hold one schema version`,
      );
    if (found > SQLITE_EVENT_LOG_SCHEMA_VERSION)
      throw new EventLogError(
        'schema',
        `${path} has event-log schema version ${found}, newer than the ${SQLITE_EVENT_LOG_SCHEMA_VERSION} this version of @chorus/core understands: upgrade Chorus`,
      );
    // Only version 1 exists so far; older versions would be migrated here.
    return found;
  });
}

interface Settings {
  path: string;
  busyTimeoutMs: number;
  pollIntervalMs: number;
  logger: Logger | undefined;
}

/** Checks the options and fills in the defaults. */
function settingsOf(options: SqliteEventLogOptions): Settings {
  if (typeof options !== 'object' || options === null)
    throw new EventLogError('invalid-argument', 'createSqliteEventLog needs an options object');
  if (typeof options.path !== 'string' || options.path === '' || options.path === ':memory:')
    throw new EventLogError(
      'invalid-argument',
      'path must name a database file (use createMemoryEventLog for an in-memory log)',
    );
  const busyTimeoutMs =
    options.busyTimeoutMs === undefined
      ? DEFAULT_BUSY_TIMEOUT_MS
      : assertInteger(options.busyTimeoutMs, 'busyTimeoutMs', 0);
  const pollIntervalMs =
    options.pollIntervalMs === undefined
      ? DEFAULT_POLL_INTERVAL_MS
      : assertInteger(options.pollIntervalMs, 'pollIntervalMs', 1);
  if (pollIntervalMs > 60_000)
    throw new EventLogError('invalid-argument', 'pollIntervalMs must be at most 60000');
  const path = resolvePath(options.path);
  const logger = options.logger?.child({ component: 'event-log', backend: 'sqlite', path });
  return { path, busyTimeoutMs, pollIntervalMs, logger };
}

/** Opens the file with the WAL journal and fsync per commit, and creates or checks the schema. */
function openDatabase({ path, busyTimeoutMs }: Settings) {
  const { DatabaseSync } = loadSqlite();
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
  } catch (error) {
    throw storageError(`cannot open the event log ${path}`, error);
  }
  try {
    db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    const mode = db.prepare('PRAGMA journal_mode = WAL').get()?.journal_mode;
    if (mode !== 'wal')
      throw new EventLogError(
        'storage',
        `${path}: cannot use the WAL journal (got ${String(mode)}); is it on a network filesystem?`,
      );
    db.exec('PRAGMA synchronous = FULL');
    return { db, schemaVersion: migrate(db, path) };
  } catch (error) {
    db.close();
    throw storageError(`cannot open the event log ${path}`, error);
  }
}

const COLUMNS = 'position, stream, stream_version, recorded_at, body';

function prepareStatements(db: DatabaseSync) {
  return {
    version: db.prepare(
      'SELECT coalesce(max(stream_version), 0) AS version FROM events WHERE stream = ?',
    ),
    insert: db.prepare(
      'INSERT INTO events (stream, stream_version, recorded_at, body) VALUES (?, ?, ?, ?)',
    ),
    readStream: db.prepare(
      `SELECT ${COLUMNS} FROM events WHERE stream = ? AND stream_version >= ? ORDER BY stream_version`,
    ),
    readAll: db.prepare(
      `SELECT ${COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?`,
    ),
    readPrefix: db.prepare(
      `SELECT ${COLUMNS} FROM events WHERE position > ? AND substr(stream, 1, length(?)) = ? ORDER BY position LIMIT ?`,
    ),
    head: db.prepare('SELECT coalesce(max(position), 0) AS head FROM events'),
    consumer: db.prepare('SELECT position FROM consumers WHERE name = ?'),
    commitConsumer: db.prepare(
      'INSERT INTO consumers (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position',
    ),
    dataVersion: db.prepare('PRAGMA data_version'),
  } satisfies Record<string, StatementSync>;
}

type Statements = ReturnType<typeof prepareStatements>;

/** Reads an integer column, or reports the row as corrupt. */
function integer(path: string, row: Record<string, unknown> | undefined, column: string): number {
  const value = row?.[column];
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw new EventLogError('corrupt', `${path}: ${column} is not an integer`);
  return value;
}

/** Decodes one row of `events`, or reports it as corrupt. */
function toRecorded<E>(path: string, row: Record<string, unknown>): RecordedEvent<E> {
  const position = integer(path, row, 'position');
  const { stream, recorded_at: recordedAt, body } = row;
  if (typeof stream !== 'string' || typeof recordedAt !== 'string' || typeof body !== 'string')
    throw new EventLogError('corrupt', `${path}: event at position ${position} has a bad row`);
  let event: E;
  try {
    event = JSON.parse(body) as E;
  } catch (error) {
    throw new EventLogError('corrupt', `${path}: event at position ${position} is not valid JSON`, {
      cause: error,
    });
  }
  return {
    position,
    stream,
    streamVersion: integer(path, row, 'stream_version'),
    recordedAt,
    event,
  };
}

/** Inserts `bodies` at the stream's next versions iff it is at `expectedVersion` (in a transaction). */
function insertEvents(
  path: string,
  statements: Statements,
  stream: string,
  expectedVersion: number,
  bodies: readonly string[],
): AppendResult {
  const actual = integer(path, statements.version.get(stream), 'version');
  if (actual !== expectedVersion)
    throw new WrongExpectedVersionError({ stream, expected: expectedVersion, actual });
  const recordedAt = new Date().toISOString();
  const positions = bodies.map((body, index) => {
    const parameters: SQLInputValue[] = [stream, expectedVersion + index + 1, recordedAt, body];
    return Number(statements.insert.run(...parameters).lastInsertRowid);
  });
  return { streamVersion: expectedVersion + bodies.length, positions };
}

/** True when an insert hit the UNIQUE (stream, stream_version) constraint. */
function isVersionConflict(error: unknown): boolean {
  const code = sqliteCode(error);
  return code === SQLITE_CONSTRAINT_UNIQUE || code === SQLITE_CONSTRAINT_PRIMARYKEY;
}

/** The streams of a batch, for an error message. */
function describeStreams(batch: readonly PendingAppend[]): string {
  const streams = [...new Set(batch.map((append) => JSON.stringify(append.stream)))];
  return streams.length <= 3
    ? streams.join(', ')
    : `${streams.slice(0, 3).join(', ')} and ${streams.length - 3} more`;
}

/**
 * Opens (creating if needed) the SQLite event log at `options.path`. Several processes on one
 * host may open the same file; appends from all of them are totally ordered and checked against
 * the stream's expected version. Throws EventLogError when the file cannot be opened, is not an
 * event log, or has a newer schema. Needs Node ≥ 22.13 (`node:sqlite`); not for network
 * filesystems (WAL needs shared memory on one host).
 */
export function createSqliteEventLog<E>(options: SqliteEventLogOptions): EventLog<E> {
  const settings = settingsOf(options);
  const { path, logger } = settings;
  const { db, schemaVersion } = openDatabase(settings);
  const statements = prepareStatements(db);
  const { busyTimeoutMs, pollIntervalMs } = settings;
  logger?.debug({ schemaVersion, busyTimeoutMs, pollIntervalMs }, 'event log opened');

  let closed = false;
  const subscriptions = new Set<LiveSubscription<E>>();

  const ensureOpen = (): void => {
    if (closed) throw new EventLogError('closed', `the event log ${path} is closed`);
  };
  /** Runs a storage call, turning SQLite failures into EventLogError. */
  const guard = <T>(what: string, fn: () => T): T => {
    ensureOpen();
    try {
      return fn();
    } catch (error) {
      throw storageError(what, error);
    }
  };
  const readAfter = (
    afterPosition: number,
    streamPrefix: string | undefined,
    limit: number | undefined,
  ): RecordedEvent<E>[] => {
    const max = limit ?? -1; // a negative LIMIT means no limit
    const rows =
      streamPrefix === undefined
        ? statements.readAll.all(afterPosition, max)
        : statements.readPrefix.all(afterPosition, streamPrefix, streamPrefix, max);
    return rows.map((row) => toRecorded<E>(path, row));
  };
  const versionOf = (stream: string): number =>
    integer(path, statements.version.get(stream), 'version');
  const consumerPositionOf = (consumer: string): number =>
    guard('cannot read a consumer position', () =>
      integer(path, statements.consumer.get(consumer) ?? { position: 0 }, 'position'),
    );
  const commit = (consumer: string, position: number): void => {
    assertName(consumer, 'consumer');
    assertInteger(position, 'position', 0);
    guard(`cannot commit consumer ${JSON.stringify(consumer)}`, () =>
      immediate(db, () => {
        const head = integer(path, statements.head.get(), 'head');
        if (position > head)
          throw new EventLogError(
            'invalid-argument',
            `position ${position} is past the end of the log (${head})`,
          );
        statements.commitConsumer.run(consumer, position);
      }),
    );
  };
  const wakeAll = (): void => {
    for (const subscription of subscriptions) subscription.wake();
  };
  /** One append inside the batch's transaction; a version conflict rolls back this append alone. */
  const appendInSavepoint = (append: PendingAppend): AppendOutcome => {
    db.exec('SAVEPOINT chorus_append');
    try {
      const { stream, expectedVersion, bodies } = append;
      const result = insertEvents(path, statements, stream, expectedVersion, bodies);
      db.exec('RELEASE chorus_append');
      return { result };
    } catch (error) {
      db.exec('ROLLBACK TO chorus_append');
      db.exec('RELEASE chorus_append');
      if (WrongExpectedVersionError.isInstance(error)) return { refused: error };
      // The UNIQUE (stream, stream_version) constraint is the last line of defence.
      if (!isVersionConflict(error)) throw error;
      const actual = versionOf(append.stream);
      const { stream, expectedVersion: expected } = append;
      return { refused: new WrongExpectedVersionError({ stream, expected, actual }) };
    }
  };
  const commitBatch = (batch: readonly PendingAppend[]): AppendOutcome[] =>
    guard(`cannot append to ${describeStreams(batch)}`, () =>
      immediate(db, () => batch.map(appendInSavepoint), { busyTimeoutMs }),
    );
  const batcher = new AppendBatcher({
    commit: commitBatch,
    isBusy: (error) => EventLogError.isInstance(error) && error.kind === 'busy',
    committed: () => wakeAll(),
  });
  const append = (stream: string, expectedVersion: number, events: readonly E[]) =>
    new Promise<AppendResult>((resolve, reject) => {
      ensureOpen();
      assertName(stream, 'stream');
      assertInteger(expectedVersion, 'expectedVersion', 0);
      const bodies = serializeEvents(events);
      const deadline = performance.now() + busyTimeoutMs;
      batcher.add({ stream, expectedVersion, bodies, deadline, resolve, reject });
    });

  const commits = new CommitWatcher({
    path,
    dataVersion: () => integer(path, statements.dataVersion.get(), 'data_version'),
    wake: wakeAll,
    active: () => !closed && subscriptions.size > 0,
    pollIntervalMs,
    watch: options.watch !== false,
    logger,
  });
  const startWatching = (): void => {
    try {
      commits.start();
    } catch (error) {
      throw storageError('cannot start a subscription', error);
    }
  };

  const source: SubscriptionSource<E> = {
    read: (afterPosition, streamPrefix, limit) =>
      Promise.resolve(
        guard('cannot read events', () => readAfter(afterPosition, streamPrefix, limit)),
      ),
    consumerPosition: (consumer) => Promise.resolve(consumerPositionOf(consumer)),
    commitConsumer: (consumer, position) => Promise.resolve(commit(consumer, position)),
    reportUnhandled: (error, consumer) => {
      logger?.error({ err: error, consumer }, 'event-log subscription stopped');
    },
    stopped: (subscription) => {
      subscriptions.delete(subscription);
      if (subscriptions.size === 0) commits.stop();
    },
  };

  // Every method runs synchronously inside a promise executor, so a throw becomes a rejection.
  const run = <T>(fn: () => T): Promise<T> => new Promise<T>((resolve) => resolve(fn()));

  return {
    append,

    readStream: (stream: string, readOptions?: ReadStreamOptions) =>
      run(() => {
        ensureOpen();
        assertName(stream, 'stream');
        const fromVersion = normalizeFromVersion(readOptions);
        return guard(`cannot read ${JSON.stringify(stream)}`, () =>
          statements.readStream.all(stream, fromVersion).map((row) => toRecorded<E>(path, row)),
        );
      }),

    readAll: (readOptions?: ReadAllOptions) =>
      run(() => {
        ensureOpen();
        const { afterPosition, limit, streamPrefix } = normalizeReadAll(readOptions);
        return guard('cannot read events', () => readAfter(afterPosition, streamPrefix, limit));
      }),

    streamVersion: (stream: string) =>
      run(() => {
        ensureOpen();
        assertName(stream, 'stream');
        return guard(`cannot read ${JSON.stringify(stream)}`, () => versionOf(stream));
      }),

    subscribe: (subscribeOptions: SubscribeOptions<E>): Subscription => {
      ensureOpen();
      const subscription = new LiveSubscription(subscribeOptions, source);
      if (subscriptions.size === 0) startWatching();
      subscriptions.add(subscription);
      subscription.begin();
      return subscription;
    },

    consumerPosition: (consumer: string) =>
      run(() => {
        ensureOpen();
        assertName(consumer, 'consumer');
        return consumerPositionOf(consumer);
      }),

    commitConsumer: (consumer: string, position: number) =>
      run(() => {
        ensureOpen();
        commit(consumer, position);
      }),

    close: async () => {
      if (closed) return;
      batcher.flushNow();
      closed = true;
      await Promise.all([...subscriptions].map((subscription) => subscription.close()));
      commits.stop();
      try {
        db.close();
      } catch (error) {
        throw storageError(`cannot close the event log ${path}`, error);
      }
      logger?.debug('event log closed');
    },
  };
}
