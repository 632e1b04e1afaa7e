import { describe, expect, it } from 'vitest';
import { buildTimeline, renderProcessSvg, renderReportHtml } from '@chorus/report';
import {
  at,
  BIND_ROLL,
  checkWellFormed,
  observations,
  POWERDNS_ROLL,
  PROCESS_ID,
  rollObservations,
  rollZoneEvents,
  svgsIn,
  ZONE,
  zoneEvents,
} from './fixtures.js';

const ROLL_ZSK_STEPS = [
  'introduce-successor',
  'sync-dnskeys',
  'activate-successor',
  'remove-predecessor',
  'drop-predecessor',
];

const rolls = () =>
  buildTimeline(ZONE, rollZoneEvents(), rollObservations(), { generatedAt: at(100) });

const keyMarks = (svg: string) => svg.match(/class="key-event"/g)?.length ?? 0;

/** The y of the top of the lane labelled `label` (its label sits 15 px below). */
function laneTop(svg: string, label: string): number {
  const match = new RegExp(
    `<text x="6" y="([\\d.]+)" class="lane-label"><tspan[^>]*>${label}<`,
  ).exec(svg);
  return Number(match![1]) - 15;
}

/** The y where the key mark of `keyTag` starts (the top of its lane). */
function markTop(svg: string, keyTag: number): number {
  const match = new RegExp(
    `<g class="key-event" data-key-tag="${keyTag}"[^>]*><title>[^<]*</title>\\n<line x1="[\\d.]+" y1="([\\d.]+)"`,
  ).exec(svg);
  return Number(match![1]);
}

