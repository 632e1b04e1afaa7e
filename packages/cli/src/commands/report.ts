/**
 * `chorus report ZONE`: the timeline report of a zone from the event log: report.html (one
 * self-contained page), one SVG per process and timeline.json. Progress on stderr; the path of
 * report.html (or, with --json, the paths and the glitch count) on stdout.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { ChorusError, type ChorusEvent, type EventLog } from '@chorus/core';
import { createSqliteEventLog } from '@chorus/event-log-sqlite';
import { openExistingLog as openExistingEventLog } from '../coordination/event-log.js';
import { ReportError, writeReport } from '@chorus/report';
import { expectPositionals, parseCommandArgs, UsageError } from '../args.js';
import { REPORT_HELP } from '../help.js';
import type { CliIo } from '../io.js';
import { zoneArgument } from '../coordination/zone-argument.js';

/** The log `chorus demo` writes: `<lab dir>/demo/events.sqlite`. */
const demoLogPath = () =>
  path.join(
    process.env.CHORUS_LAB_DIR ?? path.join(process.cwd(), '.lab'),
    'demo',
    'events.sqlite',
  );

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/** --log, else $CHORUS_EVENT_LOG, else the demo's log when there is one. */
async function findLog(value: string | undefined): Promise<string> {
  const given = value ?? process.env.CHORUS_EVENT_LOG;
  if (given !== undefined && given !== '') return given;
  const demo = demoLogPath();
  if (await isFile(demo)) return demo;
  throw new UsageError(
    `give the event log with --log FILE or CHORUS_EVENT_LOG (there is no demo log at ${demo})`,
    'report',
  );
}

/** Opens an existing log; a missing file or one that is not an event log is a clear error. */
async function openExistingLog(file: string): Promise<EventLog<ChorusEvent>> {
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    throw new ReportError(
      `cannot read the event log ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error)}`,
      error,
    );
  }
  if (!info.isFile()) throw new ReportError(`cannot read the event log ${file}: not a file`);
  try {
    if (file.endsWith('.json')) return await openExistingEventLog(file);
    return createSqliteEventLog<ChorusEvent>({ path: file });
  } catch (error) {
    throw new ReportError(
      `cannot read the event log ${file}: ${error instanceof Error ? error.message : String(error)}`,
      error,
    );
  }
}

export async function reportCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('report', args, {
    log: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(REPORT_HELP);
    return 0;
  }
  expectPositionals(positionals, 1, 'report');
  const zone = zoneArgument(positionals[0], 'report', 'chorus report ZONE');
  const logFile = await findLog(values.log);
  const outDir = path.resolve(
    values.out ?? `chorus-report-${zone.replace(/\.$/, '').replace(/[^A-Za-z0-9._-]+/g, '_')}`,
  );
  io.stderr(`[report] reading ${zone} from ${logFile}\n`);
  const log = await openExistingLog(logFile);
  try {
    const written = await writeReport({ log, zone, outDir }).catch((error: unknown) => {
      if (ReportError.isInstance(error) || !ChorusError.isInstance(error)) throw error;
      throw new ReportError(`cannot read the event log ${logFile}: ${error.message}`, error);
    });
    const { model } = written;
    io.stderr(
      `[report] ${model.processes.length} process(es), ${model.summary.steps} step(s), ${written.glitches} glitch(es); wrote ${written.svgs.length} SVG(s) and timeline.json to ${outDir}\n`,
    );
    if (values.json === true)
      io.stdout(
        `${JSON.stringify(
          {
            zone,
            html: written.html,
            json: written.json,
            svgs: written.svgs,
            glitches: written.glitches,
            processes: model.processes.length,
          },
          null,
          2,
        )}\n`,
      );
    else io.stdout(`${written.html}\n`);
    return 0;
  } finally {
    await log.close();
  }
}
