/**
 * Parts of a process picture that concern every process in flight and every key: one row per
 * process that ran during the window (its span, step starts and waits), and the key marks in each
 * provider's lane (a key entering or leaving the signer's own DNSKEY RRset).
 */
import { colourOf, duration, relative, time } from './format.js';
import { rollText } from './keys.js';
import type { KeyEvent, ProcessTimeline, TimelineModel } from './model.js';
import { CHAR_WIDTH, fit, n, textElement } from './svg-parts.js';
import { escapeXml } from './xml.js';

/** Height of a process row. */
export const PROCESS_ROW = 16;
/** Height of one row of key marks; a lane with key marks has two below its servers. */
export const KEY_ROW = 12;
export const KEY_STRIP = 2 * KEY_ROW;

/** The time frame of a picture. */
export interface Frame {
  /** Prefix of the picture's ids. */
  prefix: string;
  t0: string;
  /** The window's end, in ms. */
  to: number;
  /** The right edge for text. */
  right: number;
  x: (ms: number) => number;
}

/** `2. roll-zsk bind (held)`, with the status unless completed. */
const rowText = (entry: ProcessTimeline): string =>
  `${entry.number}. ${entry.label}${entry.status === 'completed' ? '' : ` (${entry.status})`}`;

function rowTitle(entry: ProcessTimeline, t0: string): string {
  const steps = entry.steps
    .filter((step) => step.startedAt !== undefined)
    .map(
      (step) =>
        `${step.number} ${step.name} ${relative(step.startedAt, t0)}${step.wait ? ` (wait ${duration(step.wait.seconds)})` : ''}`,
    );
  const until = entry.endedAt === undefined ? 'still running' : relative(entry.endedAt, t0);
  return `${entry.number}. ${entry.label}: ${entry.status}, ${relative(entry.startedAt ?? entry.requestedAt, t0)} to ${until}${entry.roll ? `; ${rollText(entry.roll)}` : ''}; steps: ${steps.join(', ') || 'none started'}`;
}

/** The process's waits inside its row, hatched as over the lanes. */
function rowWaits(entry: ProcessTimeline, top: number, frame: Frame): string[] {
  return entry.steps.flatMap((step) => {
    const wait = step.wait;
    if (!wait) return [];
    const x1 = frame.x(time(wait.from));
    const width = Math.max(2, frame.x(time(wait.mandatedNotBefore ?? wait.notBefore)) - x1);
    const pattern = `${frame.prefix}-${wait.skipped ? 'skipped' : 'wait'}`;
    return [
      `<rect x="${n(x1)}" y="${n(top + 2)}" width="${n(width)}" height="${PROCESS_ROW - 4}" fill="url(#${pattern})"/>`,
    ];
  });
}

/** A tick at each step start. */
function rowTicks(entry: ProcessTimeline, top: number, frame: Frame, colour: string): string[] {
  return entry.steps
    .filter((step) => step.startedAt !== undefined)
    .map((step) => {
      const sx = n(frame.x(time(step.startedAt)));
      return `<line x1="${sx}" y1="${n(top + 2)}" x2="${sx}" y2="${n(top + PROCESS_ROW - 2)}" stroke="${escapeXml(colour)}"/>`;
    });
}

function processRow(
  model: TimelineModel,
  entry: ProcessTimeline,
  focus: boolean,
  top: number,
  frame: Frame,
): string[] {
  const colour = escapeXml(colourOf(model, entry.signerId));
  const x1 = frame.x(time(entry.startedAt ?? entry.requestedAt));
  const end = entry.endedAt === undefined ? frame.to : time(entry.endedAt);
  const width = Math.max(2, frame.x(end) - x1);
  return [
    `<g class="process-row${focus ? ' focus' : ''}" data-process="${escapeXml(entry.id)}"><title>${escapeXml(rowTitle(entry, frame.t0))}</title>`,
    `<rect x="${n(x1)}" y="${n(top + 2)}" width="${n(width)}" height="${PROCESS_ROW - 4}" rx="2" fill="${colour}" fill-opacity="${focus ? 0.22 : 0.08}" stroke="${colour}"${focus ? ' stroke-width="1.5"' : ''}/>`,
    ...rowWaits(entry, top, frame),
    ...rowTicks(entry, top, frame, colour),
    textElement(x1 + 3, top + PROCESS_ROW - 4, [
      { text: fit(rowText(entry), frame.right - x1 - 4), colour: '#111', bold: focus },
    ]),
    '</g>',
  ];
}

