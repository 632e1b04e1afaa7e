export { createNatsEventLog } from './nats-event-log.js';
export type { NatsEventLogOptions } from './settings.js';
export { readCredentialsFile } from './settings.js';
export {
  CONSUMERS_BUCKET,
  DEFAULT_STREAM_NAME,
  DEFAULT_SUBJECT_PREFIX,
  subjectForStream,
} from './subjects.js';
export { clientPermissions, natsAuthorizationConfig } from './permissions.js';
export type { ClientPermissions, ClientPermissionsOptions, NatsUser } from './permissions.js';
