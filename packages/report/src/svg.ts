/**
 * `renderProcessSvg`: one process as a picture. Time runs left to right in seconds from the
 * process start; lanes top to bottom: the parent's DS and NS, then one per provider (a row per
 * server). Step boundaries are dashed lines, waits hatched spans (red when skipped), glitches red.
 * Presentation attributes only (no <style>), and ids prefixed per process, so that several
 * pictures can sit inline in one HTML page.
 */
import { ReportError } from './errors.js';
import {
  colourOf,
  duration,
  GLITCH_COLOUR,
  ownerOfTag,
  relative,
  time,
  UNKNOWN_OWNER_COLOUR,
} from './format.js';
import type { Glitch, Lane, LaneSegment, ProcessTimeline, TimelineModel } from './model.js';
import { CHAR_WIDTH, fit, fitParts, n, NBSP, textElement, type Part } from './svg-parts.js';
import {
  keyEventsOnLane,
  keyMarks,
  KEY_STRIP,
  PROCESS_ROW,
  processRows,
  type Frame,
} from './svg-rows.js';
import { escapeXml } from './xml.js';

const WIDTH = 1200;
const LABEL_WIDTH = 160;
const RIGHT = 24;
const LANE_HEIGHT = 40;
const ROW_HEIGHT = 20;
const BAND_TOP = 38;
const BAND_ROW = 13;
const STEP_ROWS = 3;
/** The top of the process rows: below the step labels and the wait labels. */
const ROWS_TOP = BAND_TOP + BAND_ROW * (STEP_ROWS + 1) + 8;
const SVG_NS = 'http://www.w3.org/2000/svg';
/** A tick step that gives about ten ticks. */
function tickStep(spanSeconds: number): number {
  const candidates = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
  return (
    candidates.find((step) => spanSeconds / step <= 12) ?? Math.ceil(spanSeconds / 12 / 3600) * 3600
  );
}

function segmentParts(model: TimelineModel, lane: Lane, segment: LaneSegment): Part[] {
  if (segment.rcode === 'NOERROR' && segment.keys && segment.keys.length > 0) {
    const parts: Part[] = [];
    segment.keys.forEach((key, index) => {
      if (index > 0) parts.push({ text: `${NBSP}/${NBSP}`, colour: UNKNOWN_OWNER_COLOUR });
      parts.push({
        text: `${key.role} ${key.keyTag}`,
        colour: colourOf(model, key.owner),
        bold: key.owner !== undefined && key.owner !== lane.provider,
      });
    });
    return parts;
  }
  if (segment.rcode === 'NOERROR' && segment.dsKeyTags && segment.dsKeyTags.length > 0) {
    const parts: Part[] = [{ text: 'DS', colour: '#222' }];
    for (const tag of segment.dsKeyTags)
      parts.push({ text: `${NBSP}${tag}`, colour: colourOf(model, ownerOfTag(model, tag)) });
    return parts;
  }
  return [{ text: segment.label, colour: segment.rcode === 'NOERROR' ? '#222' : GLITCH_COLOUR }];
}

function segmentTitle(lane: Lane, segment: LaneSegment, t0: string): string {
  const keys = segment.keys?.length
    ? segment.keys
        .map(
          (key) =>
            `${key.role} ${key.keyTag} alg ${key.algorithm} (${key.owner ?? 'owner unknown'})`,
        )
        .join(', ')
    : segment.label;
  const until = segment.to === null ? 'still served' : relative(segment.to, t0);
  return `${lane.label} at ${segment.server}: ${keys}; from ${relative(segment.from, t0)} to ${until}; version ${segment.version}, TTL ${segment.ttl}`;
}

