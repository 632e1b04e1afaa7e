/**
 * `renderReportHtml`: the whole report as one self-contained page: inline CSS, every process's
 * SVG inline, and tables (steps with durations and wait formulas, glitches, observer totals).
 * Nothing is fetched: no scripts, fonts, images or links outside the page.
 */
import { clock, colourOf, duration, GLITCH_COLOUR, relative, time } from './format.js';
import { rollText } from './keys.js';
import type { Glitch, KeyEvent, ProcessTimeline, TimelineModel } from './model.js';
import { renderProcessSvg } from './svg.js';
import { escapeXml as h } from './xml.js';

const CSS = `
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #111; background: #fff; }
h1 { font-size: 1.4rem; margin: 0 0 .3rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #d1d5db; }
h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
.meta { color: #4b5563; margin: 0 0 1rem; }
table { border-collapse: collapse; margin: .4rem 0 1rem; font-size: .85rem; }
th, td { border: 1px solid #d1d5db; padding: .2rem .45rem; text-align: left; vertical-align: top; }
th { background: #f3f4f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .mono { font-family: monospace; }
.figure { overflow-x: auto; border: 1px solid #e5e7eb; margin: .5rem 0; }
.figure svg { display: block; }
.bad { color: ${GLITCH_COLOUR}; font-weight: bold; }
.ok { color: #166534; font-weight: bold; }
tr.skipped td { background: #fee2e2; }
ul.toc { margin: .3rem 0 1rem; }
.key { font-family: monospace; white-space: nowrap; }
`;

const row = (cells: readonly string[], attributes = '') =>
  `<tr${attributes}>${cells.join('')}</tr>`;
const td = (text: string | number, className?: string) =>
  `<td${className ? ` class="${className}"` : ''}>${h(text)}</td>`;
const tdHtml = (html: string, className?: string) =>
  `<td${className ? ` class="${className}"` : ''}>${html}</td>`;
const table = (headers: readonly string[], rows: readonly string[]) =>
  `<table><thead>${row(headers.map((header) => `<th>${h(header)}</th>`))}</thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;

function terms(values: Record<string, number | string>): string {
  return Object.keys(values)
    .sort()
    .map((name) => `${name}=${String(values[name])}`)
    .join(', ');
}

function glitchRows(model: TimelineModel, glitches: readonly Glitch[], t0?: string): string[] {
  return glitches.map((glitch) => {
    const at = (iso: string | null) =>
      iso === null ? 'still open' : t0 ? `${clock(iso)} (${relative(iso, t0)})` : clock(iso);
    const length = glitch.to === null ? '' : duration((time(glitch.to) - time(glitch.from)) / 1000);
    const process = model.processes.find((entry) => entry.id === glitch.processId);
    const where = [
      ...glitch.providers,
      ...(glitch.resolver ? [`resolver ${glitch.resolver}`] : []),
      ...(glitch.name ? [`${glitch.name} ${glitch.rrtype ?? ''}`.trim()] : []),
    ].join('; ');
    return row([
      tdHtml(`<span class="bad">${h(glitch.id)}</span>`),
      td(glitch.type),
      td(glitch.invariant ?? ''),
      td(where),
      td(at(glitch.from)),
      td(glitch.to === glitch.from ? '(point)' : at(glitch.to)),
      td(length, 'num'),
      td(process ? `${process.number}. ${process.label}` : ''),
      tdHtml(
        `${h(glitch.detail)}${glitch.records.length > 0 ? `<br><span class="mono">${glitch.records.map((record) => h(record)).join('<br>')}</span>` : ''}`,
      ),
    ]);
  });
}

const GLITCH_HEADERS = [
  'id',
  'type',
  'invariant',
  'where',
  'from',
  'to',
  'length',
  'process',
  'detail',
];

const KEY_HEADERS = ['id', 'at', 'signer', 'key', 'change', 'roll'];

/** Keys entering and leaving each signer's own DNSKEY RRset. */
function keyRows(model: TimelineModel, events: readonly KeyEvent[], t0: string): string[] {
  return events.map((event) => {
    const roll = model.processes.find((entry) => entry.id === event.processId);
    return row([
      td(event.id),
      td(`${clock(event.at)} (${relative(event.at, t0)})`),
      tdHtml(
        `<span style="color:${h(colourOf(model, event.signerId))};font-weight:bold">${h(event.signerId)}</span>`,
      ),
      tdHtml(`<span class="key">${h(`${event.role} ${event.keyTag}`)}</span>`),
      td(event.change === 'appeared' ? 'entered' : 'left'),
      td(roll ? `${roll.number}. ${roll.label}` : 'no roll in flight'),
    ]);
  });
}

/** `; rolls ZSK 1111 → 2345`, empty for other processes. */
const rollNote = (process: ProcessTimeline): string =>
  process.roll ? `; rolls ${rollText(process.roll)} (${process.roll.mode})` : '';

/** `; in flight with 2. roll-zsk bind (held)`, empty when it ran alone. */
function concurrencyNote(model: TimelineModel, process: ProcessTimeline): string {
  const others = model.processes.filter(
    (entry) => entry.id !== process.id && process.concurrentIds.includes(entry.id),
  );
  return others.length > 0
    ? `; during it: ${others.map((entry) => `${entry.number}. ${entry.label}`).join(', ')}`
    : '';
}

function processSection(model: TimelineModel, process: ProcessTimeline): string {
  const t0 = process.t0;
  const stepRows = process.steps.map((step) => {
    const wait = step.wait;
    return row(
      [
        td(step.number, 'num'),
        tdHtml(`<span class="mono">${h(step.name)}</span>`),
        td(relative(step.startedAt, t0)),
        td(relative(step.postconditionMetAt, t0)),
        td(relative(step.completedAt, t0)),
        td(duration(step.seconds), 'num'),
        wait?.skipped
          ? tdHtml(`<span class="bad">SKIPPED</span> ${h(duration(wait.seconds))}`, 'num')
          : td(wait ? duration(wait.seconds) : '', 'num'),
        td(
          wait
            ? `until ${clock(wait.notBefore)} (${relative(wait.notBefore, t0)})${wait.mandatedNotBefore ? `; mandated until ${clock(wait.mandatedNotBefore)} (${relative(wait.mandatedNotBefore, t0)})` : ''}`
            : '',
        ),
        tdHtml(wait ? `<code>${h(wait.formula)}</code>` : ''),
        tdHtml(wait ? `<span class="mono">${h(terms(wait.terms))}</span>` : ''),
      ],
      wait?.skipped ? ' class="skipped"' : '',
    );
  });
  const glitches = model.glitches.filter((glitch) => process.glitchIds.includes(glitch.id));
  const keyEvents = model.keyEvents.filter((event) => process.keyEventIds.includes(event.id));
  const reasons =
    process.reasons.length > 0
      ? `<ul>${process.reasons.map((reason) => `<li><code>${h(reason.code)}</code> ${h(reason.message)}</li>`).join('')}</ul>`
      : '';
  const status =
    process.status === 'completed'
      ? `<span class="ok">completed</span>`
      : process.status === 'failed' || process.status === 'blocked'
        ? `<span class="bad">${h(process.status)}</span>`
        : h(process.status);
  return `<section id="process-${process.number}">
