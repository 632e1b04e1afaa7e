import { afterEach, describe, expect, it, vi } from 'vitest';
import { ADD_SIGNER_STEPS, type ProcessState } from '@chorus/engine';
import { durationInWords, statusLine, ttyStatus } from '../src/coordination/tty-status.js';
import { currentWait, waitInWords } from '../src/coordination/describe.js';

const NOW = new Date('2026-12-04T12:00:00.000Z');

/** ADD-SIGNER waiting after its DS step, `left` seconds before its notBefore. */
function waiting(left: number): ProcessState {
  const notBefore = new Date(NOW.getTime() + left * 1000).toISOString();
  return {
    id: 'p1',
    kind: 'add-signer',
    signerId: 'knot',
    status: 'running',
    steps: [...ADD_SIGNER_STEPS],
    stepStates: ADD_SIGNER_STEPS.map((_, index) =>
      index < 2
        ? { status: 'completed', reconciled: {} }
        : index === 2
          ? {
              status: 'waiting',
              reconciled: {},
              wait: { notBefore, formula: 'max(t_ds + DprpP + TTLds, …) + S', terms: {} },
            }
          : { status: 'pending', reconciled: {} },
    ),
    currentStep: 2,
    groupBefore: ['bind'],
    groupAfter: ['bind', 'knot'],
    startedAt: NOW.toISOString(),
  };
}

afterEach(() => vi.useRealTimers());

describe('the status line for long waits', () => {
  it('says durations in words', () => {
    expect(durationInWords(5)).toBe('5 s');
    expect(durationInWords(252)).toBe('4 min 12 s');
    expect(durationInWords(3725)).toBe('1 h 2 min');
  });

  it('names the step and counts down in words', () => {
    const line = statusLine(waiting(252), NOW);
    expect(line).toContain('step 3/7 await-parent-ds');
    expect(line).toContain('(4 min 12 s left)');
  });

  it('on a terminal: redraws each second and prints events above it', () => {
    vi.useFakeTimers({ now: NOW });
    let err = '';
    const status = ttyStatus(
      { stdout: () => undefined, stderr: (text) => void (err += text) },
      true,
    );
    status.show(waiting(10));
    expect(err).toContain('\r\x1b[2K');
    expect(err).toContain('(10 s left)');
    vi.advanceTimersByTime(3000);
    expect(err).toContain('(7 s left)');
    err = '';
    status.io.stderr('an event\n');
    // Cleared, the event, then the line again.
    expect(err.indexOf('\r\x1b[2K')).toBe(0);
    expect(err).toContain('an event\n');
    expect(err.lastIndexOf('left)')).toBeGreaterThan(err.indexOf('an event'));
    err = '';
    status.stop();
    expect(err).toBe('\r\x1b[2K');
    vi.advanceTimersByTime(3000);
    expect(err).toBe('\r\x1b[2K');
  });

  it('off the terminal (or with --json): the output is unchanged (the control)', () => {
    vi.useFakeTimers({ now: NOW });
    let err = '';
    const io = { stdout: () => undefined, stderr: (text: string) => void (err += text) };
    const status = ttyStatus(io, false);
    expect(status.io).toBe(io);
    status.show(waiting(10));
    vi.advanceTimersByTime(3000);
    status.io.stderr('an event\n');
    status.stop();
    expect(err).toBe('an event\n');
  });
});

describe('a wait in words (the page and status --json)', () => {
  it.each([
    [
      'max(t_ds + DprpP + TTLds, t_dnskey + DprpC + TTLkey) + S',
      "the parent's DS TTL and the DNSKEY TTL",
    ],
    [
      'max(t_pns + DprpP + TTLnsP, t_ns + DprpC + TTLnsC) + S',
      'the NS TTLs at the parent and the child',
    ],
    ['t_stop + DprpC + TTLsig + S', "the old signatures' TTL"],
    ['t_pub + DprpC + TTLkey + S', 'the DNSKEY TTL'],
    ['t_ds + DprpP + TTLds + S', "the parent's DS TTL"],
    [
      'SKIPPED (unsafe, requested with --unsafe-skip-wait): t_ds + DprpP + TTLds + S',
      "the parent's DS TTL (SKIPPED, unsafe)",
    ],
  ])('%s waits for %s', (formula, words) => {
    expect(waitInWords(formula)).toBe(words);
  });

  it('is given for the step in its wait only', () => {
    const process = waiting(252);
    expect(currentWait(process)).toMatchObject({ waitsFor: "the parent's DS TTL" });
    const started = {
      ...process,
      stepStates: process.stepStates.map((step) => ({ ...step, status: 'started' as const })),
    };
    expect(currentWait(started)).toBeUndefined();
  });
});
