/** `chorus keygen FILE` and `chorus trust grant|revoke|show`: event keys and who may write what. */
import { ChorusError, isEventPublicKey, zoneEvent, type TrustGrant } from '@chorus/core';
import { createEventKeyFile } from '@chorus/sidecar';
import { expectPositionals, parseCommandArgs, UsageError } from '../args.js';
import { appendToZone, LOG_OPTIONS, readZone, withEventLog } from '../coordination/event-log.js';
import { zoneArgument } from '../coordination/zone-argument.js';
import { KEYGEN_HELP, TRUST_HELP } from '../help.js';
import type { CliIo } from '../io.js';

export function keygenCommand(args: string[], io: CliIo): number {
  const { values, positionals } = parseCommandArgs('keygen', args, {
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(KEYGEN_HELP);
    return 0;
  }
  expectPositionals(positionals, 1, 'keygen');
  const file = positionals[0];
  if (!file) throw new UsageError('expected "chorus keygen FILE"', 'keygen');
  let publicKey: string;
  try {
    publicKey = createEventKeyFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ChorusError('Chorus_KeygenError', {
      message:
        code === 'EEXIST'
          ? `${file} exists; a key is never overwritten (remove it first if you mean to replace it)`
          : `cannot write ${file}: ${code ?? String(error)}`,
    });
  }
  io.stdout(values.json ? `${JSON.stringify({ file, publicKey })}\n` : `${publicKey}\n`);
  if (!values.json)
    io.stderr(`private key written to ${file} (mode 0600); the line above is its public key\n`);
  return 0;
}

const GROUP_OPTIONS = {
  sidecar: 'sidecars',
  operator: 'operators',
  observer: 'observers',
} as const;

/** `ID=KEY` pairs (grant) or `ID` (revoke), per group. */
function grantFrom(values: Record<string, unknown>, revoke: boolean): TrustGrant {
  const grant: TrustGrant = {};
  for (const [option, group] of Object.entries(GROUP_OPTIONS)) {
    for (const entry of (values[option] as string[] | undefined) ?? []) {
      const [id, key] = revoke ? [entry, null] : entry.split('=', 2);
      if (!id || (!revoke && !isEventPublicKey(key)))
        throw new UsageError(
          `--${option} ${JSON.stringify(entry)}: expected ${revoke ? 'ID' : 'ID=PUBLIC_KEY (the 43-character line chorus keygen printed)'}`,
          'trust',
        );
      grant[group] = { ...grant[group], [id]: key ?? null };
    }
  }
  if (Object.keys(grant).length === 0)
    throw new UsageError('name at least one --sidecar, --operator or --observer', 'trust');
  return grant;
}

export async function trustCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseCommandArgs('trust', rest, {
    ...LOG_OPTIONS,
    zone: { type: 'string' },
    sidecar: { type: 'string', multiple: true },
    operator: { type: 'string', multiple: true },
    observer: { type: 'string', multiple: true },
    reason: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help || sub === '-h' || sub === '--help') {
    io.stdout(TRUST_HELP);
    return 0;
  }
  if (sub !== 'grant' && sub !== 'revoke' && sub !== 'show')
    throw new UsageError('expected "chorus trust grant|revoke|show --zone ZONE …"', 'trust');
  expectPositionals(positionals, 0, 'trust');
  if (!values.zone) throw new UsageError('give the zone with --zone ZONE', 'trust');
  const zone = zoneArgument(values.zone, 'trust', 'chorus trust grant --zone ZONE');
  if (sub === 'show') return showTrust(zone, values, io);
  const grant = grantFrom(values, sub === 'revoke');
  const event = await withEventLog(values, 'trust', (log) =>
    appendToZone(log, zone, () =>
      zoneEvent(
        'trust-changed',
        { zone, source: { kind: 'cli', id: 'operator' } },
        { grant, ...(values.reason ? { reason: values.reason } : {}) },
      ),
    ),
  );
  io.stdout(
    values.json
      ? `${JSON.stringify(event)}\n`
      : `trust ${sub === 'grant' ? 'granted' : 'revoked'} in ${zone}\n`,
  );
  return 0;
}

async function showTrust(
  zone: string,
  values: { json?: boolean | undefined } & Parameters<typeof withEventLog>[0],
  io: CliIo,
): Promise<number> {
  const state = await withEventLog(values, 'trust', (log) => readZone(log, zone));
  if (!state.trust)
    throw new UsageError(
      'showing trust needs the trust file: --trust FILE or CHORUS_TRUST',
      'trust',
    );
  const keys = state.trust.keys;
  if (values.json) io.stdout(`${JSON.stringify(keys, null, 2)}\n`);
  else
    for (const [group, entries] of Object.entries(keys))
      for (const [id, key] of Object.entries(entries as Record<string, string>))
        io.stdout(`${group.slice(0, -1).padEnd(9)} ${id.padEnd(16)} ${key}\n`);
  return 0;
}
