/**
 * Where the control channel is and which key signs it, read as rndc reads them: from rndc.conf
 * (`options { default-server; default-port; default-key; }`, `server` and `key` statements,
 * `include`), or from a key file and an address. The secret is decoded here and goes nowhere
 * but the HMAC.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { DEFAULT_RNDC_PORT, type BindRndcConfig } from './config.js';
import { isControlAlgorithm, type ControlEndpoint, type ControlKey } from './control-channel.js';
import { parseNamedConf, type ConfStatement } from './named-conf.js';

/** The file cannot give an endpoint; `problem` names what is missing, never a secret. */
export class RndcConfProblem extends Error {
  override readonly name = 'RndcConfProblem';
}

const MAX_INCLUDE_DEPTH = 8;

async function statementsOf(file: string, depth = 0): Promise<ConfStatement[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new RndcConfProblem(
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  const statements: ConfStatement[] = [];
  for (const statement of parseNamedConf(text)) {
    if (statement.words[0] !== 'include') {
      statements.push(statement);
      continue;
    }
    const included = statement.words[1];
    if (included === undefined || depth >= MAX_INCLUDE_DEPTH)
      throw new RndcConfProblem(`${file}: an include rndc would not follow`);
    statements.push(...(await statementsOf(included, depth + 1)));
  }
  return statements;
}

function setting(block: ConfStatement[] | undefined, name: string): string | undefined {
  return block?.find((statement) => statement.words[0] === name)?.words[1];
}

function keyOf(statement: ConfStatement, source: string): ControlKey {
  const name = statement.words[1] ?? '';
  const algorithm = setting(statement.block, 'algorithm')?.toLowerCase() ?? 'hmac-md5';
  const secret = setting(statement.block, 'secret');
  if (!isControlAlgorithm(algorithm))
    throw new RndcConfProblem(`${source}: key ${name} uses ${algorithm}, which rndc cannot use`);
  if (secret === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(secret))
    throw new RndcConfProblem(`${source}: key ${name} has no base64 secret`);
  return { name, algorithm, secret: Buffer.from(secret, 'base64') };
}

function keysOf(statements: ConfStatement[], source: string): Map<string, ControlKey> {
  const keys = new Map<string, ControlKey>();
  for (const statement of statements)
    if (statement.words[0] === 'key' && statement.words[1] !== undefined)
      keys.set(statement.words[1], keyOf(statement, source));
  return keys;
}

function addressOf(server: string, source: string): string {
  if (server === 'localhost') return '127.0.0.1';
  if (isIP(server) === 0)
    throw new RndcConfProblem(`${source}: server ${server} is a host name; use an address`);
  return server;
}

function portOf(text: string | undefined, source: string): number | undefined {
  if (text === undefined) return undefined;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new RndcConfProblem(`${source}: port ${text} is not a port`);
  return port;
}

/** The endpoint of an rndc.conf, as `rndc -c FILE` (with no -s, -p, -k) would reach it. */
export async function endpointFromRndcConf(file: string): Promise<ControlEndpoint> {
  const statements = await statementsOf(file);
  const options = statements.find((statement) => statement.words[0] === 'options')?.block;
  const serverName = setting(options, 'default-server') ?? '127.0.0.1';
  const server = statements.find(
    (statement) => statement.words[0] === 'server' && statement.words[1] === serverName,
  )?.block;
  const keyName = setting(server, 'key') ?? setting(options, 'default-key');
  if (keyName === undefined) throw new RndcConfProblem(`${file}: no default-key, no server key`);
  const key = keysOf(statements, file).get(keyName);
  if (!key) throw new RndcConfProblem(`${file}: key ${keyName} is not defined`);
  const listed = server?.find((statement) => statement.words[0] === 'addresses')?.block;
  const address = listed?.[0]?.words[0] ?? serverName;
  return {
    address: addressOf(address, file),
    port:
      portOf(setting(server, 'port'), file) ??
      portOf(setting(options, 'default-port'), file) ??
      DEFAULT_RNDC_PORT,
    key,
  };
}

/** The endpoint of `{ address, port, keyFile }`: the file's one key clause. */
export async function endpointFromKeyFile(config: {
  address: string;
  port?: number;
  keyFile: string;
}): Promise<ControlEndpoint> {
  const keys = [...keysOf(await statementsOf(config.keyFile), config.keyFile).values()];
  if (keys.length !== 1)
    throw new RndcConfProblem(`${config.keyFile}: ${keys.length} key clauses, expected one`);
  return { address: config.address, port: config.port ?? DEFAULT_RNDC_PORT, key: keys[0]! };
}

export function controlEndpointOf(config: BindRndcConfig): Promise<ControlEndpoint> {
  return 'configFile' in config
    ? endpointFromRndcConf(config.configFile)
    : endpointFromKeyFile(config);
}
