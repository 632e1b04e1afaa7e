/**
 * What the answering servers' CSYNC records say (RFC 7477), and the consistency problems among
 * them (draft §3.2): one record per apex, present everywhere or nowhere, the same immediate flag
 * and type bitmap everywhere, and only flags and types the parent knows how to process.
 */
import type { ScanReason } from './types.js';
import { type Answered, type Context, label, reason, show, variants } from './scanner-context.js';

const CSYNC_KNOWN_FLAGS = 0x0003;
const CSYNC_IMMEDIATE = 0x0001;
const CSYNC_TYPES: ReadonlySet<string> = new Set(['NS', 'A', 'AAAA']);

export interface CsyncSignal {
  server: Answered;
  flags: number;
  serial: number;
  /** Upper-case, deduplicated, sorted. */
  types: string[];
}

interface CsyncReading {
  signals: CsyncSignal[];
  silent: Answered[];
  problems: ScanReason[];
}

function readServers(zone: string, answered: readonly Answered[]): CsyncReading {
  const reading: CsyncReading = { signals: [], silent: [], problems: [] };
  for (const entry of answered) {
    const records = entry.data.csync?.records ?? [];
    if (records.length === 0) {
      reading.silent.push(entry);
    } else if (records.length > 1) {
      reading.problems.push(
        reason(
          'csync-multiple-records',
          `${label(entry)} serves ${records.length} CSYNC records; RFC 7477 allows one per apex`,
          [label(entry)],
          records.map((csync) => show(zone, 'CSYNC', csync)),
        ),
      );
    } else {
      const { flags, serial, types } = records[0]!;
      const upper = [...new Set(types.map((type) => type.toUpperCase()))].sort();
      reading.signals.push({ server: entry, flags, serial, types: upper });
    }
  }
  return reading;
}

/** CSYNC at some servers and NODATA at others. */
function presenceDisagreement({ signals, silent }: CsyncReading): ScanReason[] {
  if (signals.length === 0 || silent.length === 0) return [];
  const withCsync = signals.map((signal) => label(signal.server));
  const without = silent.map(label);
  return [
    reason('inconsistent', `CSYNC at ${withCsync.join(', ')} but NODATA at ${without.join(', ')}`, [
      ...withCsync,
      ...without,
    ]),
  ];
}

/** The immediate flag and the type bitmap must be equal everywhere (draft §3.2). */
function shapeDisagreement(zone: string, signals: readonly CsyncSignal[]): ScanReason[] {
  const shapes = variants(
    signals,
    (signal) =>
      `immediate=${(signal.flags & CSYNC_IMMEDIATE) !== 0} types=${signal.types.join(' ')}`,
  );
  if (shapes.size <= 1) return [];
  const groups = [...shapes.entries()].map(
    ([shape, group]) => `${group.map((s) => label(s.server)).join(', ')}: ${shape}`,
  );
  return [
    reason(
      'inconsistent',
      `CSYNC immediate flag or type bitmap differ: ${groups.join('; ')}`,
      signals.map((signal) => label(signal.server)),
      signals.map((signal) =>
        show(zone, 'CSYNC', { serial: signal.serial, flags: signal.flags, types: signal.types }),
      ),
    ),
  ];
}

/** RFC 7477 §2.1 and §3.2: unknown flags forbid processing; only NS, A and AAAA are processed. */
function unknownFlagsAndTypes(signal: CsyncSignal): ScanReason[] {
  const where = [label(signal.server)];
  const problems: ScanReason[] = [];
  if ((signal.flags & ~CSYNC_KNOWN_FLAGS) !== 0) {
    const message = `${label(signal.server)}: CSYNC flags ${signal.flags} include unknown bits; RFC 7477 §2.1 forbids processing it`;
    problems.push(reason('csync-unknown-flags', message, where));
  }
  const unknown = signal.types.filter((type) => !CSYNC_TYPES.has(type));
  if (unknown.length > 0) {
    const message = `${label(signal.server)}: CSYNC type bitmap names ${unknown.join(', ')}; only NS, A and AAAA are processed`;
    problems.push(reason('csync-unknown-types', message, where));
  }
  return problems;
}

/** Reads every answering server's CSYNC and lists the problems, per server and across them. */
export function readCsync(context: Context): CsyncReading {
  const reading = readServers(context.zone, context.answered);
  const problems = [
    ...reading.problems,
    ...presenceDisagreement(reading),
    ...shapeDisagreement(context.zone, reading.signals),
    ...reading.signals.flatMap(unknownFlagsAndTypes),
  ];
  return { ...reading, problems };
}
