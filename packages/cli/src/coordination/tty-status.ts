/**
 * A status line for long waits on a terminal: the process's step and what it waits for, with a
 * countdown in words, redrawn each second on stderr. Event lines print above it. Off when stderr
 * is not a terminal, and with --json: the output stays exactly as it was.
 */
import type { ProcessState } from '@chorus/engine';
import type { CliIo } from '../io.js';
import { describeProcess } from './describe.js';

/** `252` → `4 min 12 s`; `3725` → `1 h 2 min`. */
export function durationInWords(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** The status line of a process: its description, with any "(N s left)" said in words. */
export function statusLine(process: ProcessState, now: Date): string {
  return describeProcess(process, now).replace(
    /\((\d+) s left\)/,
    (_, left: string) => `(${durationInWords(Number(left))} left)`,
  );
}

const CLEAR_LINE = '\r\x1b[2K';

export interface TtyStatus {
  /** Where event lines go: the status line is cleared first and drawn again after. */
  io: CliIo;
  /** The process to describe from now on (undefined: nothing yet). */
  show(process: ProcessState | undefined): void;
  stop(): void;
}

/** A status line on `io`'s stderr when `enabled`; otherwise `io` unchanged and no timer. */
export function ttyStatus(io: CliIo, enabled: boolean, columns = 100): TtyStatus {
  if (!enabled) return { io, show: () => undefined, stop: () => undefined };
  let process: ProcessState | undefined;
  let drawn = false;
  const draw = () => {
    if (!process) return;
    const text = statusLine(process, new Date());
    io.stderr(`${CLEAR_LINE}${text.length > columns ? `${text.slice(0, columns - 1)}…` : text}`);
    drawn = true;
  };
  const clear = () => {
    if (drawn) io.stderr(CLEAR_LINE);
    drawn = false;
  };
  const timer = setInterval(draw, 1000);
  timer.unref();
  return {
    io: { stdout: (text) => io.stdout(text), stderr: (text) => (clear(), io.stderr(text), draw()) },
    show: (next) => ((process = next), draw()),
    stop: () => (clearInterval(timer), clear()),
  };
}
