/** `chorus group define|show G`: groups of zones that follow one request together. */
import { groupEvent, groupStream } from '@chorus/core';
import { DEFAULT_TIMING } from '@chorus/engine';
import { expectPositionals, integerOption, parseCommandArgs, UsageError } from '../args.js';
import { withEventLog, LOG_OPTIONS, type LogValues } from '../coordination/event-log.js';
import { runOnGroup, type GroupRequest } from '../coordination/group-run.js';
import { OPERATOR } from '../coordination/follow.js';
import {
  groupArgument,
  groupLog,
  readDefinedGroup,
  readGroup,
  type GroupState,
} from '../coordination/groups.js';
import { GROUP_DEFINE_HELP, GROUP_HELP, GROUP_SHOW_HELP } from '../help.js';
import type { CliIo } from '../io.js';
import {
  DEFAULT_RECORD_TTL_SECONDS,
  recordTtlFrom,
  TIMING_OPTIONS,
  timingFrom,
} from './zone-define.js';

const DEFINE_OPTIONS = {
  ...LOG_OPTIONS,
  ...TIMING_OPTIONS,
  signer: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const SHOW_OPTIONS = {
  ...LOG_OPTIONS,
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function groupCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'define') return groupDefineCommand(rest, io);
  if (sub === 'show') return groupShowCommand(rest, io);
  if (sub === '-h' || sub === '--help' || sub === undefined) {
    io[sub === undefined ? 'stderr' : 'stdout'](GROUP_HELP);
    return sub === undefined ? 2 : 0;
  }
  throw new UsageError(`expected "chorus group define|show G", not "group ${sub}"`, 'group');
}

/** Defines the group, or redefines it: the signers and timing that zones defined later get. */
async function groupDefineCommand(args: string[], io: CliIo): Promise<number> {
  const command = 'group define';
  const { values, positionals } = parseCommandArgs(command, args, DEFINE_OPTIONS);
  if (values.help) {
    io.stdout(GROUP_DEFINE_HELP);
    return 0;
  }
  expectPositionals(positionals, 1, command);
  const name = groupArgument(positionals[0], command);
  const signers = values.signer ?? [];
  if (signers.length === 0)
    throw new UsageError(
      "name the signer(s) that sign the group's zones with --signer ID",
      command,
    );
  const event = groupEvent(
    'group-defined',
    { group: name, source: OPERATOR },
    {
      signers,
      timing: timingFrom(values, DEFAULT_TIMING, command),
      recordTtlSeconds: recordTtlFrom(values, DEFAULT_RECORD_TTL_SECONDS, command),
    },
  );
  const state = await withEventLog(values, command, async (log) => {
    const before = await readGroup(log, name);
    await groupLog(log).append(groupStream(name), before.version, [event]);
    return readGroup(log, name);
  });
  if (values.json) io.stdout(`${JSON.stringify(state)}\n`);
  else io.stdout(`${groupLines(state).join('\n')}\n`);
  return 0;
}

async function groupShowCommand(args: string[], io: CliIo): Promise<number> {
  const command = 'group show';
  const { values, positionals } = parseCommandArgs(command, args, SHOW_OPTIONS);
  if (values.help) {
    io.stdout(GROUP_SHOW_HELP);
    return 0;
  }
  expectPositionals(positionals, 1, command);
  const name = groupArgument(positionals[0], command);
  const state = await withEventLog(values, command, (log) => readDefinedGroup(log, name));
  if (values.json) io.stdout(`${JSON.stringify(state)}\n`);
  else io.stdout(`${groupLines(state).join('\n')}\n`);
  return 0;
}

/** The group in words: signers, timing, zones, and what was refused. */
export function groupLines(state: GroupState): string[] {
  const timing = state.timing;
  const zones = state.zones;
  return [
    `group ${state.name}: signers ${state.signers.join(', ')}`,
    ...(timing
      ? [
          `  timing: record TTL ${state.recordTtlSeconds} s, max zone TTL ${timing.maxZoneTtlSeconds} s, DprpC ${timing.childPropagationSeconds} s, DprpP ${timing.parentPropagationSeconds} s, margin ${timing.safetyMarginSeconds} s`,
        ]
      : []),
    `  ${zones.length} zone(s)${zones.length > 0 ? `: ${zones.slice(0, 10).join(' ')}${zones.length > 10 ? ` and ${zones.length - 10} more` : ''}` : ''}`,
    ...state.refused.map((why) => `  SECURITY: refused ${why}; ignored`),
    ...(state.verified
      ? []
      : ['  NOT VERIFIED: give the trust file with --trust FILE or CHORUS_TRUST']),
  ];
}

/** The options of a request on a group (`signer add --group`, `migrate --group`, `roll --group`). */
export const GROUP_REQUEST_OPTIONS = {
  group: { type: 'string' },
  parallel: { type: 'string' },
} as const;

/** Zones in flight at once when --parallel is not given. */
export const DEFAULT_GROUP_PARALLEL = 20;

/**
 * Runs `requests` on every zone of the group and prints the outcome. Returns the exit code: 0
 * when every zone completed (or already was as asked), 1 otherwise, naming each zone that was not.
 */
export async function requestOnGroup(
  values: LogValues & {
    group?: string | undefined;
    parallel?: string | undefined;
    json?: boolean | undefined;
  },
  command: string,
  requests: GroupRequest[],
  io: CliIo,
): Promise<number> {
  const name = groupArgument(values.group, command);
  const parallel = integerOption(values.parallel, 'parallel', command) ?? DEFAULT_GROUP_PARALLEL;
  if (parallel < 1) throw new UsageError('--parallel takes a positive number of zones', command);
  const json = values.json === true;
  const started = performance.now();
  const outcomes = await withEventLog(values, command, async (log) => {
    const group = await readDefinedGroup(log, name);
    if (group.zones.length === 0)
      throw new UsageError(
        `group ${name} has no zone yet: chorus zone define ZONE… --group ${name}`,
        command,
      );
    const what = requests.map((request) => `${request.kind} ${request.signerId}`).join(', then ');
    io.stderr(
      `[group ${name}] ${what} on ${group.zones.length} zone(s), at most ${parallel} at a time\n`,
    );
    return runOnGroup(log, name, group.zones, requests, io, { parallel, json });
  });
  const failed = outcomes.filter((o) => o.status !== 'completed' && o.status !== 'already');
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const summary = {
    group: name,
    zones: outcomes.length,
    completed: outcomes.filter((o) => o.status === 'completed').length,
    already: outcomes.filter((o) => o.status === 'already').length,
    failed: failed.length,
    seconds: Number(seconds),
  };
  if (json) io.stdout(`${JSON.stringify({ summary })}\n`);
  else
    io.stdout(
      `group ${name}: ${summary.completed} completed, ${summary.already} already so, ${summary.failed} not completed, of ${summary.zones} zone(s) in ${seconds} s\n`,
    );
  return failed.length > 0 ? 1 : 0;
}
