/** Zone names from the command line: checked before anything is opened or written. */
import { InvalidNameError } from '@chorus/core';
import { parseZoneName } from '@chorus/dns';
import { UsageError } from '../args.js';

/** The absolute zone name in `value`; a UsageError for `command` when it is missing or malformed. */
export function zoneArgument(value: string | undefined, command: string, usage: string): string {
  if (value === undefined) throw new UsageError(`name the zone: ${usage}`, command);
  try {
    return parseZoneName(value);
  } catch (error) {
    if (!InvalidNameError.isInstance(error)) throw error;
    const reason = error.message.replace(/^invalid domain name "(?:[^"\\]|\\.)*": /, '');
    throw new UsageError(`invalid zone name ${JSON.stringify(value)}: ${reason}`, command);
  }
}
