import { randomUUID } from 'node:crypto';
import type { EventLog } from '../event-log/types.js';
import { signEvent, type EventSigningKey } from './event-keys.js';

/**
 * The log as one principal writes to it: every appended event gets a fresh id, the stream version
 * it is written for, and the principal's signature. Reads pass through unchanged; the fold judges.
 */
export function createSigningEventLog<E extends object>(
  log: EventLog<E>,
  key: EventSigningKey,
): EventLog<E> {
  return {
    append: (stream, expectedVersion, events) =>
      log.append(
        stream,
        expectedVersion,
        events.map((event, index) =>
          signEvent(event, key, { id: randomUUID(), streamVersion: expectedVersion + index + 1 }),
        ),
      ),
    readStream: (stream, options) => log.readStream(stream, options),
    readAll: (options) => log.readAll(options),
    streamVersion: (stream) => log.streamVersion(stream),
    subscribe: (options) => log.subscribe(options),
    consumerPosition: (consumer) => log.consumerPosition(consumer),
    commitConsumer: (consumer, position) => log.commitConsumer(consumer, position),
    close: () => log.close(),
  };
}
