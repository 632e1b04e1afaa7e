import { ConfigError, type NameServer } from '@chorus/core';

/** How the plugin changes the zone. See capabilities.ts for why DNS UPDATE is the default. */
export type KnotUpdateMethod = 'dns-update' | 'knotc';

/** How knotc and keymgr reach the server. */
export type KnotControl =
  /** knot.conf: `knotc -c <file>` and `keymgr -c <file>`. */
  | { configFile: string }
  /**
   * The control socket: `knotc -s <socket>`. keymgr then opens the KASP database directly
   * (`keymgr -D <kaspDb>`); without `kaspDb` the plugin asks knotd for `database.kasp-db`.
   */
  | { socket: string; kaspDb?: string };

/** Validated configuration of one Knot signer. Plain JSON; secrets only as file paths. */
export interface KnotSignerConfig {
  /** Instance id, e.g. `knot-ams`. */
  id: string;
  /** Where knotd answers queries and DNS UPDATE. */
  server: { address: string; port: number };
  /** Every address that serves the zone; defaults to `[server]`. */
  nameServers: NameServer[];
  /** BIND-format TSIG key file (`key "name" { algorithm …; secret "…"; };`), for DNS UPDATE. */
  tsigKeyFile: string | undefined;
  knotc: KnotControl;
  /** Default `dns-update`. */
  updateMethod: KnotUpdateMethod;
  /** Paths of the tools; default `knotc` and `keymgr` from PATH. */
  binaries: { knotc: string; keymgr: string };
  /** Timeout of one knotc/keymgr run and of one DNS exchange, in ms. Default 10000. */
  timeoutMs: number;
}

const TOP_LEVEL_KEYS = new Set([
  'id',
  'server',
  'nameServers',
  'tsigKeyFile',
  'knotc',
  'updateMethod',
  'binaries',
  'timeoutMs',
]);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(key: string, problem: string): never {
  throw new ConfigError({ key, problem, source: 'knot plugin' });
}

function nonEmptyString(value: unknown, key: string): string {
  if (typeof value !== 'string' || value.trim() === '')
    fail(key, `must be a non-empty string (got ${describe(value)})`);
  return value;
}

function absolutePath(value: unknown, key: string): string {
  const path = nonEmptyString(value, key);
  if (!path.startsWith('/')) fail(key, `must be an absolute path (got ${JSON.stringify(path)})`);
  return path;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value);
  return typeof value;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function address(value: unknown, key: string): string {
  const text = nonEmptyString(value, key);
  if (!IPV4.test(text) && !(text.includes(':') && /^[0-9a-fA-F:.]+$/.test(text)))
    fail(key, `must be an IPv4 or IPv6 address (got ${JSON.stringify(text)})`);
  return text;
}

function port(value: unknown, key: string): number {
  if (value === undefined) return 53;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535)
    fail(key, `must be an integer from 1 to 65535 (got ${describe(value)})`);
  return value;
}

function nameServer(value: unknown, key: string): { address: string; port: number } {
  if (!isObject(value)) fail(key, `must be an object { address, port? } (got ${describe(value)})`);
  for (const extra of Object.keys(value))
    if (extra !== 'address' && extra !== 'port') fail(`${key}.${extra}`, 'is not a known key');
  return {
    address: address(value.address, `${key}.address`),
    port: port(value.port, `${key}.port`),
  };
}

function control(value: unknown): KnotControl {
  if (!isObject(value))
    fail('knotc', `must be { configFile } or { socket, kaspDb? } (got ${describe(value)})`);
  const hasConfig = value.configFile !== undefined;
  const hasSocket = value.socket !== undefined;
  if (hasConfig === hasSocket)
    fail('knotc', 'needs exactly one of configFile (knot.conf) and socket (the control socket)');
  if (hasConfig) {
    for (const extra of Object.keys(value))
      if (extra !== 'configFile') fail(`knotc.${extra}`, 'is not allowed next to knotc.configFile');
    return { configFile: absolutePath(value.configFile, 'knotc.configFile') };
  }
  for (const extra of Object.keys(value))
    if (extra !== 'socket' && extra !== 'kaspDb') fail(`knotc.${extra}`, 'is not a known key');
  const socket = absolutePath(value.socket, 'knotc.socket');
  return value.kaspDb === undefined
    ? { socket }
    : { socket, kaspDb: absolutePath(value.kaspDb, 'knotc.kaspDb') };
}

/**
 * Validates raw configuration. Throws ConfigError naming the key at start-up.
 *
 * @example
 * parseKnotConfig({
 *   id: 'knot', server: { address: '127.53.0.4' }, tsigKeyFile: '/etc/knot/chorus.key',
 *   knotc: { configFile: '/etc/knot/knot.conf' },
 * });
 */
export function parseKnotConfig(raw: unknown): KnotSignerConfig {
  if (!isObject(raw)) fail('(root)', `must be an object (got ${describe(raw)})`);
  for (const key of Object.keys(raw)) if (!TOP_LEVEL_KEYS.has(key)) fail(key, 'is not a known key');
  const id = nonEmptyString(raw.id, 'id');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id))
    fail('id', `must be letters, digits, '.', '_' or '-' (got ${JSON.stringify(id)})`);
  const server = nameServer(raw.server, 'server');
  let nameServers: NameServer[] = [server];
  if (raw.nameServers !== undefined) {
    if (!Array.isArray(raw.nameServers) || raw.nameServers.length === 0)
      fail(
        'nameServers',
        `must be a non-empty array of { address, port? } (got ${describe(raw.nameServers)})`,
      );
    nameServers = raw.nameServers.map((entry, index) => nameServer(entry, `nameServers[${index}]`));
  }
  let updateMethod: KnotUpdateMethod = 'dns-update';
  if (raw.updateMethod !== undefined) {
    if (raw.updateMethod !== 'dns-update' && raw.updateMethod !== 'knotc')
      fail('updateMethod', `must be "dns-update" or "knotc" (got ${describe(raw.updateMethod)})`);
    updateMethod = raw.updateMethod;
  }
  const tsigKeyFile =
    raw.tsigKeyFile === undefined && updateMethod === 'knotc'
      ? undefined
      : absolutePath(raw.tsigKeyFile, 'tsigKeyFile');
  const binaries = { knotc: 'knotc', keymgr: 'keymgr' };
  if (raw.binaries !== undefined) {
    if (!isObject(raw.binaries))
      fail('binaries', `must be an object { knotc?, keymgr? } (got ${describe(raw.binaries)})`);
    for (const [key, value] of Object.entries(raw.binaries)) {
      if (key !== 'knotc' && key !== 'keymgr') fail(`binaries.${key}`, 'is not a known key');
      binaries[key] = nonEmptyString(value, `binaries.${key}`);
    }
  }
  let timeoutMs = 10_000;
  if (raw.timeoutMs !== undefined) {
    if (
      typeof raw.timeoutMs !== 'number' ||
      !Number.isInteger(raw.timeoutMs) ||
      raw.timeoutMs < 100 ||
      raw.timeoutMs > 600_000
    )
      fail('timeoutMs', `must be an integer from 100 to 600000 (got ${describe(raw.timeoutMs)})`);
    timeoutMs = raw.timeoutMs;
  }
  return {
    id,
    server,
    nameServers,
    tsigKeyFile,
    knotc: control(raw.knotc),
    updateMethod,
    binaries,
    timeoutMs,
  };
}