<h2>${h(`${process.number}. ${process.label}`)}</h2>
<p class="meta">${status}; id <code>${h(process.id)}</code>; requested ${h(clock(process.requestedAt))}${process.startedAt ? `, started ${h(clock(process.startedAt))}` : ''}${process.endedAt ? `, ended ${h(clock(process.endedAt))}` : ''}${process.seconds !== undefined ? ` (${h(duration(process.seconds))}, of which ${h(duration(process.mandatedWaitSeconds))} mandated waits)` : ''}; group before: ${h(process.groupBefore.join(', ') || '–')}; after: ${h(process.groupAfter.join(', ') || '–')}${h(rollNote(process))}${h(concurrencyNote(model, process))}</p>
${reasons}
<div class="figure">
${renderProcessSvg(model, process.id)}</div>
<h3>Steps</h3>
${
  stepRows.length > 0
    ? table(
        [
          '#',
          'step',
          'started',
          'post-condition',
          'completed',
          'duration',
          'wait',
          'not before',
          'formula',
          'terms',
        ],
        stepRows,
      )
    : '<p>No step started.</p>'
}
${keyEvents.length > 0 ? `<h3>Keys in and out of the signers' DNSKEY sets</h3>\n${table(KEY_HEADERS, keyRows(model, keyEvents, t0))}\n` : ''}<h3>Glitches during this process</h3>
${glitches.length > 0 ? table(GLITCH_HEADERS, glitchRows(model, glitches, t0)) : '<p class="ok">None observed.</p>'}
</section>`;
}

/** `2: 1 entered, 1 left`, or `none` without key changes. */
function keyChanges(model: TimelineModel): string {
  const entered = model.keyEvents.filter((event) => event.change === 'appeared').length;
  const left = model.keyEvents.length - entered;
  return model.keyEvents.length === 0
    ? 'none'
    : `${model.keyEvents.length}: ${entered} entered, ${left} left`;
}

/** The report page of `model`. */
export function renderReportHtml(model: TimelineModel): string {
  const summary = model.summary;
  const totals = summary.observerTotals;
  const providerRows = model.providers.map((provider) =>
    row([
      tdHtml(`<span style="color:${h(provider.colour)};font-weight:bold">${h(provider.id)}</span>`),
      td(provider.kind ?? ''),
      td(provider.nameServerNames.join(' ')),
      tdHtml(
        provider.keys
          .map(
            (key) =>
              `<span class="key" style="color:${h(colourOf(model, provider.id))}">${h(`${key.role} ${key.keyTag} (alg ${key.algorithm})`)}</span>`,
          )
          .join(', '),
      ),
    ]),
  );
  const processRows = model.processes.map((process) =>
    row([
      tdHtml(`<a href="#process-${process.number}">${process.number}</a>`),
      td(process.kind),
      td(process.signerId),
      td(process.roll ? `${rollText(process.roll)} (${process.roll.mode})` : ''),
      tdHtml(
        process.status === 'completed'
          ? '<span class="ok">completed</span>'
          : process.status === 'failed' || process.status === 'blocked'
            ? `<span class="bad">${h(process.status)}</span>`
            : h(process.status),
      ),
      td(clock(process.startedAt ?? process.requestedAt)),
      td(duration(process.seconds), 'num'),
      td(duration(process.mandatedWaitSeconds), 'num'),
      td(process.steps.length, 'num'),
      td(process.glitchIds.length, 'num'),
    ]),
  );
  const observerRows = summary.observers.map((report) =>
    row([
      td(report.observer),
      td(clock(report.since)),
      td(clock(report.at)),
      td(report.probes, 'num'),
      td(report.resolverAnswers, 'num'),
      td(report.disagreements, 'num'),
      td(report.validationFailures, 'num'),
      td(report.invariantChecks, 'num'),
      td(report.violations, 'num'),
    ]),
  );
  if (totals)
    observerRows.push(
      row(
        [
          tdHtml('<b>total</b>'),
          td(''),
          td(''),
          td(totals.probes, 'num'),
          td(totals.resolverAnswers, 'num'),
          td(totals.disagreements, 'num'),
          td(totals.validationFailures, 'num'),
          td(totals.invariantChecks, 'num'),
          td(totals.violations, 'num'),
        ],
        ' class="total"',
      ),
    );
  const verdict =
    summary.glitches === 0
      ? '<span class="ok">no glitch observed</span>'
      : `<span class="bad">${summary.glitches} glitch(es) observed</span>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(`Chorus timeline: ${model.zone}`)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${h(`Chorus timeline: ${model.zone}`)}</h1>
