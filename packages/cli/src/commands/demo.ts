/** `chorus demo`: the lab up, its status, and one validated answer through real delegations. */
import { query } from '@chorus/core';
import { labStatus, labUp, LabError, type LabStatus } from '@chorus/lab';
import { expectPositionals, integerOption, parseCommandArgs } from '../args.js';
import { formatLabStatus, formatQueryResponse } from '../format.js';
import { DEMO_HELP } from '../help.js';
import { progressTo, type CliIo } from '../io.js';

export async function demoCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('demo', args, {
    dir: { type: 'string' },
    'address-prefix': { type: 'string' },
    port: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(DEMO_HELP);
    return 0;
  }
  expectPositionals(positionals, 0, 'demo');
  const port = integerOption(values.port, 'port', 'demo');
  const directoryOption = values.dir === undefined ? {} : { directory: values.dir };

  const existing = await labStatus(directoryOption);
  let status: LabStatus;
  if (existing?.running) {
    io.stderr(`[demo] reusing the lab already running in ${existing.directory}\n`);
    status = existing;
  } else {
    io.stderr('[demo] bringing the lab up\n');
    status = await labUp({
      ...directoryOption,
      ...(values['address-prefix'] === undefined
        ? {}
        : { addressPrefix: values['address-prefix'] }),
      ...(port === undefined ? {} : { port }),
      onProgress: progressTo(io),
    });
  }
  io.stdout(formatLabStatus(status));

  const resolver = status.resolvers.find((entry) => entry.mode === 'delegation');
  const zone = status.zones[0];
  if (!resolver || !zone)
    throw new LabError('the lab status has no delegation resolver or no zone');
  const name = `www.${zone}`;
  io.stdout(
    `\nAsking the delegation resolver (${resolver.address}:${resolver.port}) for ${name} A:\n`,
  );
  const response = await query({ address: resolver.address, port: resolver.port }, name, 'A', {
    recursionDesired: true,
    dnssecOk: true,
  });
  io.stdout(
    formatQueryResponse(response, { name, type: 'A', via: 'the lab delegation resolver' }, false),
  );
  const stop = `chorus lab down${values.dir === undefined ? '' : ` --dir ${values.dir}`}`;
  if (response.rcode !== 'NOERROR' || !response.flags.ad) {
    throw new LabError(
      `expected a validated answer (NOERROR with AD), got ${response.rcode} with AD ${response.flags.ad ? 'set' : 'clear'}; the lab keeps running (stop it with: ${stop})`,
    );
  }
  io.stdout(
    `\nValidated: the resolver trusts only ${status.trustAnchor.zone} DS ${status.trustAnchor.ds.map((ds) => ds.keyTag).join(', ')} and ${
      status.delegation.followsDelegations
        ? 'followed the delegation'
        : 'used a stub zone (port is not 53)'
    } to ${zone}\n` + `The lab keeps running. Stop it with: ${stop}\n`,
  );
  return 0;
}
