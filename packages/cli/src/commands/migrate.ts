/** `chorus migrate ZONE --to B[,C] [--from A]`: ADD-SIGNER for each new signer, then REMOVE-SIGNER. */
import { expectPositionals, listOption, parseCommandArgs, UsageError } from '../args.js';
import { LOG_OPTIONS, readZone, withEventLog } from '../coordination/event-log.js';
import { requestAndFollow } from '../coordination/follow.js';
import { zoneArgument } from '../coordination/zone-argument.js';
import { MIGRATE_HELP } from '../help.js';
import type { CliIo } from '../io.js';
import { GROUP_REQUEST_OPTIONS, requestOnGroup } from './group.js';

/** A migration as requests: every new signer joins first, then every old one leaves. */
function migrationRequests(from: string[], to: string[]) {
  return [
    ...to.map((signerId) => ({ kind: 'add-signer' as const, signerId })),
    ...from.map((signerId) => ({ kind: 'remove-signer' as const, signerId })),
  ];
}

export async function migrateCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('migrate', args, {
    ...LOG_OPTIONS,
    ...GROUP_REQUEST_OPTIONS,
    from: { type: 'string' },
    to: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(MIGRATE_HELP);
    return 0;
  }
  const from = listOption(values.from) ?? [];
  const to = listOption(values.to) ?? [];
  if (to.length === 0) throw new UsageError('name the new signer(s) with --to A[,B]', 'migrate');
  if (values.group !== undefined) {
    expectPositionals(positionals, 0, 'migrate');
    return requestOnGroup(values, 'migrate', migrationRequests(from, to), io);
  }
  expectPositionals(positionals, 1, 'migrate');
  const zone = zoneArgument(positionals[0], 'migrate', 'chorus migrate ZONE --to B[,C]');
  const json = values.json === true;
  const options = { json, detach: false };
  const state = await withEventLog(values, 'migrate', async (log) => {
    for (const id of to) await requestAndFollow(log, zone, 'add-signer', id, io, options);
    for (const id of from) await requestAndFollow(log, zone, 'remove-signer', id, io, options);
    return readZone(log, zone);
  });
  if (!json) io.stdout(`migrated ${zone}: the group is now ${state.members.join(', ')}\n`);
  return 0;
}
