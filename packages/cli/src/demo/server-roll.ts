/**
 * A roll the server begins on its own, in the demo: an operator's `rndc dnssec -rollover` at BIND,
 * outside Chorus, as BIND's own policy would do when a key's lifetime ends. Nobody asks Chorus:
 * the signer's key watch sees the successor and requests the group's roll, which the demo then
 * follows to its end.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { EventLog, KeyRole, ZoneEvent } from '@chorus/core';
import { ChorusError } from '@chorus/core';
import type { ProcessState, ZoneState } from '@chorus/engine';
import { readZone } from '../coordination/event-log.js';
import { follow, processEndError } from '../coordination/follow.js';
import type { CliIo } from '../io.js';
import type { DemoLab } from './phases.js';

/** Starts a roll of `signerId`'s key of `role` at its server, outside Chorus. Only BIND (rndc). */
async function beginRollAtServer(lab: DemoLab, state: ZoneState, signerId: string, role: KeyRole) {
  const server = lab.status.servers.find((entry) => entry.id === signerId);
  const key = state.signers[signerId]?.keys.find((candidate) => candidate.role === role);
  if (server?.control.kind !== 'rndc' || !key)
    throw new ChorusError('Chorus_DemoError', {
      message: `the demo begins a roll at the server only at a BIND signer with a ${role} (not ${signerId})`,
    });
  await promisify(execFile)('rndc', [
    '-c',
    server.control.configFile,
    'dnssec',
    '-rollover',
    '-key',
    String(key.keyTag),
    lab.zone.replace(/\.$/, ''),
  ]);
}

/** The group's roll of `signerId` that was not in the log before (requested by its key watch). */
const newRollOf = (state: ZoneState, before: ZoneState, signerId: string, role: KeyRole) =>
  state.processes.find(
    (process) =>
      process.signerId === signerId &&
      process.kind === (role === 'ZSK' ? 'roll-zsk' : 'roll-ksk') &&
      !before.processes.some((known) => known.id === process.id),
  );

/** Begins the roll at the server, then follows the group's roll (requested by the key watch) to its end. */
export async function followServerRoll(
  log: EventLog<ZoneEvent>,
  lab: DemoLab,
  step: { signerId: string; role: KeyRole },
  io: CliIo,
): Promise<ProcessState> {
  const before = await readZone(log, lab.zone);
  await beginRollAtServer(lab, before, step.signerId, step.role);
  const final = await follow(log, lab.zone, io, {
    json: false,
    afterVersion: before.version,
    until: (state) => {
      const status = newRollOf(state, before, step.signerId, step.role)?.status;
      return status !== undefined && status !== 'running' && status !== 'requested';
    },
  });
  const process = newRollOf(final, before, step.signerId, step.role)!;
  const error = processEndError(process, lab.zone);
  if (error) throw error;
  return process;
}
