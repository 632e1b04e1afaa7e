import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryEventLog } from '@chorus/event-log-sqlite';
import { observationStream, zoneStream, type ChorusEvent } from '@chorus/core';
import {
  buildTimeline,
  renderProcessSvg,
  renderReportHtml,
  ReportError,
  writeReport,
  type TimelineModel,
} from '@chorus/report';
import {
  at,
  checkWellFormed,
  observations,
  PROCESS_ID,
  svgsIn,
  ZONE,
  zoneEvents,
  type Scenario,
} from './fixtures.js';

const model = (scenario: Scenario = {}): TimelineModel =>
  buildTimeline(ZONE, zoneEvents(scenario), observations(scenario), { generatedAt: at(100) });

const glitchMarkers = (svg: string) => svg.match(/class="glitch"/g)?.length ?? 0;

/** Every URL-looking reference: only the SVG namespace is allowed. */
const urls = (text: string) =>
  (text.match(/https?:\/\/[^\s"'<>)]*/g) ?? []).filter(
    (url) => url !== 'http://www.w3.org/2000/svg',
  );

describe('buildTimeline', () => {
  const timeline = model();
  const process = timeline.processes[0]!;

  it('folds the process: seven steps with their times, one wait, the groups', () => {
    expect(timeline.processes).toHaveLength(1);
    expect(process).toMatchObject({
      id: PROCESS_ID,
      number: 1,
      kind: 'add-signer',
      signerId: 'powerdns',
      status: 'completed',
      startedAt: at(0),
      endedAt: at(55),
      seconds: 55,
      mandatedWaitSeconds: 20,
      groupBefore: ['bind'],
      groupAfter: ['bind', 'powerdns'],
      t0: at(0),
    });
    expect(process.steps.map((step) => step.name)).toEqual([
      'sync-dnskeys',
      'publish-cds',
      'await-parent-ds',
      'sync-ns',
      'publish-csync',
      'await-parent-ns',
      'remove-csync',
    ]);
    expect(process.steps.map((step) => step.startedAt)).toEqual([1, 5, 8, 33, 38, 43, 50].map(at));
    expect(process.steps[0]).toMatchObject({ number: 1, completedAt: at(5), seconds: 4 });
    expect(process.steps.filter((step) => step.wait)).toHaveLength(1);
    expect(process.steps[2]!.wait).toMatchObject({
      from: at(13),
      notBefore: at(33),
      seconds: 20,
      skipped: false,
      formula: 'max(t_ds + DprpP + TTLds, t_dnskey + DprpC + TTLkey) + S',
    });
    // A small margin either side of the process.
    expect(Date.parse(process.window.from)).toBeLessThan(Date.parse(at(0)));
    expect(Date.parse(process.window.to)).toBeGreaterThan(Date.parse(at(55)));
  });

  it('has the parent DS and NS lanes, then one lane per provider', () => {
    expect(timeline.lanes.map((lane) => lane.id)).toEqual([
      'parent-ds',
      'parent-ns',
      'provider/bind',
      'provider/powerdns',
    ]);
    expect(process.laneIds).toEqual(timeline.lanes.map((lane) => lane.id));
    const ds = timeline.lanes[0]!;
    expect(ds.label).toBe('parent DS');
    expect(ds.segments.map((segment) => [segment.from, segment.to, segment.dsKeyTags])).toEqual([
      [at(-30), at(12), [11111]],
      [at(12), null, [11111, 22222]],
    ]);
    const ns = timeline.lanes[1]!;
    expect(ns.segments.map((segment) => segment.label)).toEqual([
      'ns1.bind.test.',
      'ns1.bind.test. ns1.powerdns.test.',
    ]);
  });

  it('shows each DNSKEY set version with its keys, owners and the change at step 1', () => {
    const bind = timeline.lanes.find((lane) => lane.id === 'provider/bind')!;
    expect(bind.servers).toEqual(['127.53.0.2#53']);
    expect(bind.segments.map((segment) => [segment.from, segment.to, segment.label])).toEqual([
      [at(-30), at(3), 'KSK 11111 / ZSK 1111'],
      [at(3), null, 'KSK 11111 / KSK 22222 / ZSK 1111 / ZSK 2222'],
    ]);
    expect(bind.segments[1]!.keys!.map((key) => [key.keyTag, key.owner])).toEqual([
      [11111, 'bind'],
      [22222, 'powerdns'],
      [1111, 'bind'],
      [2222, 'powerdns'],
    ]);
    const joiner = timeline.lanes.find((lane) => lane.id === 'provider/powerdns')!;
    expect(joiner.segments[1]!.from).toBe(at(3.5));
    // The change falls inside step 1.
    expect(Date.parse(joiner.segments[1]!.from)).toBeGreaterThan(
      Date.parse(process.steps[0]!.startedAt!),
    );
    expect(Date.parse(joiner.segments[1]!.from)).toBeLessThan(
      Date.parse(process.steps[0]!.completedAt!),
    );
  });

  it('attaches each glitch to the lane of the provider it names, at its time', () => {
    expect(timeline.glitches).toEqual([
      expect.objectContaining({
        id: 'G1',
        type: 'invariant-violated',
        invariant: 'I3',
        label: 'I3',
        from: at(20),
        to: at(25),
        laneIds: ['provider/powerdns'],
        processId: PROCESS_ID,
      }),
      expect.objectContaining({
        id: 'G2',
        type: 'validation-failed',
        invariant: 'I2',
        from: at(40),
        to: at(40),
        laneIds: ['provider/bind'],
        resolver: 'resolver-bind',
        processId: PROCESS_ID,
      }),
    ]);
    expect(process.glitchIds).toEqual(['G1', 'G2']);
  });

  it('sums the observer summary and counts', () => {
    expect(timeline.summary).toMatchObject({
      processes: 1,
      completed: 1,
      steps: 7,
      waits: 1,
      skippedWaits: 0,
      glitches: 2,
      invariantViolations: 1,
      openViolations: 0,
      validationFailures: 1,
      disagreements: 0,
      observerTotals: { probes: 120, resolverAnswers: 480, disagreements: 0 },
    });
    expect(timeline.summary.wireVersions).toBe(9);
  });

  it('is deterministic, plain JSON, and defaults generatedAt to the latest event', () => {
    const again = model();
    expect(JSON.stringify(again)).toBe(JSON.stringify(timeline));
    expect(JSON.parse(JSON.stringify(timeline))).toEqual(timeline);
    expect(buildTimeline(ZONE, zoneEvents(), observations()).generatedAt).toBe(at(56));
    expect(renderReportHtml(again)).toBe(renderReportHtml(timeline));
  });

  it('keeps a violation open when it is never restored', () => {
    const open = buildTimeline(
      ZONE,
      zoneEvents(),
      observations().filter((event) => event.type !== 'invariant-restored'),
    );
    expect(open.glitches[0]).toMatchObject({ id: 'G1', to: null });
    expect(open.summary.openViolations).toBe(1);
    expect(renderProcessSvg(open, PROCESS_ID)).toContain('G1 I3 →');
  });

  it('widens the window to a glitch of the process just after its end', () => {
    const late = observations();
    late.push({
      schemaVersion: 1,
      type: 'validation-failed',
      zone: ZONE,
      occurredAt: at(70),
      source: { kind: 'observer', id: 'observer-1' },
      data: {
        provider: 'powerdns',
        name: ZONE,
        rrtype: 'DNSKEY',
        detail: 'late',
        processId: PROCESS_ID,
      },
    });
    const timeline = buildTimeline(ZONE, zoneEvents(), late);
    const process = timeline.processes[0]!;
    expect(Date.parse(process.window.to)).toBeGreaterThan(Date.parse(at(70)));
    expect(process.glitchIds).toContain('G3');
    expect(glitchMarkers(renderProcessSvg(timeline, PROCESS_ID))).toBe(3);
  });
});

describe('renderProcessSvg', () => {
  const timeline = model();
  const svg = renderProcessSvg(timeline, PROCESS_ID);

  it('is well-formed SVG of about 1200 px with 11px monospace text', () => {
    expect(checkWellFormed(svg)).toEqual([]);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="1200" /);
    expect(svg).toContain('font-family="monospace" font-size="11"');
  });

  it('draws the lanes, keys by tag and role, steps, the wait and the glitches', () => {
    for (const text of ['parent DS', 'parent NS', 'bind', 'powerdns', 'ns1.bind.test.'])
      expect(svg).toContain(`>${text}<`);
    for (const text of ['KSK 11111', 'ZSK 1111', 'KSK 22222', 'ZSK 2222', '\u00a022222'])
      expect(svg).toContain(`>${text}<`);
    expect(svg).toContain('>1 sync-dnskeys<');
    expect(svg).toContain('>7 remove-csync<');
    expect(svg.match(/class="step"/g)).toHaveLength(7);
    expect(svg.match(/class="wait"/g)).toHaveLength(1);
    expect(svg).toContain('>wait 20.0 s<');
    expect(svg).not.toContain('SKIPPED');
    expect(glitchMarkers(svg)).toBe(2);
    expect(svg).toContain('>G1 I3<');
    expect(svg).toContain('data-glitch="G2"');
    // Foreign keys are coloured by their owner: powerdns's KSK at bind, in powerdns's colour.
    const powerdns = timeline.providers.find((provider) => provider.id === 'powerdns')!.colour;
    expect(svg).toContain(`<tspan fill="${powerdns}" font-weight="bold">KSK 22222</tspan>`);
  });

  it('references nothing outside itself', () => {
    expect(urls(svg)).toEqual([]);
    expect(svg).not.toMatch(/href="(?!#)|xlink:href|<image|<script|@import|url\((?!#)/);
  });

  it('marks a skipped wait in red with SKIPPED', () => {
    const skipped = model({ waitFormula: 'SKIPPED (unsafe, --skip-waits): max(...) + S' });
    expect(skipped.processes[0]!.steps[2]!.wait).toMatchObject({
      skipped: true,
      seconds: 0,
      mandatedNotBefore: at(33),
    });
    expect(skipped.summary.skippedWaits).toBe(1);
    expect(skipped.processes[0]!.mandatedWaitSeconds).toBe(0);
    const picture = renderProcessSvg(skipped, PROCESS_ID);
    expect(picture).toContain('class="wait skipped"');
    expect(picture).toContain('SKIPPED wait (step 3)');
    expect(checkWellFormed(picture)).toEqual([]);
    expect(renderReportHtml(skipped)).toContain('<span class="bad">SKIPPED</span>');
  });

  it('escapes every text: a provider id with <&> stays text', () => {
    const evil = 'evil<&>"\'\u0001x';
    const timeline = model({ joiner: evil });
    const picture = renderProcessSvg(timeline, PROCESS_ID);
    expect(checkWellFormed(picture)).toEqual([]);
    expect(picture).toContain('evil&lt;&amp;&gt;&quot;&#39;\ufffdx');
    expect(picture).not.toContain('evil<');
    const html = renderReportHtml(timeline);
    expect(html).not.toContain('evil<');
    expect(html).toContain('evil&lt;&amp;&gt;');
    for (const embedded of svgsIn(html)) expect(checkWellFormed(embedded)).toEqual([]);
  });

  it('rejects an unknown process', () => {
    expect(() => renderProcessSvg(timeline, 'nope')).toThrow(ReportError);
  });
});

describe('negative control: glitch markers', () => {
  it('draws no glitch marker for a stream without glitches', () => {
    const clean = model({ glitches: false });
    expect(clean.glitches).toEqual([]);
    const svg = renderProcessSvg(clean, PROCESS_ID);
    expect(glitchMarkers(svg)).toBe(0);
    expect(svg).toContain('no glitch');
    const html = renderReportHtml(clean);
    expect(html.match(/class="glitch"/g)).toBeNull();
    expect(html).toContain('no glitch observed');
  });

  it('draws at least one for a stream with a glitch', () => {
    const svg = renderProcessSvg(model(), PROCESS_ID);
    expect(glitchMarkers(svg)).toBeGreaterThanOrEqual(1);
    expect(renderReportHtml(model())).toContain('2 glitch(es) observed');
  });
});

describe('renderReportHtml', () => {
  const timeline = model();
  const html = renderReportHtml(timeline);

  it('is one self-contained page: inline CSS and SVG, no network', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<style>');
    expect(urls(html)).toEqual([]);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|src=|url\((?!#)/);
    expect(svgsIn(html)).toHaveLength(1);
    expect(svgsIn(html)[0]).toBe(renderProcessSvg(timeline, PROCESS_ID).trimEnd());
  });

  it('has the steps with durations and formulas, the glitches, the observer totals', () => {
    expect(html).toContain('await-parent-ds');
    expect(html).toContain('<code>max(t_ds + DprpP + TTLds, t_dnskey + DprpC + TTLkey) + S</code>');
    expect(html).toContain('>20.0 s<');
    expect(html).toContain('>G1</span>');
    expect(html).toContain('<td>I3</td>');
    expect(html).toContain('<td>I2</td>');
    expect(html).toContain('a cached DS has no matching DNSKEY at powerdns');
    expect(html).toContain('120 probes, 480 resolver answers, 0 disagreements');
  });
});

describe('writeReport', () => {
  const directories: string[] = [];
  afterEach(async () => {
    for (const directory of directories.splice(0))
      await rm(directory, { recursive: true, force: true });
  });

  it('writes report.html, one SVG per process and timeline.json', async () => {
    const log = createMemoryEventLog<ChorusEvent>();
    await log.append(zoneStream(ZONE), 0, zoneEvents());
    await log.append(observationStream(ZONE), 0, observations());
    const outDir = await mkdtemp(path.join(os.tmpdir(), 'chorus-report-'));
    directories.push(outDir);
    const written = await writeReport({ log, zone: ZONE, outDir, now: new Date(at(100)) });
    expect(written.html).toBe(path.join(outDir, 'report.html'));
    expect(written.glitches).toBe(2);
    expect(written.svgs).toEqual([
      {
        processId: PROCESS_ID,
        kind: 'add-signer',
        signerId: 'powerdns',
        path: path.join(outDir, 'process-1-add-signer-powerdns.svg'),
      },
    ]);
    expect((await readdir(outDir)).sort()).toEqual([
      'process-1-add-signer-powerdns.svg',
      'report.html',
      'timeline.json',
    ]);
    expect(await readFile(written.html, 'utf8')).toBe(renderReportHtml(written.model));
    expect(JSON.parse(await readFile(path.join(outDir, 'timeline.json'), 'utf8'))).toEqual(
      written.model,
    );
    expect(written.model.generatedAt).toBe(at(100));
    await log.close();
  });

  it('refuses a zone without events', async () => {
    const log = createMemoryEventLog<ChorusEvent>();
    await expect(writeReport({ log, zone: 'missing.test.', outDir: os.tmpdir() })).rejects.toThrow(
      /no events for zone missing\.test\./,
    );
    await log.close();
  });
});
