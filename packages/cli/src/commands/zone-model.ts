/**
 * `chorus zone model ZONE --to 1|2`: asks to move a zone between RFC 8901's models. The safe
 * order is printed with every reason it cannot run now (exit 1); nothing is recorded.
 */
import { modelSwitchOrder, modelSwitchRefusal } from '@chorus/engine';
import { expectPositionals, parseCommandArgs, UsageError } from '../args.js';
import { LOG_OPTIONS, readZone, withEventLog } from '../coordination/event-log.js';
import { zoneArgument } from '../coordination/zone-argument.js';
import { ZONE_MODEL_HELP } from '../help.js';
import type { CliIo } from '../io.js';

const COMMAND = 'zone model';
const USAGE = 'chorus zone model ZONE --to 1|2';

function modelFrom(value: string | undefined): 1 | 2 {
  if (value === '1' || value === '2') return Number(value) as 1 | 2;
  throw new UsageError(
    `--to takes 1 (the owner's KSK signs one DNSKEY RRset) or 2 (each provider's KSK signs its own), not ${JSON.stringify(value ?? '')}`,
    COMMAND,
  );
}

export async function zoneModelCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(COMMAND, args, {
    ...LOG_OPTIONS,
    to: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(ZONE_MODEL_HELP);
    return 0;
  }
  expectPositionals(positionals, 1, COMMAND);
  const zone = zoneArgument(positionals[0], COMMAND, USAGE);
  const to = modelFrom(values.to);
  const state = await withEventLog(values, COMMAND, (log) => readZone(log, zone));
  const reasons = modelSwitchRefusal(state, to);
  const order = modelSwitchOrder(zone, to);
  if (values.json === true) {
    const from = state.owner ? 1 : 2;
    io.stdout(
      `${JSON.stringify({ zone, from, to, order, refused: reasons.length > 0, reasons })}\n`,
    );
  } else if (reasons.length > 0) {
    io.stderr(`chorus: ${zone} cannot move to model ${to} now, and nothing was recorded.\n`);
    io.stderr(
      `The safe order:\n${order.map((step, index) => `  ${index + 1}. ${step}\n`).join('')}`,
    );
    io.stderr(
      `Refused:\n${reasons.map((reason) => `  - ${reason.code}: ${reason.message}\n`).join('')}`,
    );
  }
  return reasons.length > 0 ? 1 : 0;
}