/** One row per process of `process.concurrentIds`, from `top`; this process's row in bold. */
export function processRows(
  model: TimelineModel,
  process: ProcessTimeline,
  top: number,
  frame: Frame,
): string[] {
  const out = [
    textElement(6, top + PROCESS_ROW - 4, [{ text: 'processes', colour: '#374151', bold: true }]),
  ];
  process.concurrentIds.forEach((id, index) => {
    const entry = model.processes.find((candidate) => candidate.id === id);
    if (entry)
      out.push(...processRow(model, entry, id === process.id, top + index * PROCESS_ROW, frame));
  });
  return out;
}

/** The key events of `process`'s picture on lane `laneId`, in order of time. */
export const keyEventsOnLane = (
  model: TimelineModel,
  process: ProcessTimeline,
  laneId: string,
): KeyEvent[] =>
  model.keyEvents.filter(
    (event) => event.laneId === laneId && process.keyEventIds.includes(event.id),
  );

/** Text of a key mark: `+ZSK 2345` entering, `−ZSK 1111` leaving. */
const markText = (event: KeyEvent): string =>
  `${event.change === 'appeared' ? '+' : '\u2212'}${event.role} ${event.keyTag}`;

function keyTitle(model: TimelineModel, event: KeyEvent, t0: string): string {
  const roll = model.processes.find((entry) => entry.id === event.processId);
  const what = event.change === 'appeared' ? 'entered' : 'left';
  return `${event.id} ${event.role} ${event.keyTag} ${what} the DNSKEY RRset of ${event.signerId} at ${relative(event.at, t0)}${roll ? ` (${roll.number}. ${roll.label})` : ' (no roll in flight)'}`;
}

function keyMark(
  model: TimelineModel,
  event: KeyEvent,
  at: { x: number; laneTop: number; rowTop: number; left: boolean },
  frame: Frame,
): string[] {
  const colour = escapeXml(colourOf(model, event.signerId));
  const entering = event.change === 'appeared';
  const { x, rowTop } = at;
  const cy = rowTop + KEY_ROW / 2;
  // Entering: a filled triangle pointing up; leaving: a hollow one pointing down.
  const tip = entering ? cy - 5 : cy + 5;
  const base = entering ? cy + 4 : cy - 4;
  return [
    `<g class="key-event" data-key-tag="${event.keyTag}" data-change="${event.change}"><title>${escapeXml(keyTitle(model, event, frame.t0))}</title>`,
    `<line x1="${n(x)}" y1="${n(at.laneTop)}" x2="${n(x)}" y2="${n(rowTop)}" stroke="${colour}" stroke-dasharray="2 2"/>`,
    `<path d="M${n(x)} ${n(tip)} L${n(x + 5)} ${n(base)} L${n(x - 5)} ${n(base)} Z" fill="${entering ? colour : '#ffffff'}" stroke="${colour}"/>`,
    textElement(
      at.left ? x - 7 : x + 7,
      rowTop + KEY_ROW - 2,
      [{ text: markText(event), colour: colourOf(model, event.signerId), bold: true }],
      at.left ? ' text-anchor="end"' : '',
    ),
    '</g>',
  ];
}

/**
 * The key marks of one lane in the two rows of its key strip: each label in the first row free at
 * its time, else in the row that frees up first; to the left of its mark near the right edge.
 */
export function keyMarks(
  model: TimelineModel,
  events: readonly KeyEvent[],
  box: { top: number; height: number },
  frame: Frame,
): string[] {
  const stripTop = box.top + box.height - KEY_STRIP;
  const ends = [-Infinity, -Infinity];
  return events.flatMap((event) => {
    const x = frame.x(time(event.at));
    const width = markText(event).length * CHAR_WIDTH + 8;
    const left = x + width > frame.right;
    const start = left ? x - width : x;
    const free = ends.findIndex((end) => end <= start);
    const row = free >= 0 ? free : ends[0]! <= ends[1]! ? 0 : 1;
    ends[row] = left ? x + 6 : x + width + 2;
    const at = { x, laneTop: box.top, rowTop: stripTop + row * KEY_ROW, left };
    return keyMark(model, event, at, frame);
  });
}
