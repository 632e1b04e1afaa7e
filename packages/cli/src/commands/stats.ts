/** `chorus stats [ZONE | --group G]`: figures from the event log, a table per section or JSON. */
import {
  ChorusError,
  isObservationEvent,
  observationStream,
  zoneStream,
  type ChorusEvent,
  type EventLog,
  type ZoneEvent,
} from '@chorus/core';
import { expectPositionals, parseCommandArgs } from '../args.js';
import {
  foldPolicyOf,
  knownZones,
  readKnownZone,
  withEventLog,
  LOG_OPTIONS,
} from '../coordination/event-log.js';
import { groupArgument, readDefinedGroup } from '../coordination/groups.js';
import { computeStats, type Stats, type ZoneHistory } from '../coordination/stats.js';
import { zoneArgument } from '../coordination/zone-argument.js';
import { STATS_HELP } from '../help.js';
import type { CliIo } from '../io.js';

const USAGE = 'chorus stats [ZONE | --group G]';

export async function readHistory(log: EventLog<ZoneEvent>, zone: string): Promise<ZoneHistory> {
  const events = await log.readStream(zoneStream(zone));
  const observations = await (log as unknown as EventLog<ChorusEvent>).readStream(
    observationStream(zone),
  );
  return {
    zone,
    events: events.map((recorded) => recorded.event),
    observations: observations.map((recorded) => recorded.event).filter(isObservationEvent),
  };
}

/** The zones asked for: ZONE (known), the group's, or every zone in the log. */
async function zonesAsked(
  log: EventLog<ZoneEvent>,
  path: string,
  asked: { zone?: string | undefined; group?: string | undefined },
): Promise<string[]> {
  if (asked.zone) return [(await readKnownZone(log, asked.zone, path)).zone];
  if (asked.group) {
    const group = await readDefinedGroup(log, asked.group);
    if (group.zones.length > 0) return group.zones;
    throw new ChorusError('Chorus_UnknownZoneError', {
      message: `group ${asked.group} has no zone yet; add zones with "chorus zone define ZONE… --group ${asked.group}"`,
    });
  }
  const zones = await knownZones(log);
  if (zones.length > 0) return zones;
  throw new ChorusError('Chorus_UnknownZoneError', {
    message: `no zone in ${path} yet: the sidecars register their zones when they start; then run "chorus zone define ZONE --signer ID"`,
  });
}

export async function statsCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('stats', args, {
    ...LOG_OPTIONS,
    group: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(STATS_HELP);
    return 0;
  }
  expectPositionals(positionals, values.group === undefined ? 1 : 0, 'stats');
  const group = values.group === undefined ? undefined : groupArgument(values.group, 'stats');
  const zone =
    positionals[0] === undefined ? undefined : zoneArgument(positionals[0], 'stats', USAGE);
  const stats = await withEventLog(values, 'stats', async (log, path) => {
    const histories = [];
    for (const name of await zonesAsked(log, path, { zone, group }))
      histories.push(await readHistory(log, name));
    return computeStats(histories, foldPolicyOf(log));
  });
  io.stdout(
    values.json ? `${JSON.stringify(stats, null, 2)}\n` : `${statsLines(stats).join('\n')}\n`,
  );
  return 0;
}

// Text output.

function table(header: string[], rows: (string | number)[][]): string[] {
  if (rows.length === 0) return ['  none'];
  const cells = rows.map((row) => row.map(String));
  const widths = header.map((title, column) =>
    Math.max(title.length, ...cells.map((row) => row[column]!.length)),
  );
  const line = (row: string[]) =>
    `  ${row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ')}`.trimEnd();
  return [line(header), ...cells.map(line)];
}

const fixed = (value: number) => value.toFixed(1);

const countsText = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([key, count]) => `${key} ×${count}`)
    .join(', ');

