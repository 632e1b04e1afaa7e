/** `chorus query NAME [TYPE]`: one question, the answer with its flags, notably AD. */
import net from 'node:net';
import { normalizeName, query } from '@chorus/dns';
import { recordTypeNumber, type NameServer } from '@chorus/core';
import { labStatus, LabError } from '@chorus/lab';
import { expectPositionals, parseCommandArgs, UsageError } from '../args.js';
import { formatQueryResponse } from '../format.js';
import { QUERY_HELP } from '../help.js';
import type { CliIo } from '../io.js';

/** `127.0.0.1`, `127.0.0.1:5353`, `::1` or `[::1]:5353`. */
export function parseServer(text: string): NameServer {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const withPort = /^([^:]+):(\d+)$/.exec(text);
  const [address, port] = bracketed
    ? [bracketed[1]!, bracketed[2]]
    : withPort
      ? [withPort[1]!, withPort[2]]
      : [text, undefined];
  if (net.isIP(address) === 0) {
    throw new UsageError(
      `--server needs an IP address with an optional :PORT, got ${JSON.stringify(text)}`,
      'query',
    );
  }
  const portNumber = port === undefined ? 53 : Number(port);
  if (!Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535) {
    throw new UsageError(`invalid port in --server ${JSON.stringify(text)}`, 'query');
  }
  return { address, port: portNumber };
}

/** The lab's delegation resolver, from the lab status in `directory`. */
export async function labResolver(directory: string | undefined): Promise<NameServer> {
  const status = await labStatus(directory === undefined ? {} : { directory });
  const resolver = status?.resolvers.find((entry) => entry.mode === 'delegation');
  if (!status || !resolver) {
    throw new LabError(
      `no lab found${directory ? ` in ${directory}` : ''}; start one with "chorus lab up" or ask a server with --server`,
    );
  }
  if (!resolver.alive) {
    throw new LabError(
      `the lab's delegation resolver (pid ${resolver.pid}) is not running; restart the lab`,
    );
  }
  return { address: resolver.address, port: resolver.port };
}

export async function queryCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('query', args, {
    server: { type: 'string' },
    resolver: { type: 'boolean' },
    dir: { type: 'string' },
    dnssec: { type: 'boolean' },
    tcp: { type: 'boolean' },
    recurse: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout(QUERY_HELP);
    return 0;
  }
  expectPositionals(positionals, 2, 'query');
  const [nameInput, typeInput = 'A'] = positionals;
  if (nameInput === undefined)
    throw new UsageError('query needs a NAME, e.g. chorus query www.example.test', 'query');
  const type = typeInput.toUpperCase();
  if (recordTypeNumber(type) === undefined) {
    throw new UsageError(`unknown record type ${JSON.stringify(typeInput)}`, 'query');
  }
  if (values.server !== undefined && values.resolver) {
    throw new UsageError('give either --server or --resolver, not both', 'query');
  }
  const name = normalizeName(nameInput);
  const server =
    values.server === undefined ? await labResolver(values.dir) : parseServer(values.server);
  const via = values.server === undefined ? 'the lab delegation resolver' : 'the server';
  // A resolver is asked to recurse; a server given by --server is asked directly (RD=0), as the
  // post-conditions ask, unless --recurse says it is a resolver.
  const response = await query(server, name, type, {
    recursionDesired: values.server === undefined || values.recurse === true,
    dnssecOk: true,
    transport: values.tcp ? 'tcp' : 'udp',
  });
  if (values.json) {
    const answer = {
      server: response.server,
      question: { name, type },
      rcode: response.rcode,
      flags: response.flags,
      authenticated: response.flags.ad,
      answers: response.answers,
      authorities: response.authorities,
      transport: response.transport,
      elapsedMs: Math.round(response.elapsedMs),
    };
    io.stdout(`${JSON.stringify(answer, null, 2)}\n`);
  } else {
    io.stdout(formatQueryResponse(response, { name, type, via }, values.dnssec ?? false));
  }
  return 0;
}
