/**
 * Start-up checks: over DNS with the core query client (is an address already taken, does a
 * server serve its signed zones, does a resolver validate from the lab's trust anchor) and on
 * each control endpoint.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { query } from '@chorus/dns';
import type { NameServer } from '@chorus/core';
import { runTool } from './commands.js';
import { LabError } from './errors.js';
import { isRunning, tailFile } from './processes.js';

/** True if something answers DNS at `server`, whatever the rcode. */
export async function answersDns(server: NameServer): Promise<boolean> {
  try {
    await query(server, 'test.', 'SOA', { timeoutMs: 300, retries: 0, dnssecOk: false });
    return true;
  } catch {
    return false;
  }
}

export interface WatchedProcess {
  label: string;
  pid: number;
  program: string;
  logFile: string;
}

/** "Passed", or why not yet (shown if the deadline passes). */
export type CheckResult = { ready: true } | { ready: false; reason: string };

async function failure(watched: WatchedProcess, reason: string): Promise<LabError> {
  const tail = await tailFile(watched.logFile);
  return new LabError(
    `${watched.label} ${reason}\n--- last lines of ${watched.logFile} ---\n${tail || '(empty)'}`,
  );
}

/** Repeats `check` until it passes, the process dies, or the deadline passes. */
export async function waitUntilReady(
  watched: WatchedProcess,
  check: () => Promise<CheckResult>,
  deadline: number,
): Promise<void> {
  let reason: string;
  for (;;) {
    try {
      const result = await check();
      if (result.ready) return;
      reason = result.reason;
    } catch (error) {
      reason = error instanceof Error ? error.message : String(error);
    }
    if (!(await isRunning(watched.pid, watched.program))) {
      throw await failure(watched, `exited during start-up (last check: ${reason})`);
    }
    if (Date.now() > deadline) throw await failure(watched, `was not ready in time: ${reason}`);
    await sleep(40);
  }
}

/** An authoritative server is ready when it answers SOA for each zone with AA and an RRSIG. */
export function signedZonesCheck(server: NameServer, zones: readonly string[]) {
  return async (): Promise<CheckResult> => {
    for (const zone of zones) {
      const response = await query(server, zone, 'SOA', { timeoutMs: 300, retries: 0 });
      const soa = response.answers.find((rrset) => rrset.type === 'SOA');
      if (response.rcode !== 'NOERROR' || !response.flags.aa) {
        return { ready: false, reason: `${zone} SOA: ${response.rcode}, aa=${response.flags.aa}` };
      }
      if (!soa || soa.signatures.length === 0) {
        return { ready: false, reason: `${zone} SOA is not signed yet` };
      }
    }
    return { ready: true };
  };
}

/**
 * A resolver is ready when it answers the parent's SOA, validated (AD) from the trust anchor
 * unless it is a non-validating cache.
 */
export function resolvesCheck(resolver: NameServer, zone: string, validates = true) {
  return async (): Promise<CheckResult> => {
    const response = await query(resolver, zone, 'SOA', {
      timeoutMs: 1000,
      retries: 0,
      recursionDesired: true,
    });
    if (response.rcode === 'NOERROR' && (response.flags.ad || !validates)) return { ready: true };
    return { ready: false, reason: `${zone} SOA: ${response.rcode}, ad=${response.flags.ad}` };
  };
}

/** Passes when `program args…` exits 0; else its last output lines are the reason. */
export async function toolSucceeds(program: string, args: string[]): Promise<CheckResult> {
  const result = await runTool(program, args, { allowFailure: true, timeoutMs: 3000 });
  if (result.exitCode === 0) return { ready: true };
  const output = (result.stderr || result.stdout).trim().split('\n').slice(-2).join(' ');
  return { ready: false, reason: `${path.basename(program)} failed: ${output}` };
}

/** Passes when every check passes, in order. */
export function allOf(...checks: (() => Promise<CheckResult>)[]) {
  return async (): Promise<CheckResult> => {
    for (const check of checks) {
      const result = await check();
      if (!result.ready) return result;
    }
    return { ready: true };
  };
}
