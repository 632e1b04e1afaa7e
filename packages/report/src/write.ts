/**
 * `writeReport`: reads a zone's streams from the event log and writes report.html, one SVG per
 * process (process-<n>-<kind>-<signer>.svg) and timeline.json into `outDir`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  isObservationEvent,
  isZoneEvent,
  observationStream,
  zoneStream,
  type ChorusEvent,
  type EventLog,
} from '@chorus/core';
import { ReportError } from './errors.js';
import { renderReportHtml } from './html.js';
import type { TimelineModel } from './model.js';
import { renderProcessSvg } from './svg.js';
import { buildTimeline } from './timeline.js';
import { safeFileName } from './xml.js';

export interface WriteReportOptions {
  /** The log holding the zone's stream and its observation stream. */
  log: Pick<EventLog<ChorusEvent>, 'readStream'>;
  zone: string;
  outDir: string;
  /** The report's time. Default: now. */
  now?: Date;
}

export interface WrittenSvg {
  processId: string;
  kind: string;
  signerId: string;
  path: string;
}

export interface WrittenReport {
  /** Absolute path of report.html. */
  html: string;
  svgs: WrittenSvg[];
  /** Absolute path of timeline.json. */
  json: string;
  glitches: number;
  model: TimelineModel;
}

/** File name of a process's SVG. */
export function svgFileName(process: { number: number; kind: string; signerId: string }): string {
  return `process-${process.number}-${safeFileName(process.kind)}-${safeFileName(process.signerId)}.svg`;
}

/** Writes the report of `zone`. Rejects with ReportError when the log holds no event of the zone. */
/** The timeline model of `zone` from its two streams in `log`; a ReportError when both are empty. */
export async function timelineFromLog(
  log: Pick<EventLog<ChorusEvent>, 'readStream'>,
  zone: string,
  now = new Date(),
): Promise<TimelineModel> {
  const zoneEvents = (await log.readStream(zoneStream(zone)))
    .map((recorded) => recorded.event)
    .filter(isZoneEvent);
  const observations = (await log.readStream(observationStream(zone)))
    .map((recorded) => recorded.event)
    .filter(isObservationEvent);
  if (zoneEvents.length === 0 && observations.length === 0)
    throw new ReportError(
      `the event log has no events for zone ${zone} (streams ${zoneStream(zone)} and ${observationStream(zone)} are empty)`,
    );
  return buildTimeline(zone, zoneEvents, observations, { generatedAt: now.toISOString() });
}

export async function writeReport(options: WriteReportOptions): Promise<WrittenReport> {
  const model = await timelineFromLog(options.log, options.zone, options.now);
  const outDir = path.resolve(options.outDir);
  await mkdir(outDir, { recursive: true });
  const svgs: WrittenSvg[] = [];
  for (const process of model.processes) {
    const file = path.join(outDir, svgFileName(process));
    await writeFile(file, renderProcessSvg(model, process.id));
    svgs.push({
      processId: process.id,
      kind: process.kind,
      signerId: process.signerId,
      path: file,
    });
  }
  const json = path.join(outDir, 'timeline.json');
  await writeFile(json, `${JSON.stringify(model, null, 2)}\n`);
  const html = path.join(outDir, 'report.html');
  await writeFile(html, renderReportHtml(model));
  return { html, svgs, json, glitches: model.glitches.length, model };
}
