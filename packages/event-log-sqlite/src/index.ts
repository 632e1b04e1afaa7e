export { createMemoryEventLog } from './memory-event-log.js';
export type { MemoryEventLogOptions } from './memory-event-log.js';
export { SQLITE_EVENT_LOG_SCHEMA_VERSION, createSqliteEventLog } from './sqlite-event-log.js';
export type { SqliteEventLogOptions } from './sqlite-event-log.js';
