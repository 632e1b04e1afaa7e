/**
 * Argument parsing on top of node:util parseArgs, with errors that say what to type instead.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Bad command line: unknown command or option, missing or malformed value. Exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose `--help` explains the right usage, e.g. `lab up`. */
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `args` strictly; any parse problem becomes a UsageError for `command`. */
export function parseCommandArgs<T extends Options>(command: string, args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(message.replace(/\. To specify a positional argument.*$/s, ''), command);
  }
}

/** A whole number option, e.g. `--port 5353`. */
export function integerOption(
  value: string | undefined,
  name: string,
  command: string,
): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) {
    throw new UsageError(`--${name} needs a whole number, got ${JSON.stringify(value)}`, command);
  }
  return Number(value);
}

/** A comma-separated list option, e.g. `--zones example.test,shop.test`. */
export function listOption(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** No positional arguments beyond `expected`. */
export function expectPositionals(positionals: string[], expected: number, command: string): void {
  if (positionals.length > expected) {
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[expected])}`, command);
  }
}