describe('rolls on the timeline: two overlapping ZSK rolls', () => {
  const timeline = rolls();
  const [bind, powerdns] = timeline.processes;

  it('folds both rolls with their labels, roll subjects and steps', () => {
    expect(timeline.processes.map((entry) => [entry.number, entry.id, entry.label])).toEqual([
      [1, BIND_ROLL, 'roll-zsk bind (held)'],
      [2, POWERDNS_ROLL, 'roll-zsk powerdns (server-timed)'],
    ]);
    expect(bind!.roll).toEqual({
      role: 'ZSK',
      mode: 'held',
      predecessorTags: [1111],
      successorTags: [3333],
    });
    expect(powerdns!.roll).toEqual({
      role: 'ZSK',
      mode: 'server-timed',
      predecessorTags: [2222],
      successorTags: [4444],
    });
    for (const entry of [bind!, powerdns!]) {
      expect(entry.status).toBe('completed');
      expect(entry.steps.map((step) => step.name)).toEqual(ROLL_ZSK_STEPS);
      expect(entry.steps.filter((step) => step.wait).map((step) => step.number)).toEqual([2, 3]);
    }
    expect(bind!.steps.map((step) => step.startedAt)).toEqual([1, 4, 16, 28, 31].map(at));
    expect(powerdns!.steps.map((step) => step.startedAt)).toEqual([11, 13, 25, 37, 46].map(at));
    expect(timeline.summary).toMatchObject({ processes: 2, completed: 2, steps: 10, waits: 4 });
  });

  it('knows they overlap: each picture has a row for both', () => {
    expect(bind!.concurrentIds).toEqual([BIND_ROLL, POWERDNS_ROLL]);
    expect(powerdns!.concurrentIds).toEqual([BIND_ROLL, POWERDNS_ROLL]);
    // A glitch naming powerdns while both run belongs to powerdns's roll, not the first one.
    expect(timeline.glitches).toEqual([
      expect.objectContaining({ id: 'G1', invariant: 'I6', processId: POWERDNS_ROLL }),
    ]);
  });

  it('has each key entering and leaving its signer lane, with the roll it belongs to', () => {
    expect(timeline.keyEvents).toEqual([
      {
        id: 'K1',
        signerId: 'bind',
        laneId: 'provider/bind',
        at: at(2),
        keyTag: 3333,
        role: 'ZSK',
        change: 'appeared',
        processId: BIND_ROLL,
      },
      {
        id: 'K2',
        signerId: 'powerdns',
        laneId: 'provider/powerdns',
        at: at(12),
        keyTag: 4444,
        role: 'ZSK',
        change: 'appeared',
        processId: POWERDNS_ROLL,
      },
      {
        id: 'K3',
        signerId: 'bind',
        laneId: 'provider/bind',
        at: at(30),
        keyTag: 1111,
        role: 'ZSK',
        change: 'disappeared',
        processId: BIND_ROLL,
      },
      {
        id: 'K4',
        signerId: 'powerdns',
        laneId: 'provider/powerdns',
        at: at(45),
        keyTag: 2222,
        role: 'ZSK',
        change: 'disappeared',
        processId: POWERDNS_ROLL,
      },
    ]);
    expect(timeline.summary.keyEvents).toBe(4);
    // Each picture: the key events in its window (bind's: -2 to 37 s; powerdns's: 8 to 52 s).
    expect(bind!.keyEventIds).toEqual(['K1', 'K2', 'K3']);
    expect(powerdns!.keyEventIds).toEqual(['K2', 'K3', 'K4']);
    expect(JSON.parse(JSON.stringify(timeline))).toEqual(timeline);
  });

  describe('the picture of bind’s roll', () => {
    const svg = renderProcessSvg(timeline, BIND_ROLL);

    it('is well-formed and titled with the roll', () => {
      expect(checkWellFormed(svg)).toEqual([]);
      expect(svg).toContain('>1. roll-zsk bind (held): example.test.<');
    });

    it('draws both processes, one row each, and both sets of steps', () => {
      expect(svg).toContain(`<g class="process-row focus" data-process="${BIND_ROLL}">`);
      expect(svg).toContain(`<g class="process-row" data-process="${POWERDNS_ROLL}">`);
      expect(svg).toContain('>1. roll-zsk bind (held)<');
      expect(svg).toContain('>2. roll-zsk powerdns (server-timed)<');
      // Its own steps as boundaries over the lanes, and its two waits.
      for (const [index, name] of ROLL_ZSK_STEPS.entries())
        expect(svg).toContain(`>${index + 1} ${name}<`);
      expect(svg.match(/class="step"/g)).toHaveLength(5);
      expect(svg.match(/class="wait"/g)).toHaveLength(2);
      // The other roll's steps in its row.
      expect(svg).toContain(
        'steps: 1 introduce-successor +11.0 s, 2 sync-dnskeys +13.0 s (wait 10.0 s), 3 activate-successor +25.0 s (wait 10.0 s), 4 remove-predecessor +37.0 s, 5 drop-predecessor +46.0 s',
      );
    });

    it('marks each key entering or leaving, with role and tag, in its signer’s lane', () => {
      expect(keyMarks(svg)).toBe(3);
      expect(svg).toContain('data-key-tag="3333" data-change="appeared"');
      expect(svg).toContain('data-key-tag="4444" data-change="appeared"');
      expect(svg).toContain('data-key-tag="1111" data-change="disappeared"');
      for (const text of ['+ZSK 3333', '+ZSK 4444', '\u2212ZSK 1111'])
        expect(svg).toContain(`>${text}<`);
      expect(svg).toContain(
        'K1 ZSK 3333 entered the DNSKEY RRset of bind at +2.0 s (1. roll-zsk bind (held))',
      );
      expect(svg).toContain(
        'K3 ZSK 1111 left the DNSKEY RRset of bind at +30.0 s (1. roll-zsk bind (held))',
      );
      expect(markTop(svg, 3333)).toBe(laneTop(svg, 'bind'));
      expect(markTop(svg, 1111)).toBe(laneTop(svg, 'bind'));
      expect(markTop(svg, 4444)).toBe(laneTop(svg, 'powerdns'));
      // The state change of 1111 at 17 s is no mark: 1111 is marked once, when it left.
      expect(svg.match(/data-key-tag="1111"/g)).toHaveLength(1);
      expect(svg).not.toContain('data-key-tag="2222"'); // left at 45 s, after this window
    });
  });

  it('the page has both rolls, both sets of steps and the key tables', () => {
    const html = renderReportHtml(timeline);
    expect(svgsIn(html)).toHaveLength(2);
    for (const embedded of svgsIn(html)) expect(checkWellFormed(embedded)).toEqual([]);
    expect(html).toContain('<h2>1. roll-zsk bind (held)</h2>');
    expect(html).toContain('<h2>2. roll-zsk powerdns (server-timed)</h2>');
    for (const name of ROLL_ZSK_STEPS)
      expect(html.split(`<span class="mono">${name}</span>`)).toHaveLength(3);
    expect(html).toContain('; rolls ZSK 1111 → 3333 (held); during it: 2. roll-zsk powerdns');
    expect(html).toContain('<td>ZSK 2222 → 4444 (server-timed)</td>');
    expect(html).toContain('<td>key changes</td><td>4: 2 entered, 2 left</td>');
    expect(html).toContain('<td>K4</td><td>10:00:45.000 (+35.0 s)</td><td><span style="color:');
    expect(html).toContain(
      '<span class="key">ZSK 2222</span></td><td>left</td><td>2. roll-zsk powerdns (server-timed)</td>',
    );
    expect(html.match(/key-event/g)).toHaveLength(6); // 3 marks in each picture
  });
});

describe('negative control: key marks', () => {
  it('a stream without rolls or key changes has no key mark', () => {
    const timeline = buildTimeline(ZONE, zoneEvents(), observations(), { generatedAt: at(100) });
    expect(timeline.keyEvents).toEqual([]);
    expect(timeline.summary.keyEvents).toBe(0);
    const process = timeline.processes[0]!;
    expect(process).toMatchObject({ label: 'add-signer powerdns', keyEventIds: [] });
    expect(process.roll).toBeUndefined();
    expect(process.concurrentIds).toEqual([PROCESS_ID]);
    const svg = renderProcessSvg(timeline, PROCESS_ID);
    expect(keyMarks(svg)).toBe(0);
    expect(svg).not.toContain('data-key-tag');
    expect(svg).not.toContain('key entered');
    const html = renderReportHtml(timeline);
    expect(html).not.toContain('key-event');
    expect(html).not.toContain('Keys in and out');
    expect(html).toContain('<td>key changes</td><td>none</td>');
  });

  it('and the roll stream has some (the check can fail)', () => {
    expect(keyMarks(renderProcessSvg(rolls(), POWERDNS_ROLL))).toBe(3);
  });
});