function glitchTitle(glitch: Glitch, t0: string): string {
  const until = glitch.to === null ? 'still open' : relative(glitch.to, t0);
  const span =
    glitch.to === glitch.from
      ? relative(glitch.from, t0)
      : `${relative(glitch.from, t0)} to ${until}`;
  const who = [
    glitch.providers.length > 0 ? `providers ${glitch.providers.join(', ')}` : '',
    glitch.resolver ? `resolver ${glitch.resolver}` : '',
    glitch.name ? `${glitch.name} ${glitch.rrtype ?? ''}` : '',
  ]
    .filter((part) => part !== '')
    .join('; ');
  return `${glitch.id} ${glitch.type}${glitch.invariant ? ` ${glitch.invariant}` : ''} ${span}${who ? `; ${who}` : ''}: ${glitch.detail}`;
}

interface LaneBox {
  lane: Lane;
  top: number;
  height: number;
  /** Height of the key strip at the bottom (0 without key marks). */
  strip: number;
}

/** The SVG of one process of `model`. Throws ReportError for an unknown process id. */
export function renderProcessSvg(model: TimelineModel, processId: string): string {
  const process: ProcessTimeline | undefined = model.processes.find(
    (entry) => entry.id === processId,
  );
  if (!process) throw new ReportError(`no process ${processId} in the timeline of ${model.zone}`);
  const prefix = `chorus-p${process.number}`;
  const from = time(process.window.from);
  const to = Math.max(time(process.window.to), from + 1);
  const t0 = process.t0;
  const plotLeft = LABEL_WIDTH;
  const plotRight = WIDTH - RIGHT;
  const x = (ms: number) =>
    plotLeft + ((Math.min(Math.max(ms, from), to) - from) / (to - from)) * (plotRight - plotLeft);

  const frame: Frame = { prefix, t0, to, right: plotRight + RIGHT, x };

  // Lanes and their boxes, below one row per process in flight.
  const lanesTop = ROWS_TOP + PROCESS_ROW * process.concurrentIds.length + 6;
  const boxes: LaneBox[] = [];
  let y = lanesTop;
  for (const id of process.laneIds) {
    const lane = model.lanes.find((entry) => entry.id === id);
    if (!lane) continue;
    const strip = keyEventsOnLane(model, process, id).length > 0 ? KEY_STRIP : 0;
    const height = Math.max(LANE_HEIGHT, ROW_HEIGHT * lane.servers.length) + strip;
    boxes.push({ lane, top: y, height, strip });
    y += height;
  }
  const lanesBottom = y;
  const axisY = lanesBottom + 4;
  const out: string[] = [];

  // Lane backgrounds and labels.
  boxes.forEach(({ lane, top, height }, index) => {
    out.push(
      `<rect x="0" y="${n(top)}" width="${WIDTH}" height="${n(height)}" fill="${index % 2 === 0 ? '#ffffff' : '#f6f7f9'}"/>`,
      `<line x1="0" y1="${n(top + height)}" x2="${WIDTH}" y2="${n(top + height)}" stroke="#d1d5db"/>`,
    );
    const colour = lane.kind === 'provider' ? colourOf(model, lane.provider) : '#222';
    out.push(
      textElement(
        6,
        top + 15,
        [{ text: fit(lane.label, LABEL_WIDTH - 12), colour, bold: true }],
        ' class="lane-label"',
      ),
    );
    const servers =
      lane.servers.length === 1
        ? lane.servers[0]!
        : lane.servers.length > 1
          ? `${lane.servers.length} servers`
          : 'not observed';
    out.push(
      textElement(6, top + 29, [
        { text: fit(servers, LABEL_WIDTH - 12), colour: UNKNOWN_OWNER_COLOUR },
      ]),
    );
  });
  out.push(
    `<line x1="${plotLeft}" y1="${lanesTop}" x2="${plotLeft}" y2="${n(lanesBottom)}" stroke="#9ca3af"/>`,
  );

  // Grid and time axis: seconds from the process start.
  const spanSeconds = (to - from) / 1000;
  const step = tickStep(spanSeconds);
  const startSeconds = (from - time(t0)) / 1000;
  const endSeconds = (to - time(t0)) / 1000;
  out.push(
    `<line x1="${plotLeft}" y1="${n(axisY)}" x2="${plotRight}" y2="${n(axisY)}" stroke="#374151"/>`,
  );
  for (let tick = Math.ceil(startSeconds / step) * step; tick <= endSeconds + 1e-9; tick += step) {
    const value = Math.round(tick * 10) / 10;
    const tx = x(time(t0) + value * 1000);
    out.push(
      `<line x1="${n(tx)}" y1="${lanesTop}" x2="${n(tx)}" y2="${n(lanesBottom)}" stroke="${value === 0 ? '#6b7280' : '#e5e7eb'}"/>`,
      `<line x1="${n(tx)}" y1="${n(axisY)}" x2="${n(tx)}" y2="${n(axisY + 5)}" stroke="#374151"/>`,
      `<text x="${n(tx)}" y="${n(axisY + 17)}" text-anchor="middle" fill="#374151">${escapeXml(`${step < 1 ? value.toFixed(1) : String(value)} s`)}</text>`,
    );
  }

  // Segments: one per version per server.
  for (const { lane, top, height, strip } of boxes) {
    const rows = Math.max(1, lane.servers.length);
    const rowHeight = (height - strip) / rows;
    for (const segment of lane.segments) {
      const start = time(segment.from);
      const end = segment.to === null ? to : time(segment.to);
      if (end < from || start > to) continue;
      const row = Math.max(0, lane.servers.indexOf(segment.server));
      const x1 = x(start);
      const width = Math.max(1, x(end) - x1 - 1);
      const rowTop = top + row * rowHeight;
      const answered = segment.rcode !== null;
      out.push(
        `<g class="segment"><title>${escapeXml(segmentTitle(lane, segment, t0))}</title>`,
        `<rect x="${n(x1)}" y="${n(rowTop + 3)}" width="${n(width)}" height="${n(rowHeight - 6)}" rx="2" fill="${answered ? '#eef2f7' : '#ffffff'}" stroke="${answered ? '#9aa7b8' : '#9ca3af'}"${answered ? '' : ' stroke-dasharray="3 2"'}/>`,
        textElement(
          x1 + 3,
          rowTop + rowHeight / 2 + 4,
          fitParts(segmentParts(model, lane, segment), width - 6),
        ),
        '</g>',
      );
    }
  }

  // Keys entering and leaving each signer's own DNSKEY RRset, in its lane.
  for (const box of boxes)
    out.push(...keyMarks(model, keyEventsOnLane(model, process, box.lane.id), box, frame));

  // Every process that ran during the window: one row each, this one in bold.
  out.push(...processRows(model, process, ROWS_TOP, frame));

  // Waits: hatched from the post-condition to notBefore; red and labelled SKIPPED when skipped.
  const waitRowY = BAND_TOP + BAND_ROW * STEP_ROWS + 10;
  for (const entry of process.steps) {
    const wait = entry.wait;
    if (!wait) continue;
    const x1 = x(time(wait.from));
    // A skipped wait is drawn over the time it should have lasted.
    const until = wait.mandatedNotBefore ?? wait.notBefore;
    const width = Math.max(2, x(time(until)) - x1);
    const colour = wait.skipped ? GLITCH_COLOUR : '#4b5563';
    const label = wait.skipped
      ? `SKIPPED wait (step ${entry.number})`
      : `wait ${duration(wait.seconds)}`;
    out.push(
      `<g class="${wait.skipped ? 'wait skipped' : 'wait'}"><title>${escapeXml(`step ${entry.number} ${entry.name}: ${wait.skipped ? 'SKIPPED ' : ''}wait from ${relative(wait.from, t0)} until ${relative(wait.notBefore, t0)} (${duration(wait.seconds)})${wait.mandatedNotBefore ? `, mandated until ${relative(wait.mandatedNotBefore, t0)}` : ''}: ${wait.formula}`)}</title>`,
      `<rect x="${n(x1)}" y="${lanesTop}" width="${n(width)}" height="${n(lanesBottom - lanesTop)}" fill="url(#${prefix}-${wait.skipped ? 'skipped' : 'wait'})" stroke="${colour}" stroke-opacity="0.6"/>`,
      textElement(x1 + 2, waitRowY, [
        { text: fit(label, Math.max(plotRight - x1, 0)), colour, bold: wait.skipped },
      ]),
      '</g>',
    );
  }

  // Step boundaries, labels staggered over three rows.
  const started = process.steps.filter((entry) => entry.startedAt !== undefined);
  started.forEach((entry, index) => {
    const sx = x(time(entry.startedAt));
    const row = index % STEP_ROWS;
    const next = started[index + STEP_ROWS];
    const room = (next ? x(time(next.startedAt)) : plotRight + RIGHT) - sx - 4;
    const labelY = BAND_TOP + BAND_ROW * row + 10;
    out.push(
      `<g class="step"><title>${escapeXml(`step ${entry.number} ${entry.name} started ${relative(entry.startedAt, t0)}${entry.completedAt ? `, completed ${relative(entry.completedAt, t0)}` : ''}`)}</title>`,
      `<line x1="${n(sx)}" y1="${n(labelY + 2)}" x2="${n(sx)}" y2="${n(lanesBottom)}" stroke="#374151" stroke-dasharray="4 3"/>`,
      textElement(sx + 2, labelY, [
        { text: fit(`${entry.number} ${entry.name}`, Math.max(room, 0)), colour: '#111' },
      ]),
      '</g>',
    );
  });
  if (process.endedAt !== undefined) {
    const ex = x(time(process.endedAt));
    const labelY = BAND_TOP + BAND_ROW * (started.length % STEP_ROWS) + 10;
    out.push(
      `<g class="process-end"><title>${escapeXml(`process ${process.status} ${relative(process.endedAt, t0)}`)}</title>`,
      `<line x1="${n(ex)}" y1="${n(labelY + 2)}" x2="${n(ex)}" y2="${n(lanesBottom)}" stroke="#111" stroke-width="1.5"/>`,
      textElement(ex + 2, labelY, [
        {
          text: fit(process.status, Math.max(plotRight + RIGHT - ex - 4, 0)),
          colour: '#111',
          bold: true,
        },
      ]),
      '</g>',
    );
  }

  // Glitches: red, on the lane of each provider they name.
  let markers = 0;
  for (const id of process.glitchIds) {
    const glitch = model.glitches.find((entry) => entry.id === id);
    if (!glitch) continue;
    for (const box of boxes.filter((candidate) => glitch.laneIds.includes(candidate.lane.id))) {
      markers += 1;
      const start = time(glitch.from);
      const title = `<title>${escapeXml(glitchTitle(glitch, t0))}</title>`;
      if (glitch.to !== glitch.from) {
        const x1 = x(start);
        const width = Math.max(4, x(glitch.to === null ? to : time(glitch.to)) - x1);
        const label = `${glitch.id} ${glitch.label}${glitch.to === null ? ' →' : ''}`;
        out.push(
          `<g class="glitch" data-glitch="${escapeXml(glitch.id)}">${title}`,
          `<rect x="${n(x1)}" y="${n(box.top + 1)}" width="${n(width)}" height="${n(box.height - 2)}" fill="${GLITCH_COLOUR}" fill-opacity="0.16" stroke="${GLITCH_COLOUR}" stroke-width="1.5"/>`,
          textElement(x1 + 2, box.top + 11, [
            {
              text: fit(label, Math.max(plotRight + RIGHT - x1 - 4, 0)),
              colour: GLITCH_COLOUR,
              bold: true,
            },
          ]),
          '</g>',
        );
      } else {
        const gx = x(start);
        const cy = box.top + box.height / 2;
        const short =
          glitch.invariant ?? (glitch.type === 'validation-failed' ? 'failed' : 'disagreed');
        out.push(
          `<g class="glitch" data-glitch="${escapeXml(glitch.id)}">${title}`,
          `<path d="M${n(gx)} ${n(cy - 7)} L${n(gx + 6)} ${n(cy)} L${n(gx)} ${n(cy + 7)} L${n(gx - 6)} ${n(cy)} Z" fill="${GLITCH_COLOUR}" stroke="#ffffff"/>`,
          textElement(gx + 8, box.top + 11, [
            {
              text: fit(`${glitch.id} ${short}`, Math.max(plotRight + RIGHT - gx - 10, 0)),
              colour: GLITCH_COLOUR,
              bold: true,
            },
          ]),
          '</g>',
        );
      }
    }
  }

  // Legend: key owners, waits, glitches.
  const legend: string[] = [];
  let lx = 6;
  let ly = axisY + 38;
  const place = (width: number) => {
    if (lx + width > WIDTH - 6) {
      lx = 6;
      ly += 16;
    }
    const at = lx;
    lx += width + 14;
    return at;
  };
  const swatch = (label: string, fill: string, extra = '') => {
    const at = place(14 + label.length * CHAR_WIDTH);
    legend.push(
      `<rect x="${n(at)}" y="${n(ly - 9)}" width="10" height="10" fill="${fill}"${extra}/>`,
      textElement(at + 14, ly, [{ text: label, colour: '#374151' }]),
    );
  };
  legend.push(textElement(lx, ly, [{ text: 'keys of:', colour: '#374151' }]));
  lx += 9 * CHAR_WIDTH + 4;
  for (const provider of model.providers) swatch(provider.id, escapeXml(provider.colour));
  swatch('owner unknown', UNKNOWN_OWNER_COLOUR);
  swatch('wait', `url(#${prefix}-wait)`, ' stroke="#4b5563"');
  swatch('skipped wait', `url(#${prefix}-skipped)`, ` stroke="${GLITCH_COLOUR}"`);
  swatch('glitch', GLITCH_COLOUR, ' fill-opacity="0.5"');
  if (process.keyEventIds.length > 0) {
    const keys = '\u25b2 +key entered / \u25bd \u2212key left its signer\u2019s DNSKEY set';
    legend.push(
      textElement(place(keys.length * CHAR_WIDTH), ly, [{ text: keys, colour: '#374151' }]),
    );
  }
  legend.push(
    textElement(place(30 * CHAR_WIDTH), ly, [
      { text: 'bold key', colour: '#374151', bold: true },
      { text: ': another signer\u2019s key', colour: '#374151' },
    ]),
  );
  const height = ly + 12;

  const title = `${process.number}. ${process.label}: ${model.zone}`;
  const subtitle = `${process.status}; t0 = ${t0}${process.seconds !== undefined ? `; ${duration(process.seconds)}` : ''}; ${process.steps.length} steps; mandated waits ${duration(process.mandatedWaitSeconds)}; ${markers === 0 ? 'no glitch' : `${process.glitchIds.length} glitch(es)`}; seconds from t0`;
  const hatch = (id: string, colour: string) =>
    `<pattern id="${id}" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><rect width="6" height="6" fill="${colour}" fill-opacity="0.08"/><line x1="0" y1="0" x2="0" y2="6" stroke="${colour}" stroke-width="1.5" stroke-opacity="0.45"/></pattern>`;
  return [
    `<svg xmlns="${SVG_NS}" width="${WIDTH}" height="${n(height)}" viewBox="0 0 ${WIDTH} ${n(height)}" font-family="monospace" font-size="11" role="img" aria-label="${escapeXml(title)}">`,
    `<title>${escapeXml(`${title} (${process.id})`)}</title>`,
    `<defs>${hatch(`${prefix}-wait`, '#4b5563')}${hatch(`${prefix}-skipped`, GLITCH_COLOUR)}</defs>`,
    `<rect x="0" y="0" width="${WIDTH}" height="${n(height)}" fill="#ffffff"/>`,
    textElement(
      6,
      16,
      [{ text: fit(title, WIDTH - 12), colour: '#111', bold: true }],
      ' font-size="12"',
    ),
    textElement(6, 30, [{ text: fit(subtitle, WIDTH - 12), colour: '#374151' }]),
    ...out,
    ...legend,
    '</svg>',
  ]
    .filter((line) => line !== '')
    .join('\n')
    .concat('\n');
}
