/**
 * `chorus audit ZONE`: a multi-signer-aware check of a live zone from the public DNS alone (no
 * event log, no credentials). Exit 0 when every check passes or only warns, 1 when one fails.
 */
import { formatAuditReport, runAudit } from '@chorus/audit';
import { expectPositionals, integerOption, parseCommandArgs, UsageError } from '../args.js';
import { parentServerOptions, parentServerSource } from '../coordination/adopt-parent.js';
import { zoneArgument } from '../coordination/zone-argument.js';
import { AUDIT_HELP } from '../help.js';
import type { CliIo } from '../io.js';
import { parentZoneOf } from './zone-define.js';

const COMMAND = 'audit';
const USAGE = 'chorus audit ZONE [options]';

const OPTIONS = {
  'parent-server': { type: 'string', multiple: true },
  'parent-zone': { type: 'string' },
  port: { type: 'string' },
  timeout: { type: 'string' },
  ipv4: { type: 'boolean', short: '4' },
  ipv6: { type: 'boolean', short: '6' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function portOption(value: string | undefined): number {
  const port = integerOption(value, 'port', COMMAND) ?? 53;
  if (port < 1 || port > 65535)
    throw new UsageError(`--port must be 1-65535, got ${port}`, COMMAND);
  return port;
}

function timeoutOption(value: string | undefined): number {
  const timeout = integerOption(value, 'timeout', COMMAND) ?? 2000;
  if (timeout < 1) throw new UsageError('--timeout must be at least 1 ms', COMMAND);
  return timeout;
}

function familyOption(values: { ipv4?: boolean; ipv6?: boolean }): { family?: 4 | 6 } {
  if (values.ipv4 && values.ipv6) throw new UsageError('give -4 or -6, not both', COMMAND);
  if (values.ipv4) return { family: 4 };
  return values.ipv6 ? { family: 6 } : {};
}

export async function auditCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(COMMAND, args, OPTIONS);
  if (values.help) {
    io.stdout(AUDIT_HELP);
    return 0;
  }
  expectPositionals(positionals, 1, COMMAND);
  const zone = zoneArgument(positionals[0], COMMAND, USAGE);
  const parentZone = parentZoneOf(zone, values['parent-zone'], COMMAND);
  const given = parentServerOptions(values['parent-server'] ?? [], COMMAND);
  const childPort = portOption(values.port);
  const timeoutMs = timeoutOption(values.timeout);
  const family = familyOption(values);
  const parentServers = await parentServerSource(given)(parentZone);
  const report = await runAudit({
    zone,
    parentZone,
    parentServers,
    childPort,
    timeoutMs,
    ...family,
  });
  io.stdout(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatAuditReport(report));
  return report.status === 'fail' ? 1 : 0;
}
