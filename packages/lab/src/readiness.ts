/**
 * Start-up checks: over DNS with the core query client (is an address already taken, does a
 * server serve its signed zones, does a resolver validate from the lab's trust anchor) and on
 * each control endpoint.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { query } from '@chorus/dns';
import type { NameServer, RRset } from '@chorus/core';
import { NSEC3_PARAMETERS, NSEC3PARAM_TEXT } from './config.js';
import { runTool } from './commands.js';
import { LabError } from './errors.js';
import { isRunning, tailFile } from './processes.js';
import type { DenialMethod, LabAlgorithm } from './types.js';

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
  /** Its own directory, named on its command line (see `isRunning`). */
  directory?: string;
}

/** "Passed", or why not yet (shown if the deadline passes). */
export type CheckResult = { ready: true } | { ready: false; reason: string };

async function failure(watched: WatchedProcess, reason: string): Promise<LabError> {
  const tail = await tailFile(watched.logFile);
  return new LabError(
    `${watched.label} ${reason}\n--- last lines of ${watched.logFile} ---\n${tail || '(empty)'}`,
  );
}

/**
 * Gone at three looks 100 ms apart. One look is not enough: while `ip netns exec` execs the
 * program, /proc/<pid>/cmdline reads empty for a moment, as a zombie's does.
 */
export async function hasExited(watched: WatchedProcess): Promise<boolean> {
  for (let look = 0; look < 3; look += 1) {
    if (await isRunning(watched.pid, watched.program, watched.directory)) return false;
    if (look < 2) await sleep(100);
  }
  return true;
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
    if (await hasExited(watched)) {
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

/** A name no lab zone has: its NXDOMAIN shows the zone's denial records. */
export const MISSING_LABEL = 'chorus-lab-no-such-name';

/** The records of the `type` RRsets among `rrsets`. */
function recordsOf<T extends 'DNSKEY' | 'NSEC3' | 'NSEC3PARAM'>(
  rrsets: readonly RRset[],
  type: T,
): RRset<T>['records'] {
  const matching = rrsets.filter((rrset) => rrset.type === type) as unknown as RRset<T>[];
  return matching.flatMap((rrset) => rrset.records as unknown[]) as RRset<T>['records'];
}

function sameNsec3Parameters(data: {
  hashAlgorithm: number;
  flags: number;
  iterations: number;
  salt: string;
}): boolean {
  return (
    data.hashAlgorithm === NSEC3_PARAMETERS.hashAlgorithm &&
    data.flags === NSEC3_PARAMETERS.flags &&
    data.iterations === NSEC3_PARAMETERS.iterations &&
    data.salt === NSEC3_PARAMETERS.salt
  );
}

/** The DNSKEY RRset holds keys of `algorithm` only, signed with it. */
async function algorithmCheck(
  server: NameServer,
  zone: string,
  algorithm: LabAlgorithm,
): Promise<CheckResult> {
  const response = await query(server, zone, 'DNSKEY', { timeoutMs: 1000, retries: 0 });
  const dnskey = response.answers.find((rrset) => rrset.type === 'DNSKEY');
  const algorithms = [
    ...new Set(recordsOf(response.answers, 'DNSKEY').map((key) => key.algorithm)),
  ];
  if (!dnskey || algorithms.length !== 1 || algorithms[0] !== algorithm)
    return {
      ready: false,
      reason: `${zone} DNSKEY algorithms [${algorithms.join(', ')}], expected only ${algorithm}`,
    };
  if (!dnskey.signatures.some((signature) => signature.algorithm === algorithm))
    return { ready: false, reason: `${zone} DNSKEY is not signed with algorithm ${algorithm} yet` };
  return { ready: true };
}

/**
 * NSEC3: the apex has NSEC3PARAM `1 0 0 -`, and an NXDOMAIN carries NSEC3 records with those
 * parameters and no NSEC. NSEC: no NSEC3PARAM, and the NXDOMAIN carries NSEC and no NSEC3.
 */
async function denialCheck(
  server: NameServer,
  zone: string,
  denial: DenialMethod,
): Promise<CheckResult> {
  const param = await query(server, zone, 'NSEC3PARAM', { timeoutMs: 1000, retries: 0 });
  const params = recordsOf(param.answers, 'NSEC3PARAM');
  if (denial === 'nsec3' && (params.length !== 1 || !sameNsec3Parameters(params[0]!)))
    return {
      ready: false,
      reason: `${zone} NSEC3PARAM: ${params.length === 0 ? 'none yet' : JSON.stringify(params)}, expected ${NSEC3PARAM_TEXT}`,
    };
  if (denial === 'nsec' && params.length > 0)
    return { ready: false, reason: `${zone} serves an NSEC3PARAM, expected NSEC only` };
  const missing = await query(server, `${MISSING_LABEL}.${zone}`, 'A', {
    timeoutMs: 1000,
    retries: 0,
  });
  const types = new Set(missing.authorities.map((rrset) => rrset.type));
  const nsec3 = recordsOf(missing.authorities, 'NSEC3');
  const wanted = denial === 'nsec3' ? 'NSEC3' : 'NSEC';
  const unwanted = denial === 'nsec3' ? 'NSEC' : 'NSEC3';
  if (missing.rcode !== 'NXDOMAIN' || !types.has(wanted) || types.has(unwanted))
    return {
      ready: false,
      reason: `${MISSING_LABEL}.${zone}: ${missing.rcode} with ${[...types].join(' ') || 'no authority records'}, expected NXDOMAIN with ${wanted} only`,
    };
  if (!nsec3.every(sameNsec3Parameters))
    return {
      ready: false,
      reason: `${zone} NSEC3 records with other parameters than ${NSEC3PARAM_TEXT}`,
    };
  return { ready: true };
}

/**
 * A server signs as the lab asked when, for each zone, its DNSKEY RRset has keys of the lab's
 * algorithm only (signed with it) and it denies with the lab's method (see `denialCheck`).
 */
export function signingCheck(
  server: NameServer,
  zones: readonly string[],
  expected: { algorithm: LabAlgorithm; denial: DenialMethod },
) {
  return allOf(
    ...zones.flatMap((zone) => [
      () => algorithmCheck(server, zone, expected.algorithm),
      () => denialCheck(server, zone, expected.denial),
    ]),
  );
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