<p class="meta">generated ${h(model.generatedAt)}${model.parentZone ? `; parent zone ${h(model.parentZone)}` : ''}; ${verdict}</p>
<table><tbody>
${row([td('processes'), td(`${summary.processes} (${summary.completed} completed, ${summary.failed} failed, ${summary.blocked} blocked, ${summary.running} running)`)])}
${row([td('steps'), td(`${summary.steps}, with ${summary.waits} wait(s) (${summary.skippedWaits} skipped), ${duration(summary.mandatedWaitSeconds)} mandated waits`)])}
${row([td('glitches'), td(`${summary.glitches}: ${summary.invariantViolations} invariant violation(s) (${summary.openViolations} still open), ${summary.validationFailures} validation failure(s), ${summary.disagreements} validator disagreement(s)`)])}
${row([td('observer totals'), td(totals ? `${totals.probes} probes, ${totals.resolverAnswers} resolver answers, ${totals.disagreements} disagreements, ${totals.validationFailures} validation failures, ${totals.invariantChecks} invariant checks, ${totals.violations} violations` : 'no observer summary recorded')])}
${row([td('wire versions'), td(summary.wireVersions)])}
${row([td('key changes'), td(keyChanges(model))])}
</tbody></table>
<h2>Processes</h2>
${processRows.length > 0 ? table(['#', 'kind', 'signer', 'roll', 'status', 'started', 'duration', 'mandated waits', 'steps', 'glitches'], processRows) : '<p>No process recorded.</p>'}
<h2>Providers</h2>
${table(['provider', 'kind', 'NS names', 'own keys (as reported by its sidecar)'], providerRows)}
${model.processes.map((process) => processSection(model, process)).join('\n')}
<h2>Glitches</h2>
${model.glitches.length > 0 ? table(GLITCH_HEADERS, glitchRows(model, model.glitches)) : '<p class="ok">None observed.</p>'}
<h2>Observers</h2>
${observerRows.length > 0 ? table(['observer', 'since', 'reported', 'probes', 'resolver answers', 'disagreements', 'validation failures', 'invariant checks', 'violations'], observerRows) : '<p>No observer summary recorded.</p>'}
<p class="meta">The model behind this page is in timeline.json next to it.</p>
</body>
</html>
`;
}