function headerLines(stats: Stats): string[] {
  const shown = stats.zones.slice(0, 3).join(', ');
  const more = stats.zones.length > 3 ? `, … (${stats.zones.length - 3} more)` : '';
  const verified = stats.verified
    ? `verified; ${stats.refusedEvents} refused event(s) not counted`
    : 'NOT VERIFIED: give the trust file with --trust FILE or CHORUS_TRUST to check signatures';
  return [`${stats.zones.length} zone(s): ${shown}${more}`, `  ${verified}`];
}

function processLines(stats: Stats): string[] {
  return [
    'Processes',
    ...table(
      [
        'KIND',
        'TOTAL',
        'COMPLETED',
        'FAILED',
        'BLOCKED',
        'STOPPED',
        'RUNNING',
        'NEEDS-OPERATOR',
        'PENDING',
      ],
      stats.processes.map((row) => [
        row.kind,
        row.total,
        row.completed,
        row.failed,
        row.blocked,
        row.stopped,
        row.running,
        row.needsOperator,
        row.pending,
      ]),
    ),
  ];
}

function durationLines(stats: Stats): string[] {
  return [
    'Durations of completed processes (seconds; waits, parent and overhead summed)',
    ...table(
      ['KIND', 'COUNT', 'MEDIAN', 'LONGEST', 'TOTAL', 'MANDATED WAITS', 'PARENT', 'OVERHEAD'],
      stats.durations.map((row) => [
        row.kind,
        row.count,
        fixed(row.medianSeconds),
        fixed(row.longestSeconds),
        fixed(row.totalSeconds),
        fixed(row.mandatedWaitSeconds),
        fixed(row.parentSeconds),
        fixed(row.overheadSeconds),
      ]),
    ),
  ];
}

function observationLines(stats: Stats): string[] {
  const seen = stats.observations;
  const totals = seen.observerTotals;
  const byInvariant = (counts: Record<string, number>) =>
    Object.keys(counts).length > 0 ? ` (${countsText(counts)})` : '';
  return [
    `Observations: ${seen.glitches} glitch(es)`,
    `  invariant violations  ${seen.violations}${byInvariant(seen.violationsByInvariant)}`,
    `  validation failures   ${seen.validationFailures}${byInvariant(seen.validationFailuresByInvariant)}`,
    `  disagreements         ${seen.disagreements} (with a validating resolver)`,
    `  observers counted     ${totals.invariantChecks} invariant checks, ${totals.probes} probes, ${totals.resolverAnswers} resolver answers`,
  ];
}

function retryLines(stats: Stats): string[] {
  return [
    'Retries (signer-apply-failed)',
    ...table(
      ['SIGNER', 'ERROR', 'EVENTS', 'RETRYABLE', 'ATTEMPTS', 'MESSAGE'],
      stats.retries.map((row) => [
        row.signerId,
        row.errorName,
        row.count,
        row.retryable,
        row.attempts,
        row.message,
      ]),
    ),
  ];
}

function writeLines(stats: Stats): string[] {
  const { parent } = stats;
  const submissions = parent.submissions
    .map((row) => `${row.channel} ${row.accepted} accepted, ${row.refused} refused`)
    .join('; ');
  return [
    'Writes per provider',
    ...table(
      ['SIGNER', 'STEPS APPLIED', 'CHANGES'],
      stats.writes.map((row) => [row.signerId, row.reconciliations, row.changes]),
    ),
    `  parent: NOTIFY(CDS) ${parent.notifies.CDS}, NOTIFY(CSYNC) ${parent.notifies.CSYNC}; submitted ${submissions || 'none'}; changes asked of a person ${parent.changesNeeded}`,
  ];
}

/** The human statistics: a compact table per section. */
export function statsLines(stats: Stats): string[] {
  const sections = [processLines, durationLines, observationLines, retryLines, writeLines];
  return [...headerLines(stats), ...sections.flatMap((section) => ['', ...section(stats)])];
}
