/** Server-sent events: the events of one process as they land, until it ends or the client leaves. */
import type { ServerResponse } from 'node:http';
import { zoneStream, type RecordedEvent, type ZoneEvent } from '@chorus/core';
import { applyZoneEvent, emptyZoneState, type ZoneState } from '@chorus/engine';
import type { ServedLog } from './coordination.js';

const ENDED = new Set(['completed', 'failed', 'blocked', 'stopped']);

/** True once the process has ended (an outcome the sidecars will not change). */
export function processEnded(state: ZoneState, processId: string): boolean {
  const process = state.processes.find((candidate) => candidate.id === processId);
  return process !== undefined && ENDED.has(process.status);
}

const aboutProcess = (event: ZoneEvent, processId: string) =>
  'processId' in event.data && event.data.processId === processId;

export function startEventStream(
  response: ServerResponse,
): (data: unknown, event?: string) => void {
  response.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  return (data, event) =>
    void response.write(`${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
}

/**
 * Sends each event of the process (those already in the log, then new ones) and an `end` event
 * with its outcome; returns when it ended or the client went away. The subscription starts right
 * after the read, as `follow()` does, so nothing in between is lost.
 */
export async function streamProcess(
  served: ServedLog,
  zone: string,
  processId: string,
  response: ServerResponse,
): Promise<void> {
  const { log, coordination } = served;
  const stream = zoneStream(zone);
  const send = startEventStream(response);
  const history = await log.readStream(stream);
  let state = emptyZoneState(zone, coordination.foldPolicyOf(log));
  const take = (recorded: RecordedEvent<ZoneEvent>) => {
    state = applyZoneEvent(state, recorded.event);
    if (aboutProcess(recorded.event, processId)) send(recorded);
  };
  history.forEach(take);
  const finish = () => {
    const process = state.processes.find((candidate) => candidate.id === processId);
    send({ processId, status: process?.status ?? 'unknown' }, 'end');
    response.end();
  };
  if (processEnded(state, processId)) return finish();
  await new Promise<void>((resolve) => {
    const subscription = log.subscribe({
      afterPosition: history.at(-1)?.position ?? 0,
      streamPrefix: stream,
      onEvent: (recorded) => {
        if (recorded.stream !== stream || recorded.streamVersion <= state.version) return;
        take(recorded);
        if (!processEnded(state, processId)) return;
        finish();
        close();
      },
      onError: (error) => {
        send(
          { error: { code: 'Chorus_EventLogError', message: (error as Error).message } },
          'error',
        );
        response.end();
        close();
      },
    });
    const close = () => {
      void subscription.close();
      resolve();
    };
    response.on('close', close);
  });
}
